import type { ValidationProblem } from "./validate-pipeline.ts";

/**
 * A pipeline config that `validatePipelineConfig` refused, thrown by `PipelineBuilder.finish()`. The
 * message lists every problem, one per line, each naming the task it belongs to, so one edit can fix them all.
 */
export class PipelineConfigError extends Error {
  override name = "PipelineConfigError";
  /** The code the server answers with when it refuses the same config on registration. */
  readonly code = "INVALID_PIPELINE_CONFIG";
  /** The validator's problems, in its order. */
  readonly problems: readonly ValidationProblem[];

  /**
   * @param problems what the validator reported; copied.
   * @param pipelineId the id of the refused pipeline, for the first line of the message.
   */
  constructor(problems: readonly ValidationProblem[], pipelineId?: string) {
    const subject =
      pipelineId === undefined ? "Invalid pipeline config" : `Invalid pipeline ${quote(pipelineId)}`;
    const count = problems.length === 1 ? "" : ` (${problems.length} problems)`;
    super(`${subject}${count}:\n${problems.map((problem) => `  - ${describe(problem)}`).join("\n")}`);
    this.problems = [...problems];
  }
}

// Messages about a task's shape name it by path (`tasks[2].image must not be blank`), which a builder user
// does not see; the task's id, or its position when it has no usable id, is put first unless already named.
function describe(problem: ValidationProblem): string {
  const name = problem.taskId === undefined ? taskPosition(problem.path) : quote(problem.taskId);
  if (name === undefined || problem.message.includes(name)) return problem.message;
  return problem.taskId === undefined ? `${name}: ${problem.message}` : `task ${name}: ${problem.message}`;
}

function taskPosition(path: string): string | undefined {
  return /^tasks\[\d+\]/.exec(path)?.[0];
}

const SHOWN_ID_LENGTH = 64;

// The same quoting as the validator's messages, so a task reads the same in the prefix and in the sentence.
function quote(value: string): string {
  const shown = value.length > SHOWN_ID_LENGTH ? `${value.slice(0, SHOWN_ID_LENGTH)}…` : value;
  return /^[^`\p{C}]*$/u.test(shown) ? `\`${shown}\`` : JSON.stringify(shown);
}
