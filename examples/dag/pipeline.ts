// A pipeline whose tasks form a graph, showing the three ways a task can depend on another:
//   "success" (the default): run only if the parent succeeded
//   "failure": run only if the parent failed (clean-up, alerts)
//   "any":     run once the parent finished, whatever its outcome (reports)
// Here the tests pass, so `notify-failure` is skipped and the run succeeds; set FAIL_TESTS=1 as a run variable
// (`gofer run start dag -v FAIL_TESTS=1 --watch`) to see the failure branch run and `publish` skipped instead.
import { pipeline, task } from "@gofer/sdk";

// gofer/busybox is built offline by images/build-busybox.sh; any image with a shell works the same.
const IMAGE = "gofer/busybox:latest";

const checkout = task("checkout", IMAGE)
  .description("Fetches the sources")
  .script(`
    echo "fetching sources"
    sleep 1
    echo "checked out commit 4f2a9c1"
  `);

const build = task("build", IMAGE)
  .description("Builds once the checkout succeeded")
  .dependsOn(checkout, "success")
  .script(`
    for step in compile link package; do
      echo "build: $step"
      sleep 1
    done
  `);

const test = task("test", IMAGE)
  .description("Runs beside the build; fails when the run variable FAIL_TESTS is 1")
  .dependsOn(checkout, "success")
  .variables({ FAIL_TESTS: "0" })
  .script(`
    echo "running 3 test suites"
    sleep 2
    if [ "$FAIL_TESTS" = "1" ]; then
      echo "test: 1 of 3 suites failed" >&2
      exit 3
    fi
    echo "test: all suites passed"
  `);

const notify = task("notify-failure", IMAGE)
  .description("Runs only if the tests failed")
  .dependsOn(test, "failure")
  .command("echo", "tests failed: telling the team");

const publish = task("publish", IMAGE)
  .description("Runs only if both the build and the tests succeeded")
  .dependsOn(build, "success")
  .dependsOn(test, "success")
  .command("echo", "publishing build 4f2a9c1");

const report = task("report", IMAGE)
  .description("Runs after the build and the tests whatever their outcome")
  .dependsOn(build, "any")
  .dependsOn(test, "any")
  .command("echo", "build and test finished; writing the report");

export default pipeline("dag", "DAG example")
  .description("Checkout, then build and test in parallel; success, failure and any dependencies.")
  .tasks(checkout, build, test, notify, publish, report);
