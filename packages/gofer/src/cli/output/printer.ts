/**
 * Everything a command prints goes through here, so `--output json` always means one JSON document on stdout
 * and nothing else, while people get tables, colours and relative times. Notes and hints go to stderr.
 */
import type { OutputFormat } from "../cli-config.ts";
import { createStyler, type Styler } from "./style.ts";
import { renderTable } from "./table.ts";
import { exactTime, relativeTime } from "./time-format.ts";

export class Printer {
  readonly format: OutputFormat;
  readonly style: Styler;
  readonly errStyle: Styler;
  readonly #stdout: NodeJS.WriteStream;
  readonly #stderr: NodeJS.WriteStream;
  readonly #detail: boolean;

  constructor(options: {
    format: OutputFormat;
    detail: boolean;
    stdout?: NodeJS.WriteStream;
    stderr?: NodeJS.WriteStream;
  }) {
    this.format = options.format;
    this.#detail = options.detail;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
    this.style = createStyler(this.#stdout);
    this.errStyle = createStyler(this.#stderr);
  }

  get json(): boolean {
    return this.format === "json";
  }

  /** The command's result: `data` as JSON for scripts, or what `human` renders for people. */
  result(data: unknown, human: () => string | string[]): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else this.line(human());
  }

  /** A line (or lines) of human output on stdout; silent in JSON mode so stdout stays parseable. */
  line(text: string | string[]): void {
    if (this.json) return;
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length > 0) this.#stdout.write(`${lines.join("\n")}\n`);
  }

  /** A note for the person at the terminal (progress, what to try next); always stderr. */
  note(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  table(headers: string[], rows: string[][]): string {
    if (rows.length === 0) return this.style.paint("dim", "(none)");
    return renderTable(headers, rows, (text) => this.style.paint("bold", text));
  }

  /** A `key: value` block for one object, keys aligned. */
  fields(entries: [key: string, value: string][]): string[] {
    const width = Math.max(...entries.map(([key]) => key.length));
    return entries.map(([key, value]) => `${this.style.paint("bold", `${key}:`.padEnd(width + 1))} ${value}`);
  }

  /** The `reason` row of a run's or task's fields, when it ended with one. */
  reasonRow(reason: { reason: string; description: string } | null): [string, string][] {
    return reason ? [["reason", `${reason.reason}: ${reason.description}`]] : [];
  }

  time(epochMs: number): string {
    return this.#detail ? exactTime(epochMs) : relativeTime(epochMs);
  }

  get stdout(): NodeJS.WriteStream {
    return this.#stdout;
  }
}
