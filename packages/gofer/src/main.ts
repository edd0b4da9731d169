import { runCli } from "./cli/run-cli.ts";

// Not a top-level await: the single binary runs this module as CommonJS. runCli reports its own failures.
void runCli(process.argv);
