/**
 * The terminal emulator and its connection to a task, in a module of its own: it is loaded only when someone
 * opens a terminal, so xterm's weight is not part of the first page load.
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { ApiError, apiFetch, openApiSocket } from "../api/client.ts";
import { currentTheme } from "../theme.ts";

export interface SessionCallbacks {
  onStatus: (status: string) => void;
}

const encoder = new TextEncoder();
const CONTROL = "\u0000";

/** Opens a shell in the task behind `attachPath` inside `host`; returns how to tear it all down. */
export function startTerminal(
  host: HTMLElement,
  attachPath: string,
  callbacks: SessionCallbacks,
): () => void {
  const dark = currentTheme() === "dark";
  const terminal = new Terminal({
    cursorBlink: true,
    fontSize: 13,
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    theme: dark
      ? { background: "#0d1117", foreground: "#e6edf3" }
      : { background: "#ffffff", foreground: "#1f2328", cursor: "#1f2328" },
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(host);
  fit.fit();
  const socket = openApiSocket(
    `${attachPath}?command=${encodeURIComponent("/bin/sh")}&columns=${terminal.cols}&rows=${terminal.rows}`,
  );
  let opened = false;
  socket.onopen = () => {
    opened = true;
    callbacks.onStatus("Connected");
    terminal.focus();
  };
  socket.onmessage = (message) => {
    terminal.write(
      typeof message.data === "string" ? message.data : new Uint8Array(message.data as ArrayBuffer),
    );
  };
  socket.onclose = (event) => {
    if (!opened) {
      void explainRefusal(attachPath).then((reason) => {
        callbacks.onStatus(reason);
        terminal.write(`\r\n\x1b[31m${reason}\x1b[0m\r\n`);
      });
      return;
    }
    const reason =
      event.code === 1000
        ? `Session ended (${event.reason || "closed"})`
        : `Disconnected: ${event.reason || `code ${event.code}`}`;
    callbacks.onStatus(reason);
    terminal.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`);
  };
  const input = terminal.onData((data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
  });
  const resize = terminal.onResize(({ cols, rows }) => {
    if (socket.readyState === WebSocket.OPEN)
      socket.send(`${CONTROL}${JSON.stringify({ resize: { columns: cols, rows } })}`);
  });
  const observer = new ResizeObserver(() => fit.fit());
  observer.observe(host);
  return () => {
    observer.disconnect();
    input.dispose();
    resize.dispose();
    socket.close(1000);
    terminal.dispose();
  };
}

/** A refused upgrade shows no reason to scripts; the same request over HTTP answers the v0 envelope. */
async function explainRefusal(attachPath: string): Promise<string> {
  try {
    await apiFetch("GET", attachPath);
  } catch (error) {
    if (error instanceof ApiError) return error.message;
  }
  return "The server refused the terminal connection";
}
