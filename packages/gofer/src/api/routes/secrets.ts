/**
 * Pipeline and global secrets (v0 paths and shapes). Values go in through `put` and come out only through
 * `get ?include_secret=true` for callers allowed to see them; every other answer carries metadata only.
 *
 * Revealing a pipeline secret's value needs `secrets` write on its namespace and pipeline (the people who
 * could replace it anyway); `secrets` read shows that it exists. Global secrets are admin-only throughout.
 * Gofer has no secret events, so none are published.
 */
import { Type } from "typebox";
import { resolveNeeds } from "../../auth/authorize.ts";
import type { Principal } from "../../auth/tokens.ts";
import { notFound } from "../../domain/errors.ts";
import { rolesSatisfy } from "../../domain/permissions.ts";
import { requireNamespaceRules, requireSecretKey } from "../../domain/secrets.ts";
import type { SecretStore } from "../../secrets/secret-store.ts";
import { requirePipeline } from "../../services/lookups.ts";
import type { GoferDb } from "../../storage/database.ts";
import { getRoles } from "../../storage/roles-store.ts";
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
  db: GoferDb;
  secrets: SecretStore;
}

export function secretRoutes(app: GoferApp, { db, secrets }: SecretRouteServices): void {
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
      await requirePipeline(db, namespace_id, pipeline_id);
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
      const { key, content, force } = request.body;
      requireSecretKey(key);
      await requirePipeline(db, namespace_id, pipeline_id);
      const secret = await secrets.putPipelineSecret(namespace_id, pipeline_id, key, content, force);
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
    async (request) => {
      const { namespace_id, pipeline_id, key } = request.params;
      const secret = await secrets.getPipelineSecret(namespace_id, pipeline_id, key);
      if (!secret) {
        await requirePipeline(db, namespace_id, pipeline_id);
        throw notFound(`Secret "${key}" of pipeline "${pipeline_id}"`);
      }
      const reveal = request.query.include_secret && (await mayReveal(db, request.principal, request.params));
      return { metadata: secret.metadata, secret: reveal ? secret.value() : null };
    },
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
      const { namespace_id, pipeline_id, key } = request.params;
      if (!(await secrets.deletePipelineSecret(namespace_id, pipeline_id, key))) {
        await requirePipeline(db, namespace_id, pipeline_id);
        throw notFound(`Secret "${key}" of pipeline "${pipeline_id}"`);
      }
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
      const { key, content, namespaces, force } = request.body;
      requireSecretKey(key);
      requireNamespaceRules(namespaces);
      const secret = await secrets.putGlobalSecret(key, content, namespaces, force);
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
    async (request) => {
      const secret = await secrets.getGlobalSecret(request.params.key);
      if (!secret) throw notFound(`Global secret "${request.params.key}"`);
      // The route is admin-only, so whoever gets here may see the value.
      return { metadata: secret.metadata, secret: request.query.include_secret ? secret.value() : null };
    },
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
      if (!(await secrets.deleteGlobalSecret(request.params.key))) {
        throw notFound(`Global secret "${request.params.key}"`);
      }
      return reply.code(204).send(null);
    },
  );
}

async function mayReveal(
  db: GoferDb,
  principal: Principal,
  params: { namespace_id: string; pipeline_id: string },
): Promise<boolean> {
  if (principal.admin) return true;
  if (!principal.token) return false;
  const needs = resolveNeeds(["namespaces:{namespace_id}", "pipelines:{pipeline_id}", "secrets"], params);
  return rolesSatisfy(await getRoles(db, principal.token.roles), "write", needs);
}
