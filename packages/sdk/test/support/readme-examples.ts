/**
 * Compiles the `ts` code blocks of a Markdown file the way a reader who copies one into a file of their own
 * would: each block is a module on its own, `@gofer/sdk` (and its subpaths) resolves to this package's source
 * through the package's own `exports`, and the compiler options are the project's. Problems are reported at the
 * Markdown line they come from, so a failing example is found without counting lines inside its block.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CodeBlock } from "./markdown-code-blocks.ts";

const SDK_DIR = fileURLToPath(new URL("../..", import.meta.url));
const REPOSITORY_DIR = join(SDK_DIR, "..", "..");
const TSC = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

/** One compiler error, placed in the Markdown file when it is inside an example. */
export interface ExampleProblem {
  /** `README.md:120:7`, or the compiler's own location for an error outside the examples (in the SDK). */
  where: string;
  /** The block the error is in; undefined for an error outside the examples. */
  block?: CodeBlock;
  /** `TS2339: Property 'nope' does not exist on type 'RunsApi'.`, with the compiler's further lines. */
  message: string;
}

/** The examples of one Markdown file written out as modules, ready to compile or import. */
export interface ExampleFolder {
  dir: string;
  /** The module written for each block. */
  files: Map<CodeBlock, string>;
  remove(): Promise<void>;
}

/** Where each block goes: its opening fence's line names it, so a compiler message names the block too. */
export function exampleFileName(block: CodeBlock): string {
  return `readme-line-${block.line}.ts`;
}

/**
 * Writes `blocks` into a new temporary folder with a `tsconfig.json` that extends the project's, a
 * `package.json` that makes the files ES modules, and `node_modules/@gofer/sdk` linked to this package, so
 * the modules both compile and run as a reader's would.
 */
export async function writeExamples(blocks: readonly CodeBlock[]): Promise<ExampleFolder> {
  const dir = await mkdtemp(join(tmpdir(), "gofer-sdk-readme-"));
  const files = new Map<CodeBlock, string>();
  try {
    const { name, exports } = JSON.parse(await readFile(join(SDK_DIR, "package.json"), "utf8")) as {
      name: string;
      exports: Record<string, string>;
    };
    const paths = Object.fromEntries(
      Object.entries(exports).map(([subpath, target]) => [
        join(name, subpath).replaceAll("\\", "/"),
        [join(SDK_DIR, target)],
      ]),
    );
    const tsconfig = {
      extends: join(REPOSITORY_DIR, "tsconfig.base.json"),
      compilerOptions: {
        paths,
        typeRoots: [join(REPOSITORY_DIR, "node_modules", "@types")],
        // A block without an import is still a file of its own: its names must not meet another block's.
        moduleDetection: "force",
      },
      include: ["*.ts"],
    };
    await writeFile(join(dir, "tsconfig.json"), `${JSON.stringify(tsconfig, null, 2)}\n`);
    await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
    await mkdir(join(dir, "node_modules", "@gofer"), { recursive: true });
    await symlink(SDK_DIR, join(dir, "node_modules", "@gofer", "sdk"), "dir");
    for (const block of blocks) {
      const file = join(dir, exampleFileName(block));
      await writeFile(file, block.text);
      files.set(block, file);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, files, remove: () => rm(dir, { recursive: true, force: true }) };
}

const LOCATED = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/;

/**
 * Runs the project's TypeScript compiler on the folder and returns every error, each placed at its line of
 * `markdownPath` (a path relative to the repository reads best in a failure).
 */
export async function typeCheckExamples(
  folder: ExampleFolder,
  markdownPath: string,
): Promise<ExampleProblem[]> {
  const byFile = new Map([...folder.files].map(([block, file]) => [basename(file), block]));
  let output: string;
  try {
    await promisify(execFile)(process.execPath, [TSC, "-p", folder.dir, "--pretty", "false"], {
      cwd: folder.dir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return [];
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    output = `${stdout}${stderr}`;
    if (output.trim() === "") throw error;
  }

  const problems: ExampleProblem[] = [];
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    const located = LOCATED.exec(line);
    const last = problems.at(-1);
    if (located === null) {
      // The compiler continues a message on indented lines; anything else is an error of its own.
      if (last !== undefined && /^\s/.test(line)) last.message += `\n${line}`;
      else problems.push({ where: "tsc", message: line });
      continue;
    }
    const [, file = "", row = "0", column = "0", message = ""] = located;
    const block = byFile.get(basename(file));
    if (block === undefined) {
      problems.push({
        where: `${relative(REPOSITORY_DIR, join(folder.dir, file))}:${row}:${column}`,
        message,
      });
    } else {
      // The first line of the block is the line after its opening fence.
      problems.push({ where: `${markdownPath}:${block.line + Number(row)}:${column}`, block, message });
    }
  }
  return problems;
}

/** A failure message: one paragraph per problem, each naming the block's heading. */
export function describeProblems(problems: readonly ExampleProblem[]): string {
  return problems
    .map((problem) => {
      const under = problem.block ? ` (in the block under "${problem.block.heading}")` : "";
      return `${problem.where}${under}: ${problem.message}`;
    })
    .join("\n");
}
