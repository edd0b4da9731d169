/**
 * The environment layer: GOFER_WEB_<SECTION>__<KEY>, where a double underscore separates nesting levels
 * (GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE) and names are case-insensitive.
 */
import { type TSchema, Type } from "typebox";
import { Value } from "typebox/value";
import { isSection, SCHEMA_BY_KEY } from "./config-schema.ts";
import { RETIRED_KEYS, retire } from "./gofer-keys.ts";
import { emptyLayer, type Layer, setLayerValue } from "./layer.ts";
import { suggestKey } from "./suggest.ts";

const PREFIX = "GOFER_WEB_";

/** Only settings can be set from the environment, so only they are worth suggesting. */
const SETTING_KEYS = [...SCHEMA_BY_KEY].filter(([, schema]) => !isSection(schema)).map(([key]) => key);

/** Reads every GOFER_WEB_ variable in `env`; an unknown one is a problem, not something to ignore silently. */
export function readEnvLayer(env: NodeJS.ProcessEnv, cwd: string): Layer {
  const layer = emptyLayer();
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.toUpperCase().startsWith(PREFIX)) continue;
    const key = name.slice(PREFIX.length).toLowerCase().split("__").join(".");
    const schema = SCHEMA_BY_KEY.get(key);
    const retired = RETIRED_KEYS.get(key);
    if (schema === undefined && retired !== undefined) {
      retire(
        key,
        retired,
        retired.only === undefined ? text : text.toLowerCase(),
        `from environment variable ${name}`,
        layer,
      );
    } else if (schema === undefined) {
      const suggestion = suggestKey(key, SETTING_KEYS);
      const hint = suggestion === undefined ? "" : ` (did you mean ${envName(suggestion)}?)`;
      layer.problems.push(`unknown environment variable ${name}: no configuration key \`${key}\`${hint}`);
    } else if (isSection(schema)) {
      layer.problems.push(`environment variable ${name} names the section \`${key}\`, not a setting in it`);
    } else {
      setLayerValue(layer, key, schema, coerce(schema, text), `from environment variable ${name}`, cwd);
    }
  }
  return layer;
}

function envName(key: string): string {
  return PREFIX + key.toUpperCase().split(".").join("__");
}

/**
 * Turns the string into the setting's type when it reads as one; otherwise returns it unchanged so the schema
 * check reports it. A union (a duration: seconds or a string) takes the first branch the text satisfies.
 */
function coerce(schema: TSchema, text: string): unknown {
  if (Type.IsUnion(schema)) {
    for (const branch of schema.anyOf) {
      const value = coerce(branch, text);
      if (Value.Check(branch, value)) return value;
    }
    return text;
  }
  if (Type.IsInteger(schema)) return /^[+-]?[0-9]+$/.test(text) ? Number(text) : text;
  if (Type.IsBoolean(schema)) return BOOLEANS.get(text.toLowerCase()) ?? text;
  return text;
}

const BOOLEANS = new Map([
  ["true", true],
  ["1", true],
  ["false", false],
  ["0", false],
]);
