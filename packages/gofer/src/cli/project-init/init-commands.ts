/**
 * `gofer extension init <dir>` and `gofer pipeline init <dir>`: a small project that works as written, for a
 * first extension or pipeline. Nothing here talks to a server.
 */
import { basename, resolve } from "node:path";
import { describeIdentifierRule, isValidIdentifier } from "@gofer/sdk";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { contextOf } from "../command-context.ts";
import { extensionImage, extensionProject } from "./extension-project.ts";
import { pipelineProject } from "./pipeline-project.ts";
import { type ProjectFile, writeProjectFiles } from "./project-files.ts";
import { sdkSources } from "./sdk-sources.ts";
import { VENDORED_SDK_DIR } from "./shared-templates.ts";

interface InitOptions {
  id?: string;
  force?: boolean;
}

/** What `--output json` prints: where the project is and what was written there. */
interface InitResult {
  kind: "extension" | "pipeline";
  id: string;
  directory: string;
  files: string[];
  sdk: { version: string; directory: string };
  /** The commands to run next, in order, from the project's folder. */
  next: string[];
  /** The image `npm run image` builds (extensions only). */
  image?: string;
}

export function registerExtensionInitCommand(extension: Command): void {
  extension
    .command("init <dir>")
    .description("Write a new extension project: TypeScript on the extension kit, and `npm run image`")
    .option("--id <id>", "the extension's id, as it will be installed (default: the folder's name)")
    .option("--force", "write into a folder that is not empty, replacing the template's files")
    .addHelpText(
      "after",
      "\nThen, in <dir>: `npm install --prefer-offline`, `npm run image`, and the `gofer extension install` " +
        "line it prints.\n",
    )
    .action(async (dir: string, options: InitOptions, command: Command) => {
      const id = projectId(dir, options, "extension");
      const sdk = await sdkSources();
      const project = extensionProject(id, sdk);
      const image = extensionImage(id);
      await init(command, dir, options, project, {
        kind: "extension",
        id,
        sdkVersion: sdk.version,
        image,
        next: ["npm install --prefer-offline", "npm run image", `gofer extension install ${id} ${image}`],
      });
    });
}

export function registerPipelineInitCommand(pipeline: Command): void {
  pipeline
    .command("init <dir>")
    .description("Write a new pipeline project: a pipeline.ts that `gofer up` registers as it is")
    .option("--id <id>", "the pipeline's id (default: the folder's name)")
    .option("--force", "write into a folder that is not empty, replacing the template's files")
    .action(async (dir: string, options: InitOptions, command: Command) => {
      const id = projectId(dir, options, "pipeline");
      const sdk = await sdkSources();
      await init(command, dir, options, pipelineProject(id, sdk), {
        kind: "pipeline",
        id,
        sdkVersion: sdk.version,
        next: ["gofer up pipeline.ts", `gofer run start ${id} --watch`],
      });
    });
}

/** The id given, or the folder's name; either is checked by the rule the server applies. */
function projectId(dir: string, options: InitOptions, kind: "extension" | "pipeline"): string {
  const id = options.id ?? basename(resolve(dir));
  if (isValidIdentifier(id)) return id;
  const source = options.id === undefined ? ` (the folder's name; choose another with --id <id>)` : "";
  throw new CliError(`invalid ${kind} id "${id}"${source}: ${describeIdentifierRule}`, {
    hint: `an id such as my-${kind}`,
    exitCode: 2,
  });
}

async function init(
  command: Command,
  dir: string,
  options: InitOptions,
  project: ProjectFile[],
  result: { kind: InitResult["kind"]; id: string; sdkVersion: string; next: string[]; image?: string },
): Promise<void> {
  const { out } = contextOf(command);
  const directory = resolve(dir);
  await writeProjectFiles(directory, project, {
    force: options.force ?? false,
    command: `gofer ${result.kind} init ${dir}`,
  });
  const written: InitResult = {
    kind: result.kind,
    id: result.id,
    directory,
    files: project.map((file) => file.path),
    sdk: { version: result.sdkVersion, directory: VENDORED_SDK_DIR },
    next: result.next,
    ...(result.image !== undefined && { image: result.image }),
  };
  const own = written.files.filter((path) => !path.startsWith(`${VENDORED_SDK_DIR}/`));
  out.result(written, () => [
    `Wrote the ${result.kind} ${result.id} to ${directory}:`,
    ...own.map((path) => `  ${path}`),
    `  ${VENDORED_SDK_DIR}/ (@gofer/sdk ${result.sdkVersion}, which the npm registry does not have)`,
    "",
    "Next:",
    ...(directory === process.cwd() ? [] : [`  cd ${shellWord(dir)}`]),
    ...result.next.map((line) => `  ${line}`),
  ]);
}

/** `dir` as one shell word, so the `cd` line can be pasted as it is. */
function shellWord(dir: string): string {
  return /^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replaceAll("'", `'\\''`)}'`;
}
