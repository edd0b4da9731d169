/**
 * Secret keys and the namespace rules of global secrets, as pure logic.
 *
 * Keys allow `_` (unlike ids) because v0's examples and run tokens use it (`gofer_api_token_run_id_7`).
 * Namespace regexes are matched against the WHOLE namespace id (`^(?:re)$`): v0 matched unanchored, so a secret
 * meant for `prod` also reached `prod-sandbox` and `not-prod`.
 */
import { GoferError } from "./errors.ts";

export const SECRET_KEY_RULE =
  "secret keys are 1 to 128 characters: letters, digits, `_` and `-`, starting with a letter or digit";
const SECRET_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const isValidSecretKey = (key: string): boolean => SECRET_KEY.test(key);

export function requireSecretKey(key: string): void {
  if (!isValidSecretKey(key)) {
    throw new GoferError(
      "INVALID_SECRET_KEY",
      `Invalid secret key ${JSON.stringify(key)}: ${SECRET_KEY_RULE}`,
    );
  }
}

/** Compiles one namespace rule; `undefined` if the text is not a valid regex. */
export function compileNamespaceRule(rule: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${rule})$`);
  } catch {
    return undefined;
  }
}

/** Throws a 400 naming the first rule that is empty or not a regex. */
export function requireNamespaceRules(rules: string[]): void {
  if (rules.length === 0) {
    throw new GoferError(
      "BAD_REQUEST",
      'namespaces must list at least one regex; use ".*" to allow every namespace',
    );
  }
  for (const rule of rules) {
    if (rule === "" || !compileNamespaceRule(rule)) {
      throw new GoferError(
        "BAD_REQUEST",
        `namespaces: ${JSON.stringify(rule)} is not a valid regular expression (each one must match a whole namespace id)`,
      );
    }
  }
}

/** Whether a global secret with these rules may be used from `namespaceId`. */
export function namespaceAllowed(rules: string[], namespaceId: string): boolean {
  return rules.some((rule) => compileNamespaceRule(rule)?.test(namespaceId) ?? false);
}
