/**
 * The `extensions` group of the client: the long-running containers that start runs when something happens (a
 * timer, a schedule, a webhook). Installing, enabling, disabling, uninstalling and reading debug information
 * are admin only. Setting values in a registration come back as `[redacted]` to callers who are not admins.
 */
import { type HttpClient, apiPath as path } from "./http.ts";
import { splitLines } from "./line-stream.ts";
import type { Extension, InstallExtensionInput, Subscription } from "./wire-types.ts";

export interface ExtensionLogOptions {
  /** Keep the stream open and yield new lines until the extension's container stops. */
  follow?: boolean;
  /** Stops the stream; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
}

export interface ExtensionsApi {
  /** Every installed extension, whatever its state. */
  list(): Promise<Extension[]>;
  get(id: string): Promise<Extension>;
  /**
   * Registers the extension and starts its container, answering once it runs. If it does not start, or is given
   * a setting it does not document, nothing is installed and the error says why.
   */
  install(input: InstallExtensionInput): Promise<Extension>;
  /** Starts a disabled extension again, with its subscriptions. The server answers 204 without a body. */
  enable(id: string): Promise<void>;
  /** Stops the extension's container; its subscriptions are kept but start no runs while it is disabled. */
  disable(id: string): Promise<void>;
  /** Unsubscribes its subscriptions, then removes the extension with its container, token, role and objects. */
  uninstall(id: string): Promise<void>;
  /** What the extension reports about itself on its `/api/debug`, as free text. */
  debug(id: string): Promise<string>;
  /**
   * The current container's log, one item per line without its newline, read as it streams in. Nothing is
   * requested until the iteration starts; leaving the loop early ends the request. An extension without a
   * container (disabled, or between restarts) answers with an error.
   */
  logs(id: string, options?: ExtensionLogOptions): AsyncIterable<string>;
  /** Every pipeline's subscriptions to the extension, across namespaces. */
  subscriptions(id: string): Promise<Subscription[]>;
}

export function extensionsApi(http: HttpClient): ExtensionsApi {
  const extension = (id: string) => path`/api/extensions/${id}`;
  return {
    list: async () => http.json("GET", "/api/extensions", "extensions"),
    get: async (id) => http.json("GET", extension(id), "extension"),
    install: async (input) =>
      http.json("POST", "/api/extensions", "extension", {
        body: {
          id: input.id,
          image: input.image,
          settings: input.settings,
          registry_auth: input.registry_auth,
          additional_roles: input.additional_roles,
        },
      }),
    enable: async (id) => http.empty("PATCH", extension(id), { body: { enable: true } }),
    disable: async (id) => http.empty("PATCH", extension(id), { body: { enable: false } }),
    uninstall: async (id) => http.empty("DELETE", extension(id)),
    debug: async (id) => http.json("GET", `${extension(id)}/debug`, "info"),
    logs: (id, options = {}) => {
      const { signal, follow } = options;
      return {
        async *[Symbol.asyncIterator]() {
          const logsPath = `${extension(id)}/logs`;
          const response = await http.stream(logsPath, {
            query: { follow: follow ? true : undefined },
            signal,
          });
          yield* splitLines(http.body(response, logsPath, signal));
        },
      };
    },
    subscriptions: async (id) => http.json("GET", `${extension(id)}/subscriptions`, "subscriptions"),
  };
}
