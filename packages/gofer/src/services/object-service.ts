/**
 * Pipeline, run and extension objects. Every operation first checks that the owner exists (404 naming the
 * missing part otherwise), because an object whose owner is gone would outlive every cleanup; the bytes and
 * their rows are the object store's business.
 *
 * Storing an existing key without `force` is a 409 (v0 documents only "4XX"; Gofer sent 400, but a conflict
 * with existing state is what 409 means everywhere else in this API, e.g. secrets).
 */
import { notFound } from "../domain/errors.ts";
import {
  type ObjectInfo,
  type ObjectScope,
  type ObjectStore,
  type OpenedObject,
  type PutOptions,
  runObjectsExpired,
} from "../objects/object-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { getExtension } from "../storage/extensions-store.ts";
import { requirePipeline, requireRun } from "./lookups.ts";

export class ObjectService {
  readonly #db: GoferDb;
  readonly #objects: ObjectStore;

  constructor({ db, objects }: { db: GoferDb; objects: ObjectStore }) {
    this.#db = db;
    this.#objects = objects;
  }

  /** Oldest first. */
  async list(scope: ObjectScope): Promise<ObjectInfo[]> {
    await this.#requireOwner(scope, false);
    return this.#objects.list(scope);
  }

  async open(scope: ObjectScope, key: string): Promise<OpenedObject> {
    await this.#requireOwner(scope, false);
    return this.#objects.open(scope, key);
  }

  /** Streams `body` to disk; bounded by `object_store.max_object_size`, never buffered whole. */
  async put(
    scope: ObjectScope,
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: PutOptions,
  ): Promise<ObjectInfo> {
    await this.#requireOwner(scope, true);
    return this.#objects.put(scope, key, body, options);
  }

  async delete(scope: ObjectScope, key: string): Promise<void> {
    await this.#requireOwner(scope, false);
    await this.#objects.delete(scope, key);
  }

  async #requireOwner(scope: ObjectScope, forWrite: boolean): Promise<void> {
    switch (scope.kind) {
      case "pipeline":
        await requirePipeline(this.#db, scope.namespace_id, scope.pipeline_id);
        return;
      case "run": {
        const run = await requireRun(this.#db, scope.namespace_id, scope.pipeline_id, scope.run_id);
        // Refused before the body is read; the store checks again when the upload commits.
        if (forWrite && run.store_objects_expired) throw runObjectsExpired(scope.run_id);
        return;
      }
      case "extension":
        if (!(await getExtension(this.#db, scope.extension_id))) {
          throw notFound(`Extension "${scope.extension_id}"`);
        }
        return;
    }
  }
}
