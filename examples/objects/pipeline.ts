// Objects pass data between tasks and runs. A task with an API token stores an object for its run; a later
// task receives it as a variable. Pipeline objects outlive runs (e.g. a cache key); run objects expire.
import { pipeline, pipelineObject, runObject, task } from "@gofer/sdk";

const IMAGE = "gofer/busybox:latest";

const produce = task("produce", IMAGE)
  .description("Stores the build number as a run object through the API")
  .injectApiToken()
  .script(`
    echo "storing build-number for run $GOFER_RUN_ID"
    wget -q -O- --header "Authorization: Bearer $GOFER_API_TOKEN" --header "gofer-api-version: v0" \\
      --header "Content-Type: application/octet-stream" \\
      --post-data "42" \\
      "$GOFER_API_BASE_URL/api/namespaces/$GOFER_NAMESPACE_ID/pipelines/$GOFER_PIPELINE_ID/runs/$GOFER_RUN_ID/objects/build-number"
  `);

const consume = task("consume", IMAGE)
  .description("Receives the run object and a pipeline object as variables")
  .dependsOn(produce)
  .variables({ BUILD_NUMBER: runObject("build-number"), CACHE_KEY: pipelineObject("cache-key") })
  .script(`
    echo "build number: $BUILD_NUMBER"
    echo "cache key: $CACHE_KEY"
  `);

export default pipeline("objects", "Objects example")
  .description("One task stores an object, the next one reads it.")
  .tasks(produce, consume);
