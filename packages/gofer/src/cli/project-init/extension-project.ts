/**
 * The project `gofer extension init` writes: an extension on the SDK's extension kit that starts a run of every
 * subscribed pipeline when an external event (a webhook) arrives, and `npm run image`, which bundles it and
 * builds its image without any registry, FROM the offline base `gofer/node-base`.
 */
import type { ProjectFile } from "./project-files.ts";
import type { SdkSources } from "./sdk-sources.ts";
import {
  gitignoreFile,
  jsonFile,
  tsconfigFile,
  VENDORED_SDK_DEPENDENCY,
  vendoredSdkFiles,
} from "./shared-templates.ts";
import { TOOLCHAIN_VERSIONS } from "./toolchain-versions.ts";

// The image's tag follows it; scripts/build-image.mjs reads it from package.json.
const PROJECT_VERSION = "0.1.0";

/** The image `npm run image` builds for extension `id`: versioned, so no scheduler takes it for "always pull". */
export function extensionImage(id: string): string {
  return `gofer-extension-${id.toLowerCase()}:${PROJECT_VERSION}`;
}

export function extensionProject(id: string, sdk: SdkSources): ProjectFile[] {
  return [
    jsonFile("package.json", {
      name: `gofer-extension-${id.toLowerCase()}`,
      version: PROJECT_VERSION,
      private: true,
      description: `Gofer extension ${id}: starts a run of every subscribed pipeline when an external event arrives.`,
      type: "module",
      scripts: {
        image: "node scripts/build-image.mjs",
        typecheck: "tsc",
      },
      dependencies: { [sdk.name]: VENDORED_SDK_DEPENDENCY },
      devDependencies: { ...TOOLCHAIN_VERSIONS },
      engines: { node: ">=24" },
    }),
    tsconfigFile(["src"]),
    gitignoreFile(["node_modules/", "dist/"]),
    { path: "src/main.ts", text: extensionSource(id) },
    { path: "scripts/build-image.mjs", text: buildImageScript(id) },
    { path: "Dockerfile", text: DOCKERFILE },
    // Only the bundle goes to the engine, not node_modules.
    { path: ".dockerignore", text: "*\n!dist/main.mjs\n" },
    ...vendoredSdkFiles(sdk),
  ];
}

function extensionSource(id: string): string {
  return `/**
 * The ${id} extension: starts a run of every subscribed pipeline whenever an external event arrives (a POST to
 * Gofer's external events listener at /api/external/${id}, say a webhook).
 *
 *   npm run image                                   bundle, then build the image
 *   gofer extension install ${id} <image>           as an admin; \`npm run image\` prints the exact line
 *   gofer pipeline subscribe <pipeline> ${id} on-event -s greeting=hi
 */
import { defineExtension, runExtension, type SubscriptionKey } from "@gofer/sdk/extension";

// Gofer replays every subscription after a restart, so this map is all the state there is; a replayed
// subscribe overwrites its entry.
const subscribed = new Map<string, SubscriptionKey & { greeting: string }>();
const keyOf = (key: SubscriptionKey) => \`\${key.namespaceId}/\${key.pipelineId}/\${key.subscriptionId}\`;

const extension = defineExtension({
  documentation: {
    body: "Starts a run of every subscribed pipeline when an external event arrives.",
    configParams: [{ key: "greeting", required: false, documentation: "Default GREETING variable of the runs." }],
    subscriptionParams: [{ key: "greeting", required: false, documentation: "GREETING for this pipeline's runs." }],
  },
  subscribe(subscription, context) {
    const greeting = subscription.params.greeting ?? context.config("greeting") ?? "hello";
    subscribed.set(keyOf(subscription), { ...subscription, greeting });
  },
  unsubscribe(key) {
    subscribed.delete(keyOf(key));
  },
  async externalEvent(event, context) {
    context.log.info("external event", { bytes: event.body.length });
    for (const subscription of subscribed.values()) {
      await context.startRun(subscription, { GREETING: subscription.greeting });
    }
  },
  debug: () => \`subscriptions: \${subscribed.size}\`,
});

await runExtension(extension);
`;
}

// Plain JavaScript, so it runs on whatever Node runs npm; esbuild's API works the same whether or not npm ran
// its install script.
function buildImageScript(id: string): string {
  return `// \`npm run image\`: bundles src/main.ts and its dependencies into dist/main.mjs, then builds the image from the
// Dockerfile. Arguments after \`--\` go to \`docker build\`, e.g. \`npm run image -- --build-arg BASE_IMAGE=node:24-slim\`.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const EXTENSION_ID = ${JSON.stringify(id)};
const root = fileURLToPath(new URL("..", import.meta.url));
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const image = process.env.IMAGE || \`gofer-extension-\${EXTENSION_ID.toLowerCase()}:\${version}\`;

await build({
  absWorkingDir: root,
  entryPoints: ["src/main.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  outfile: "dist/main.mjs",
  legalComments: "none",
  logLevel: "warning",
});

const docker = spawnSync("docker", ["build", "-t", image, ...process.argv.slice(2), "."], {
  cwd: root,
  stdio: "inherit",
});
if (docker.error) {
  console.error(\`could not run docker (\${docker.error.message}): install Docker, or put it on PATH\`);
  process.exit(1);
}
if (docker.status !== 0) {
  console.error(
    "docker build failed. The Dockerfile builds FROM gofer/node-base:latest, which Gofer's \`npm run images\` " +
      "builds offline; with access to a registry, \`npm run image -- --build-arg BASE_IMAGE=node:24-slim\` works too.",
  );
  process.exit(docker.status ?? 1);
}
console.log(\`\\nBuilt \${image}. Install it into Gofer (as an admin):\\n\\n  gofer extension install \${EXTENSION_ID} \${image}\\n\`);
`;
}

const DOCKERFILE = `# The extension's image: dist/main.mjs is src/main.ts bundled with its dependencies by \`npm run image\`.
# gofer/node-base is Node 24 on the libraries it needs and nothing else (no shell, no users), built offline by
# Gofer's \`npm run images\`; with registry access, --build-arg BASE_IMAGE=node:24-slim works as well.
ARG BASE_IMAGE=gofer/node-base:latest
FROM \${BASE_IMAGE}
COPY dist/main.mjs /extension/main.mjs
# A numeric user: the offline base has no /etc/passwd to look a name up in.
USER 1000:1000
# The whole command, so it does not depend on the base image's ENTRYPOINT.
ENTRYPOINT ["node", "/extension/main.mjs"]
`;
