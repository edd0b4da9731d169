/**
 * How the server's own log is written: JSON lines (one object per line, for log shippers) or, on a terminal,
 * human-readable lines with the same fields, as Gofer's `pretty_logging` did. `development.pretty_logging`
 * forces either; `auto` (the default) chooses by whether stdout is a terminal. Every line of a request carries
 * its `reqId` (the `x-request-id` the client got), so one grep follows a request, in either form.
 */
import { Writable } from "node:stream";
import type { LogLevel } from "../config/config-schema.ts";

export type LoggerOption = false | { level: string; stream?: NodeJS.WritableStream };

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: "TRACE", colour: "90" },
  20: { name: "DEBUG", colour: "36" },
  30: { name: "INFO ", colour: "32" },
  40: { name: "WARN ", colour: "33" },
  50: { name: "ERROR", colour: "31" },
  60: { name: "FATAL", colour: "35" },
};
/** Fields every line has, shown in their own places rather than as `key=value`. */
const PLACED = new Set(["level", "time", "msg", "pid", "hostname", "v"]);

export function loggerOption(
  level: LogLevel,
  pretty: boolean | "auto",
  output: NodeJS.WriteStream = process.stdout,
): LoggerOption {
  if (level === "silent") return false;
  const human = pretty === "auto" ? output.isTTY === true : pretty;
  return human ? { level, stream: prettyStream(output, output.isTTY === true) } : { level };
}

/** Takes pino's JSON lines and writes each as `time LEVEL message key=value …`, coloured on a terminal. */
export function prettyStream(output: NodeJS.WritableStream, colour: boolean): Writable {
  let pending = "";
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line !== "") output.write(`${formatLine(line, colour)}\n`);
        newline = pending.indexOf("\n");
      }
      done();
    },
  });
}

export function formatLine(json: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = LEVELS[Number(record.level)] ?? { name: String(record.level), colour: "0" };
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const time = new Date(Number(record.time)).toISOString().slice(11, 23);
  const fields: string[] = [];
  let stack = "";
  for (const [key, value] of Object.entries(record)) {
    if (PLACED.has(key)) continue;
    if (key === "err" && typeof value === "object" && value !== null) {
      const error = value as { message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(error.message ?? "")}`);
      if (error.stack) stack = `\n${paint("90", error.stack)}`;
      continue;
    }
    if (key === "req" || key === "res") {
      // Fastify's request and response objects: their few useful fields, flattened.
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        if (["method", "url", "statusCode", "remoteAddress"].includes(inner)) {
          fields.push(`${inner}=${render(innerValue)}`);
        }
      }
      continue;
    }
    fields.push(`${key}=${render(value)}`);
  }
  const rest = fields.length > 0 ? `  ${paint("90", fields.join(" "))}` : "";
  return `${paint("90", time)} ${paint(level.colour, level.name)} ${String(record.msg ?? "")}${rest}${stack}`;
}

function render(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}
