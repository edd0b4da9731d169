/**
 * Extensions: the rules of install, enable/disable and uninstall, and the one place each of those changes is
 * made, so every path (the API, the standard extensions registered at boot) publishes its event.
 *
 * - Lifecycle changes of one extension run one at a time, so an uninstall cannot interleave with the enable
 *   that is still starting its container, nor a boot-time registration with an install of the same id.
 * - A status change and its event commit together, before the container is started or stopped; the event is
 *   delivered to live listeners after, so a listener that reacts to `enabled_extension` finds it running.
 * - An uninstall's subscriptions go through the subscription service, which records an unregistered event for
 *   each before `uninstalled_extension`.
 *
 * Differences from v0, on purpose: install refuses an existing id (409; v0 restarted it with the new image but
 * kept the old registration) and undoes itself when the extension does not start (v0 left it registered);
 * disabling stops the extension, so it starts no runs (v0 only flipped a flag); uninstall unsubscribes and
 * removes the container, token and objects (v0 left them); setting values are shown to admins only; the
 * install, enable, disable and uninstall events are published (v0 defined them but never did).
 */
import type { RegistryAuth } from "@gofer/sdk";
import { revokeExtensionAccess } from "../auth/extension-tokens.ts";
import { REDACTED } from "../domain/config-conversion.ts";
import { GoferError, notFound } from "../domain/errors.ts";
import { parseReference } from "../domain/interpolation.ts";
import type { Extension, Subscription } from "../domain/models.ts";
import type { EventBus } from "../events/event-bus.ts";
import { extensionLogBlocks } from "../extensions/extension-logs.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import { standardRegistrations } from "../extensions/standard-extensions.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  deleteExtension,
  getExtension,
  insertExtension,
  listExtensions,
  type StoredExtension,
  updateExtension,
} from "../storage/extensions-store.ts";
import { listExtensionSubscriptions } from "../storage/subscriptions-store.ts";
import { SerialQueue } from "../support/serial-queue.ts";
import { requireKnownRoles } from "./lookups.ts";
import type { SubscriptionService } from "./subscription-service.ts";

export interface ExtensionServiceOptions {
  db: GoferDb;
  bus: EventBus;
  scheduler: Scheduler;
  supervisor: ExtensionSupervisor;
  subscriptions: SubscriptionService;
}

export interface InstallRequest {
  id: string;
  image: string;
  settings: Record<string, string>;
  registry_auth: RegistryAuth | null;
  additional_roles: string[];
}

/** Who is looking: setting values are shown to admins only. */
export interface Viewer {
  admin: boolean;
}

/** Setting keys become environment variable names (GOFER_EXTENSION_CONFIG_<KEY>). */
const SETTING_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_SETTING_VALUE = 64 * 1024;

export class ExtensionService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;
  readonly #scheduler: Scheduler;
  readonly #supervisor: ExtensionSupervisor;
  readonly #subscriptions: SubscriptionService;
  readonly #lifecycle = new SerialQueue();

  constructor(options: ExtensionServiceOptions) {
    this.#db = options.db;
    this.#bus = options.bus;
    this.#scheduler = options.scheduler;
    this.#supervisor = options.supervisor;
    this.#subscriptions = options.subscriptions;
  }

  async list(viewer: Viewer): Promise<Extension[]> {
    return (await listExtensions(this.#db)).map((stored) => this.#present(stored, viewer));
  }

  async get(id: string, viewer: Viewer): Promise<Extension> {
    return this.#present(await this.#require(id), viewer);
  }

  /**
   * Registers the extension and starts it; resolves once it runs. If it does not start, or it does not take a
   * setting it was given, the registration is undone and the error says why.
   */
  async install(request: InstallRequest, viewer: Viewer): Promise<Extension> {
    const { id, settings } = request;
    checkSettings(settings);
    await checkRoles(this.#db, request.additional_roles);
    return this.#lifecycle.run(id, async () => {
      const now = Date.now();
      const stored: StoredExtension = {
        extension_id: id,
        image: request.image.trim(),
        registry_auth: request.registry_auth,
        settings,
        additional_roles: request.additional_roles,
        status: "enabled",
        token_id: null,
        created: now,
        modified: now,
      };
      if (!(await insertExtension(this.#db, stored))) {
        throw new GoferError(
          "ALREADY_EXISTS",
          `Extension "${id}" is already installed; uninstall it first to install it again`,
        );
      }
      const failure = await this.#supervisor.startFirst(id);
      const declared = this.#supervisor.view(id).documentation.config_params;
      const unknown = failure ? [] : unknownSettings(settings, declared);
      if (failure || unknown.length > 0) {
        // Never announced as installed, so not announced as gone; only subscriptions made meanwhile are.
        await this.#erase(stored, { announce: false });
        if (failure) {
          throw new GoferError(
            "EXTENSION_START_FAILED",
            `Extension "${id}" did not start: ${failure.description}`,
          );
        }
        const known = declared.map((parameter) => parameter.key);
        throw new GoferError(
          "BAD_REQUEST",
          `Extension "${id}" takes no setting ${unknown.map((key) => `"${key}"`).join(", ")}; ` +
            `its settings are: ${known.length > 0 ? known.join(", ") : "(none)"}`,
        );
      }
      await this.#bus.publish("installed_extension", { id, image: stored.image });
      return this.#present((await getExtension(this.#db, id)) ?? stored, viewer);
    });
  }

  /**
   * Registers the standard extensions that are missing (`extensions.install_std_extensions`), each with its
   * `installed_extension` event; the supervisor's boot starts them. Unlike an API install it does not wait for
   * them to start: one that fails stays installed, visible and retried, and never holds up the server.
   */
  async installStandard(imagePrefix: string): Promise<void> {
    for (const registration of standardRegistrations(imagePrefix, Date.now())) {
      const { extension_id: id, image } = registration;
      await this.#lifecycle.run(id, async () => {
        const installed = await this.#db
          .transaction()
          .execute(async (tx) =>
            (await insertExtension(tx, registration))
              ? this.#bus.publish("installed_extension", { id, image }, tx)
              : undefined,
          );
        if (installed) this.#bus.deliver(installed);
      });
    }
  }

  /**
   * Enables (starts it and restores its subscriptions) or disables (stops it and revokes its token). The same
   * status again is a no-op, except that enabling an enabled extension that is not running starts it now.
   */
  async setEnabled(id: string, enable: boolean): Promise<void> {
    await this.#lifecycle.run(id, async () => {
      const stored = await this.#require(id);
      const status = enable ? "enabled" : "disabled";
      const running = this.#supervisor.view(id).state === "running";
      if (stored.status === status && (status === "disabled" || running)) return;
      const changed = await this.#db.transaction().execute(async (tx) => {
        await updateExtension(tx, id, { status });
        return this.#bus.publish(
          enable ? "enabled_extension" : "disabled_extension",
          { id, image: stored.image },
          tx,
        );
      });
      try {
        if (enable) await this.#supervisor.enable(id);
        else await this.#supervisor.disable(id);
      } finally {
        this.#bus.deliver(changed);
      }
    });
  }

  /** Unsubscribes everything, stops and removes the container, deletes its subscriptions, token and role. */
  async uninstall(id: string): Promise<void> {
    await this.#lifecycle.run(id, async () => {
      const stored = await this.#require(id);
      await this.#erase(stored, { announce: true });
      this.#supervisor.forgetOutput(id);
    });
  }

  /** The running extension's own description of its inner state. */
  async debug(id: string): Promise<string> {
    await this.#require(id);
    try {
      return await this.#supervisor.clientOf(id).debug();
    } catch (error) {
      if (error instanceof GoferError) throw error;
      throw new GoferError(
        "EXTENSION_ERROR",
        `Extension "${id}" could not answer: ${(error as Error).message}`,
      );
    }
  }

  /**
   * Refuses, before a log stream is opened, an extension that has nothing to show: one that is not installed
   * and left no output (an install that failed leaves its container's), or one with neither a container nor
   * the output of its last one.
   */
  async requireLogs(id: string): Promise<void> {
    const stored = await getExtension(this.#db, id);
    const kept = this.#supervisor.lastOutputOf(id) !== undefined;
    if (!stored && !kept) throw notFound(`Extension "${id}"`);
    if (stored && !kept && !this.#supervisor.containerOf(id)) {
      throw new GoferError(
        "EXTENSION_UNAVAILABLE",
        `Extension "${id}" has no container now (it is ${this.#supervisor.view(id).state}) and none has printed anything yet`,
      );
    }
  }

  /**
   * The extension container's output as blocks of whole lines; without a container (it failed and is not
   * restarted yet, or its install failed), what the last one printed, which `follow` cannot extend.
   * `requireLogs` has vouched for one of them.
   */
  logs(id: string, follow: boolean, signal: AbortSignal): AsyncIterable<Buffer> {
    const containerId = this.#supervisor.containerOf(id);
    if (containerId !== undefined) return extensionLogBlocks(this.#scheduler, containerId, follow, signal);
    return keptLogBlocks(this.#supervisor.lastOutputOf(id) ?? "");
  }

  async subscriptionsOf(id: string): Promise<Subscription[]> {
    await this.#require(id);
    return listExtensionSubscriptions(this.#db, id);
  }

  async #require(id: string): Promise<StoredExtension> {
    const stored = await getExtension(this.#db, id);
    if (!stored) throw notFound(`Extension "${id}"`);
    return stored;
  }

  /**
   * Removes every trace of an extension: its running half first (it unsubscribes and stops), then in one
   * commit its subscriptions (each with its unregistered event), registration, token and role, and, when
   * `announce`, the `uninstalled_extension` event.
   */
  async #erase(stored: StoredExtension, { announce }: { announce: boolean }): Promise<void> {
    const { extension_id: id, image } = stored;
    await this.#supervisor.remove(id);
    const events = await this.#db.transaction().execute(async (tx) => {
      // Read again: every start rotated the token since the caller read the registration.
      const latest = (await getExtension(tx, id))?.token_id ?? stored.token_id;
      const unregistered = await this.#subscriptions.forgetExtension(tx, id);
      await deleteExtension(tx, id);
      await revokeExtensionAccess(tx, id, latest);
      if (!announce) return unregistered;
      return [...unregistered, await this.#bus.publish("uninstalled_extension", { id, image }, tx)];
    });
    for (const event of events) this.#bus.deliver(event);
  }

  #present(stored: StoredExtension, viewer: Viewer): Extension {
    return {
      registration: {
        extension_id: stored.extension_id,
        image: stored.image,
        registry_auth: stored.registry_auth && { user: stored.registry_auth.user, pass: REDACTED },
        settings: Object.entries(stored.settings).map(([key, value]) => ({
          key,
          value: viewer.admin ? value : REDACTED,
          source: "system" as const,
        })),
        created: stored.created,
        modified: stored.modified,
        status: stored.status,
        additional_roles: stored.additional_roles,
      },
      ...this.#supervisor.view(stored.extension_id),
    };
  }
}

function checkSettings(settings: Record<string, string>): void {
  for (const [key, value] of Object.entries(settings)) {
    if (!SETTING_KEY.test(key)) {
      throw new GoferError(
        "BAD_REQUEST",
        `Invalid setting key "${key}": use a letter, then letters, digits or "_" (at most 64); it becomes ` +
          "the environment variable GOFER_EXTENSION_CONFIG_<KEY>",
      );
    }
    if (value.length > MAX_SETTING_VALUE) {
      throw new GoferError("BAD_REQUEST", `Setting "${key}" is longer than ${MAX_SETTING_VALUE} characters`);
    }
    const reference = parseReference(value);
    if (reference && reference.kind !== "global_secret") {
      throw new GoferError(
        "BAD_REQUEST",
        `Setting "${key}" refers to a ${reference.kind.replace("_", " ")}; extension settings may refer to ` +
          "global secrets only (global_secret{{key}})",
      );
    }
  }
}

async function checkRoles(db: GoferDb, roles: string[]): Promise<void> {
  if (roles.includes("bootstrap")) {
    throw new GoferError("BAD_REQUEST", 'The "bootstrap" role cannot be given to an extension');
  }
  await requireKnownRoles(db, roles);
}

/** Kept output as the blocks of whole lines a live container's logs are served in. */
async function* keptLogBlocks(text: string): AsyncGenerator<Buffer> {
  if (text === "") return;
  yield Buffer.from(text.endsWith("\n") ? text : `${text}\n`);
}

/** Setting keys the extension does not declare (case-insensitively, as they become upper-case variables). */
function unknownSettings(settings: Record<string, string>, declared: Array<{ key: string }>): string[] {
  const known = new Set(declared.map((parameter) => parameter.key.toUpperCase()));
  return Object.keys(settings).filter((key) => !known.has(key.toUpperCase()));
}
