/** Checks the session's token with the server, and learns the user and whether it is an admin's. */
import { ApiError, api } from "../api/client.ts";
import type { Token } from "../api/types.ts";
import { rememberToken, session } from "./session.ts";
import { refreshSystem, runsPaused } from "./system.ts";

const ADMIN_ROLES = new Set(["admin", "bootstrap"]);

/** Signs in with `token`; throws an ApiError saying why the server refused it, keeping the old session. */
export async function signIn(token: string): Promise<void> {
  const previous = session.token.value;
  session.token.value = token;
  try {
    await loadIdentity();
    rememberToken(token);
  } catch (error) {
    session.token.value = previous;
    throw error;
  }
}

export function signOut(): void {
  rememberToken("");
  session.user.value = "";
  session.admin.value = false;
  runsPaused.value = undefined;
}

export async function loadIdentity(): Promise<void> {
  if (!session.token.value) return;
  const token = await api<Token>("GET", "/api/tokens/whoami", "token");
  session.user.value = token.user;
  session.admin.value = token.roles.some((role) => ADMIN_ROLES.has(role));
  await refreshSystem();
}

/** At page load: a stored token that no longer works is dropped, so the page does not fail on every call. */
export async function restoreSession(): Promise<void> {
  try {
    await loadIdentity();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
  }
}
