/**
 * A pipeline's subscriptions to extensions (v0 paths and shapes). Each route parses, calls one method of the
 * subscription service (which holds the rules and the differences from v0) and serialises.
 */
import { Type } from "typebox";
import { badRequest } from "../../domain/errors.ts";
import type { SubscriptionService, SubscriptionStatusChange } from "../../services/subscription-service.ts";
import type { GoferApp } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, IdentifierParam, Nullable, PipelineParams, StringMap } from "../schemas/common.ts";

export interface SubscriptionRouteServices {
  subscriptions: SubscriptionService;
}

const URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/subscriptions";
const SubscriptionParams = Type.Object({
  ...PipelineParams.properties,
  extension_id: IdentifierParam,
  subscription_id: IdentifierParam,
});

export function subscriptionRoutes(app: GoferApp, { subscriptions }: SubscriptionRouteServices): void {
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
    async (request) => ({
      subscriptions: await subscriptions.list(request.params.namespace_id, request.params.pipeline_id),
    }),
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
      const key = { namespace_id, pipeline_id, extension_id, subscription_id };
      return reply.code(201).send({ subscription: await subscriptions.create(key, settings) });
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
    async (request) => ({ subscription: await subscriptions.get(request.params) }),
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
      await subscriptions.setStatus(request.params, parseStatus(request.body.status));
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
      await subscriptions.delete(request.params);
      return reply.code(204).send(null);
    },
  );
}

/** The PATCH body's status, with a message naming the two values allowed rather than a schema error. */
function parseStatus(status: string | null | undefined): SubscriptionStatusChange {
  if (status === undefined || status === null) {
    throw badRequest('Nothing to update; send {"status": "active"} or {"status": "disabled"}');
  }
  if (status !== "active" && status !== "disabled") {
    throw badRequest(`Invalid status ${JSON.stringify(status)}; send "active" or "disabled"`);
  }
  return status;
}
