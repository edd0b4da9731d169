/**
 * An extension run the way a container runs one: from the process environment, owning the process
 * (`exitOnShutdown` left at its default), so tests can watch it exit. Its shutdown hook logs, to show it ran.
 */
import { defineExtension, runExtension } from "../../src/extension/index.ts";

await runExtension(
  defineExtension({
    documentation: { body: "A test extension run as its own process." },
    subscribe: () => undefined,
    unsubscribe: () => undefined,
    shutdown: (context) => {
      context.log.info("shutdown hook ran", { aborted: context.signal.aborted });
    },
  }),
);
