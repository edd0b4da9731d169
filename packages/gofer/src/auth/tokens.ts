/** API tokens: random secrets shown once, stored only as SHA-256 hashes. */
import { createHash, randomBytes } from "node:crypto";
import { ulid } from "ulid";
import { GoferError } from "../domain/errors.ts";
import type { Initiator, Token } from "../domain/models.ts";
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

/** Who made a request. `token` is undefined only when authentication is bypassed in development. */
export interface Principal {
  initiator: Initiator;
  token?: Token;
}

export const ANONYMOUS: Principal = { initiator: { id: "0", user: "anonymous" } };

/** Resolves a `Bearer` header to its token; every failure is the same 401 so callers learn nothing from it. */
export async function authenticate(db: GoferDb, header: string | undefined): Promise<Principal> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match?.[1]) {
    throw new GoferError(
      "UNAUTHENTICATED",
      "Missing or malformed Authorization header; send `Authorization: Bearer <token>` (create the first token with POST /api/tokens/bootstrap)",
    );
  }
  const token = await findTokenByHash(db, hashSecret(match[1]));
  const now = Date.now();
  if (!token || token.disabled || (token.expires !== 0 && token.expires <= now)) {
    throw new GoferError("UNAUTHENTICATED", "The token is unknown, disabled or expired");
  }
  return { initiator: { id: token.id, user: token.user }, token };
}
