/**
 * Writes a new project's files into its folder. A folder that already holds something is refused unless the
 * caller forces it, so `init` never mixes a template into someone's work by accident; forced, it overwrites
 * only the files the template has and leaves every other file alone.
 */
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CliError } from "../cli-error.ts";

export interface ProjectFile {
  /** Relative to the project's folder, `/`-separated. */
  path: string;
  text: string;
}

export async function writeProjectFiles(
  dir: string,
  files: readonly ProjectFile[],
  options: { force: boolean; command: string },
): Promise<void> {
  const present = await entriesOf(dir);
  if (present.length > 0 && !options.force) {
    const shown = present.slice(0, 5).join(", ") + (present.length > 5 ? ", …" : "");
    throw new CliError(`${dir} is not empty (it holds ${shown})`, {
      hint: `give a new or empty folder, or run \`${options.command} --force\` to write the template's files over it`,
      exitCode: 2,
    });
  }
  for (const file of files) {
    const path = join(dir, ...file.path.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.text);
  }
}

/** The names in `dir`, or none when it does not exist yet. */
async function entriesOf(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return [];
    if (code === "ENOTDIR") {
      const what = (await stat(dir).catch(() => undefined))?.isFile()
        ? "is a file"
        : "has a file in its path";
      throw new CliError(`${dir} ${what}`, { hint: "give the path of a folder to create", exitCode: 2 });
    }
    throw error;
  }
}
