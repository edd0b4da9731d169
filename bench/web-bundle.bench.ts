/**
 * The web UI's first load against its budget (150 kB gzip): builds the UI, then prints each file a browser
 * fetches for the first page, gzip-compressed, the total, and the ratio total/budget (below 1 is within budget).
 * Lazily loaded chunks (the terminal) are listed apart and do not count. Usage: `npm run bench:web`.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { FIRST_LOAD_BUDGET, measureFirstLoad } from "../web/test/support/first-load.ts";

const root = resolve(import.meta.dirname, "..");
execFileSync("npm", ["run", "build:web", "--silent"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const { files, lazy, gzipBytes } = measureFirstLoad(resolve(root, "web/dist"));
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const row = (file: { name: string; bytes: number; gzipBytes: number }) =>
  `  ${file.name.padEnd(40)} ${kb(file.bytes).padStart(10)} ${kb(file.gzipBytes).padStart(10)} gzip`;
console.log("first load:");
for (const file of files) console.log(row(file));
console.log("loaded later, on demand:");
for (const file of lazy) console.log(row(file));
console.log(`first load total: ${kb(gzipBytes)} gzip; budget ${kb(FIRST_LOAD_BUDGET)}`);
console.log(`ratio first load / budget: ${(gzipBytes / FIRST_LOAD_BUDGET).toFixed(3)}`);
