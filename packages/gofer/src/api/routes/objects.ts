/**
 * Pipeline, run and extension objects: raw bytes by key. Uploads are streamed to disk as they arrive (never
 * buffered whole), so they are bounded by `object_store.max_object_size`, not by `api.request_body_limit`;
 * downloads stream the file with its Content-Length.
 *
 * Storing an existing key without `force=true` answers 409 (v0 documents only "4XX"; Gofer sent 400, but a
 * conflict with existing state is what 409 means everywhere else in this API, e.g. secrets).
 */
import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import { Type } from "typebox";
import { notFound } from "../../domain/errors.ts";
import {
  type ObjectInfo,
  type ObjectScope,
  type ObjectStore,
  runObjectsExpired,
} from "../../objects/object-store.ts";
import { requirePipeline, requireRun } from "../../services/lookups.ts";
import type { GoferDb } from "../../storage/database.ts";
import { getExtension } from "../../storage/extensions-store.ts";
import type { GoferApp, RoutePlugin } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { EpochMs, errorResponses, IdentifierParam, PipelineParams, RunParams } from "../schemas/common.ts";

const PIPELINE_URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/objects";
const RUN_URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id/objects";
const EXTENSION_URL = "/api/extensions/:extension_id/objects";

/** Validated by the key rule in code, so a refusal names the rule rather than a schema keyword. */
const KeyParam = Type.String({ description: "The object's key." });
const ObjectSchema = Type.Object({
  key: Type.String(),
  created: EpochMs,
});
const ForceQuery = Type.Object({
  force: Type.Optional(
    Type.Boolean({ description: "Overwrite the object if the key exists.", default: false }),
  ),
});

interface Kind {
  name: "pipeline" | "run" | "extension";
  url: string;
  tag: string;
  params: ReturnType<typeof Type.Object>;
  /** Checks the owner exists (404 otherwise) and returns the scope. */
  scope(db: GoferDb, params: Record<string, unknown>, forWrite: boolean): Promise<ObjectScope>;
}

const KINDS: Kind[] = [
  {
    name: "pipeline",
    url: PIPELINE_URL,
    tag: "Objects",
    params: PipelineParams,
    async scope(db, params) {
      const namespace_id = String(params.namespace_id);
      const pipeline_id = String(params.pipeline_id);
      await requirePipeline(db, namespace_id, pipeline_id);
      return { kind: "pipeline", namespace_id, pipeline_id };
    },
  },
  {
    name: "run",
    url: RUN_URL,
    tag: "Objects",
    params: RunParams,
    async scope(db, params, forWrite) {
      const namespace_id = String(params.namespace_id);
      const pipeline_id = String(params.pipeline_id);
      const run_id = Number(params.run_id);
      const run = await requireRun(db, namespace_id, pipeline_id, run_id);
      // Checked again when the upload commits (the run may expire while the body streams in).
      if (forWrite && run.store_objects_expired) throw runObjectsExpired(run_id);
      return { kind: "run", namespace_id, pipeline_id, run_id };
    },
  },
  {
    name: "extension",
    url: EXTENSION_URL,
    tag: "Objects",
    params: Type.Object({ extension_id: IdentifierParam }),
    async scope(db, params) {
      const extension_id = String(params.extension_id);
      requireIdentifier(extension_id, "extension id");
      // Objects of an extension that is not installed would outlive every cleanup: refuse them.
      if (!(await getExtension(db, extension_id))) throw notFound(`Extension "${extension_id}"`);
      return { kind: "extension", extension_id };
    },
  },
];

const wire = ({ key, created }: ObjectInfo) => ({ key, created });

export const objectRoutes: RoutePlugin = (app, services) => {
  // Objects get their own parser context: any body is handed to the handler as the raw request stream.
  void app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    for (const kind of KINDS) objectRoutesOf(scoped, kind, services.db, services.objects);
  });
};

function objectRoutesOf(app: GoferApp, kind: Kind, db: GoferDb, objects: ObjectStore): void {
  const keyParams = Type.Object({ ...kind.params.properties, key: KeyParam });

  app.get(
    kind.url,
    {
      schema: {
        operationId: `list_${kind.name}_objects`,
        tags: [kind.tag],
        summary: `List the ${kind.name}'s objects, oldest first.`,
        params: kind.params,
        response: { 200: Type.Object({ objects: Type.Array(ObjectSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const scope = await kind.scope(db, request.params as Record<string, unknown>, false);
      return { objects: (await objects.list(scope)).map(wire) };
    },
  );

  app.get(
    `${kind.url}/:key`,
    {
      schema: {
        operationId: `get_${kind.name}_object`,
        tags: [kind.tag],
        summary: "Download an object's bytes (application/octet-stream).",
        params: keyParams,
        response: {
          200: {
            description: "The object's bytes, exactly as stored.",
            content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply: FastifyReply) => {
      const params = request.params as Record<string, unknown>;
      const scope = await kind.scope(db, params, false);
      const opened = await objects.open(scope, String(params.key));
      return reply
        .type("application/octet-stream")
        .header("content-length", opened.size)
        .header("cache-control", "no-store")
        .send(opened.stream);
    },
  );

  app.post(
    `${kind.url}/:key`,
    {
      schema: {
        operationId: `put_${kind.name}_object`,
        tags: [kind.tag],
        summary:
          "Store an object from the raw request body (application/octet-stream), streamed to disk. " +
          "An existing key answers 409 unless `force=true`.",
        params: keyParams,
        querystring: ForceQuery,
        response: { 201: Type.Object({ object: ObjectSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const params = request.params as Record<string, unknown>;
      const scope = await kind.scope(db, params, true);
      const declared = request.headers["content-length"];
      const body = (request.body as Readable | undefined) ?? emptyBody();
      const stored = await objects.put(scope, String(params.key), body, {
        force: (request.query as { force?: boolean }).force === true,
        contentLength: declared === undefined ? undefined : Number(declared),
      });
      return reply.code(201).send({ object: wire(stored) });
    },
  );

  app.delete(
    `${kind.url}/:key`,
    {
      schema: {
        operationId: `delete_${kind.name}_object`,
        tags: [kind.tag],
        summary: "Delete an object.",
        params: keyParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const params = request.params as Record<string, unknown>;
      const scope = await kind.scope(db, params, false);
      await objects.delete(scope, String(params.key));
      return reply.code(204).send(null);
    },
  );
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
