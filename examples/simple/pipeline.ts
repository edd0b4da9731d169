// The smallest useful pipeline: one task that prints a greeting.
// Register it with `gofer up examples/simple`, then `gofer run start simple --watch`.
import { pipeline, task } from "@gofer/sdk";

// gofer/busybox is built offline by images/build-busybox.sh; any image with a shell works the same.
const IMAGE = "gofer/busybox:latest";

export default pipeline("simple", "Simple pipeline")
  .description("One task that says hello, to check that everything is wired up.")
  .tasks(task("hello", IMAGE).description("Prints a greeting").command("echo", "Hello from Gofer"));
