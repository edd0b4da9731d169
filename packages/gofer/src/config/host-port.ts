/** Parsing `host:port` addresses such as `server.bind_address`. */
import { isIPv4, isIPv6 } from "node:net";

export interface HostPort {
  /** IPv4 address, hostname, or IPv6 address without brackets. */
  host: string;
  port: number;
  /** True when `host` is an IPv6 address, which must be bracketed again in URLs and addresses. */
  ipv6: boolean;
}

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Returns the parsed address, or what is wrong with it, phrased to follow the quoted address in a message. */
export function parseHostPort(text: string): HostPort | string {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!match) return 'must be "host:port", with an IPv6 host in brackets ("[::1]:8080")';
  const [, bracketed, plain = "", portText = ""] = match;
  const port = Number(portText);
  if (port > 65535) return `has port ${port}, which is outside 0–65535`;
  if (bracketed !== undefined) {
    return isIPv6(bracketed)
      ? { host: bracketed, port, ipv6: true }
      : `has "${bracketed}" in brackets, which is not an IPv6 address`;
  }
  if (isIPv4(plain) || isHostname(plain)) return { host: plain, port, ipv6: false };
  return `has host "${plain}", which is neither an IPv4 address nor a hostname`;
}

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split(".");
  // "1.2.3.999" has valid labels but is a mistyped address, not a name: a name's last label is never numeric.
  if (/^[0-9]+$/.test(labels.at(-1) ?? "")) return false;
  return labels.every((label) => HOSTNAME_LABEL.test(label));
}

/** Formats an address back into `host:port`, bracketing IPv6 hosts. */
export function formatHostPort({ host, port, ipv6 }: HostPort): string {
  return ipv6 ? `[${host}]:${port}` : `${host}:${port}`;
}
