/**
 * Browsers cannot set headers on a WebSocket handshake, only subprotocols; a token in the URL would end up in
 * logs and history. So a browser offers `gofer-api-version.v0` and `gofer-token.<secret>` as subprotocols, and
 * the server reads them as the `gofer-api-version` and `Authorization` headers it would otherwise require. The
 * server answers with the version protocol only, so the secret is never echoed back.
 */
import type { IncomingHttpHeaders } from "node:http";

export const VERSION_PROTOCOL = "gofer-api-version.v0";
const TOKEN_PREFIX = "gofer-token.";

/** Fills the version and authorization headers from the offered subprotocols, where the headers are absent. */
export function applySubprotocolCredentials(headers: IncomingHttpHeaders): void {
  const offered = headers["sec-websocket-protocol"];
  if (headers.upgrade?.toLowerCase() !== "websocket" || typeof offered !== "string") return;
  const protocols = offered.split(",").map((protocol) => protocol.trim());
  if (headers["gofer-api-version"] === undefined && protocols.includes(VERSION_PROTOCOL)) {
    headers["gofer-api-version"] = "v0";
  }
  const token = protocols.find((protocol) => protocol.startsWith(TOKEN_PREFIX));
  if (headers.authorization === undefined && token) {
    headers.authorization = `Bearer ${token.slice(TOKEN_PREFIX.length)}`;
  }
}

/** The subprotocol the server accepts: the version one when offered, else none (plain v0 clients offer none). */
export const chooseSubprotocol = (protocols: Set<string>): string | false =>
  protocols.has(VERSION_PROTOCOL) ? VERSION_PROTOCOL : false;
