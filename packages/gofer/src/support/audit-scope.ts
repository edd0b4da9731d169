// In support/ (imports nothing of the project): the API opens a scope, storage writes the row it describes.
/**
 * The audit scope of one API call that may change something: who made it, what it named, and whether its audit
 * row has been written yet. The API opens the scope once the call is authorised and runs the handler inside it
 * (an AsyncLocalStorage, so every query the call causes, however deep in the services, finds it); the database
 * layer writes the row in the transaction of the call's first committed write; the API writes it when the
 * answer goes out if no write did. {@link AuditScope.claim} makes sure only one of them ever does.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What the audit row of a call says, but for its id, its time and its outcome. */
export interface AuditDraft {
  request_id: string;
  /** `null` for calls made without a token (the bootstrap call, a server that bypasses authentication). */
  token_id: string | null;
  user: string;
  method: string;
  /** The v0 operation id, e.g. `delete_pipeline`. */
  operation: string;
  /** The route pattern, e.g. `/api/namespaces/:namespace_id/pipelines/:pipeline_id`. */
  route: string;
  /** The path below `/api/` with the call's parameters, e.g. `namespaces/default/pipelines/build`. */
  target: string;
  client_address: string;
  forwarded_for: string | null;
  forwarded_by: string | null;
  /** The status the route answers when it succeeds: what a row written with the change says. */
  success_status: number;
}

type ScopeState = "open" | "writing" | "written" | "closed";

export class AuditScope {
  readonly draft: AuditDraft;
  #state: ScopeState = "open";
  #closing = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(draft: AuditDraft) {
    this.draft = draft;
  }

  /** True once the row is committed. */
  get written(): boolean {
    return this.#state === "written";
  }

  /** True while no row is written or being written and the call is not over: a write may still take it. */
  get open(): boolean {
    return this.#state === "open";
  }

  /** Whether a write of the call is committing its row now. */
  get writing(): boolean {
    return this.#state === "writing";
  }

  /**
   * Takes the right to write the row, or answers `undefined` when a row is written, being written, or the call
   * is over. The taker must call the returned function once its write committed (`true`) or failed (`false`,
   * which lets a later write of the call take it).
   */
  claim(): ((committed: boolean) => void) | undefined {
    if (this.#state !== "open") return undefined;
    this.#state = "writing";
    let settle!: () => void;
    this.#writing = new Promise((resolve) => {
      settle = resolve;
    });
    return (committed) => {
      if (this.#state === "writing") this.#state = committed ? "written" : this.#closing ? "closed" : "open";
      settle();
    };
  }

  /** Resolves once a write of the row in flight has committed or failed. */
  settled(): Promise<void> {
    return this.#writing;
  }

  /**
   * Ends the scope: work the call started that outlives its answer (a run's tasks) writes no row of its own.
   * A write of the row in flight still commits.
   */
  close(): void {
    this.#closing = true;
    if (this.#state === "open") this.#state = "closed";
  }
}

const scopes = new AsyncLocalStorage<AuditScope>();

/** Runs `work`, and everything it starts, inside `scope`. */
export function runInAuditScope<T>(scope: AuditScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The scope of the API call this code runs for, if it runs for one that may change something. */
export function currentAuditScope(): AuditScope | undefined {
  return scopes.getStore();
}
