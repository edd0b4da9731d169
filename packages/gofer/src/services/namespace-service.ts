/** Namespaces: the top of every path. A namespace goes only with all of its pipelines, and never under a run. */
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import type { Namespace } from "../domain/models.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  deleteNamespace,
  insertNamespace,
  listNamespaces,
  lockNamespace,
  updateNamespace,
} from "../storage/namespaces-store.ts";
import { countUnfinishedRuns } from "../storage/runs-store.ts";
import { requireNamespace } from "./lookups.ts";

export interface NamespaceChange {
  name?: string | null | undefined;
  description?: string | null | undefined;
}

export class NamespaceService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;

  constructor({ db, bus }: { db: GoferDb; bus: EventBus }) {
    this.#db = db;
    this.#bus = bus;
  }

  list(): Promise<Namespace[]> {
    return listNamespaces(this.#db);
  }

  get(id: string): Promise<Namespace> {
    return requireNamespace(this.#db, id);
  }

  async create(input: { id: string; name: string; description: string }): Promise<Namespace> {
    const now = Date.now();
    const namespace: Namespace = { ...input, created: now, modified: now };
    await this.#bus.transaction(async (tx, publish) => {
      if (!(await insertNamespace(tx, namespace))) {
        throw new GoferError("ALREADY_EXISTS", `Namespace "${input.id}" already exists`);
      }
      await publish("created_namespace", { namespace_id: input.id });
    });
    return namespace;
  }

  /** `null` and a missing field both mean "keep"; a request keeping everything is refused as a mistake. */
  async update(id: string, { name, description }: NamespaceChange): Promise<Namespace> {
    if ((name ?? null) === null && (description ?? null) === null) {
      throw badRequest("Nothing to update; send `name` and/or `description`");
    }
    return this.#db.transaction().execute(async (tx) => {
      await requireNamespace(tx, id);
      const namespace = await updateNamespace(tx, id, {
        ...(typeof name === "string" && { name }),
        ...(typeof description === "string" && { description }),
        modified: Date.now(),
      });
      if (!namespace) throw notFound(`Namespace "${id}"`);
      return namespace;
    });
  }

  /**
   * Deletes the namespace with its pipelines, configs and runs (foreign keys cascade), refused while any of its
   * runs is unfinished. Check, delete and the `deleted_namespace` event are one transaction that starts with a
   * write (see `lockNamespace`): a run start either committed before it, and is counted, or comes after and
   * finds no pipeline. Checking outside the transaction let a run start in between, and the cascade then
   * removed that run while its container ran.
   */
  async delete(id: string): Promise<void> {
    await this.#bus.transaction(async (tx, publish) => {
      if (!(await lockNamespace(tx, id))) throw notFound(`Namespace "${id}"`);
      const unfinished = await countUnfinishedRuns(tx, id);
      if (unfinished > 0) {
        throw new GoferError(
          "CONFLICT",
          `Namespace "${id}" has ${unfinished} unfinished run(s); cancel them and retry`,
        );
      }
      await deleteNamespace(tx, id);
      await publish("deleted_namespace", { namespace_id: id });
    });
  }
}
