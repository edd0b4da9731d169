/** `gofer service start`: run the server in the foreground until SIGINT/SIGTERM. */
import type { Command } from "commander";
import { loadConfig } from "../config/index.ts";
import { startService } from "../service/gofer-service.ts";

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("Run and manage the Gofer server");
  service
    .command("start")
    .description("Start the server in the foreground (stop it with Ctrl-C or SIGTERM)")
    .option(
      "-c, --config <path>",
      "TOML configuration file (default: /etc/gofer/gofer_web.toml when present)",
    )
    .action(async (options: { config?: string }) => {
      const config = loadConfig({ configPath: options.config });
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
