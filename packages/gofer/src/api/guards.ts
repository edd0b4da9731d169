/** Input checks shared by routes: they refuse a malformed request before any service is called. */
import { describeIdentifierRule, isValidIdentifier } from "@gofer/sdk";
import { GoferError } from "../domain/errors.ts";

export function requireIdentifier(value: string, what: string): void {
  if (!isValidIdentifier(value)) {
    throw new GoferError("INVALID_IDENTIFIER", `Invalid ${what} "${value}": ${describeIdentifierRule}`);
  }
}
