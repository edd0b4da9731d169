import type { ValidationProblem } from "@gofer/sdk";

/**
 * Why a pipeline file could not be loaded.
 *
 * - `PIPELINE_FILE_NOT_FOUND`: the path does not exist, or a directory holds none of the file names looked for
 *   and no `go.mod` or `Cargo.toml`.
 * - `PIPELINE_FILE_AMBIGUOUS`: a directory holds both a `go.mod` and a `Cargo.toml`, and no pipeline file.
 * - `PIPELINE_FILE_UNSUPPORTED`: the file's extension is not one a pipeline can be written in.
 * - `PIPELINE_FILE_INVALID_JSON`: a `.json` file that does not parse, or a Go or Rust program whose stdout does
 *   not (or is too big to be a config).
 * - `PIPELINE_FILE_SYNTAX_ERROR`: a TypeScript or JavaScript file (or a module it imports) that does not parse,
 *   including TypeScript that Node cannot run by erasing types (`enum`, `namespace`, parameter properties).
 * - `PIPELINE_FILE_IMPORT_FAILED`: a module the file imports cannot be found or loaded.
 * - `PIPELINE_FILE_THREW`: running the file, or finishing its builder, threw.
 * - `PIPELINE_FILE_NO_EXPORT`: no default export and no export named `pipeline`.
 * - `PIPELINE_FILE_WRONG_EXPORT`: the export is neither a pipeline builder nor a config object.
 * - `PIPELINE_FILE_INVALID_CONFIG`: the config breaks the rules the server applies; see `problems`.
 * - `PIPELINE_FILE_TOOLCHAIN_MISSING`: a Go or Rust program, but `go` or `cargo` is not on the PATH.
 * - `PIPELINE_FILE_BUILD_FAILED`: `go build` or `cargo build` failed; the message holds the toolchain's own.
 * - `PIPELINE_FILE_TIMEOUT`: the file, or a program's build or the program, did not finish in time and was
 *   killed.
 * - `PIPELINE_FILE_CRASHED`: the process evaluating the file ended without an answer (`process.exit()` in the
 *   file, a crash, a signal), or a Go or Rust program ended with a failure (a panic, a non-zero exit code).
 */
export type PipelineFileErrorCode =
  | "PIPELINE_FILE_NOT_FOUND"
  | "PIPELINE_FILE_AMBIGUOUS"
  | "PIPELINE_FILE_UNSUPPORTED"
  | "PIPELINE_FILE_INVALID_JSON"
  | "PIPELINE_FILE_SYNTAX_ERROR"
  | "PIPELINE_FILE_IMPORT_FAILED"
  | "PIPELINE_FILE_THREW"
  | "PIPELINE_FILE_NO_EXPORT"
  | "PIPELINE_FILE_WRONG_EXPORT"
  | "PIPELINE_FILE_INVALID_CONFIG"
  | "PIPELINE_FILE_TOOLCHAIN_MISSING"
  | "PIPELINE_FILE_BUILD_FAILED"
  | "PIPELINE_FILE_TIMEOUT"
  | "PIPELINE_FILE_CRASHED";

/**
 * A pipeline file that could not be turned into a valid config. The message is written for the person who
 * wrote the file: it names the file, says what went wrong (with the source line of a syntax error, or the
 * frames of a thrown error that are in their code) and how to fix it.
 */
export class PipelineFileError extends Error {
  override name = "PipelineFileError";
  readonly code: PipelineFileErrorCode;
  /** The absolute path of the file, or of the path given when no file was found. */
  readonly source: string;
  /**
   * What the file printed on stdout and stderr before it failed, or a program's build output and what it printed
   * on stderr; empty for JSON. Worth showing the user.
   */
  readonly output: string;
  /** The validator's problems for `PIPELINE_FILE_INVALID_CONFIG`; empty otherwise. */
  readonly problems: readonly ValidationProblem[];

  constructor(
    code: PipelineFileErrorCode,
    message: string,
    details: { source: string; output?: string; problems?: readonly ValidationProblem[] },
  ) {
    super(message);
    this.code = code;
    this.source = details.source;
    this.output = details.output ?? "";
    this.problems = [...(details.problems ?? [])];
  }
}
