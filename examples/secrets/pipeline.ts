// Secrets reach tasks as environment variables whose value names the secret; Gofer fills them in when the task
// starts and masks their values in the logs. Store the secrets first:
//   gofer secret pipeline put secrets deploy_key 's3cr3t'
//   gofer secret global put registry_password '...'
import { globalSecret, pipeline, pipelineSecret, task } from "@gofer/sdk";

const IMAGE = "gofer/busybox:latest";

export default pipeline("secrets", "Secrets example")
  .description("A task that receives a pipeline secret and a global secret as variables.")
  .tasks(
    task("use-secrets", IMAGE)
      .description("Checks that the secrets arrived without printing them")
      .variables({
        DEPLOY_KEY: pipelineSecret("deploy_key"),
        REGISTRY_PASSWORD: globalSecret("registry_password"),
      })
      .script(`
        [ -n "$DEPLOY_KEY" ] && echo "deploy key present (\${#DEPLOY_KEY} characters)"
        [ -n "$REGISTRY_PASSWORD" ] && echo "registry password present"
      `),
  );
