/**
 * Pipeline and global secrets (v0 paths and shapes). Who may see a value is the secret service's rule
 * (services/secret-service.ts); these routes only carry requests to it.
 */
import { Type } from "typebox";
import type { SecretService } from "../../services/secret-service.ts";
import type { GoferApp } from "../api-context.ts";
import { errorResponses, PipelineParams } from "../schemas/common.ts";

const Secret = Type.Object(
  {
    key: Type.String({ description: "The identifier for the secret value." }),
    namespaces: Type.Array(Type.String(), {
      description:
        "Regexes of the namespaces a global secret may be used from (whole-id match); empty for pipeline secrets.",
    }),
    created: Type.Integer({ minimum: 0, description: "Epoch milliseconds when this value was stored." }),
  },
  { description: "A secret's metadata; never its value." },
);

const SecretKeyParam = Type.String({ minLength: 1, maxLength: 256, description: "The secret's key." });
const PipelineSecretParams = Type.Object({ ...PipelineParams.properties, key: SecretKeyParam });
const IncludeSecretQuery = Type.Object({
  include_secret: Type.Boolean({
    description: "Include the plaintext value (null unless the caller may see it).",
  }),
});
const GetSecretResponse = Type.Object({ metadata: Secret, secret: Type.Union([Type.String(), Type.Null()]) });
const Content = Type.String({ description: "The plaintext secret." });
const Force = Type.Boolean({ description: "Replace the value if the key exists (otherwise 409)." });

export interface SecretRouteServices {
  secrets: SecretService;
}

export function secretRoutes(app: GoferApp, { secrets }: SecretRouteServices): void {
  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/secrets",
    {
      schema: {
        operationId: "list_pipeline_secrets",
        tags: ["Secrets"],
        summary: "List a pipeline's secrets (metadata only).",
        params: PipelineParams,
        response: { 200: Type.Object({ secrets: Type.Array(Secret) }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      return { secrets: await secrets.listPipelineSecrets(namespace_id, pipeline_id) };
    },
  );

  app.post(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/secrets",
    {
      schema: {
        operationId: "put_pipeline_secret",
        tags: ["Secrets"],
        summary: "Store a secret for a pipeline; 409 if the key exists and `force` is false.",
        params: PipelineParams,
        body: Type.Object(
          { key: Type.String({ maxLength: 256 }), content: Content, force: Force },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ secret: Secret }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const secret = await secrets.putPipelineSecret(namespace_id, pipeline_id, request.body);
      return reply.code(201).send({ secret });
    },
  );

  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/secrets/:key",
    {
      schema: {
        operationId: "get_pipeline_secret",
        tags: ["Secrets"],
        summary:
          "Get a pipeline secret's metadata; with include_secret=true also its value, for callers with secrets write access.",
        params: PipelineSecretParams,
        querystring: IncludeSecretQuery,
        response: { 200: GetSecretResponse, ...errorResponses },
      },
    },
    async (request) =>
      secrets.getPipelineSecret(request.params, request.query.include_secret, request.principal),
  );

  app.delete(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/secrets/:key",
    {
      schema: {
        operationId: "delete_pipeline_secret",
        tags: ["Secrets"],
        summary: "Delete a pipeline secret.",
        params: PipelineSecretParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await secrets.deletePipelineSecret(request.params);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/api/secrets/global",
    {
      schema: {
        operationId: "list_global_secrets",
        tags: ["Secrets"],
        summary: "List global secrets (metadata only). Admin only.",
        response: { 200: Type.Object({ secrets: Type.Array(Secret) }), ...errorResponses },
      },
    },
    async () => ({ secrets: await secrets.listGlobalSecrets() }),
  );

  app.post(
    "/api/secrets/global",
    {
      schema: {
        operationId: "put_global_secret",
        tags: ["Secrets"],
        summary:
          "Store a global secret, usable from namespaces whose whole id matches one of `namespaces`; 409 if the key exists and `force` is false. Admin only.",
        body: Type.Object(
          {
            key: Type.String({ maxLength: 256 }),
            content: Content,
            namespaces: Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 100 }),
            force: Force,
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ secret: Secret }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const secret = await secrets.putGlobalSecret(request.body);
      return reply.code(201).send({ secret });
    },
  );

  app.get(
    "/api/secrets/global/:key",
    {
      schema: {
        operationId: "get_global_secret",
        tags: ["Secrets"],
        summary: "Get a global secret's metadata, and with include_secret=true its value. Admin only.",
        params: Type.Object({ key: SecretKeyParam }),
        querystring: IncludeSecretQuery,
        response: { 200: GetSecretResponse, ...errorResponses },
      },
    },
    async (request) => secrets.getGlobalSecret(request.params.key, request.query.include_secret),
  );

  app.delete(
    "/api/secrets/global/:key",
    {
      schema: {
        operationId: "delete_global_secret",
        tags: ["Secrets"],
        summary: "Delete a global secret. Admin only.",
        params: Type.Object({ key: SecretKeyParam }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await secrets.deleteGlobalSecret(request.params.key);
      return reply.code(204).send(null);
    },
  );
}
