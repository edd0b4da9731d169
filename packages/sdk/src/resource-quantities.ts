/**
 * CPU and memory quantities for a task's `resources`, written the way Kubernetes writes them, so a value means
 * the same on every scheduler backend: Docker applies it as a limit, Kubernetes as a request and a limit.
 *
 * - CPU is in cores: a decimal (`"0.5"`, `"2"`, `".25"`) or whole millicores (`"500m"` = half a core).
 * - Memory is in bytes: a decimal, optionally followed by a decimal suffix (`k`, `M`, `G`, `T`, `P`: powers of
 *   1000) or a binary one (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`: powers of 1024). `"256Mi"`, `"1G"`, `"1.5Gi"` and
 *   `"1000000"` are all quantities; a fraction of a byte is rounded up, as Kubernetes does.
 *
 * Stricter than Kubernetes on purpose: no exponents (`1e9`), no signs, no spaces, no `m` on memory (in
 * Kubernetes `"256m"` is 0.256 bytes, a common slip for `256Mi`), and values outside {@link RESOURCE_LIMITS}
 * are refused instead of failing later on a backend. Pure: no I/O, usable by the server and every client.
 */

/** What a task may use, as its config declares it. Both fields are optional; an absent one sets no limit. */
export interface TaskResources {
  /** CPU cores: `"0.5"`, `"2"` or millicores such as `"500m"`. */
  cpu?: string;
  /** Memory: bytes (`"1000000"`) or with a suffix, such as `"256Mi"`, `"1Gi"` or `"512M"`. */
  memory?: string;
}

/** The bounds a quantity must fall within. */
export const RESOURCE_LIMITS = {
  /** The smallest CPU limit, in cores: Docker refuses less than 0.01 (`10m`). */
  minCpuCores: 0.01,
  /** The largest CPU limit, in cores; more is a typo, not a machine. */
  maxCpuCores: 1024,
  /** The smallest memory limit, in bytes (6Mi): Docker refuses less. */
  minMemoryBytes: 6 * 1024 ** 2,
  /** The largest memory limit, in bytes (1Pi). */
  maxMemoryBytes: 1024 ** 5,
  /** Characters in a quantity; longer text is refused before it is parsed. */
  maxQuantityLength: 32,
} as const;

/**
 * A parsed quantity, or why the text is not one. `reason` is the end of a sentence whose subject is the
 * quoted text: `memory "12XB" ${reason}`.
 */
export type QuantityParse = { ok: true; value: number } | { ok: false; reason: string };

const CPU_CORES = /^(\d+)(?:\.(\d+))?$|^\.(\d+)$/;
const CPU_MILLICORES = /^(\d+)m$/;
const MEMORY = /^(\d+(?:\.\d+)?|\.\d+)(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;
// Spellings from `docker run --memory` and everyday writing (`256m`, `1g`, `512MB`, `2GiB`), for a hint.
const MEMORY_LOOKALIKE = /^(\d+(?:\.\d+)?)\s*([kKmMgGtTpP])(i?)[bB]?$/;

const MEMORY_MULTIPLIERS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1000,
  M: 1000 ** 2,
  G: 1000 ** 3,
  T: 1000 ** 4,
  P: 1000 ** 5,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
};

const CPU_HINT = "use cores such as 0.5 or 2, or millicores such as 500m";
const MEMORY_HINT = "use bytes or a suffix like 256Mi or 1G";

/** Parses a CPU quantity into cores (a multiple of 0.001). */
export function parseCpuQuantity(text: string): QuantityParse {
  if (text.length > RESOURCE_LIMITS.maxQuantityLength) return tooLong();
  const millicores = toMillicores(text);
  if (millicores === undefined) {
    return { ok: false, reason: isNegative(text) ? "must be more than 0" : `is not a quantity; ${CPU_HINT}` };
  }
  if (Number.isNaN(millicores)) {
    return { ok: false, reason: "is finer than a millicore (0.001 cores); round it to whole millicores" };
  }
  const cores = millicores / 1000;
  if (cores === 0) return { ok: false, reason: "must be more than 0" };
  if (cores < RESOURCE_LIMITS.minCpuCores) {
    return { ok: false, reason: "is less than the minimum of 10m (0.01 cores)" };
  }
  if (cores > RESOURCE_LIMITS.maxCpuCores) {
    return { ok: false, reason: `is more than the maximum of ${RESOURCE_LIMITS.maxCpuCores} cores` };
  }
  return { ok: true, value: cores };
}

/** Parses a memory quantity into whole bytes. */
export function parseMemoryQuantity(text: string): QuantityParse {
  if (text.length > RESOURCE_LIMITS.maxQuantityLength) return tooLong();
  const match = MEMORY.exec(text);
  if (match === null) return { ok: false, reason: notMemory(text) };
  const [, number = "", suffix = ""] = match;
  const bytes = Math.ceil(Number(number) * (MEMORY_MULTIPLIERS[suffix] ?? 1));
  if (bytes === 0) return { ok: false, reason: "must be more than 0" };
  if (bytes < RESOURCE_LIMITS.minMemoryBytes) {
    return { ok: false, reason: "is less than the minimum of 6Mi (6291456 bytes)" };
  }
  if (!(bytes <= RESOURCE_LIMITS.maxMemoryBytes)) {
    return { ok: false, reason: "is more than the maximum of 1Pi" };
  }
  return { ok: true, value: bytes };
}

/** Whole millicores; `NaN` when the text is a number with more precision than that; `undefined` when not one. */
function toMillicores(text: string): number | undefined {
  const milli = CPU_MILLICORES.exec(text);
  if (milli) return Number(milli[1]);
  const cores = CPU_CORES.exec(text);
  if (cores === null) return undefined;
  const whole = cores[1] ?? "0";
  const fraction = (cores[2] ?? cores[3] ?? "").replace(/0+$/, "");
  if (fraction.length > 3) return Number.NaN;
  return Number(whole) * 1000 + Number(fraction.padEnd(3, "0"));
}

function notMemory(text: string): string {
  if (isNegative(text)) return "must be more than 0";
  const lookalike = MEMORY_LOOKALIKE.exec(text);
  if (lookalike === null) return `is not a quantity; ${MEMORY_HINT}`;
  const [, number = "", letter = "", binary = ""] = lookalike;
  if (letter === "m" && binary === "" && text === `${number}m`) {
    return `is ${number} thousandths of a byte (m means milli); use ${number}Mi or ${number}M`;
  }
  const unit = letter === "k" || letter === "K" ? "k" : letter.toUpperCase();
  const binaryUnit = `${unit === "k" ? "K" : unit}i`;
  return `is not a quantity; did you mean ${number}${binaryUnit} (or ${number}${unit})?`;
}

function isNegative(text: string): boolean {
  return /^-\s*\.?\d/.test(text);
}

function tooLong(): QuantityParse {
  return {
    ok: false,
    reason: `is longer than ${RESOURCE_LIMITS.maxQuantityLength} characters; it is not a quantity`,
  };
}
