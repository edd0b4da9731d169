/**
 * Entry module of the pipeline child when the CLI runs from its sources:
 * `node pipeline-child-main.ts <absolute file> <token>`, with an IPC channel. The single binary has no modules on
 * disk to start, so it runs `runPipelineChild` from main.ts instead.
 */
import { runPipelineChild } from "./pipeline-child.ts";

await runPipelineChild();
