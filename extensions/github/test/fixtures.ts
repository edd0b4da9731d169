/** The sample webhook payloads in fixtures/, as bytes (what GitHub signs) and parsed. */
import { readFileSync } from "node:fs";

export type FixtureName = "push" | "pull_request" | "release" | "ping";

export function fixtureBytes(name: FixtureName): Uint8Array {
  return readFileSync(new URL(`fixtures/${name}.json`, import.meta.url));
}

export function fixture(name: FixtureName): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(name))) as Record<string, unknown>;
}
