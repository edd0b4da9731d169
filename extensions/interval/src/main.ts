/** The interval extension's container entry point. */
import { runExtension } from "@gofer/sdk/extension";
import { createIntervalExtension } from "./extension.ts";

await runExtension(createIntervalExtension());
