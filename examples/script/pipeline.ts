// A task written as a shell script. `.script()` runs the text with `sh -e`, so the first failing command
// ends the task; the indentation of the template literal is removed.
import { pipeline, task } from "@gofer/sdk";

const IMAGE = "gofer/busybox:latest";

export default pipeline("script", "Script example")
  .description("A multi-line shell script as a task, with variables.")
  .tasks(
    task("count", IMAGE)
      .description("Counts to COUNT_TO, one line a step")
      .variables({ COUNT_TO: "5" })
      .script(`
        echo "counting to $COUNT_TO in $GOFER_PIPELINE_ID run $GOFER_RUN_ID"
        i=1
        while [ "$i" -le "$COUNT_TO" ]; do
          echo "step $i"
          i=$((i + 1))
        done
        echo "done"
      `),
  );
