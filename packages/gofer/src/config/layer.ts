/**
 * A layer is one source of settings (the file, the environment) reduced to checked values by dotted key, so
 * layers merge by simple replacement and every later error can say where a value came from.
 */
import { isAbsolute, resolve } from "node:path";
import type { TSchema } from "typebox";
import { Value } from "typebox/value";
import { describeExpected, isPath } from "./config-schema.ts";

export interface LayerValue {
  value: unknown;
  /** Where the value came from, phrased to end an error message: "in /etc/gofer/gofer_web.toml". */
  source: string;
}

export interface Layer {
  values: Map<string, LayerValue>;
  problems: string[];
  /** Settings read but not used (keys of Gofer's that no longer apply): said at start, never a refusal. */
  warnings: string[];
}

export function emptyLayer(): Layer {
  return { values: new Map(), problems: [], warnings: [] };
}

/**
 * Checks `value` against the setting `key` and records it in `layer`, or records why not. Relative paths are
 * made absolute against `baseDir` here, because only the layer knows what they were relative to.
 */
export function setLayerValue(
  layer: Layer,
  key: string,
  schema: TSchema,
  value: unknown,
  source: string,
  baseDir: string,
) {
  if (!Value.Check(schema, value)) {
    layer.problems.push(
      `\`${key}\` must be ${describeExpected(schema)}, got ${describeValue(value)} (${source})`,
    );
    return;
  }
  const resolved =
    isPath(schema) && typeof value === "string" && value !== "" && !isAbsolute(value)
      ? resolve(baseDir, value)
      : value;
  layer.values.set(key, { value: resolved, source });
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (Array.isArray(value)) return "an array";
  // smol-toml's TomlDate is a Date.
  if (value instanceof Date) return "a date";
  return "a table";
}
