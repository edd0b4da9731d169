/**
 * The github extension: GitHub sends webhook deliveries to Gofer's external-events listener
 * (`POST /api/external/github`), Gofer forwards each here, and a verified delivery starts one run of every
 * subscribed pipeline whose repository and events filter it matches.
 */
import {
  defineExtension,
  type ExtensionDefinition,
  ExtensionError,
  type ExternalEvent,
  type SubscriptionKey,
} from "@gofer/sdk/extension";
import { readGithubConfig } from "./config.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { type EventRule, parseEvents, rulesMatch } from "./event-filters.ts";
import { action, eventRef, parsePayload, repositoryName, runVariables } from "./payload.ts";
import { verifySignature } from "./signature.ts";

const DOCUMENTATION = `Starts a run of the pipeline when GitHub sends a webhook delivery for a repository.

Install it with the secret you set on the GitHub webhook, then point the webhook (content type
application/json, "Send me everything" or the events you want) at Gofer's external-events listener:
\`https://<gofer-host>:8081/api/external/github\`.

    gofer extension install github gofer/extension-github:latest -c webhook_secret=<secret>
    gofer pipeline subscription create my-pipeline github on-main -s repository=octo/app -s events="push:main|release/*,pull_request:opened|synchronize"

\`events\` is a comma-separated list of \`name\` or \`name:filter|filter\`. For \`push\` the filters are branch
globs (\`main\`, \`release/*\`; \`*\` stays within one path segment, \`**\` crosses them) or, starting with \`tags/\`,
tag globs (\`tags/v*\`); pushes that delete a branch or tag never start a run. For \`pull_request\` and every other
event the filters are actions (\`opened|synchronize|reopened\`). An event name alone matches every delivery of it.

Every delivery's X-Hub-Signature-256 is checked against the webhook secret; a delivery with a missing or wrong
signature is refused (401) and starts nothing. \`ping\` deliveries are answered and start nothing. A delivery id
seen among the last 1000 deliveries is not run again (GitHub redelivers).

Runs get GOFER_EXTENSION_GITHUB_EVENT, _ACTION, _REPOSITORY, _REF (full ref: refs/heads/…, refs/tags/…, or
refs/pull/<n>/head for a pull request), _SHA, _AUTHOR (the sender's login) and _DELIVERY, plus Gofer v0's names:
push: _HEAD_COMMIT_ID, _HEAD_COMMIT_AUTHOR_NAME/_EMAIL/_USERNAME, _HEAD_COMMIT_COMMITTER_NAME/_EMAIL/_USERNAME;
pull_request: _PULLREQUEST_HEAD_REF, _PULLREQUEST_BRANCH, _PULLREQUEST_HEAD_SHA, _PULLREQUEST_AUTHOR_USERNAME;
release: _RELEASE_TAG_NAME, _RELEASE_TARGET_COMMITISH, _RELEASE_AUTHOR_LOGIN, _RELEASE_CREATED_AT,
_RELEASE_PUBLISHED_AT.

This extension makes no GitHub API calls: the GitHub App settings are accepted for installs that have them,
but only the webhook secret is used.`;

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

interface GithubSubscription {
  key: SubscriptionKey;
  /** Lower-cased `owner/repo`: GitHub names are case-insensitive. */
  repository: string;
  rules: EventRule[];
}

const subscriptionName = (key: SubscriptionKey) =>
  `${key.namespaceId}/${key.pipelineId}/${key.subscriptionId}`;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

function lowerCaseHeaders(headers: ExternalEvent["headers"]): Map<string, string> {
  return new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

export function createGithubExtension(): ExtensionDefinition {
  const subscriptions = new Map<string, GithubSubscription>();
  const deliveries = new DeliveryLog();
  let secret = "";

  return defineExtension({
    documentation: {
      body: DOCUMENTATION,
      configParams: [
        {
          key: "webhook_secret",
          required: false,
          documentation:
            "The secret set on the GitHub webhook; deliveries are verified with it. Required, unless given as " +
            "app_webhook_secret (v0's name).",
        },
        { key: "app_webhook_secret", required: false, documentation: "v0's name for webhook_secret." },
        {
          key: "app_id",
          required: false,
          documentation: "GitHub App id. Accepted for v0 installs; this extension makes no GitHub API calls.",
        },
        {
          key: "app_installation",
          required: false,
          documentation: "GitHub App installation id. Accepted for v0 installs; unused.",
        },
        {
          key: "app_key",
          required: false,
          documentation: "GitHub App private key, base64-encoded PEM. Checked at start-up, otherwise unused.",
        },
      ],
      subscriptionParams: [
        {
          key: "repository",
          required: true,
          documentation: "The repository, as owner/repo (case-insensitive).",
        },
        {
          key: "events",
          required: true,
          documentation:
            "Comma-separated events, each `name` or `name:filter|filter`: push filters are branch globs " +
            "(`main`, `release/*`) or tag globs (`tags/v*`); other events' filters are actions (`opened|synchronize`).",
        },
      ],
    },

    setup(context) {
      const config = readGithubConfig((key) => context.config(key));
      secret = config.webhookSecret;
      context.log.info("github extension ready", {
        github_app:
          config.appId === undefined ? "none" : `app ${config.appId} (not used: no GitHub API calls)`,
      });
    },

    subscribe(subscription, context) {
      const repository = (subscription.params.repository ?? "").trim();
      if (!REPOSITORY.test(repository)) {
        throw new ExtensionError(
          400,
          "INVALID_SUBSCRIPTION",
          `repository ${JSON.stringify(repository)} is not owner/repo, such as octo-org/app`,
        );
      }
      const rules = parseEvents(subscription.params.events ?? "");
      if (!rules.ok) throw new ExtensionError(400, "INVALID_SUBSCRIPTION", rules.problem);
      const name = subscriptionName(subscription);
      subscriptions.set(name, {
        key: {
          namespaceId: subscription.namespaceId,
          pipelineId: subscription.pipelineId,
          subscriptionId: subscription.subscriptionId,
        },
        repository: repository.toLowerCase(),
        rules: rules.value,
      });
      context.log.debug("watching", { subscription: name, repository, events: subscription.params.events });
    },

    unsubscribe(key) {
      subscriptions.delete(subscriptionName(key));
    },

    async externalEvent(event, context) {
      const headers = lowerCaseHeaders(event.headers);
      const signature = verifySignature(secret, event.body, headers.get("x-hub-signature-256"));
      if (!signature.ok) {
        context.log.warn("webhook delivery refused", { reason: signature.problem });
        throw new ExtensionError(401, "INVALID_SIGNATURE", signature.problem);
      }
      const eventName = headers.get("x-github-event")?.trim();
      if (!eventName) {
        throw new ExtensionError(400, "MISSING_EVENT", "the X-GitHub-Event header is missing");
      }
      const deliveryId = headers.get("x-github-delivery")?.trim() || undefined;
      const fields = { event: eventName, delivery: deliveryId };
      if (eventName === "ping") {
        context.log.info("ping from GitHub", fields);
        return;
      }
      const parsed = parsePayload(event.body, headers.get("content-type"));
      if (!parsed.ok) throw new ExtensionError(400, "INVALID_PAYLOAD", parsed.problem);
      const payload = parsed.payload;
      const repository = repositoryName(payload);
      if (repository === undefined) {
        context.log.debug("delivery names no repository; nothing to start", fields);
        return;
      }
      if (eventName === "push" && payload.deleted === true) {
        context.log.info("push deletes a ref; nothing to start", {
          ...fields,
          ref: eventRef(eventName, payload),
        });
        return;
      }
      const delivery = { event: eventName, action: action(payload), ref: eventRef(eventName, payload) };
      const matching = [...subscriptions.entries()].filter(
        ([, subscription]) =>
          subscription.repository === repository.toLowerCase() && rulesMatch(subscription.rules, delivery),
      );
      const variables = runVariables(eventName, payload, deliveryId);
      const failures: string[] = [];
      await Promise.all(
        matching.map(async ([name, subscription]) => {
          if (deliveryId !== undefined && !deliveries.claim(deliveryId, name)) {
            context.log.info("delivery already handled; not starting it again", {
              ...fields,
              subscription: name,
            });
            return;
          }
          try {
            const runId = await context.startRun(subscription.key, variables);
            context.log.info("started run", { ...fields, repository, subscription: name, run_id: runId });
          } catch (error) {
            if (deliveryId !== undefined) deliveries.release(deliveryId, name);
            failures.push(`${name}: ${errorText(error)}`);
          }
        }),
      );
      if (matching.length === 0) context.log.debug("no subscription matches", { ...fields, repository });
      if (failures.length > 0) {
        throw new ExtensionError(
          502,
          "RUN_START_FAILED",
          `${failures.length} of ${matching.length} runs did not start (a redelivery retries them): ${failures.join("; ")}`,
        );
      }
    },

    debug() {
      const lines = [
        `${subscriptions.size} subscription(s); ${deliveries.size} recent deliveries remembered`,
      ];
      for (const [name, subscription] of [...subscriptions.entries()].sort((a, b) =>
        a[0].localeCompare(b[0]),
      )) {
        const events = subscription.rules
          .map((rule) => (rule.filters.length === 0 ? rule.event : `${rule.event}:${rule.filters.join("|")}`))
          .join(",");
        lines.push(`${name}: ${subscription.repository} on ${events}`);
      }
      return lines.join("\n");
    },
  });
}
