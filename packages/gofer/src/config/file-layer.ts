/** The TOML file layer: parse, then walk the tables against the schema, rejecting keys it does not list. */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { parse, TomlError } from "smol-toml";
import { isSection, SCHEMA_BY_KEY } from "./config-schema.ts";
import { RETIRED_KEYS, retire } from "./gofer-keys.ts";
import { emptyLayer, type Layer, setLayerValue } from "./layer.ts";
import { suggestKey } from "./suggest.ts";

/**
 * Reads the settings in the TOML file at `path` (absolute). A missing file is a problem only when `required`
 * (the user named it); the system-wide file is optional.
 */
export function readFileLayer(path: string, required: boolean): Layer {
  const layer = emptyLayer();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "ENOENT") {
      if (required) layer.problems.push(`configuration file ${path} does not exist`);
    } else {
      layer.problems.push(
        `cannot read configuration file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return layer;
  }

  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // The message's first line is the reason; the rest is a code excerpt that would break up the problem list.
    const reason = error.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "");
    layer.problems.push(
      `configuration file ${path} is not valid TOML (line ${error.line}, column ${error.column}): ${reason}`,
    );
    return layer;
  }
  walk(layer, table, "", `in ${path}`, dirname(path));
  return layer;
}

function walk(layer: Layer, table: Record<string, unknown>, prefix: string, source: string, baseDir: string) {
  for (const [name, value] of Object.entries(table)) {
    const key = prefix + name;
    const schema = SCHEMA_BY_KEY.get(key);
    const retired = RETIRED_KEYS.get(key);
    if (schema === undefined && retired !== undefined) {
      retire(key, retired, value, source, layer);
    } else if (schema === undefined) {
      const suggestion = suggestKey(key, [...SCHEMA_BY_KEY.keys()]);
      const hint = suggestion === undefined ? "" : ` (did you mean \`${suggestion}\`?)`;
      layer.problems.push(`unknown configuration key \`${key}\`${hint} ${source}`);
    } else if (isSection(schema) && isTable(value)) {
      walk(layer, value, `${key}.`, source, baseDir);
    } else {
      setLayerValue(layer, key, schema, value, source, baseDir);
    }
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
