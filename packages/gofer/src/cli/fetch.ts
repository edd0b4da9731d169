/**
 * `gofer fetch [pipeline|+] [run|+] [task|+]`: Gofer's shortcut down the pipeline → run → task hierarchy. A name
 * shows that item; `+` lists the tier it stands in. Each form runs the command it abbreviates (`fetch p +` is
 * `run list p`), so tables and `--json` documents are exactly those commands' and cannot drift apart.
 */
import { GoferApiError } from "@gofer/sdk/client";
import { type Command, InvalidArgumentError } from "commander";
import { nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { type CommandContext, contextOf } from "./command-context.ts";

const LIST = "+";
const DEFAULT_LIMIT = 10;

/** What a `fetch` line asks for, once its words are read. */
type FetchTarget =
  | { kind: "pipelines" }
  | { kind: "pipeline"; pipelineId: string }
  | { kind: "runs"; pipelineId: string }
  | { kind: "run"; pipelineId: string; runId: number }
  | { kind: "tasks"; pipelineId: string; runId: number }
  | { kind: "task"; pipelineId: string; runId: number; taskId: string };

interface FetchOptions {
  limit?: number;
  offset?: number;
  oldestFirst?: boolean;
}

export function registerFetchCommand(program: Command): void {
  program
    .command("fetch [pipeline] [run] [task]")
    .description(
      "Shortcut through pipelines, runs and tasks: a name shows that item, `+` lists its tier. " +
        "`fetch` lists pipelines, `fetch <p>` shows one, `fetch <p> +` lists its runs (newest first), " +
        "`fetch <p> <run>` shows a run, `fetch <p> <run> +` lists its tasks, `fetch <p> <run> <task>` shows a task",
    )
    .option("-l, --limit <n>", `with \`<p> +\`: how many runs (default ${DEFAULT_LIMIT})`, positiveInteger)
    .option(
      "-o, --offset <n>",
      "with `<p> +`: skip this many of the newest runs (default 0)",
      nonNegativeInteger,
    )
    .option("-n, --oldest-first", "with `<p> +`: list oldest first (Gofer's --no-reverse)")
    .action(
      async (
        pipeline: string | undefined,
        run: string | undefined,
        task: string | undefined,
        options: FetchOptions,
        command: Command,
      ) => {
        const target = readFetchWords(pipeline, run, task);
        checkRunListOptions(target, options);
        const context = contextOf(command);
        try {
          await dispatch(rootOf(command), equivalent(target, options));
        } catch (error) {
          if (error instanceof GoferApiError && error.status === 404)
            throw await explainNotFound(context, target, error);
          throw error;
        }
      },
    );
}

/** Reads the positional words the way Gofer did, refusing lines Gofer could only fail on later. */
function readFetchWords(
  pipeline: string | undefined,
  run: string | undefined,
  task: string | undefined,
): FetchTarget {
  if (pipeline === undefined || pipeline === LIST) {
    if (run !== undefined)
      throw new CliError("`+` in place of a pipeline lists the pipelines; nothing can follow it", {
        hint: "name a pipeline instead: gofer fetch <pipeline> …; `gofer fetch` lists them",
        exitCode: 2,
      });
    return { kind: "pipelines" };
  }
  if (run === undefined) return { kind: "pipeline", pipelineId: pipeline };
  if (run === LIST) {
    if (task !== undefined)
      throw new CliError(`\`+\` in place of a run lists the runs of ${pipeline}; nothing can follow it`, {
        hint: `name a run: \`gofer fetch ${pipeline} +\` lists them, newest first`,
        exitCode: 2,
      });
    return { kind: "runs", pipelineId: pipeline };
  }
  const runId = readRunId(pipeline, run);
  if (task === undefined) return { kind: "run", pipelineId: pipeline, runId };
  if (task === LIST) return { kind: "tasks", pipelineId: pipeline, runId };
  return { kind: "task", pipelineId: pipeline, runId, taskId: task };
}

function readRunId(pipeline: string, text: string): number {
  try {
    return positiveInteger(text);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new CliError(`a run is its number (1, 2, …) or \`+\`, got "${text}"`, {
      hint: `\`gofer fetch ${pipeline} +\` lists the runs of ${pipeline}`,
      exitCode: 2,
    });
  }
}

/** Paging flags shape only the run list; anywhere else they would be silently ignored, so they are refused. */
function checkRunListOptions(target: FetchTarget, options: FetchOptions): void {
  if (target.kind === "runs") return;
  const given = [
    options.limit !== undefined && "--limit",
    options.offset !== undefined && "--offset",
    options.oldestFirst && "--oldest-first",
  ].filter((flag) => typeof flag === "string");
  if (given.length > 0)
    throw new CliError(`${given.join(", ")} can only be used with a list of runs`, {
      hint: "use them with `gofer fetch <pipeline> +`",
      exitCode: 2,
    });
}

/** The command line (below the program) that `target` abbreviates. */
function equivalent(
  target: FetchTarget,
  options: FetchOptions = {},
): { group: string; verb: string; args: string[] } {
  // `--` keeps ids that start with a dash from being read as flags.
  switch (target.kind) {
    case "pipelines":
      return { group: "pipeline", verb: "list", args: [] };
    case "pipeline":
      return { group: "pipeline", verb: "get", args: ["--", target.pipelineId] };
    case "runs":
      return {
        group: "run",
        verb: "list",
        args: [
          "--limit",
          String(options.limit ?? DEFAULT_LIMIT),
          "--offset",
          String(options.offset ?? 0),
          ...(options.oldestFirst ? ["--oldest-first"] : []),
          "--",
          target.pipelineId,
        ],
      };
    case "run":
      return { group: "run", verb: "get", args: ["--", target.pipelineId, String(target.runId)] };
    case "tasks":
      return { group: "task", verb: "list", args: ["--", target.pipelineId, String(target.runId)] };
    case "task":
      return {
        group: "task",
        verb: "get",
        args: ["--", target.pipelineId, String(target.runId), target.taskId],
      };
  }
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

async function dispatch(root: Command, line: { group: string; verb: string; args: string[] }): Promise<void> {
  const command = root.commands
    .find((sub) => sub.name() === line.group)
    ?.commands.find((sub) => sub.name() === line.verb);
  if (!command)
    throw new Error(`gofer fetch abbreviates \`${line.group} ${line.verb}\`, which does not exist`);
  await command.parseAsync(line.args, { from: "user" });
}

/**
 * The server's 404 says what is missing but not how to find what exists, which for `fetch` is one level up the
 * same shortcut. A 404 can come from any level of the line (`fetch p 3 build` fails alike for a missing
 * pipeline, run or task), so the levels above the target are asked about top-down to find the first one that
 * is not there; when they all exist, the target itself is missing. Should a question fail otherwise (a token
 * that may not read the level above), the server's own error stands.
 */
async function explainNotFound(
  { client, namespace }: CommandContext,
  target: FetchTarget,
  error: GoferApiError,
): Promise<Error> {
  const pipelineId = "pipelineId" in target ? target.pipelineId : "";
  const runId = "runId" in target ? target.runId : 0;
  // Index i: the hint when level i is missing, and the question whether it exists (the task level has none).
  const levels: { hint: string; exists?: () => Promise<unknown> }[] = [
    {
      hint: "`gofer namespace list` shows the namespaces; choose one with --namespace or GOFER_NAMESPACE",
      exists: () => client.pipelines.list(namespace),
    },
    {
      hint: `\`gofer fetch\` lists the pipelines of namespace "${namespace}"`,
      exists: () => client.pipelines.get(namespace, pipelineId),
    },
    {
      hint: `\`gofer fetch ${pipelineId} +\` lists the runs of ${pipelineId}, newest first`,
      exists: () => client.runs.get(namespace, pipelineId, runId),
    },
    { hint: `\`gofer fetch ${pipelineId} ${runId} +\` lists the tasks of run ${runId}` },
  ];
  const depth = DEPTH[target.kind];
  let missing = levels[depth];
  for (const level of levels.slice(0, depth)) {
    try {
      await level.exists?.();
    } catch (probe) {
      if (!(probe instanceof GoferApiError && probe.status === 404)) return error;
      missing = level;
      break;
    }
  }
  const code = error.errorCode ? `, ${error.errorCode}` : "";
  return new CliError(`${error.message} (HTTP ${error.status}${code})`, { hint: missing?.hint });
}

/** How far down namespace → pipeline → run → task the item a target shows or lists sits. */
const DEPTH: Record<FetchTarget["kind"], number> = {
  pipelines: 0,
  pipeline: 1,
  runs: 1,
  run: 2,
  tasks: 2,
  task: 3,
};
