/**
 * What a browser downloads to show the first page of the built UI: index.html, the scripts and stylesheets it
 * references, and the modules those preload, each gzip-compressed as the server sends them. Chunks loaded later
 * (the terminal) are listed apart.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const FIRST_LOAD_BUDGET = 150 * 1024;

export interface BuiltFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface FirstLoad {
  files: BuiltFile[];
  lazy: BuiltFile[];
  gzipBytes: number;
}

export function measureFirstLoad(dist: string): FirstLoad {
  const measure = (name: string): BuiltFile => {
    const body = readFileSync(join(dist, name));
    return { name, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
  };
  const index = readFileSync(join(dist, "index.html"), "utf8");
  const referenced = new Set(
    [...index.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((match) => match[1] as string),
  );
  // Static imports between chunks load up front too: follow them from the entry scripts.
  const queue = [...referenced].filter((name) => name.endsWith(".js"));
  while (queue.length > 0) {
    const source = readFileSync(join(dist, queue.pop() as string), "utf8");
    for (const match of source.matchAll(
      /(?:^|[;\s}])import\s*(?:[\w{}\s,*]*from\s*)?["']\.\/([^"']+\.js)["']/g,
    )) {
      const name = `assets/${match[1]}`;
      if (!referenced.has(name)) {
        referenced.add(name);
        queue.push(name);
      }
    }
  }
  const files = ["index.html", ...referenced].map(measure);
  const lazy = readdirSync(join(dist, "assets"))
    .map((name) => `assets/${name}`)
    .filter((name) => !referenced.has(name))
    .map(measure);
  return { files, lazy, gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0) };
}
