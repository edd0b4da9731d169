/**
 * A pipeline's subscriptions to extensions (v0 paths and shapes). The extension is told first and the row
 * written after, so a subscription the extension refused is never stored; settings are checked against the
 * parameters the extension declares, so a missing or misspelt setting is a 400 naming it rather than an
 * extension that silently never fires.
 *
 * Differences from v0, on purpose: disabling a subscription takes it back from the extension (v0 only changed
 * the row, and runs kept starting); deleting one emits `pipeline_extension_subscription_unregistered`.
 */
import type { ExtensionParameter } from "@gofer/sdk/client";
import { Type } from "typebox";
import { badRequest, GoferError, notFound } from "../../domain/errors.ts";
import { parseReference } from "../../domain/interpolation.ts";
import type { Subscription } from "../../domain/models.ts";
import type { EventBus } from "../../events/event-bus.ts";
import { ExtensionCallError } from "../../extensions/extension-client.ts";
import type { ExtensionSupervisor } from "../../extensions/extension-supervisor.ts";
import { SerialQueue } from "../../orchestrator/serial-queue.ts";
import { UnresolvedReferenceError } from "../../orchestrator/variable-resolution.ts";
import { requirePipeline } from "../../services/lookups.ts";
import type { GoferDb } from "../../storage/database.ts";
import { getExtension } from "../../storage/extensions-store.ts";
import {
  deleteSubscription,
  getSubscription,
  insertSubscription,
  listPipelineSubscriptions,
  type SubscriptionKey,
  updateSubscriptionStatus,
} from "../../storage/subscriptions-store.ts";
import type { GoferApp } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, IdentifierParam, Nullable, PipelineParams, StringMap } from "../schemas/common.ts";

export interface SubscriptionRouteServices {
  db: GoferDb;
  bus: EventBus;
  supervisor: ExtensionSupervisor;
  log: (message: string, error?: unknown) => void;
}

const URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/subscriptions";
const SubscriptionParams = Type.Object({
  ...PipelineParams.properties,
  extension_id: IdentifierParam,
  subscription_id: IdentifierParam,
});
const MAX_SETTINGS = 100;

export function subscriptionRoutes(app: GoferApp, services: SubscriptionRouteServices): void {
  const { db, bus, supervisor, log } = services;
  const changes = new SerialQueue();
  const serialKey = (key: SubscriptionKey) =>
    `${key.namespace_id}/${key.pipeline_id}/${key.extension_id}/${key.subscription_id}`;

  const requireSubscription = async (key: SubscriptionKey): Promise<Subscription> => {
    await requirePipeline(db, key.namespace_id, key.pipeline_id);
    const subscription = await getSubscription(db, key);
    if (!subscription) {
      throw notFound(
        `Subscription "${key.subscription_id}" of pipeline "${key.pipeline_id}" to "${key.extension_id}"`,
      );
    }
    return subscription;
  };

  /** Takes a subscription back; a failure is logged, not fatal: the extension forgets it at its next restart. */
  const takeBack = async (key: SubscriptionKey): Promise<void> => {
    await supervisor
      .unsubscribe(key)
      .catch((error: unknown) =>
        log(`could not unsubscribe ${serialKey(key)} from extension ${key.extension_id}`, error),
      );
  };

  /**
   * Hands the subscription to its extension and, in the same turn of the extension, stores it (`commit`);
   * the extension's refusal becomes the caller's 400.
   */
  const handOver = async (subscription: Subscription, commit: () => Promise<void>): Promise<void> => {
    try {
      await supervisor.subscribe(subscription, commit);
    } catch (error) {
      if (error instanceof UnresolvedReferenceError) throw badRequest(`Setting ${error.message}`);
      if (!(error instanceof ExtensionCallError)) throw error;
      const refused = error.status !== undefined && error.status >= 400 && error.status < 500;
      // A timeout or failure may still have left the subscription with the extension: take it back.
      if (!refused) await takeBack(subscription);
      throw new GoferError(
        refused ? "EXTENSION_REFUSED" : "EXTENSION_ERROR",
        `Extension "${subscription.extension_id}" ${refused ? "refused" : "could not take"} the subscription: ${error.message}`,
      );
    }
  };

  app.get(
    URL,
    {
      schema: {
        operationId: "list_subscriptions",
        tags: ["Subscriptions"],
        summary: "List a pipeline's subscriptions to extensions.",
        params: PipelineParams,
        response: {
          200: Type.Object({ subscriptions: Type.Array(Type.Ref("Subscription")) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      return { subscriptions: await listPipelineSubscriptions(db, namespace_id, pipeline_id) };
    },
  );

  app.post(
    URL,
    {
      schema: {
        operationId: "create_subscription",
        tags: ["Subscriptions"],
        summary:
          "Subscribe the pipeline to an extension with settings (values may be pipeline_secret{{…}}, " +
          "global_secret{{…}} or pipeline_object{{…}} references, resolved before they are sent).",
        params: PipelineParams,
        body: Type.Object(
          { extension_id: Type.String(), subscription_id: Type.String(), settings: StringMap },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ subscription: Type.Ref("Subscription") }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const { extension_id, subscription_id, settings } = request.body;
      requireIdentifier(subscription_id, "subscription id");
      requireIdentifier(extension_id, "extension id");
      await requirePipeline(db, namespace_id, pipeline_id);
      const key = { namespace_id, pipeline_id, extension_id, subscription_id };
      const subscription: Subscription = { ...key, settings, status: "active", status_reason: null };
      const created = await changes.run(serialKey(key), async () => {
        const extension = await getExtension(db, extension_id);
        if (!extension) throw notFound(`Extension "${extension_id}"`);
        if (extension.status === "disabled") {
          throw new GoferError(
            "CONFLICT",
            `Extension "${extension_id}" is disabled; an admin can enable it (gofer extension enable ${extension_id})`,
          );
        }
        if (await getSubscription(db, key)) {
          throw new GoferError(
            "ALREADY_EXISTS",
            `Pipeline "${pipeline_id}" already has a subscription "${subscription_id}" to "${extension_id}"`,
          );
        }
        // Throws 503 naming the extension's state when it is not running.
        supervisor.clientOf(extension_id);
        checkSettings(
          settings,
          supervisor.view(extension_id).documentation.pipeline_subscription_params,
          extension_id,
        );
        try {
          await handOver(subscription, async () => {
            if (!(await insertSubscription(db, subscription))) {
              throw new GoferError(
                "ALREADY_EXISTS",
                `Subscription "${subscription_id}" was created meanwhile`,
              );
            }
          });
        } catch (error) {
          if (error instanceof GoferError) throw error;
          // A foreign key refused the row: the pipeline or the extension went while the extension was asked.
          await requirePipeline(db, namespace_id, pipeline_id);
          if (!(await getExtension(db, extension_id))) throw notFound(`Extension "${extension_id}"`);
          throw error;
        }
        await bus.publish("pipeline_extension_subscription_registered", { ...key });
        return subscription;
      });
      return reply.code(201).send({ subscription: created });
    },
  );

  app.get(
    `${URL}/:extension_id/:subscription_id`,
    {
      schema: {
        operationId: "get_subscription",
        tags: ["Subscriptions"],
        summary: "One subscription of the pipeline.",
        params: SubscriptionParams,
        response: { 200: Type.Object({ subscription: Type.Ref("Subscription") }), ...errorResponses },
      },
    },
    async (request) => ({ subscription: await requireSubscription(request.params) }),
  );

  app.patch(
    `${URL}/:extension_id/:subscription_id`,
    {
      schema: {
        operationId: "update_subscription",
        tags: ["Subscriptions"],
        summary:
          "Enable (`active`) or disable a subscription. A disabled subscription is taken back from the " +
          "extension and starts no runs until enabled again.",
        params: SubscriptionParams,
        body: Type.Object(
          {
            // Checked in the handler, so a wrong value gets a message naming the two that are allowed.
            status: Type.Optional(Nullable(Type.String({ description: '"active" or "disabled"' }))),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const status = request.body.status;
      if (status === undefined || status === null) {
        throw badRequest('Nothing to update; send {"status": "active"} or {"status": "disabled"}');
      }
      if (status !== "active" && status !== "disabled") {
        throw badRequest(`Invalid status ${JSON.stringify(status)}; send "active" or "disabled"`);
      }
      const key = request.params;
      await changes.run(serialKey(key), async () => {
        const subscription = await requireSubscription(key);
        if (status === "disabled") {
          if (subscription.status === "disabled") return;
          await updateSubscriptionStatus(db, key, "disabled", null);
          await takeBack(key);
          return;
        }
        if (subscription.status === "active") return;
        await handOver(subscription, () => updateSubscriptionStatus(db, key, "active", null));
      });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    `${URL}/:extension_id/:subscription_id`,
    {
      schema: {
        operationId: "delete_subscription",
        tags: ["Subscriptions"],
        summary: "Delete a subscription and take it back from the extension.",
        params: SubscriptionParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = request.params;
      await changes.run(serialKey(key), async () => {
        await requireSubscription(key);
        await deleteSubscription(db, key);
        await takeBack(key);
        await bus.publish("pipeline_extension_subscription_unregistered", { ...key });
      });
      return reply.code(204).send(null);
    },
  );
}

/** Settings against the extension's declared parameters: every required one present, no unknown ones. */
function checkSettings(
  settings: Record<string, string>,
  declared: ExtensionParameter[],
  extensionId: string,
): void {
  const entries = Object.entries(settings);
  if (entries.length > MAX_SETTINGS) throw badRequest(`At most ${MAX_SETTINGS} settings are allowed`);
  const keys = declared.map((parameter) => parameter.key);
  const listing = keys.length > 0 ? keys.join(", ") : "(none)";
  // Both kinds of mistake at once: a misspelt key is usually also a missing one.
  const problems: string[] = [];
  const missing = declared.filter((parameter) => parameter.required && !(parameter.key in settings));
  if (missing.length > 0) {
    problems.push(
      `missing required setting ${missing.map((parameter) => `"${parameter.key}" (${parameter.documentation})`).join(", ")}`,
    );
  }
  const unknown = entries.map(([key]) => key).filter((key) => !keys.includes(key));
  if (unknown.length > 0) problems.push(`it takes no setting ${unknown.map((key) => `"${key}"`).join(", ")}`);
  if (problems.length > 0) {
    throw badRequest(`Extension "${extensionId}": ${problems.join("; ")}; its settings are: ${listing}`);
  }
  for (const [key, value] of entries) {
    if (parseReference(value)?.kind === "run_object") {
      throw badRequest(`Setting "${key}" refers to a run object; a subscription belongs to no run`);
    }
  }
}
