/**
 * Runs one benchmark by name: `npm run bench -- <name>` runs `bench/<name>.bench.ts`; `npm run bench` alone runs
 * `run-loop`, the benchmark of the run loop. An unknown name lists the benchmarks there are and exits 2.
 *
 * The benchmark is imported rather than spawned: one process, so Ctrl-C, the exit code and any process-wide figure
 * (memory, CPU) are the benchmark's own with no wrapper in between.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const SUFFIX = ".bench.ts";
const DEFAULT = "run-loop";

const available = readdirSync(import.meta.dirname)
  .filter((file) => file.endsWith(SUFFIX))
  .map((file) => file.slice(0, -SUFFIX.length))
  .sort();
const name = process.argv[2] ?? DEFAULT;

if (!available.includes(name)) {
  process.stderr.write(
    `unknown benchmark "${name}"; available: ${available.join(", ")}\n` +
      `usage: npm run bench -- <name>   (no name: ${DEFAULT})\n`,
  );
  process.exit(2);
}

await import(pathToFileURL(join(import.meta.dirname, `${name}${SUFFIX}`)).href);
