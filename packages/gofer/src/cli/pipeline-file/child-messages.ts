/**
 * What the pipeline child process sends its parent over the IPC channel. The channel, not stdout, carries the
 * result so that whatever the pipeline file prints cannot corrupt it. Every message carries the token the parent
 * passed on the command line, so a stray `process.send` from the pipeline file is not taken for the result.
 */

/** The child's exit code when the event loop empties while the file still awaits something (Node's own). */
export const UNSETTLED_TOP_LEVEL_AWAIT = 13;

/**
 * Why the child could not produce a config.
 *
 * - `syntax`: the file (or a module it imports) could not be parsed. The child then lets Node print the error,
 *   which is the only way to get the offending source line for JavaScript, after writing the token on stderr.
 * - `import-failed`: a module the file imports could not be found or loaded.
 * - `threw`: evaluating the file, or finishing its builder, threw.
 * - `invalid-config`: the builder's `finish()` refused the pipeline (a `PipelineConfigError`).
 * - `no-export`: the module has neither a default export nor an export named `pipeline`.
 * - `wrong-export`: the export is neither a pipeline builder nor a config object.
 */
export type ChildFailureReason =
  | "syntax"
  | "import-failed"
  | "threw"
  | "invalid-config"
  | "no-export"
  | "wrong-export";

/** A validation problem as `PipelineConfigError.problems` holds it, copied field by field. */
export interface ChildProblem {
  path: string;
  message: string;
  taskId?: string;
}

export interface ChildFailure {
  token: string;
  kind: "failed";
  reason: ChildFailureReason;
  /** Shown to the user under the summary: the error and its frames in user code, or what was exported. */
  detail: string;
  /** Set for `import-failed` and `syntax` when the error had a Node error code. */
  errorCode?: string;
  /** Set for `invalid-config`. */
  problems?: ChildProblem[];
}

/** The result: the config the file exports, or why there is none. */
export type ChildMessage = { token: string; kind: "config"; config: unknown } | ChildFailure;

/**
 * Sent just before the child imports the pipeline file. The file's time limit counts from here, so that the
 * start-up of Node and of the child's own modules, slow on a loaded machine, is not charged to the file.
 */
export interface ChildStarted {
  token: string;
  kind: "started";
}
