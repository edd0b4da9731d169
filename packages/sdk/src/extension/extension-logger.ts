/**
 * The extension's log: one JSON object per line on stdout (`{level, time, msg, ...fields}`), which is what a
 * container runtime collects and what Gofer shows as the extension's logs.
 */

export interface ExtensionLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** The values of GOFER_EXTENSION_SYSTEM_LOG_LEVEL, least severe first. `trace` logs what `debug` does. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

type Write = (line: string) => void;

// Looked up per line rather than bound once, so whatever stdout is at the time of the call gets the line.
const toStdout: Write = (line) => {
  process.stdout.write(line);
};

/** A logger that writes entries at `threshold` or more severe. */
export function createLogger(threshold: LogLevel, write: Write = toStdout): ExtensionLogger {
  const minimum = LOG_LEVELS.indexOf(threshold);
  const at =
    (level: Exclude<LogLevel, "trace">) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (LOG_LEVELS.indexOf(level) < minimum) return;
      write(`${formatEntry(level, msg, fields)}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function formatEntry(level: string, msg: string, fields: Record<string, unknown> = {}): string {
  const time = new Date().toISOString();
  // level, time and msg come first and cannot be overwritten by a field of the same name.
  const entry: Record<string, unknown> = { level, time, msg };
  for (const [name, value] of Object.entries(fields)) {
    if (!(name in entry)) entry[name] = value;
  }
  try {
    return JSON.stringify(entry, readable);
  } catch (error) {
    // A circular value must not cost the line itself: keep what the entry was about.
    const reason = error instanceof Error ? error.message : String(error);
    return JSON.stringify({ level, time, msg, log_error: `fields could not be written: ${reason}` });
  }
}

// JSON.stringify writes an Error as `{}` and throws on a bigint; both are common in log fields.
function readable(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  return value;
}
