/**
 * Extension lifecycle (v0 paths and shapes): install, list, get, enable/disable, uninstall, debug, logs and the
 * extension's subscriptions. Lifecycle changes of one extension run one at a time, so an uninstall cannot
 * interleave with the enable that is still starting its container.
 *
 * Differences from v0, on purpose: install refuses an existing id (409; v0 restarted it with the new image but
 * kept the old registration) and undoes itself when the extension does not start (v0 left it registered);
 * disabling stops the extension, so it starts no runs (v0 only flipped a flag); uninstall unsubscribes and
 * removes the container, token and objects (v0 left them); setting values are shown to admins only.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import { revokeExtensionAccess } from "../../auth/extension-tokens.ts";
import type { Principal } from "../../auth/tokens.ts";
import { REDACTED } from "../../domain/config-conversion.ts";
import { GoferError, notFound } from "../../domain/errors.ts";
import { parseReference } from "../../domain/interpolation.ts";
import type { Extension } from "../../domain/models.ts";
import type { EventBus } from "../../events/event-bus.ts";
import { extensionLogBlocks } from "../../extensions/extension-logs.ts";
import type { ExtensionSupervisor } from "../../extensions/extension-supervisor.ts";
import { SerialQueue } from "../../orchestrator/serial-queue.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import { requireKnownRoles } from "../../services/lookups.ts";
import type { GoferDb } from "../../storage/database.ts";
import {
  deleteExtension,
  getExtension,
  insertExtension,
  listExtensions,
  type StoredExtension,
  updateExtension,
} from "../../storage/extensions-store.ts";
import { listExtensionSubscriptions } from "../../storage/subscriptions-store.ts";
import type { GoferApp } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { abortOnClose, sendPlainText, streamToSocket } from "../log-streams.ts";
import { errorResponses, IdentifierParam, Nullable, StringMap } from "../schemas/common.ts";
import { RegistryAuth } from "../schemas/models.ts";

export interface ExtensionRouteServices {
  db: GoferDb;
  bus: EventBus;
  scheduler: Scheduler;
  supervisor: ExtensionSupervisor;
}

const URL = "/api/extensions";
const ExtensionParams = Type.Object({ extension_id: IdentifierParam });
/** Setting keys become environment variable names (GOFER_EXTENSION_CONFIG_<KEY>). */
const SETTING_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_SETTING_VALUE = 64 * 1024;

export function extensionRoutes(app: GoferApp, services: ExtensionRouteServices): void {
  const { db, bus, scheduler, supervisor } = services;
  const lifecycle = new SerialQueue();

  const present = (stored: StoredExtension, principal: Principal): Extension => ({
    registration: {
      extension_id: stored.extension_id,
      image: stored.image,
      registry_auth: stored.registry_auth && {
        user: stored.registry_auth.user,
        pass: REDACTED,
      },
      settings: Object.entries(stored.settings).map(([key, value]) => ({
        key,
        value: principal.admin ? value : REDACTED,
        source: "system" as const,
      })),
      created: stored.created,
      modified: stored.modified,
      status: stored.status,
      additional_roles: stored.additional_roles,
    },
    ...supervisor.view(stored.extension_id),
  });

  const requireExtension = async (id: string): Promise<StoredExtension> => {
    const stored = await getExtension(db, id);
    if (!stored) throw notFound(`Extension "${id}"`);
    return stored;
  };

  /** Removes every trace of an extension; the caller has checked it exists. */
  const removeEverything = async (stored: StoredExtension): Promise<void> => {
    await supervisor.remove(stored.extension_id);
    // Read again: every start rotated the token since the caller read the registration.
    const latest = (await getExtension(db, stored.extension_id))?.token_id ?? stored.token_id;
    await deleteExtension(db, stored.extension_id);
    await revokeExtensionAccess(db, stored.extension_id, latest);
  };

  app.get(
    URL,
    {
      schema: {
        operationId: "list_extensions",
        tags: ["Extensions"],
        summary: "List installed extensions with their current state.",
        response: { 200: Type.Object({ extensions: Type.Array(Type.Ref("Extension")) }), ...errorResponses },
      },
    },
    async (request) => ({
      extensions: (await listExtensions(db)).map((stored) => present(stored, request.principal)),
    }),
  );

  app.post(
    URL,
    {
      schema: {
        operationId: "install_extension",
        tags: ["Extensions"],
        summary:
          "Install an extension and start it; answers once it is running. If it does not start, nothing is " +
          "installed and the error says why.",
        body: Type.Object(
          {
            id: Type.String({ description: "An identifier: 3-32 letters, digits and hyphens." }),
            image: Type.String({ minLength: 1, maxLength: 1024 }),
            settings: StringMap,
            registry_auth: Type.Optional(Nullable(RegistryAuth)),
            additional_roles: Type.Optional(Nullable(Type.Array(Type.String(), { maxItems: 64 }))),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ extension: Type.Ref("Extension") }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, image, settings, registry_auth = null, additional_roles = null } = request.body;
      requireIdentifier(id, "extension id");
      checkSettings(settings);
      const roles = additional_roles ?? [];
      await checkRoles(db, roles);
      return lifecycle.run(id, async () => {
        const now = Date.now();
        const stored: StoredExtension = {
          extension_id: id,
          image: image.trim(),
          registry_auth,
          settings,
          additional_roles: roles,
          status: "enabled",
          token_id: null,
          created: now,
          modified: now,
        };
        if (!(await insertExtension(db, stored))) {
          throw new GoferError(
            "ALREADY_EXISTS",
            `Extension "${id}" is already installed; uninstall it first to install it again`,
          );
        }
        const failure = await supervisor.startFirst(id);
        const declared = supervisor.view(id).documentation.config_params;
        const unknown = failure ? [] : unknownSettings(settings, declared);
        if (failure || unknown.length > 0) {
          await removeEverything((await getExtension(db, id)) ?? stored);
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
        await bus.publish("installed_extension", { id, image: stored.image });
        return reply
          .code(201)
          .send({ extension: present((await getExtension(db, id)) ?? stored, request.principal) });
      });
    },
  );

  app.get(
    `${URL}/:extension_id`,
    {
      schema: {
        operationId: "get_extension",
        tags: ["Extensions"],
        summary:
          "An extension: its registration, state (with the reason when it is not running) and documentation.",
        params: ExtensionParams,
        response: { 200: Type.Object({ extension: Type.Ref("Extension") }), ...errorResponses },
      },
    },
    async (request) => ({
      extension: present(await requireExtension(request.params.extension_id), request.principal),
    }),
  );

  app.patch(
    `${URL}/:extension_id`,
    {
      schema: {
        operationId: "update_extension",
        tags: ["Extensions"],
        summary:
          "Enable or disable an extension. Disabling stops it (it starts no runs); enabling starts it and " +
          "restores its subscriptions.",
        params: ExtensionParams,
        body: Type.Object({ enable: Type.Boolean() }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = request.params.extension_id;
      await lifecycle.run(id, async () => {
        const stored = await requireExtension(id);
        const status = request.body.enable ? "enabled" : "disabled";
        if (stored.status === status && (status === "disabled" || supervisor.view(id).state === "running"))
          return;
        await updateExtension(db, id, { status });
        if (request.body.enable) await supervisor.enable(id);
        else await supervisor.disable(id);
        await bus.publish(request.body.enable ? "enabled_extension" : "disabled_extension", {
          id,
          image: stored.image,
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    `${URL}/:extension_id`,
    {
      schema: {
        operationId: "uninstall_extension",
        tags: ["Extensions"],
        summary:
          "Uninstall an extension: unsubscribe its subscriptions, stop and remove its container, delete its " +
          "subscriptions, token, role and objects.",
        params: ExtensionParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = request.params.extension_id;
      await lifecycle.run(id, async () => {
        const stored = await requireExtension(id);
        await removeEverything(stored);
        await bus.publish("uninstalled_extension", { id, image: stored.image });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${URL}/:extension_id/debug`,
    {
      schema: {
        operationId: "get_extension_debug_info",
        tags: ["Extensions"],
        summary: "The running extension's own description of its inner state.",
        params: ExtensionParams,
        response: { 200: Type.Object({ info: Type.String() }), ...errorResponses },
      },
    },
    async (request) => {
      const id = request.params.extension_id;
      await requireExtension(id);
      try {
        return { info: await supervisor.clientOf(id).debug() };
      } catch (error) {
        if (error instanceof GoferError) throw error;
        throw new GoferError(
          "EXTENSION_ERROR",
          `Extension "${id}" could not answer: ${(error as Error).message}`,
        );
      }
    },
  );

  app.route({
    method: "GET",
    url: `${URL}/:extension_id/logs`,
    schema: {
      operationId: "get_extension_logs",
      tags: ["Extensions"],
      summary:
        "The extension container's output, one line per WebSocket text frame, followed while it runs; without " +
        "an Upgrade header, plain text: the output so far, or with `follow=true` streamed while it runs.",
      params: ExtensionParams,
      querystring: Type.Object({ follow: Type.Optional(Type.Boolean()) }),
      response: { ...errorResponses },
    },
    preHandler: async (request) => {
      const id = (request.params as { extension_id: string }).extension_id;
      await requireExtension(id);
      if (!supervisor.containerOf(id)) {
        throw new GoferError(
          "EXTENSION_UNAVAILABLE",
          `Extension "${id}" has no container now (it is ${supervisor.view(id).state}); its output went with the last one`,
        );
      }
    },
    handler: async (request, reply) => {
      const containerId = supervisor.containerOf(request.params.extension_id) ?? "";
      const abort = abortOnClose(reply);
      return sendPlainText(
        reply,
        extensionLogBlocks(scheduler, containerId, request.query.follow === true, abort.signal),
      );
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const id = (request.params as { extension_id: string }).extension_id;
      const abort = new AbortController();
      socket.on("close", () => abort.abort());
      const blocks = extensionLogBlocks(scheduler, supervisor.containerOf(id) ?? "", true, abort.signal);
      void streamToSocket(socket, blocks, abort.signal, request.raw.socket);
    },
  });

  app.get(
    `${URL}/:extension_id/subscriptions`,
    {
      schema: {
        operationId: "list_extension_subscriptions",
        tags: ["Extensions"],
        summary: "Every pipeline subscription to this extension.",
        params: ExtensionParams,
        response: {
          200: Type.Object({ subscriptions: Type.Array(Type.Ref("Subscription")) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await requireExtension(request.params.extension_id);
      return { subscriptions: await listExtensionSubscriptions(db, request.params.extension_id) };
    },
  );
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

/** Setting keys the extension does not declare (case-insensitively, as they become upper-case variables). */
function unknownSettings(settings: Record<string, string>, declared: Array<{ key: string }>): string[] {
  const known = new Set(declared.map((parameter) => parameter.key.toUpperCase()));
  return Object.keys(settings).filter((key) => !known.has(key.toUpperCase()));
}
