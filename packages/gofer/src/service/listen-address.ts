/**
 * Binds one of the server's listeners, and when the address cannot be had says which listener it was, which
 * setting gave the address and how to move it: Node's own "listen EADDRINUSE: address already in use
 * 127.0.0.1:8080" names no setting, and the server has up to three listeners.
 */
/** The settings that give a listener its address, with what each listener serves. */
const LISTENERS = {
  "server.bind_address": "the API and web UI",
  "external_events.bind_address": "external events (webhooks)",
  "metrics.bind_address": "metrics",
} as const;

export type ListenerSetting = keyof typeof LISTENERS;

/** Why the address could not be bound, by the system's error code. */
const PROBLEMS: Record<string, string> = {
  EADDRINUSE: "another process is already listening there",
  EACCES: "this user may not listen on that port (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "no network interface of this machine has that address",
};

/** A listener's address that cannot be bound; `hint` names the setting and the variable that move it. */
export class ListenAddressError extends Error {
  override name = "ListenAddressError";
  readonly hint: string;
  readonly code: string;

  constructor(message: string, hint: string, code: string) {
    super(message);
    this.hint = hint;
    this.code = code;
  }
}

/** The environment variable that sets a setting: `server.bind_address` → GOFER_WEB_SERVER__BIND_ADDRESS. */
export function settingVariable(setting: string): string {
  return `GOFER_WEB_${setting.toUpperCase().split(".").join("__")}`;
}

/** The slice of a Fastify app this needs: every listener is one. */
interface Listener {
  listen(options: { host: string; port: number }): Promise<unknown>;
}

export async function listenAt(
  app: Listener,
  setting: ListenerSetting,
  bindAddress: string,
  [host, port]: [string, number],
): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const problem = PROBLEMS[code];
    if (problem === undefined) throw error;
    const variable = settingVariable(setting);
    throw new ListenAddressError(
      `cannot listen on ${bindAddress} for ${LISTENERS[setting]} (${setting}): ${problem} (${code})`,
      `${code === "EADDRINUSE" ? "stop that process, or " : ""}give ${setting} another address: set ` +
        `${variable} (e.g. ${variable}=${host.includes(":") ? `[${host}]` : host}:${port < 1024 ? 8080 : port + 10}) ` +
        "or set it in " +
        "the server's TOML file (--config)",
      code,
    );
  }
}
