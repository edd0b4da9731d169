/**
 * Extension routes (v0 paths and shapes): install, list, get, enable/disable, uninstall, debug, logs and the
 * extension's subscriptions. Each parses, calls one method of the extension service (which holds the rules and
 * the differences from v0) and serialises.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import type { ExtensionService } from "../../services/extension-service.ts";
import type { GoferApp } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { abortOnClose, sendPlainText, streamToSocket } from "../log-streams.ts";
import { errorResponses, IdentifierParam, Nullable, StringMap } from "../schemas/common.ts";
import { RegistryAuth } from "../schemas/models.ts";

export interface ExtensionRouteServices {
  extensions: ExtensionService;
}

const URL = "/api/extensions";
const ExtensionParams = Type.Object({ extension_id: IdentifierParam });

export function extensionRoutes(app: GoferApp, { extensions }: ExtensionRouteServices): void {
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
    async (request) => ({ extensions: await extensions.list(request.principal) }),
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
      const extension = await extensions.install(
        { id, image, settings, registry_auth, additional_roles: additional_roles ?? [] },
        request.principal,
      );
      return reply.code(201).send({ extension });
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
    async (request) => ({ extension: await extensions.get(request.params.extension_id, request.principal) }),
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
      await extensions.setEnabled(request.params.extension_id, request.body.enable);
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
      await extensions.uninstall(request.params.extension_id);
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
    async (request) => ({ info: await extensions.debug(request.params.extension_id) }),
  );

  app.route({
    method: "GET",
    url: `${URL}/:extension_id/logs`,
    schema: {
      operationId: "get_extension_logs",
      tags: ["Extensions"],
      summary:
        "The extension container's output, one line per WebSocket text frame, followed while it runs; without " +
        "an Upgrade header, plain text: the output so far, or with `follow=true` streamed while it runs. When " +
        "it has no container (it failed and awaits its restart, or its install failed and was undone), what " +
        "the last container printed before it was removed.",
      params: ExtensionParams,
      querystring: Type.Object({ follow: Type.Optional(Type.Boolean()) }),
      response: { ...errorResponses },
    },
    // Before the upgrade, so an unknown extension or one with no output to show is refused with a status.
    preHandler: async (request) => {
      await extensions.requireLogs((request.params as { extension_id: string }).extension_id);
    },
    handler: async (request, reply) => {
      const abort = abortOnClose(reply);
      const blocks = extensions.logs(
        request.params.extension_id,
        request.query.follow === true,
        abort.signal,
      );
      return sendPlainText(reply, blocks);
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const id = (request.params as { extension_id: string }).extension_id;
      const abort = new AbortController();
      socket.on("close", () => abort.abort());
      void streamToSocket(socket, extensions.logs(id, true, abort.signal), abort.signal, request.raw.socket);
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
    async (request) => ({ subscriptions: await extensions.subscriptionsOf(request.params.extension_id) }),
  );
}
