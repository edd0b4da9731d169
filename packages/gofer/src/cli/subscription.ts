/**
 * `gofer pipeline subscription …`, and v0's shortcuts `gofer pipeline subscribe | unsubscribe`: a pipeline's
 * subscriptions to extensions ("run every 5 minutes"), each named by the extension and a subscription id.
 */
import type { Subscription } from "@gofer/sdk/client";
import type { Command } from "commander";
import { collectVariable } from "./arguments.ts";
import { contextOf } from "./command-context.ts";

const SUBSCRIPTION_ARGS = "<pipeline> <extension> <subscription>";

const CREATE_HELP = `
Settings:
  -s KEY=VALUE sets one of the extension's subscription parameters; \`gofer extension get <extension>\` lists
  them. A value may be a reference, resolved by the server: pipeline_secret{{key}}, global_secret{{key}},
  pipeline_object{{key}}.

Examples:
  gofer pipeline subscribe my-pipeline interval every-5m -s every=5m
  gofer pipeline subscription create my-pipeline interval hourly -s every=1h
`;

/** A subscription's settings as `KEY=VALUE, …`, as given (secret references unresolved). */
export function subscriptionSettings(subscription: Subscription): string {
  return (
    Object.entries(subscription.settings)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ") || "-"
  );
}

/** Who made a subscription: the config version that declares it, or the API (and CLI). */
export const declaredBy = (subscription: Subscription): string =>
  subscription.declared_by_version === undefined ? "api" : `config v${subscription.declared_by_version}`;

/** How messages name a subscription: `interval/every-5m of pipeline app`. */
const describe = (pipelineId: string, extensionId: string, subscriptionId: string): string =>
  `${extensionId}/${subscriptionId} of pipeline ${pipelineId}`;

async function createAction(
  pipelineId: string,
  extensionId: string,
  subscriptionId: string,
  options: { setting?: Record<string, string> },
  command: Command,
): Promise<void> {
  const { client, out, namespace } = contextOf(command);
  const created = await client.subscriptions.create(namespace, pipelineId, {
    extension_id: extensionId,
    subscription_id: subscriptionId,
    settings: options.setting ?? {},
  });
  out.result(created, () => `Subscription ${describe(pipelineId, extensionId, subscriptionId)} created`);
}

async function deleteAction(
  pipelineId: string,
  extensionId: string,
  subscriptionId: string,
  _options: unknown,
  command: Command,
): Promise<void> {
  const { client, out, namespace } = contextOf(command);
  await client.subscriptions.delete(namespace, pipelineId, extensionId, subscriptionId);
  out.result(
    {
      deleted: {
        namespace_id: namespace,
        pipeline_id: pipelineId,
        extension_id: extensionId,
        subscription_id: subscriptionId,
      },
    },
    () => `Subscription ${describe(pipelineId, extensionId, subscriptionId)} deleted`,
  );
}

const settingOption = (command: Command): Command =>
  command
    .option(
      "-s, --setting <KEY=VALUE>",
      "subscription parameter of the extension (repeatable)",
      collectVariable,
    )
    .addHelpText("after", CREATE_HELP);

export function registerPipelineSubscriptionCommands(pipeline: Command): void {
  const subscription = pipeline
    .command("subscription")
    .description("Manage a pipeline's subscriptions to extensions (in --namespace)");

  subscription
    .command("list <pipeline>")
    .description("List a pipeline's subscriptions")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const subscriptions = await client.subscriptions.list(namespace, pipelineId);
      out.result(subscriptions, () =>
        out.table(
          ["extension", "subscription", "status", "settings", "declared by", "reason"],
          subscriptions.map((item) => [
            item.extension_id,
            item.subscription_id,
            out.style.outcome(item.status),
            subscriptionSettings(item),
            declaredBy(item),
            item.status_reason ? `${item.status_reason.reason}: ${item.status_reason.description}` : "",
          ]),
        ),
      );
    });

  subscription
    .command(`get ${SUBSCRIPTION_ARGS}`)
    .description("Show one subscription")
    .action(
      async (pipelineId: string, extensionId: string, subscriptionId: string, _options, command: Command) => {
        const { client, out, namespace } = contextOf(command);
        const item = await client.subscriptions.get(namespace, pipelineId, extensionId, subscriptionId);
        out.result(item, () =>
          out.fields([
            ["pipeline", item.pipeline_id],
            ["namespace", item.namespace_id],
            ["extension", item.extension_id],
            ["subscription", item.subscription_id],
            ["status", out.style.outcome(item.status)],
            ...out.reasonRow(item.status_reason),
            ["settings", subscriptionSettings(item)],
            ["declared by", declaredBy(item)],
          ]),
        );
      },
    );

  settingOption(
    subscription
      .command(`create ${SUBSCRIPTION_ARGS}`)
      .description("Subscribe a pipeline to an extension: the extension then starts its runs"),
  ).action(createAction);

  for (const [name, verb] of [
    ["enable", "enabled"],
    ["disable", "disabled"],
  ] as const) {
    subscription
      .command(`${name} ${SUBSCRIPTION_ARGS}`)
      .description(
        name === "enable"
          ? "Let a disabled subscription start runs again"
          : "Keep a subscription but stop it starting runs",
      )
      .action(
        async (
          pipelineId: string,
          extensionId: string,
          subscriptionId: string,
          _options,
          command: Command,
        ) => {
          const { client, out, namespace } = contextOf(command);
          if (name === "enable")
            await client.subscriptions.enable(namespace, pipelineId, extensionId, subscriptionId);
          else await client.subscriptions.disable(namespace, pipelineId, extensionId, subscriptionId);
          const item = await client.subscriptions.get(namespace, pipelineId, extensionId, subscriptionId);
          out.result(item, () => `Subscription ${describe(pipelineId, extensionId, subscriptionId)} ${verb}`);
        },
      );
  }

  subscription
    .command(`delete ${SUBSCRIPTION_ARGS}`)
    .description("Remove a subscription; the extension is told to drop it")
    .action(deleteAction);

  settingOption(
    pipeline
      .command(`subscribe ${SUBSCRIPTION_ARGS}`)
      .description("Subscribe a pipeline to an extension (same as `pipeline subscription create`)"),
  ).action(createAction);

  pipeline
    .command(`unsubscribe ${SUBSCRIPTION_ARGS}`)
    .description("Remove a subscription (same as `pipeline subscription delete`)")
    .action(deleteAction);
}
