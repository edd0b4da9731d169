/**
 * The pipelines the chaos test runs, described as data so the expected outcome of every run, every task status
 * and every log line can be computed from the description alone, independent of the server's own DAG code.
 *
 * Every task prints, tagged `<run>/<task>` (so a line in the wrong log is caught):
 *   stdout: `start <uuid>`, `out 1` … `out N` at a steady pace, `end`
 *   stderr: `err 1` … `err M`, one after every `errEvery`-th stdout line
 * then exits with its exit code. The uuid is fresh per container, so a task started twice shows two. A task
 * with `failAttempts` exits 7 on its first that many attempts and retries (its log is the last attempt's).
 */
import { type DependsOnCondition, type PipelineConfig, pipeline, task } from "@gofer/sdk";

export const IMAGE = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";

type Condition = Extract<DependsOnCondition, "success" | "failure" | "any">;

export interface TaskSpec {
  id: string;
  lines: number;
  paceMs: number;
  /** One stderr line after every `errEvery`-th stdout line; 0 for none. */
  errEvery: number;
  exitCode: number;
  dependsOn: Record<string, Condition>;
  /** Attempts that fail (exit 7) before one ends as `exitCode`; the task retries that many times. */
  failAttempts: number;
}

export interface PipelineSpec {
  id: string;
  /** 0: the server's default limit (200); 1 keeps later runs queued, so kills also land on pending runs. */
  parallelism: number;
  tasks: TaskSpec[];
}

const t = (
  id: string,
  lines: number,
  paceMs: number,
  errEvery: number,
  dependsOn: Record<string, Condition> = {},
  exitCode = 0,
  failAttempts = 0,
): TaskSpec => ({ id, lines, paceMs, errEvery, exitCode, dependsOn, failAttempts });

export const PIPELINES: PipelineSpec[] = [
  {
    id: "chaos-parallel",
    parallelism: 0,
    tasks: [t("alpha", 40, 100, 4), t("beta", 25, 150, 0), t("gamma", 60, 50, 3)],
  },
  {
    id: "chaos-chain",
    parallelism: 0,
    tasks: [
      t("fetch", 15, 100, 0),
      t("build", 20, 100, 5, { fetch: "success" }),
      t("ship", 10, 150, 2, { build: "success" }),
    ],
  },
  {
    id: "chaos-failure",
    parallelism: 0,
    tasks: [
      t("compile", 20, 100, 4, {}, 3),
      t("lint", 15, 100, 0),
      t("package", 10, 100, 0, { compile: "success" }),
      t("publish", 5, 100, 0, { package: "success" }),
      t("cleanup", 8, 100, 0, { compile: "failure" }),
      t("report", 10, 100, 5, { compile: "any" }),
      t("summary", 5, 100, 0, { publish: "any", lint: "success" }),
    ],
  },
  { id: "chaos-queue", parallelism: 1, tasks: [t("tick", 12, 100, 6)] },
  {
    id: "chaos-retry",
    parallelism: 0,
    tasks: [t("flaky", 10, 100, 5, {}, 0, 2), t("after", 8, 100, 0, { flaky: "success" })],
  },
];

export function specOf(pipelineId: string): PipelineSpec {
  const spec = PIPELINES.find((candidate) => candidate.id === pipelineId);
  if (!spec) throw new Error(`no pipeline "${pipelineId}" in the chaos test`);
  return spec;
}

function script(spec: TaskSpec): string {
  const pace = (spec.paceMs / 1000).toFixed(3);
  const stderr =
    spec.errEvery > 0
      ? `  if [ $((i % ${spec.errEvery})) -eq 0 ]; then echo "$tag err $((i / ${spec.errEvery}))" >&2; fi\n`
      : "";
  return (
    'tag="$GOFER_RUN_ID/$GOFER_TASK_ID"\n' +
    'echo "$tag start $(cat /proc/sys/kernel/random/uuid)"\n' +
    "i=1\n" +
    `while [ $i -le ${spec.lines} ]; do\n` +
    '  echo "$tag out $i"\n' +
    stderr +
    `  sleep ${pace}\n` +
    "  i=$((i + 1))\n" +
    "done\n" +
    'echo "$tag end"\n' +
    (spec.failAttempts > 0 ? `[ "$GOFER_TASK_ATTEMPT" -gt ${spec.failAttempts} ] || exit 7\n` : "") +
    `exit ${spec.exitCode}\n`
  );
}

export function pipelineConfig(spec: PipelineSpec): PipelineConfig {
  const tasks = spec.tasks.map((taskSpec) => {
    const builder = task(taskSpec.id, IMAGE).command("sh", "-c", script(taskSpec));
    if (taskSpec.failAttempts > 0) builder.retries({ limit: taskSpec.failAttempts, delay: "300ms" });
    for (const [parent, condition] of Object.entries(taskSpec.dependsOn))
      builder.dependsOn(parent, condition);
    return builder;
  });
  return pipeline(spec.id, `Chaos ${spec.id}`)
    .description("Registered by scripts/chaos.ts")
    .parallelism(spec.parallelism)
    .tasks(...tasks)
    .finish();
}

export type ExpectedTaskStatus = "successful" | "failed" | "skipped";

export interface ExpectedRun {
  status: "successful" | "failed";
  /** Per task: its final status and exit code, and how many attempts (containers started) it takes. */
  tasks: Record<string, { status: ExpectedTaskStatus; exitCode: number | null; attempts: number }>;
}

function holds(condition: Condition, status: ExpectedTaskStatus): boolean {
  if (condition === "success") return status === "successful";
  if (condition === "failure") return status === "failed";
  return true;
}

/**
 * What a run of `spec` must end as: a task runs when every parent has finished in the state its condition asks
 * for (`any` accepts successful, failed and skipped), else it is skipped; the run failed if any task failed.
 */
export function expectedRun(spec: PipelineSpec): ExpectedRun {
  const tasks: ExpectedRun["tasks"] = {};
  const pending = [...spec.tasks];
  while (pending.length > 0) {
    const index = pending.findIndex((candidate) =>
      Object.keys(candidate.dependsOn).every((parent) => tasks[parent] !== undefined),
    );
    const next = index === -1 ? undefined : pending.splice(index, 1)[0];
    if (!next) throw new Error(`pipeline ${spec.id} has a dependency cycle`);
    const runs = Object.entries(next.dependsOn).every(([parent, condition]) => {
      const parentStatus = tasks[parent]?.status;
      return parentStatus !== undefined && holds(condition, parentStatus);
    });
    tasks[next.id] = runs
      ? {
          status: next.exitCode === 0 ? "successful" : "failed",
          exitCode: next.exitCode,
          attempts: next.failAttempts + 1,
        }
      : { status: "skipped", exitCode: null, attempts: 1 };
  }
  const failed = Object.values(tasks).some((outcome) => outcome.status === "failed");
  return { status: failed ? "failed" : "successful", tasks };
}

/** The stdout and stderr lines a task that ran must leave in its log, in order, each exactly once. */
export function expectedLines(spec: TaskSpec, runId: number): { stdout: string[]; stderr: string[] } {
  const tag = `${runId}/${spec.id}`;
  const stdout = Array.from({ length: spec.lines }, (_, index) => `${tag} out ${index + 1}`);
  const errors = spec.errEvery > 0 ? Math.floor(spec.lines / spec.errEvery) : 0;
  const stderr = Array.from({ length: errors }, (_, index) => `${tag} err ${index + 1}`);
  return { stdout, stderr };
}
