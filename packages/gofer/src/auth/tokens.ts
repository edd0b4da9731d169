/** API tokens: random secrets shown once, stored only as SHA-256 hashes. */
import { createHash, randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { GoferError } from "../domain/errors.ts";
import type { Initiator, Token } from "../domain/models.ts";
import { ADMIN_ROLES } from "../domain/permissions.ts";
import type { GoferDb } from "../storage/database.ts";
import { findTokenByHash, insertToken } from "../storage/tokens-store.ts";

const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_LENGTH = 40;

export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** 40 characters from a 62-letter alphabet (~238 bits), drawn without modulo bias. */
export function generateSecret(): string {
  let secret = "";
  while (secret.length < SECRET_LENGTH) {
    for (const byte of randomBytes(SECRET_LENGTH * 2)) {
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += SECRET_ALPHABET[byte % 62];
    }
  }
  return secret;
}

export async function createToken(
  db: GoferDb,
  details: { user: string; roles: string[]; expiresMs: number; metadata: Record<string, string> },
): Promise<{ token: Token; secret: string }> {
  const now = Date.now();
  const token: Token = {
    id: ulid(),
    created: now,
    metadata: details.metadata,
    expires: details.expiresMs === 0 ? 0 : now + details.expiresMs,
    disabled: false,
    user: details.user,
    roles: details.roles,
  };
  const secret = generateSecret();
  await insertToken(db, token, hashSecret(secret));
  return { token, secret };
}

/**
 * Who made a request. `token` is undefined for requests without one: anonymous reads, and every request when
 * authentication is bypassed in development (`admin` is then true).
 */
export interface Principal {
  initiator: Initiator;
  token?: Token;
  admin: boolean;
}

export const ANONYMOUS: Principal = { initiator: { id: "0", user: "anonymous" }, admin: false };
/** `development.bypass_auth`: every request without a token acts as an admin. */
export const BYPASS: Principal = { initiator: { id: "0", user: "anonymous" }, admin: true };

export const isAdminToken = (token: Token): boolean => token.roles.some((role) => ADMIN_ROLES.has(role));

/**
 * Resolves a `Bearer` header to its token. Unknown, disabled and expired tokens are told apart: the caller holds
 * the secret, so saying why it no longer works reveals nothing they could not learn otherwise.
 */
export async function authenticate(db: GoferDb, header: string | undefined): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match?.[1]) {
    throw new GoferError(
      "UNAUTHENTICATED",
      "Missing or malformed Authorization header; send `Authorization: Bearer <token>` (create the first token with POST /api/tokens/bootstrap)",
    );
  }
  const token = await findTokenByHash(db, hashSecret(match[1]));
  if (!token) throw new GoferError("UNAUTHENTICATED", "The token is unknown, disabled or expired");
  if (token.disabled) {
    throw new GoferError("TOKEN_DISABLED", "Token disabled; an admin can enable it again");
  }
  if (token.expires !== 0 && token.expires <= Date.now()) {
    throw new GoferError("TOKEN_EXPIRED", "Token expired; ask an admin for a new one");
  }
  return { initiator: { id: token.id, user: token.user }, token, admin: isAdminToken(token) };
}
