import { isSea } from "node:sea";
import { runCli } from "./cli/run-cli.ts";

// The single binary has no module on disk to start a pipeline file's child process with, so it starts itself
// with this variable set (see cli/pipeline-file/load-pipeline-file.ts). The variable is removed at once so that
// processes the pipeline file starts do not inherit it. Not a top-level await: the single binary runs this
// module as CommonJS. runCli reports its own failures; the child's rejection for a parse error is left to Node
// on purpose, since Node's report of it is the only one that shows the offending line.
if (isSea() && process.env.GOFER_PIPELINE_CHILD === "1") {
  delete process.env.GOFER_PIPELINE_CHILD;
  void import("./cli/pipeline-file/pipeline-child.ts").then(({ runPipelineChild }) => runPipelineChild());
} else {
  void runCli(process.argv);
}
