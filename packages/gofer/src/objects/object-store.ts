/**
 * Objects on the local disk: bytes that tasks, extensions and people pass around by key. Metadata rows in
 * SQLite are the truth; each names a content file with a generated name, so a key never becomes a path.
 *
 * Layout: `<dir>/namespaces/<namespace>/<pipeline>/<file>` for pipeline and run objects (deleting a pipeline
 * or namespace removes one folder), `<dir>/extensions/<extension>/<file>` for extension objects.
 *
 * A write streams into `<file>.partial` in the same folder and is renamed into place only once complete, so a
 * failed or aborted upload never leaves a half-written object; the row is committed after the rename, and a
 * replaced version's file is deleted only after the row stops naming it. A commit that fails (a key taken
 * meanwhile, a run whose objects expired during the upload) deletes the new file. A reader holds an open
 * descriptor, so a concurrent overwrite or delete cannot cut its download short.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { GoferError, notFound } from "../domain/errors.ts";
import { objectKeyProblem } from "../domain/object-keys.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  deleteObjectRow,
  deleteOwnerRows,
  expireRunObjectRows,
  getObjectRow,
  listObjectFiles,
  listObjectRows,
  listRunsToExpire,
  type ObjectRow,
  type ObjectScope,
  replaceObjectRow,
  trimObjectRows,
} from "../storage/objects-store.ts";
import { getRun } from "../storage/runs-store.ts";

export type { ObjectScope } from "../storage/objects-store.ts";

/** What listings and uploads answer (the v0 `Object`), plus the size. */
export interface ObjectInfo {
  key: string;
  created: number;
  size: number;
}

export interface ObjectStoreOptions {
  dir: string;
  db: GoferDb;
  /** Objects kept per pipeline; storing one more evicts the oldest. */
  pipelineObjectLimit: number;
  /** How many of a pipeline's newest runs keep their run objects. */
  runObjectExpiry: number;
  /** Largest object accepted, in bytes. */
  maxObjectSize: number;
  log?: (message: string, error?: unknown) => void;
}

export interface PutOptions {
  force: boolean;
  /** The declared body length, when known, so an oversized upload is refused before any byte is read. */
  contentLength?: number | undefined;
}

export interface OpenedObject {
  info: ObjectInfo;
  /** The content, from a descriptor opened before this returned; consuming or destroying it closes it. */
  stream: Readable;
  size: number;
}

const PARTIAL = ".partial";

export class ObjectStore {
  readonly #options: ObjectStoreOptions;

  /** Creates `dir` if it is missing. */
  constructor(options: ObjectStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.#options = options;
  }

  get maxObjectSize(): number {
    return this.#options.maxObjectSize;
  }

  /**
   * Streams `body` into the object `key`. Without `force` an existing key is a 409 (checked before reading the
   * body and again at commit, for a concurrent upload of the same key). Pipeline objects beyond the limit are
   * evicted oldest first.
   */
  async put(
    scope: ObjectScope,
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: PutOptions,
  ): Promise<ObjectInfo> {
    requireValidKey(key);
    const { db, maxObjectSize } = this.#options;
    if (!options.force && (await getObjectRow(db, scope, key))) throw alreadyExists(key);
    if (options.contentLength !== undefined && options.contentLength > maxObjectSize)
      throw tooLarge(maxObjectSize);

    const dir = this.#dirOf(scope);
    await mkdir(dir, { recursive: true });
    const file = randomUUID();
    const size = await writeAtomically(join(dir, file), body, maxObjectSize);

    const row: ObjectRow = { key, file, size, created: Date.now() };
    let stale: ObjectRow[];
    try {
      stale = await db.transaction().execute(async (tx) => {
        // The object service refused an expired run before reading the body, but expiry may have run since: a
        // row committed now would name a file that no later expiry pass removes (the run is already marked).
        if (scope.kind === "run" && (await runObjectsHaveExpired(tx, scope))) {
          throw runObjectsExpired(scope.run_id);
        }
        const previous = await getObjectRow(tx, scope, key);
        if (previous && !options.force) throw alreadyExists(key);
        await replaceObjectRow(tx, scope, row);
        const evicted =
          scope.kind === "pipeline" ? await trimObjectRows(tx, scope, this.#options.pipelineObjectLimit) : [];
        return previous ? [previous, ...evicted] : evicted;
      });
    } catch (error) {
      await rm(join(dir, file), { force: true });
      throw error;
    }
    await this.#removeFiles(dir, stale);
    return { key, created: row.created, size };
  }

  /** Opens the object for reading; 404 when there is no such key. */
  async open(scope: ObjectScope, key: string): Promise<OpenedObject> {
    requireValidKey(key);
    const opened = await this.#openContent(scope, key);
    if (!opened) throw notFound(`Object "${key}"`);
    const { size } = await opened.handle.stat();
    return {
      info: { key, created: opened.created, size },
      size,
      stream: opened.handle.createReadStream({ autoClose: true }),
    };
  }

  /** The object's whole content, or undefined when there is no such key. Callers bound `maxBytes`. */
  async read(scope: ObjectScope, key: string, maxBytes: number): Promise<Buffer | undefined | "too_large"> {
    if (objectKeyProblem(key)) return undefined;
    const opened = await this.#openContent(scope, key);
    if (!opened) return undefined;
    try {
      const { size } = await opened.handle.stat();
      if (size > maxBytes) return "too_large";
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }

  async list(scope: ObjectScope): Promise<ObjectInfo[]> {
    const rows = await listObjectRows(this.#options.db, scope);
    return rows.map(({ key, created, size }) => ({ key, created, size }));
  }

  /** 404 when there is no such key. */
  async delete(scope: ObjectScope, key: string): Promise<void> {
    requireValidKey(key);
    const { db } = this.#options;
    const row = await db.transaction().execute(async (tx) => {
      const found = await getObjectRow(tx, scope, key);
      if (found) await deleteObjectRow(tx, scope, key);
      return found;
    });
    if (!row) throw notFound(`Object "${key}"`);
    await this.#removeFiles(this.#dirOf(scope), [row]);
  }

  /** Removes the files of a deleted pipeline's objects (the rows went with the pipeline). */
  async removePipeline(namespaceId: string, pipelineId: string): Promise<void> {
    await rm(join(this.#options.dir, "namespaces", segment(namespaceId), segment(pipelineId)), {
      recursive: true,
      force: true,
    });
  }

  /** Removes the files of a deleted namespace's objects (the rows went with its pipelines). */
  async removeNamespace(namespaceId: string): Promise<void> {
    await rm(join(this.#options.dir, "namespaces", segment(namespaceId)), { recursive: true, force: true });
  }

  /** Deletes an uninstalled extension's objects: their rows, then their folder. */
  async removeExtension(extensionId: string): Promise<void> {
    await deleteOwnerRows(this.#options.db, { kind: "extension", extension_id: extensionId });
    await rm(this.#dirOf({ kind: "extension", extension_id: extensionId }), { recursive: true, force: true });
  }

  /**
   * Deletes the objects of the pipeline's complete runs older than its newest `runObjectExpiry` runs and marks
   * those runs `store_objects_expired`. Older runs still in flight are left for a later call.
   */
  async expireRunObjects(namespaceId: string, pipelineId: string): Promise<number[]> {
    const { db, runObjectExpiry } = this.#options;
    const runIds = await listRunsToExpire(db, namespaceId, pipelineId, runObjectExpiry);
    const dir = this.#dirOf({ kind: "pipeline", namespace_id: namespaceId, pipeline_id: pipelineId });
    for (const runId of runIds) {
      const rows = await expireRunObjectRows(db, namespaceId, pipelineId, runId);
      await this.#removeFiles(dir, rows);
    }
    return runIds;
  }

  /**
   * Deletes files no row names: partial uploads cut off by a crash, and versions whose row went away while the
   * server stopped before removing the file. Run at boot, before uploads start.
   */
  async sweep(): Promise<void> {
    const live = await listObjectFiles(this.#options.db);
    for await (const path of contentFiles(this.#options.dir)) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (!live.has(name)) await rm(path, { force: true });
    }
  }

  #dirOf(scope: ObjectScope): string {
    if (scope.kind === "extension") {
      return join(this.#options.dir, "extensions", segment(scope.extension_id));
    }
    return join(this.#options.dir, "namespaces", segment(scope.namespace_id), segment(scope.pipeline_id));
  }

  async #openContent(
    scope: ObjectScope,
    key: string,
  ): Promise<{ handle: FileHandle; created: number } | undefined> {
    // A concurrent overwrite can delete the file between reading the row and opening it: read the row again.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const row = await getObjectRow(this.#options.db, scope, key);
      if (!row) return undefined;
      try {
        const handle = await open(join(this.#dirOf(scope), row.file), "r");
        return { handle, created: row.created };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return undefined;
  }

  async #removeFiles(dir: string, rows: ObjectRow[]): Promise<void> {
    for (const row of rows) {
      await rm(join(dir, row.file), { force: true }).catch((error: unknown) =>
        this.#options.log?.(`could not delete object file ${row.file}`, error),
      );
    }
  }
}

/** Writes to `<path>.partial`, flushed to disk, then renames it to `path`; the partial file never survives a failure. */
async function writeAtomically(
  path: string,
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<number> {
  const partial = path + PARTIAL;
  const handle = await open(partial, "wx", 0o600);
  let size = 0;
  try {
    // Each write is awaited before the next chunk is read: the disk sets the pace, memory stays flat.
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      await handle.write(chunk);
    }
    // Durable before it becomes visible: a crash after the rename must not expose a file with missing bytes.
    await handle.sync();
    await handle.close();
    await rename(partial, path);
    return size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

async function* contentFiles(dir: string): AsyncGenerator<string> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* contentFiles(path);
    else if (entry.isFile()) yield path;
  }
}

function requireValidKey(key: string): void {
  const problem = objectKeyProblem(key);
  if (problem) {
    const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
    throw new GoferError("INVALID_OBJECT_KEY", `Invalid object key ${JSON.stringify(shown)}: ${problem}`);
  }
}

/** Scope ids are validated identifiers upstream; this is the last guard against one naming another folder. */
function segment(id: string): string {
  if (id === "" || id === "." || id === ".." || /[/\\\0]/.test(id)) {
    throw new GoferError("INVALID_IDENTIFIER", `invalid id in object scope: ${JSON.stringify(id)}`);
  }
  return id;
}

/** Whether the run's objects expired. A run deleted meanwhile is left to the objects table's foreign key. */
async function runObjectsHaveExpired(
  db: GoferDb,
  scope: Extract<ObjectScope, { kind: "run" }>,
): Promise<boolean> {
  const run = await getRun(db, scope.namespace_id, scope.pipeline_id, scope.run_id);
  return run?.store_objects_expired === true;
}

/** The 409 for storing an object on a run whose objects expired, before the upload or during it. */
export const runObjectsExpired = (runId: number): GoferError =>
  new GoferError(
    "CONFLICT",
    `The objects of run ${runId} have expired (object_store.run_object_expiry); it takes no new ones`,
  );

const alreadyExists = (key: string): GoferError =>
  new GoferError("ALREADY_EXISTS", `Object "${key}" already exists; set force=true to overwrite it`);

const tooLarge = (maxBytes: number): GoferError =>
  new GoferError(
    "OBJECT_TOO_LARGE",
    `Object is larger than the limit of ${maxBytes} bytes (object_store.max_object_size)`,
  );
