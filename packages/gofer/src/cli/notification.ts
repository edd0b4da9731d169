/**
 * `gofer notification …`: where a namespace (or, with `--pipeline`, one pipeline) is told of runs that end and
 * tasks that fail, and what was delivered there. The URL and a chosen signing secret may come from a file
 * (`@path`) or stdin (`-`): a webhook URL is often a secret, and flags show up in process lists.
 */
import type {
  Notification,
  NotificationDelivery,
  NotificationEvent,
  NotificationFormat,
  NotificationScope,
} from "@gofer/sdk/client";
import { type Command, InvalidArgumentError, Option } from "commander";
import { positiveInteger } from "./arguments.ts";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";
import { readValue } from "./secret.ts";

const EVENTS: NotificationEvent[] = ["run_successful", "run_failed", "run_cancelled", "task_failed"];
const FORMATS: NotificationFormat[] = ["json", "slack"];

const CREATE_HELP = `
Events (repeat --event; at least one):
  run_successful, run_failed, run_cancelled   a run ended so
  task_failed                                 a task ended failed (after its last attempt)

Formats:
  json    the event as JSON, signed: X-Gofer-Signature-256 is sha256=<hex HMAC-SHA256 of
          "<X-Gofer-Timestamp>.<body>">, keyed with the signing secret. Without --secret, Gofer makes one
          and prints it once.
  slack   {"text": "…"}: one line with a link to the run, for Slack-compatible incoming webhooks.

The URL (and --secret) may be @<file> or - (stdin), to keep it out of shell history and process lists.

Examples:
  gofer notification create https://ci.example/hooks/gofer --event run_failed --event task_failed
  gofer notification create @slack-webhook.txt --pipeline app --format slack --event run_failed
`;

interface ScopeOptions {
  pipeline?: string;
}

const pipelineOption = (command: Command): Command =>
  command.option("-p, --pipeline <id>", "a pipeline's targets instead of the namespace's own");

function scopeOf(namespace: string, options: ScopeOptions): { scope: NotificationScope; owner: string } {
  return {
    scope: { namespace, pipelineId: options.pipeline },
    owner:
      options.pipeline === undefined
        ? `namespace ${namespace}`
        : `pipeline ${options.pipeline} (namespace ${namespace})`,
  };
}

function collectEvent(value: string, previous: NotificationEvent[] = []): NotificationEvent[] {
  if (!(EVENTS as string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${EVENTS.join(", ")}, got "${value}"`);
  }
  return [...previous, value as NotificationEvent];
}

const stateText = (out: Printer, notification: Notification): string =>
  notification.state === "enabled"
    ? out.style.paint("green", "enabled")
    : out.style.outcome(notification.state);

const reasonText = (notification: Notification): string =>
  notification.state_reason
    ? `${notification.state_reason.reason}: ${notification.state_reason.description}`
    : "";

function deliveryState(out: Printer, delivery: NotificationDelivery): string {
  return delivery.state === "succeeded"
    ? out.style.paint("green", delivery.state)
    : out.style.outcome(delivery.state);
}

/** The last attempt as one cell: `HTTP 500`, `no answer`, or `-` before the first. */
function lastAnswer(delivery: NotificationDelivery): string {
  const last = delivery.attempts.at(-1);
  if (!last) return "-";
  const answer = last.response_status === null ? "no answer" : `HTTP ${last.response_status}`;
  return `${answer} (${last.duration_ms} ms)`;
}

const whatFired = (delivery: NotificationDelivery): string =>
  delivery.run_id === null
    ? "-"
    : `${delivery.pipeline_id} run ${delivery.run_id}${delivery.task_execution_id ? ` task ${delivery.task_execution_id}` : ""}`;

function printDelivery(out: Printer, delivery: NotificationDelivery): string[] {
  return [
    ...out.fields([
      ["delivery", delivery.delivery_id],
      ["event", delivery.event],
      ["run", whatFired(delivery)],
      ["state", deliveryState(out, delivery)],
      ...(delivery.state_reason ? [["reason", delivery.state_reason] as [string, string]] : []),
      ["created", out.time(delivery.created)],
    ]),
    ...delivery.attempts.map(
      (attempt) =>
        `  attempt ${attempt.attempt} ${out.time(attempt.started)}: ` +
        `${attempt.response_status === null ? "no answer" : `HTTP ${attempt.response_status}`} in ${attempt.duration_ms} ms` +
        `${attempt.error ? ` - ${attempt.error}` : ""}${attempt.response_body ? `\n    ${oneLine(attempt.response_body)}` : ""}`,
    ),
  ];
}

/** A receiver's answer on one line of a terminal: newlines and control characters shown, long ones cut. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const flat = text.replace(/\r?\n/g, "⏎").replace(/[\u0000-\u001f\u007f]/g, "·");
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export function registerNotificationCommands(program: Command): void {
  const notification = program
    .command("notification")
    .description(
      "Tell a URL (a webhook, Slack) when runs end or tasks fail, in --namespace or one --pipeline",
    );

  pipelineOption(notification.command("list").description("List notification targets")).action(
    async (options: ScopeOptions, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const { scope } = scopeOf(namespace, options);
      const targets = await client.notifications.list(scope);
      out.result(targets, () =>
        out.table(
          ["id", "url", "format", "events", "state", "failures", "reason"],
          targets.map((target) => [
            target.notification_id,
            target.url_origin,
            target.format,
            target.events.join(", "),
            stateText(out, target),
            String(target.failures_in_a_row),
            reasonText(target),
          ]),
        ),
      );
    },
  );

  pipelineOption(notification.command("get <id>").description("Show one notification target")).action(
    async (id: string, options: ScopeOptions, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const { scope } = scopeOf(namespace, options);
      const target = await client.notifications.get(scope, id);
      out.result(target, () =>
        out.fields([
          ["id", target.notification_id],
          ["namespace", target.namespace_id],
          ["pipeline", target.pipeline_id ?? "(every pipeline of the namespace)"],
          ["url", `${target.url_origin}/… (the rest is kept encrypted)`],
          ["format", target.format],
          ["signed", target.signed ? "yes (X-Gofer-Signature-256)" : "no"],
          ["events", target.events.join(", ")],
          ["state", stateText(out, target)],
          ...(target.state_reason ? [["reason", reasonText(target)] as [string, string]] : []),
          ["failures", `${target.failures_in_a_row} in a row`],
          ...(target.description ? [["description", target.description] as [string, string]] : []),
          ["created", out.time(target.created)],
        ]),
      );
    },
  );

  pipelineOption(
    notification
      .command("create <url>")
      .description("Add a notification target; <url> may be @<file> or - (stdin)")
      .requiredOption("-e, --event <event>", "what fires it (repeatable)", collectEvent)
      .addOption(new Option("-f, --format <format>", "what it sends").choices(FORMATS).default("json"))
      .option("-s, --secret <secret>", "json: the signing secret (16-256 characters), @<file> or -")
      .option("-d, --description <text>", "what it is for")
      .addHelpText("after", CREATE_HELP),
  ).action(
    async (
      url: string,
      options: ScopeOptions & {
        event: NotificationEvent[];
        format: NotificationFormat;
        secret?: string;
        description?: string;
      },
      command: Command,
    ) => {
      const { client, out, namespace } = contextOf(command);
      const { scope, owner } = scopeOf(namespace, options);
      const created = await client.notifications.create(scope, {
        url: await readValue(url),
        events: options.event,
        format: options.format,
        ...(options.secret !== undefined && { secret: await readValue(options.secret) }),
        ...(options.description !== undefined && { description: options.description }),
      });
      const target = created.notification;
      out.result(created, () => [
        `Notification target ${target.notification_id} created for ${owner}: ${target.format} to ` +
          `${target.url_origin} on ${target.events.join(", ")}`,
        ...(created.secret === null
          ? []
          : [
              `signing secret: ${created.secret}`,
              out.style.paint(
                "dim",
                "(shown this once: give it to the receiver to check X-Gofer-Signature-256)",
              ),
            ]),
      ]);
    },
  );

  for (const [name, state] of [
    ["enable", "enabled"],
    ["disable", "disabled"],
  ] as const) {
    pipelineOption(
      notification
        .command(`${name} <id>`)
        .description(
          name === "enable"
            ? "Enable a notification target again (its count of failures starts over)"
            : "Stop a notification target firing, keeping it",
        ),
    ).action(async (id: string, options: ScopeOptions, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const { scope } = scopeOf(namespace, options);
      const target = await client.notifications.setState(scope, id, state);
      out.result(target, () => `Notification target ${id} ${state}`);
    });
  }

  pipelineOption(
    notification.command("delete <id>").description("Delete a notification target and its deliveries"),
  ).action(async (id: string, options: ScopeOptions, command: Command) => {
    const { client, out, namespace } = contextOf(command);
    const { scope } = scopeOf(namespace, options);
    await client.notifications.delete(scope, id);
    out.result({ deleted: { notification_id: id } }, () => `Notification target ${id} deleted`);
  });

  pipelineOption(
    notification
      .command("deliveries <id>")
      .description("What was delivered to a target, newest first, with the receiver's answers")
      .option("-l, --limit <n>", "at most this many (1-200; default 50)", positiveInteger)
      .option("-a, --attempts", "every attempt of each delivery, with the start of each answer"),
  ).action(
    async (id: string, options: ScopeOptions & { limit?: number; attempts?: boolean }, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const { scope } = scopeOf(namespace, options);
      const deliveries = await client.notifications.deliveries(scope, id, {
        ...(options.limit !== undefined && { limit: options.limit }),
      });
      out.result(deliveries, () =>
        options.attempts
          ? deliveries.flatMap((delivery, index) => [
              ...(index > 0 ? [""] : []),
              ...printDelivery(out, delivery),
            ])
          : out.table(
              ["delivery", "event", "run", "state", "attempts", "last answer", "created", "reason"],
              deliveries.map((delivery) => [
                delivery.delivery_id,
                delivery.event,
                whatFired(delivery),
                deliveryState(out, delivery),
                String(delivery.attempts.length),
                lastAnswer(delivery),
                out.time(delivery.created),
                delivery.state_reason ?? "",
              ]),
            ),
      );
    },
  );

  pipelineOption(
    notification
      .command("test <id>")
      .description("Send a test delivery now (once, not retried) and show the answer; exits 1 if it failed"),
  ).action(async (id: string, options: ScopeOptions, command: Command) => {
    const { client, out, namespace } = contextOf(command);
    const { scope } = scopeOf(namespace, options);
    const delivery = await client.notifications.test(scope, id);
    out.result(delivery, () => printDelivery(out, delivery));
    if (delivery.state !== "succeeded") process.exitCode = 1;
  });
}
