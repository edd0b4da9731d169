/**
 * An extension's lifecycle: read the environment, set up, listen, and stop gracefully when Gofer asks
 * (POST /api/shutdown) or the container runtime signals (SIGTERM, SIGINT).
 */

import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { GoferClient } from "../client/index.ts";
import type { ExtensionContext, ExtensionDefinition } from "./extension-definition.ts";
import { type EnvRecord, readExtensionEnv, type TlsPems } from "./extension-env.ts";
import { errorMessage } from "./extension-error.ts";
import { createRequestListener } from "./extension-http.ts";
import { createLogger, type ExtensionLogger } from "./extension-logger.ts";
import { extensionRoutes } from "./extension-routes.ts";

export interface RunOptions {
  /** Read instead of `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Default true: the kit owns the process. It handles SIGTERM and SIGINT, exits 0 after a graceful shutdown
   * and exits 1 when it cannot start. When false (tests, or a program that embeds the extension) signals are
   * left alone, nothing exits, and a failed start rejects instead.
   */
  exitOnShutdown?: boolean;
}

export interface RunningExtension {
  /**
   * Where the extension listens, e.g. `http://127.0.0.1:40211` (`https://` with GOFER_EXTENSION_SYSTEM_USE_TLS);
   * the real port when the bind address asks for 0.
   */
  url: string;
  /** Shuts down as POST /api/shutdown does, but never exits the process. Resolves once the server is closed. */
  close(): Promise<void>;
}

/** How long the author's shutdown hook may take before the kit stops waiting for it. */
const SHUTDOWN_HOOK_TIMEOUT_MS = 10_000;
/** How long requests still in progress may take once the server stops accepting new ones. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Reads the env (or options.env), validates required config params (missing → exit message naming
 * GOFER_EXTENSION_CONFIG_<KEY>), runs setup, listens on the bind address, handles SIGTERM/SIGINT and
 * POST /api/shutdown gracefully (abort signal, shutdown hook, close server, exit 0).
 */
export async function runExtension(
  definition: ExtensionDefinition,
  options: RunOptions = {},
): Promise<RunningExtension> {
  const exitOnShutdown = options.exitOnShutdown ?? true;
  try {
    return await start(definition, options.env ?? process.env, exitOnShutdown);
  } catch (error) {
    if (!exitOnShutdown) throw error;
    // Errors are logged at every level, so the default logger says it whatever LOG_LEVEL would have been.
    createLogger("info").error("extension could not start", { error: errorMessage(error) });
    process.exit(1);
  }
}

async function start(
  definition: ExtensionDefinition,
  env: EnvRecord,
  exitOnShutdown: boolean,
): Promise<RunningExtension> {
  const settings = readExtensionEnv(env, definition.documentation.configParams);
  const log = createLogger(settings.logLevel);
  if (settings.tls && settings.goferUrl.startsWith("https:")) trustForGofer(settings.tls.cert);
  const client = new GoferClient({
    baseUrl: settings.goferUrl,
    token: settings.secret,
    userAgent: `gofer-extension/${settings.id}`,
  });
  const controller = new AbortController();
  const context: ExtensionContext = {
    id: settings.id,
    config: settings.config,
    client,
    log,
    signal: controller.signal,
    startRun: async ({ namespaceId, pipelineId }, variables) => {
      const fields = { namespace: namespaceId, pipeline: pipelineId };
      try {
        const run = await client.runs.start(namespaceId, pipelineId, variables);
        log.info("run started", { ...fields, run_id: run.run_id });
        return run.run_id;
      } catch (error) {
        log.error("run could not be started", { ...fields, error: errorMessage(error) });
        throw error;
      }
    },
  };

  if (definition.setup) {
    try {
      await definition.setup(context);
    } catch (error) {
      controller.abort(new Error("extension setup failed"));
      throw new Error(`Extension setup failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  let stopping: Promise<void> | undefined;
  const exitAfter = (stopped: Promise<void>) =>
    void stopped.then(() => {
      if (exitOnShutdown) process.exit(0);
    });
  const server = serve(
    settings.tls,
    createRequestListener({
      routes: extensionRoutes({
        definition,
        context,
        requestShutdown: () => exitAfter(stop("shutdown request")),
      }),
      secret: settings.secret,
      log,
      closing: () => stopping !== undefined,
    }),
  );

  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal during a shutdown means whoever sent it will not wait: leave at once.
    if (stopping) {
      log.warn("second signal during shutdown, exiting now", { signal });
      process.exit(1);
    }
    exitAfter(stop(signal));
  };
  const stop = (reason: string): Promise<void> => {
    stopping ??= shutDown({ reason, definition, context, controller, server, log }).finally(() => {
      process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    });
    return stopping;
  };

  let url: string;
  try {
    const scheme = settings.tls ? "https" : "http";
    url = await listen(server, scheme, settings.bind.host, settings.bind.port, settings.bind.text);
  } catch (error) {
    controller.abort(new Error("extension could not listen"));
    throw error;
  }
  if (exitOnShutdown) process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  log.info("extension listening", { extension_id: settings.id, url });
  return { url, close: () => stop("close()") };
}

/** HTTPS with the PEMs Gofer handed over, else plain HTTP; both answer with the same listener. */
function serve(tls: TlsPems | undefined, listener: RequestListener): Server {
  // An https.Server is an http.Server on TLS sockets: everything the kit calls on it exists on both.
  return tls
    ? (createHttpsServer({ cert: tls.cert, key: tls.key }, listener) as Server)
    : createHttpServer(listener);
}

/**
 * Gofer hands extensions the certificate it serves its own API with when `extensions.tls_cert_path` is left to
 * fall back on `server.tls_cert_path`; trusting it is what lets the kit's client reach an API whose certificate
 * is self-signed. It is added to the process's default CAs (which the global fetch uses), beside the usual ones.
 */
function trustForGofer(pem: string): void {
  const current = getCACertificates("default");
  const normalised = new Set(current.map((certificate) => certificate.trim()));
  const added = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).filter(
    (certificate) => !normalised.has(certificate.trim()),
  );
  if (added.length > 0) setDefaultCACertificates([...current, ...added]);
}

async function listen(
  server: Server,
  scheme: "http" | "https",
  host: string,
  port: number,
  text: string,
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(new Error(listenProblem(error, text), { cause: error }));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${shownHost}:${address.port}`;
}

function listenProblem(error: NodeJS.ErrnoException, address: string): string {
  const where = `Cannot listen on ${address} (GOFER_EXTENSION_SYSTEM_BIND_ADDRESS)`;
  switch (error.code) {
    case "EADDRINUSE":
      return `${where}: the address is already in use; stop what holds the port or choose another`;
    case "EADDRNOTAVAIL":
      return `${where}: no network interface of this machine has that address`;
    case "EACCES":
      return `${where}: permission denied (ports below 1024 need privileges)`;
    default:
      return `${where}: ${error.message}`;
  }
}

interface ShutdownParts {
  reason: string;
  definition: ExtensionDefinition;
  context: ExtensionContext;
  controller: AbortController;
  server: Server;
  log: ExtensionLogger;
}

/** Never rejects: a failing or slow shutdown hook is logged, and the server is closed regardless. */
async function shutDown({
  reason,
  definition,
  context,
  controller,
  server,
  log,
}: ShutdownParts): Promise<void> {
  log.info("extension shutting down", { reason });
  controller.abort(new Error(`extension shutting down (${reason})`));
  if (definition.shutdown) {
    const hook = Promise.resolve().then(() => definition.shutdown?.(context));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timed out">((resolve) => {
      timer = setTimeout(() => resolve("timed out"), SHUTDOWN_HOOK_TIMEOUT_MS);
    });
    try {
      if ((await Promise.race([hook, timedOut])) === "timed out") {
        log.warn("shutdown hook did not finish in time; stopping without it", {
          timeout_ms: SHUTDOWN_HOOK_TIMEOUT_MS,
        });
      }
    } catch (error) {
      log.error("shutdown hook failed", { error: errorMessage(error) });
    } finally {
      clearTimeout(timer);
    }
  }
  await closeServer(server);
  log.info("extension stopped");
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    // An error here only says the server was not listening, which is the state wanted.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
