/** API tokens: the one-time bootstrap token, and tokens an admin hands out with roles and an expiry. */
import { createToken, type Principal } from "../auth/tokens.ts";
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import type { Token } from "../domain/models.ts";
import type { GoferDb } from "../storage/database.ts";
import { claimBootstrap } from "../storage/system-store.ts";
import { deleteToken, getToken, listTokens, setTokenDisabled } from "../storage/tokens-store.ts";
import { requireKnownRoles } from "./lookups.ts";

/** A token as created: its details and the secret, which is shown this once and never stored. */
export interface CreatedToken {
  token: Token;
  secret: string;
}

export interface NewToken {
  user: string;
  roles: string[];
  /** Seconds until it expires; 0 for never. */
  expires: number;
  metadata?: Record<string, string> | null | undefined;
}

export class TokenService {
  readonly #db: GoferDb;

  constructor({ db }: { db: GoferDb }) {
    this.#db = db;
  }

  /** The root token, once: the claim and the token commit together, so a failed insert leaves it claimable. */
  async bootstrap(): Promise<CreatedToken> {
    const created = await this.#db.transaction().execute(async (tx) => {
      if (!(await claimBootstrap(tx))) return undefined;
      return createToken(tx, { user: "bootstrap", roles: ["bootstrap"], expiresMs: 0, metadata: {} });
    });
    if (!created) {
      throw new GoferError(
        "ALREADY_EXISTS",
        "The bootstrap token was already created; ask its holder for a token, or reset the server's database",
      );
    }
    return created;
  }

  whoami(principal: Principal): Token {
    if (!principal.token) {
      throw new GoferError(
        "UNAUTHENTICATED",
        "No token was sent (authentication is bypassed on this server)",
      );
    }
    return principal.token;
  }

  list(): Promise<Token[]> {
    return listTokens(this.#db);
  }

  async create({ user, roles: requested, expires, metadata }: NewToken): Promise<CreatedToken> {
    const roles = [...new Set(requested)];
    if (roles.includes("bootstrap")) {
      throw new GoferError(
        "FORBIDDEN",
        "The `bootstrap` role belongs to the bootstrap token only; use `admin`",
      );
    }
    await requireKnownRoles(this.#db, roles);
    return createToken(this.#db, { user, roles, expiresMs: expires * 1000, metadata: metadata ?? {} });
  }

  async get(id: string): Promise<Token> {
    const token = await getToken(this.#db, id);
    if (!token) throw notFound(`Token "${id}"`);
    return token;
  }

  /** A token may not switch itself: an admin could otherwise lock themselves out with their only token. */
  async setDisabled(id: string, disabled: boolean | null | undefined, principal: Principal): Promise<void> {
    if (disabled === undefined || disabled === null) {
      throw badRequest("Nothing to update; send `disabled` (true or false)");
    }
    if (id === principal.token?.id) {
      throw new GoferError("CONFLICT", "A token cannot enable or disable itself; use another admin token");
    }
    if (!(await setTokenDisabled(this.#db, id, disabled))) throw notFound(`Token "${id}"`);
  }

  async delete(id: string): Promise<void> {
    if (!(await deleteToken(this.#db, id))) throw notFound(`Token "${id}"`);
  }
}
