/** The cron extension's container entry point. */
import { runExtension } from "@gofer/sdk/extension";
import { createCronExtension } from "./extension.ts";

await runExtension(createCronExtension());
