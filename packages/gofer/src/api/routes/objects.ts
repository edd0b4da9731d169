/**
 * Pipeline, run and extension objects: raw bytes by key. Uploads are streamed to disk as they arrive (never
 * buffered whole), so they are bounded by `object_store.max_object_size`, not by `api.request_body_limit`;
 * downloads stream the file with its Content-Length. The rules are the object service's.
 */
import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import { Type } from "typebox";
import type { ObjectInfo, ObjectScope } from "../../objects/object-store.ts";
import type { ObjectService } from "../../services/object-service.ts";
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
  /** The owner the path names. */
  scope(params: Record<string, unknown>): ObjectScope;
}

const KINDS: Kind[] = [
  {
    name: "pipeline",
    url: PIPELINE_URL,
    tag: "Objects",
    params: PipelineParams,
    scope: (params) => ({
      kind: "pipeline",
      namespace_id: String(params.namespace_id),
      pipeline_id: String(params.pipeline_id),
    }),
  },
  {
    name: "run",
    url: RUN_URL,
    tag: "Objects",
    params: RunParams,
    scope: (params) => ({
      kind: "run",
      namespace_id: String(params.namespace_id),
      pipeline_id: String(params.pipeline_id),
      run_id: Number(params.run_id),
    }),
  },
  {
    name: "extension",
    url: EXTENSION_URL,
    tag: "Objects",
    params: Type.Object({ extension_id: IdentifierParam }),
    scope(params) {
      const extension_id = String(params.extension_id);
      requireIdentifier(extension_id, "extension id");
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
    for (const kind of KINDS) objectRoutesOf(scoped, kind, services.objects);
  });
};

function objectRoutesOf(app: GoferApp, kind: Kind, objects: ObjectService): void {
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
      const scope = kind.scope(request.params as Record<string, unknown>);
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
      const opened = await objects.open(kind.scope(params), String(params.key));
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
      const declared = request.headers["content-length"];
      const body = (request.body as Readable | undefined) ?? emptyBody();
      const stored = await objects.put(kind.scope(params), String(params.key), body, {
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
      await objects.delete(kind.scope(params), String(params.key));
      return reply.code(204).send(null);
    },
  );
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
