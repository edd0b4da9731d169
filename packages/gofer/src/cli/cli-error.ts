/**
 * An error the CLI reports as it is: one line saying what went wrong, optionally a hint saying what to do, and
 * the process exit code. Anything else that escapes a command is reported with its message only.
 */
export class CliError extends Error {
  override name = "CliError";
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}
