/**
 * `gofer service start`: run the server in the foreground until SIGINT/SIGTERM. The server's modules are loaded
 * only when this command runs, so client commands start quickly.
 */
import type { Command } from "commander";

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("Run and manage the Gofer server");
  service
    .command("start")
    .description(
      "Start the server in the foreground (stop it with Ctrl-C or SIGTERM). --config names the server's TOML " +
        "file (default: /etc/gofer/gofer_web.toml when present)",
    )
    .action(async (_options, command: Command) => {
      const { config: configPath } = command.optsWithGlobals<{ config?: string }>();
      const { loadConfig } = await import("../config/index.ts");
      const { startService } = await import("../service/gofer-service.ts");
      const config = loadConfig({ configPath });
      const running = await startService(config);
      running.app.log.info(`Gofer is listening on ${running.url} (data in ${config.server.data_dir})`);
      if (config.development.bypass_auth) {
        running.app.log.warn("development.bypass_auth is on: the API accepts requests without a token");
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.app.log.info(`${signal} received; shutting down`);
        const deadline = setTimeout(() => process.exit(1), config.server.shutdown_timeout_ms);
        deadline.unref();
        running.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            running.app.log.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
}
