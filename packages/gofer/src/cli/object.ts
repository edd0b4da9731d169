/**
 * `gofer pipeline object …` and `gofer run object …`: list, download, upload and delete objects.
 *
 * Contents are bytes and are streamed both ways, so an object may be larger than memory: `get` writes to stdout
 * or to a file as the download arrives, and `put` sends a file or stdin as it is read. `get` prints the bytes
 * themselves even with --json; JSON output describes only what was listed, stored, saved or deleted.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ObjectBody, StoredObject } from "@gofer/sdk/client";
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { type CommandContext, contextOf } from "./command-context.ts";

/** The objects of one owner (a pipeline or a run), whatever the owner is. */
interface ObjectOwner {
  /** For messages: "pipeline app", "run 3 of app". */
  label: string;
  list(): Promise<StoredObject[]>;
  stream(key: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  put(key: string, body: ObjectBody, force: boolean): Promise<StoredObject>;
  delete(key: string): Promise<void>;
}

/** How a command group names its owner: the leading arguments, and the owner they resolve to. */
interface OwnerKind {
  args: string;
  owner(context: CommandContext, values: string[]): ObjectOwner;
}

const PIPELINE: OwnerKind = {
  args: "<pipeline>",
  owner: ({ client, namespace }, [pipelineId = ""]) => ({
    label: `pipeline ${pipelineId}`,
    list: () => client.objects.pipeline.list(namespace, pipelineId),
    stream: (key, signal) => client.objects.pipeline.stream(namespace, pipelineId, key, { signal }),
    put: (key, body, force) => client.objects.pipeline.put(namespace, pipelineId, key, body, { force }),
    delete: (key) => client.objects.pipeline.delete(namespace, pipelineId, key),
  }),
};

const RUN: OwnerKind = {
  args: "<pipeline> <run>",
  owner: ({ client, namespace }, [pipelineId = "", runText = ""]) => {
    const runId = positiveInteger(runText);
    return {
      label: `run ${runId} of ${pipelineId}`,
      list: () => client.objects.run.list(namespace, pipelineId, runId),
      stream: (key, signal) => client.objects.run.stream(namespace, pipelineId, runId, key, { signal }),
      put: (key, body, force) => client.objects.run.put(namespace, pipelineId, runId, key, body, { force }),
      delete: (key) => client.objects.run.delete(namespace, pipelineId, runId, key),
    };
  },
};

export function registerPipelineObjectCommands(pipeline: Command): void {
  registerObjectCommands(
    pipeline.command("object").description("Objects of a pipeline: bytes by key, kept across its runs"),
    PIPELINE,
  );
}

export function registerRunObjectCommands(run: Command): void {
  registerObjectCommands(
    run
      .command("object")
      .description("Objects of one run: bytes by key, removed when the run's objects expire"),
    RUN,
  );
}

/**
 * Commander passes the positional values, then the options, then the command; the owner's arguments come
 * first among the positional ones, so they are read from the command and the rest by position.
 */
function invocation(args: unknown[], ownerArity: number) {
  const command = args.at(-1) as Command;
  const values = command.args;
  return { command, ownerValues: values.slice(0, ownerArity), rest: values.slice(ownerArity) };
}

function registerObjectCommands(group: Command, kind: OwnerKind): void {
  const arity = kind.args.split(" ").length;

  group
    .command(`list ${kind.args}`)
    .description("List the objects, oldest first")
    .action(async (...args: unknown[]) => {
      const { command, ownerValues } = invocation(args, arity);
      const context = contextOf(command);
      const objects = await kind.owner(context, ownerValues).list();
      const { out } = context;
      // v0 answers carry no sizes; a server that sends them gets the column.
      const sized = objects.some((item) => typeof item.size === "number");
      out.result(objects, () =>
        out.table(
          sized ? ["key", "size", "created"] : ["key", "created"],
          objects.map((item) =>
            sized
              ? [item.key, item.size === undefined ? "-" : formatBytes(item.size), out.time(item.created)]
              : [item.key, out.time(item.created)],
          ),
        ),
      );
    });

  group
    .command(`get ${kind.args} <key>`)
    .description("Write an object's bytes to stdout, or to a file with -f")
    .option("-f, --output-file <path>", "save to this file instead (written whole or not at all)")
    .action(async (...args: unknown[]) => {
      const { command, ownerValues, rest } = invocation(args, arity);
      const [key = ""] = rest;
      const { outputFile } = command.opts<{ outputFile?: string }>();
      const context = contextOf(command);
      const owner = kind.owner(context, ownerValues);
      await whileInterruptible(async (signal) => {
        const stream = await owner.stream(key, signal);
        if (outputFile === undefined || outputFile === "-") {
          // stdout stays open afterwards: it belongs to the process, not to this download.
          await pipeline(stream, process.stdout, { end: false, signal });
          return;
        }
        const bytes = await saveAtomically(stream, outputFile, signal);
        context.out.result(
          { key, file: outputFile, bytes },
          () => `Saved ${key} to ${outputFile} (${formatBytes(bytes)})`,
        );
      });
    });

  group
    .command(`put ${kind.args} <key> <file>`)
    .description("Store an object from a file, or from stdin with -")
    .option("--force", "replace an existing object")
    .action(async (...args: unknown[]) => {
      const { command, ownerValues, rest } = invocation(args, arity);
      const [key = "", file = ""] = rest;
      const { force } = command.opts<{ force?: boolean }>();
      const context = contextOf(command);
      const owner = kind.owner(context, ownerValues);
      const source = file === "-" ? process.stdin : await openFile(file);
      const stored = await whileInterruptible((signal) => {
        signal.addEventListener("abort", () => source.destroy(), { once: true });
        return owner.put(key, webStreamOf(source), force ?? false);
      });
      context.out.result(stored, () => `Stored object ${stored.key} for ${owner.label}`);
    });

  group
    .command(`delete ${kind.args} <key>`)
    .description("Delete an object")
    .action(async (...args: unknown[]) => {
      const { command, ownerValues, rest } = invocation(args, arity);
      const [key = ""] = rest;
      const context = contextOf(command);
      const owner = kind.owner(context, ownerValues);
      await owner.delete(key);
      context.out.result({ deleted: key }, () => `Deleted object ${key} of ${owner.label}`);
    });
}

/** Runs `work` with a signal that Ctrl-C aborts, and reports the interruption as a failure (exit 130). */
async function whileInterruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort(new CliError("interrupted", { exitCode: 130 }));
  process.once("SIGINT", stop);
  try {
    return await work(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    process.removeListener("SIGINT", stop);
  }
}

/**
 * Writes the download to a hidden file beside `target` and renames it into place at the end, so a download
 * that fails or is interrupted leaves neither a partial file nor a clobbered old one. Returns the byte count.
 */
async function saveAtomically(
  stream: ReadableStream<Uint8Array>,
  target: string,
  signal: AbortSignal,
): Promise<number> {
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString("hex")}.part`);
  let bytes = 0;
  try {
    await pipeline(
      stream,
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          bytes += chunk.byteLength;
          yield chunk;
        }
      },
      createWriteStream(temporary, { flags: "wx" }),
      { signal },
    );
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    if (isFileError(error)) throw new CliError(`cannot write ${target}: ${error.code}`);
    throw error;
  }
  return bytes;
}

/** Checks up front that `file` is a readable regular file, so a typo fails before any request. */
async function openFile(file: string): Promise<Readable> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      hint: "give the path of a file, or - to read stdin",
    });
  }
  if (!isFile) throw new CliError(`cannot read ${file}: not a regular file`);
  const readable = createReadStream(file);
  // Opening can still fail (permissions); the upload then rejects with this error, reported as the file's.
  readable.on("error", () => undefined);
  return readable;
}

/**
 * A Node readable as a web stream that reads one chunk per pull, so the upload drives the reading and at most a
 * chunk is held in memory whatever the size of the source.
 */
function webStreamOf(readable: Readable): ReadableStream<Uint8Array> {
  const chunks = readable[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (error) {
          throw isFileError(error) ? new CliError(`cannot read the input: ${error.code}`) : error;
        }
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

const isFileError = (error: unknown): error is NodeJS.ErrnoException & { code: string } =>
  error instanceof Error &&
  typeof (error as NodeJS.ErrnoException).code === "string" &&
  /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? "");

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
