/** The github extension's container entry point. */
import { runExtension } from "@gofer/sdk/extension";
import { createGithubExtension } from "./extension.ts";

await runExtension(createGithubExtension());
