/**
 * Who is signed in. The token lives in sessionStorage: it is gone when the tab closes, is never put in a URL,
 * and is sent only to this server.
 */
import { Signal } from "./signal.ts";

const TOKEN_KEY = "gofer.token";

function storedToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export const session = {
  token: new Signal<string>(storedToken()),
  /** The token's user once the server confirmed it; "" when anonymous. */
  user: new Signal<string>(""),
  /** Whether the token holds the admin role: operator controls are shown only then. */
  admin: new Signal<boolean>(false),
};

export function rememberToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be refused (private modes); the token then lasts as long as the page.
  }
  session.token.value = token;
}
