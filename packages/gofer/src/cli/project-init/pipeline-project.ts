/**
 * The project `gofer pipeline init` writes: a `pipeline.ts` that `gofer up` registers as it is, and what an
 * editor and `tsc` need to check it. Installing is optional: without node_modules `gofer up` serves `@gofer/sdk`
 * from its own copy, with them it loads the vendored one (a linked folder, so Node strips its types).
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

/**
 * The task's image: built offline by Gofer's `npm run images` (the quickstart does it); `busybox:latest` from
 * Docker Hub runs the same script.
 */
export const PIPELINE_TASK_IMAGE = "gofer/busybox:latest";

export function pipelineProject(id: string, sdk: SdkSources): ProjectFile[] {
  const { typescript, "@types/node": nodeTypes } = TOOLCHAIN_VERSIONS;
  return [
    { path: "pipeline.ts", text: pipelineSource(id) },
    jsonFile("package.json", {
      name: `gofer-pipeline-${id.toLowerCase()}`,
      version: "0.1.0",
      private: true,
      description: `Gofer pipeline ${id}.`,
      type: "module",
      scripts: { typecheck: "tsc" },
      devDependencies: { [sdk.name]: VENDORED_SDK_DEPENDENCY, typescript, "@types/node": nodeTypes },
      engines: { node: ">=24" },
    }),
    tsconfigFile(["pipeline.ts"]),
    gitignoreFile(["node_modules/"]),
    ...vendoredSdkFiles(sdk),
  ];
}

/** "my-app" → "My app": the display name, which the user will likely rewrite. */
function displayName(id: string): string {
  const words = id.split("-").filter((word) => word !== "");
  const text = words.join(" ");
  return text === "" ? id : `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function pipelineSource(id: string): string {
  return `/**
 * The ${id} pipeline. \`gofer up\` registers and deploys it; after a change, run it again: it shows what
 * changed. \`gofer run start ${id} --watch\` starts a run and follows it.
 */
import { pipeline, task } from "@gofer/sdk";

// ${PIPELINE_TASK_IMAGE} is built offline by Gofer's \`npm run images\`; busybox:latest from Docker Hub works too.
const hello = task("hello", ${JSON.stringify(PIPELINE_TASK_IMAGE)})
  .variables({ GREETING: "hello" })
  .script(\`echo "$GREETING from $GOFER_PIPELINE_ID, run $GOFER_RUN_ID"\`);

const check = task("check", ${JSON.stringify(PIPELINE_TASK_IMAGE)})
  .dependsOn(hello) // runs once hello succeeds
  .command("echo", "all done");

export default pipeline(${JSON.stringify(id)}, ${JSON.stringify(displayName(id))})
  .description("Says hello, then checks.")
  .tasks(hello, check);
`;
}
