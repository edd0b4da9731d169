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
  // An image name is lower case and a part of it may not end in a separator, which an id may ("build-").
  return `gofer-extension-${id.toLowerCase().replace(/[-_.]+$/, "")}:${PROJECT_VERSION}`;
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
    configParams: [
      { key: "greeting", required: false, documentation: "Default GREETING variable of the runs." },
    ],
    subscriptionParams: [
      { key: "greeting", required: false, documentation: "GREETING for this pipeline's runs." },
    ],
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
// its install script. Every failure ends with one line saying what to do, never a stack trace.
function buildImageScript(id: string): string {
  return `// \`npm run image\`: type-checks the project, bundles src/main.ts and its dependencies into dist/main.mjs, then
// builds the image from the Dockerfile and prints the line that installs it. Arguments after \`--\` go to
// \`docker build\` (\`npm run image -- --build-arg BASE_IMAGE=node:24-slim\`); IMAGE=<name:tag> chooses the tag.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const EXTENSION_ID = ${JSON.stringify(id)};
const IMAGE_NAME = ${JSON.stringify(extensionImage(id).replace(/:[^:]*$/, ""))};
const root = fileURLToPath(new URL("..", import.meta.url));
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const image = process.env.IMAGE || \`\${IMAGE_NAME}:\${version}\`;
const dockerArgs = process.argv.slice(2);

function fail(message) {
  console.error(\`\\nnpm run image: \${message}\`);
  process.exit(1);
}

// The build tools come from \`npm install\`; without them, say so rather than show a resolver's stack trace.
const require = createRequire(import.meta.url);
function installed(name) {
  try {
    return require.resolve(name);
  } catch {
    return fail(\`\${name.split("/")[0]} is not installed here: run \\\`npm install --prefer-offline\\\` first\`);
  }
}
installed("esbuild");
// TypeScript exports no path to its compiler; its manifest names it.
const typescript = installed("typescript/package.json");
const tsc = join(dirname(typescript), JSON.parse(readFileSync(typescript, "utf8")).bin.tsc);

// Before the slower steps: an engine that does not answer fails every build the same way.
const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
if (engine.error) fail(\`could not run docker (\${engine.error.message}): install Docker, or put it on PATH\`);
if (engine.status !== 0) {
  fail(
    \`Docker does not answer (\${engine.stderr.trim()}): start the Docker daemon, or set DOCKER_HOST to one\`,
  );
}

const checked = spawnSync(process.execPath, [tsc], { cwd: root, stdio: "inherit" });
if (checked.status !== 0)
  fail("tsc found the errors above: fix them and run it again (\`npm run typecheck\` only checks)");

const { build } = await import("esbuild");
try {
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
} catch {
  fail("esbuild could not bundle src/main.ts: fix the errors it printed above");
}

const docker = spawnSync("docker", ["build", "-t", image, ...dockerArgs, "."], {
  cwd: root,
  stdio: "inherit",
});
if (docker.status !== 0) {
  // The usual cause offline: the Dockerfile's default base, which no registry has, was never built here.
  const base = /^ARG BASE_IMAGE=(\\S+)$/m.exec(
    readFileSync(new URL("../Dockerfile", import.meta.url), "utf8"),
  )?.[1];
  const overridden = dockerArgs.some((arg) => arg.includes("BASE_IMAGE="));
  const present = (name) => spawnSync("docker", ["image", "inspect", name], { stdio: "ignore" }).status === 0;
  if (base !== undefined && !overridden && !present(base)) {
    fail(
      \`the base image \${base} is not in this Docker engine. Build it offline with \\\`npm run images\\\` in \` +
        "Gofer's repository, or, where a registry is reachable, run " +
        "\`npm run image -- --build-arg BASE_IMAGE=node:24-slim\`",
    );
  }
  fail("docker build failed: its output above says why");
}
console.log(\`\\nBuilt \${image}. Install it into Gofer (as an admin):\\n\`);
console.log(\`  gofer extension install \${EXTENSION_ID} \${image}\\n\`);
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
