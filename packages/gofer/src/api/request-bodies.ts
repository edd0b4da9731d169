/**
 * How request bodies are read. v0 bodies are JSON, and an empty body is no body whatever its Content-Type:
 * Gofer's own clients (its integration suite among them) send `Content-Type: application/json` on every request,
 * bodiless DELETEs, deploys and the bootstrap token included, as many HTTP client wrappers do. A route whose
 * body has only optional fields then sees `{}`; one that needs a field is told which is missing by validation.
 * Routes with their own parsers (object uploads) register them in a scope of their own.
 */
import { GoferError } from "../domain/errors.ts";
import type { GoferApp } from "./api-context.ts";

export function readBodies(app: GoferApp): void {
  // The default parser, for its protection against __proto__ and constructor keys.
  const json = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") done(null, undefined);
    // Callback style: it answers through `done` and returns nothing to await.
    else void json(request, body as string, done);
  });
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else
      done(
        new GoferError(
          "UNSUPPORTED_MEDIA_TYPE",
          "Unsupported Content-Type; send the body as application/json",
        ),
      );
  });
  app.addHook("preValidation", async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });
}
