import { mkdirSync } from "node:fs";
import { access, type FileHandle, mkdir, open, readdir, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GoferError } from "../domain/errors.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { LogCursor } from "../scheduler/scheduler.ts";
import { ChangeNotifier } from "./change-notifier.ts";
import { noteLogRead } from "./line-objects.ts";
import { loadCursor, removeCursor, saveCursor } from "./log-cursor.ts";
import { type ReadLogOptions, readLogBlocks } from "./log-reader.ts";
import { identityLine, type LineTransform, TaskLogWriter } from "./log-writer.ts";
import { RecentAppends } from "./recent-appends.ts";
import { SharedBlocks } from "./shared-blocks.ts";
import { cutStreamIndex, removeStreamIndex, streamIndexPathOf } from "./stream-index.ts";

export interface OpenWriterOptions {
  /** Applied to every complete line before it is stored, e.g. to mask secrets. Identity by default. */
  transformLine?: LineTransform;
  /**
   * Capture from a container that may have written part of this log already (a reattach after a restart or
   * an engine outage): the file is cut back to its saved resume point, and the writer's `resumeAfter` says
   * where the container's output continues. Without it the writer appends after whatever the file holds.
   */
  resume?: boolean;
  /**
   * Whether the output's pieces say truly which stream they came from (default true). A backend that merges the
   * streams gives everything as stdout: its lines get no stream index, so they read as of unknown stream.
   */
  streamsKnown?: boolean;
}

/** Whole blocks of logs kept for the readers sharing them, across all logs: see {@link SharedBlocks}. */
const SHARED_BLOCKS_BYTES = 16 * 1024 * 1024;

/** The newest appends kept for the followers of a log: see {@link RecentAppends}. */
const RECENT_BYTES = 2 * 1024 * 1024;

/** Which log: a task execution's, and which attempt of it (1 when absent). */
export type LogKey = TaskExecutionKey & { attempt?: number };

/**
 * Task execution logs on the local disk: one append-only, line-complete file per attempt of a task execution, at
 * `<dir>/<namespace>/<pipeline>/<run>/<task>.log` for the first and `<task>.attempt-<n>.log` for later ones,
 * each with its stream index beside it (`….log.streams`, see stream-index.ts), cut, kept and deleted with it.
 *
 * Followers are woken in-process by the writer. With replicas the writer may be another process (the leader,
 * on a folder all replicas share): then followers also look at the file every `pollMs`, as `tail -f` does on a
 * network filesystem where change notifications do not cross hosts.
 */
export class LogStore {
  readonly #dir: string;
  readonly #pollMs: number | undefined;
  readonly #onWritten: ((bytes: number, lines: number) => void) | undefined;
  readonly #changes = new ChangeNotifier();
  /** Open writers per log path: their buffered last lines are still to come even once the task is final. */
  readonly #openWriters = new Map<string, number>();
  /**
   * Blocks read once for every reader of a log in this process. Not with replicas: a writer in another process
   * may cut a log back without this one knowing.
   */
  readonly #sharedBlocks: SharedBlocks | undefined;
  /** Per log path with one writer open in this process, its newest appends while two or more readers follow. */
  readonly #recent = new Map<string, RecentAppends>();

  /** Creates `dir` if it is missing. */
  constructor(
    dir: string,
    options: { pollMs?: number; onWritten?: (bytes: number, lines: number) => void } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.#dir = dir;
    this.#pollMs = options.pollMs;
    this.#onWritten = options.onWritten;
    this.#sharedBlocks = options.pollMs === undefined ? new SharedBlocks(SHARED_BLOCKS_BYTES) : undefined;
  }

  /** Clients following any log now, in this process. */
  allFollowersCount(): number {
    return this.#changes.totalListeners();
  }

  /** Throws `INVALID_IDENTIFIER` for a key part that could escape the store's directory. */
  pathFor(key: LogKey): string {
    if (!Number.isSafeInteger(key.run_id) || key.run_id < 0) {
      throw new GoferError("INVALID_IDENTIFIER", `invalid run id in log key: ${key.run_id}`);
    }
    return join(
      this.#dir,
      pathSegment(key.namespace_id),
      pathSegment(key.pipeline_id),
      String(key.run_id),
      attemptFile(pathSegment(key.task_id), key.attempt ?? 1),
    );
  }

  /** Opens the log for appending after whatever it already holds, creating it and its directories if needed. */
  async openWriter(key: LogKey, options: OpenWriterOptions = {}): Promise<TaskLogWriter> {
    const path = this.pathFor(key);
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "a");
    const file = await handle.stat();
    let start = { position: undefined as LogCursor | undefined, size: file.size };
    if (options.resume) {
      try {
        start = await loadCursor(path);
        await cutStreamIndex(path, start.size);
        // Lines past the resume point are read again from the container; keeping them would double them. Blocks
        // shared by readers are dropped before the cut, and reads under way during it are not kept.
        const id = `${file.dev}:${file.ino}`;
        this.#sharedBlocks?.forget(id);
        await handle.truncate(start.size);
        this.#sharedBlocks?.forget(id);
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    let streamIndex: FileHandle | undefined;
    if (options.streamsKnown !== false) {
      try {
        streamIndex = await open(streamIndexPathOf(path), "a");
      } catch (error) {
        await handle.close();
        throw error;
      }
    }
    // Appends are kept for followers only while this is the log's one writer: with two, neither knows where
    // the other's bytes land.
    const recent = this.#openWriters.has(path) ? undefined : new RecentAppends(RECENT_BYTES);
    if (recent) this.#recent.set(path, recent);
    else this.#recent.delete(path);
    this.#openWriters.set(path, (this.#openWriters.get(path) ?? 0) + 1);
    const writer = new TaskLogWriter(handle, {
      startSize: start.size,
      startPosition: start.position,
      streamIndex,
      saveCommit: (commit) => saveCursor(path, commit),
      transformLine: options.transformLine ?? identityLine,
      onAppend: (bytes, lines, appended) => {
        this.#onWritten?.(bytes, lines);
        if (recent && this.#recent.get(path) === recent) {
          if (this.#changes.listenerCount(path) >= 2) recent.add(appended.offset, appended.parts);
          else recent.clear();
        }
        this.#changes.notify(path);
      },
      onClose: () => {
        if (recent && this.#recent.get(path) === recent) this.#recent.delete(path);
        const count = (this.#openWriters.get(path) ?? 1) - 1;
        if (count === 0) this.#openWriters.delete(path);
        else this.#openWriters.set(path, count);
        this.#changes.notify(path);
      },
    });
    // A follower may be waiting for the file to appear.
    this.#changes.notify(path);
    return writer;
  }

  /** The log as blocks of whole lines. See {@link readLogBlocks} for following and cancellation. */
  read(key: LogKey, options: ReadLogOptions): AsyncGenerator<Buffer, void, undefined> {
    const path = this.pathFor(key);
    const blocks = readLogBlocks(path, options, {
      subscribe: (listener) => {
        const unsubscribe = this.#changes.subscribe(path, listener);
        if (this.#pollMs === undefined) return unsubscribe;
        const poll = setInterval(listener, this.#pollMs);
        return () => {
          clearInterval(poll);
          unsubscribe();
        };
      },
      writerOpen: () => this.#openWriters.has(path),
      sharedBlocks: this.#sharedBlocks,
      recent: (position) => this.#recent.get(path)?.from(position),
    });
    noteLogRead(blocks, path);
    return blocks;
  }

  /**
   * Wakes the log's followers so they consult `isFinished` again. Call it once the task's final state is stored,
   * for every task execution, including one that never started and so never had a writer.
   */
  finish(key: LogKey): void {
    this.#changes.notify(this.pathFor(key));
  }

  /** Deletes the log of every attempt of the task; missing ones are not an error. */
  async remove(key: LogKey): Promise<void> {
    const first = this.pathFor({ ...key, attempt: 1 });
    const folder = dirname(first);
    const prefix = `${pathSegment(key.task_id)}.attempt-`;
    let names: string[] = [];
    try {
      names = await readdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const paths = [
      first,
      ...names
        .filter((name) => name.startsWith(prefix) && name.endsWith(".log"))
        .map((name) => join(folder, name)),
    ];
    await Promise.all(
      paths.flatMap((path) => [rm(path, { force: true }), removeCursor(path), removeStreamIndex(path)]),
    );
  }

  /**
   * Deletes the folder of a run's logs once it holds none: retention removes runs' logs one task at a time, and
   * an empty folder per run would still grow without bound. A folder still holding a log stays.
   */
  async removeRunFolderIfEmpty(key: LogKey): Promise<void> {
    try {
      await rmdir(dirname(this.pathFor(key)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY") throw error;
    }
  }

  /** Forgets the resume point once the task's final state is stored: its capture will never resume. */
  async dropResumePoint(key: LogKey): Promise<void> {
    await removeCursor(this.pathFor(key));
  }

  /** Deletes every log of a pipeline, or of a whole namespace when `pipelineId` is left out. */
  async removeAll(namespaceId: string, pipelineId?: string): Promise<void> {
    const parts = [pathSegment(namespaceId), ...(pipelineId === undefined ? [] : [pathSegment(pipelineId)])];
    await rm(join(this.#dir, ...parts), { recursive: true, force: true });
  }

  async exists(key: LogKey): Promise<boolean> {
    try {
      await access(this.pathFor(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  /** How many readers are following the log now, e.g. for a metrics gauge. */
  followerCount(key: LogKey): number {
    return this.#changes.listenerCount(this.pathFor(key));
  }
}

/** The first attempt keeps the name logs always had, so a v0 task's log is where it always was. */
function attemptFile(task: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new GoferError("INVALID_IDENTIFIER", `invalid attempt in log key: ${attempt}`);
  }
  return attempt === 1 ? `${task}.log` : `${task}.attempt-${attempt}.log`;
}

/** Ids are validated identifiers upstream; this is the last guard against one naming a different file. */
function pathSegment(id: string): string {
  if (id === "" || id === "." || id === ".." || /[/\\\0]/.test(id)) {
    throw new GoferError("INVALID_IDENTIFIER", `invalid id in log key: ${JSON.stringify(id)}`);
  }
  return id;
}
