/** Regenerates packages/gofer/openapi.json from the route schemas (`npm run openapi`). */
import { writeFile } from "node:fs/promises";
import { generateOpenApiDocument, OPENAPI_PATH, serializeDocument } from "../src/service/openapi-document.ts";

await writeFile(OPENAPI_PATH, serializeDocument(await generateOpenApiDocument()));
process.stdout.write(`wrote ${OPENAPI_PATH.pathname}\n`);
