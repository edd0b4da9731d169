/**
 * The github extension: GitHub sends webhook deliveries to Gofer's external-events listener
 * (`POST /api/external/github`), Gofer forwards each here, and a verified delivery starts one run of every
 * subscribed pipeline whose repository and events filter it matches. With the GitHub App settings, runs of
 * `pull_request_with_check` subscriptions are reported back on the pull request as check runs.
 */
import {
  defineExtension,
  type ExtensionDefinition,
  ExtensionError,
  type ExtensionLogger,
  type ExternalEvent,
  type SubscriptionKey,
} from "@gofer/sdk/extension";
import { CheckReporter } from "./check-reporter.ts";
import { type GithubConfig, readGithubConfig } from "./config.ts";
import { DeliveryLog } from "./delivery-log.ts";
import {
  type Checked,
  checkRequested,
  type EventRule,
  PULL_REQUEST_WITH_CHECK,
  parseEventFilter,
  parseEvents,
  rulesMatch,
} from "./event-filters.ts";
import { InstallationTokens } from "./github-app.ts";
import { GithubChecks, type Repository } from "./github-checks.ts";
import {
  action,
  eventRef,
  field,
  type Payload,
  parsePayload,
  repositoryName,
  runVariables,
} from "./payload.ts";
import { objectPendingCheckStore } from "./pending-checks.ts";
import { RunWatcher } from "./run-watcher.ts";
import { verifySignature } from "./signature.ts";

const DOCUMENTATION = `Starts a run of the pipeline when GitHub sends a webhook delivery for a repository, and can report the
run back on the pull request as a check run.

Install it with the secret you set on the GitHub webhook, then point the webhook (content type
application/json, "Send me everything" or the events you want) at Gofer's external-events listener:
\`https://<gofer-host>:8081/api/external/github\`.

    gofer extension install github gofer/extension-github:latest -c webhook_secret=<secret>
    gofer pipeline subscription create my-pipeline github on-main -s repository=octo/app -s events="push:main|release/*,pull_request:opened|synchronize"

A subscription says which deliveries start a run with \`events\`, Gofer v0's \`event_filter\`, or both (a delivery
matching either starts one run).

\`events\` is a comma-separated list of \`name\` or \`name:filter|filter\`. For \`push\` the filters are branch
globs (\`main\`, \`release/*\`; \`*\` stays within one path segment, \`**\` crosses them) or, starting with \`tags/\`,
tag globs (\`tags/v*\`); pushes that delete a branch or tag never start a run. For \`pull_request\` and every other
event the filters are actions (\`opened|synchronize|reopened\`). An event name alone matches every delivery of it.

\`event_filter\` is one \`<event>\` or \`<event>/<action>,<action>…\` (\`pull_request/opened,synchronize\`), as in
Gofer v0: actions are case-insensitive, and no actions means any action.

\`pull_request_with_check\` (in either param) matches \`pull_request\` deliveries like \`pull_request\`, and also
reports the run on the pull request: a check run named after the subscription is created "in progress" on the
head commit when the run starts, and completed with the run's result (success, failure, cancelled; neutral when
unknown). This needs the GitHub App settings (app_id, app_installation, app_key: an App with the "Checks: read
and write" permission, installed on the repository); api_url points at GitHub Enterprise Server's API
(https://<host>/api/v3), and web_url, when set, makes the check's Details link open the run in Gofer's web UI.
Failures to talk to GitHub are logged and never affect the run.

Every delivery's X-Hub-Signature-256 is checked against the webhook secret; a delivery with a missing or wrong
signature is refused (401) and starts nothing. \`ping\` deliveries are answered and start nothing. A delivery id
seen among the last 1000 deliveries is not run again (GitHub redelivers).

Runs get GOFER_EXTENSION_GITHUB_EVENT, _ACTION, _REPOSITORY, _REF (full ref: refs/heads/…, refs/tags/…, or
refs/pull/<n>/head for a pull request), _SHA, _AUTHOR (the sender's login) and _DELIVERY, plus Gofer v0's names:
push: _HEAD_COMMIT_ID, _HEAD_COMMIT_AUTHOR_NAME/_EMAIL/_USERNAME, _HEAD_COMMIT_COMMITTER_NAME/_EMAIL/_USERNAME;
pull_request: _PULLREQUEST_HEAD_REF, _PULLREQUEST_BRANCH, _PULLREQUEST_HEAD_SHA, _PULLREQUEST_AUTHOR_USERNAME
(and _PULLREQUEST_AUTHOR_NAME/_EMAIL when GitHub sends them); release: _RELEASE_TAG_NAME,
_RELEASE_TARGET_COMMITISH, _RELEASE_AUTHOR_LOGIN, _RELEASE_CREATED_AT, _RELEASE_PUBLISHED_AT.`;

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

interface GithubSubscription {
  key: SubscriptionKey;
  /** Lower-cased `owner/repo`: GitHub names are case-insensitive. */
  repository: string;
  rules: EventRule[];
}

/** Knobs for tests; the extension Gofer runs uses the defaults. */
export interface GithubExtensionOptions {
  /** Used for every call to GitHub. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for the App's JWT and its token's expiry. */
  now?: () => number;
  /** How often runs with a pending check run are looked up, besides the event stream. Default 30 s. */
  runPollIntervalMs?: number;
  /** Pauses before retrying a failed GitHub call. Default 1 s, then 5 s. */
  githubRetryDelaysMs?: readonly number[];
}

const subscriptionName = (key: SubscriptionKey) =>
  `${key.namespaceId}/${key.pipelineId}/${key.subscriptionId}`;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const invalid = (message: string) => new ExtensionError(400, "INVALID_SUBSCRIPTION", message);

function lowerCaseHeaders(headers: ExternalEvent["headers"]): Map<string, string> {
  return new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

/** The rules of `events` and `event_filter` together; at least one of the two must be given. */
function subscriptionRules(params: Record<string, string>): Checked<EventRule[]> {
  const given = [
    ["events", parseEvents],
    ["event_filter", parseEventFilter],
  ] as const;
  const rules: EventRule[] = [];
  let any = false;
  for (const [name, parse] of given) {
    const text = params[name];
    if (text === undefined || text.trim() === "") continue;
    any = true;
    const parsed = parse(text);
    if (!parsed.ok) return parsed;
    rules.push(...parsed.value);
  }
  if (!any) {
    return {
      ok: false,
      problem:
        'give events (such as "push:main,pull_request:opened|synchronize") or Gofer v0\'s event_filter ' +
        '(such as "pull_request/opened,synchronize")',
    };
  }
  return { ok: true, value: rules };
}

/** `owner` and `repo` for the API paths, from the payload's repository. */
function repositoryOf(payload: Payload): Repository | undefined {
  const owner = field(payload, "repository", "owner", "login");
  const repo = field(payload, "repository", "name");
  if (owner !== undefined && repo !== undefined) return { owner, repo };
  const [fullOwner, fullRepo] = (repositoryName(payload) ?? "").split("/");
  return fullOwner && fullRepo ? { owner: fullOwner, repo: fullRepo } : undefined;
}

/** What reporting check runs needs, present once setup has found the GitHub App settings. */
interface Reporting {
  reporter: CheckReporter;
  watcher: RunWatcher;
  tokens: InstallationTokens;
  appId: string;
}

export function createGithubExtension(options: GithubExtensionOptions = {}): ExtensionDefinition {
  const subscriptions = new Map<string, GithubSubscription>();
  const deliveries = new DeliveryLog();
  let secret = "";
  let config: GithubConfig | undefined;
  let reporting: Reporting | undefined;

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
          documentation:
            "GitHub App id (a number). With app_installation and app_key, pull_request_with_check " +
            "subscriptions report their runs as check runs.",
        },
        {
          key: "app_installation",
          required: false,
          documentation: "The id of the GitHub App's installation on the repositories' account (a number).",
        },
        {
          key: "app_key",
          required: false,
          documentation: "The GitHub App's private key, base64-encoded PEM (as in v0); checked at start-up.",
        },
        {
          key: "api_url",
          required: false,
          documentation:
            "GitHub's REST API. Default https://api.github.com; GitHub Enterprise Server: https://<host>/api/v3.",
        },
        {
          key: "web_url",
          required: false,
          documentation:
            "Gofer's web UI as people open it (https://gofer.example.com): check runs link to the run's page " +
            "there. Without it check runs have no Details link of their own.",
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
          required: false,
          documentation:
            "Comma-separated events, each `name` or `name:filter|filter`: push filters are branch globs " +
            "(`main`, `release/*`) or tag globs (`tags/v*`); other events' filters are actions (`opened|synchronize`). " +
            "This or event_filter is required.",
        },
        {
          key: "event_filter",
          required: false,
          documentation:
            "Gofer v0's form: `<event>` or `<event>/<action>,<action>` (`pull_request/opened,synchronize`); no " +
            "actions means any action. `pull_request_with_check` (here or in events) matches pull requests and " +
            "reports the run as a check run (needs the GitHub App settings).",
        },
      ],
    },

    setup(context) {
      config = readGithubConfig((key) => context.config(key));
      secret = config.webhookSecret;
      if (config.app) {
        const shared = {
          apiUrl: config.apiUrl,
          signal: context.signal,
          ...(options.fetch && { fetch: options.fetch }),
        };
        const tokens = new InstallationTokens({
          ...shared,
          app: config.app,
          ...(options.now && { now: options.now }),
        });
        const checks = new GithubChecks({
          ...shared,
          tokens,
          ...(options.githubRetryDelaysMs && { retryDelaysMs: options.githubRetryDelaysMs }),
        });
        const watcher = new RunWatcher({
          client: context.client,
          log: context.log,
          signal: context.signal,
          ...(options.runPollIntervalMs !== undefined && { pollIntervalMs: options.runPollIntervalMs }),
        });
        const reporter = new CheckReporter({
          checks,
          watcher,
          store: objectPendingCheckStore(context.client, context.id),
          log: context.log,
          signal: context.signal,
          webUrl: config.webUrl,
          ...(options.now && { now: options.now }),
        });
        reporting = { reporter, watcher, tokens, appId: config.app.appId };
        reporter.resume();
      } else if (config.missingAppSettings) {
        const missing = config.missingAppSettings;
        context.log.warn("GitHub App settings incomplete; pull_request_with_check is refused", { missing });
      }
      context.log.info("github extension ready", {
        github_app: config.app
          ? `app ${config.app.appId}, installation ${config.app.installationId}, API ${config.apiUrl}`
          : "none (no check runs)",
      });
    },

    subscribe(subscription, context) {
      const repository = (subscription.params.repository ?? "").trim();
      if (!REPOSITORY.test(repository)) {
        throw invalid(`repository ${JSON.stringify(repository)} is not owner/repo, such as octo-org/app`);
      }
      const rules = subscriptionRules(subscription.params);
      if (!rules.ok) throw invalid(rules.problem);
      if (!reporting && rules.value.some((rule) => rule.event === PULL_REQUEST_WITH_CHECK)) {
        const missing = config?.missingAppSettings ?? ["app_id", "app_installation", "app_key"];
        throw invalid(
          `${PULL_REQUEST_WITH_CHECK} reports runs as GitHub check runs, which needs the GitHub App settings; ` +
            `reinstall the extension with ${missing.map((key) => `-c ${key}=…`).join(" ")}, or subscribe to pull_request`,
        );
      }
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
      context.log.debug("watching", {
        subscription: name,
        repository,
        events: subscription.params.events,
        event_filter: subscription.params.event_filter,
      });
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
          let runId: number;
          try {
            runId = await context.startRun(subscription.key, variables);
            context.log.info("started run", { ...fields, repository, subscription: name, run_id: runId });
          } catch (error) {
            if (deliveryId !== undefined) deliveries.release(deliveryId, name);
            failures.push(`${name}: ${errorText(error)}`);
            return;
          }
          if (checkRequested(subscription.rules, delivery)) {
            reportCheck(subscription, runId, payload, context.log, { ...fields, subscription: name });
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
        reporting
          ? `GitHub App ${reporting.appId}: ${reporting.reporter.active} check run(s) in progress, ` +
            `${reporting.watcher.size} run(s) watched, ${reporting.tokens.requested} installation token(s) requested`
          : "no GitHub App: check runs are not reported",
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

    async shutdown() {
      // The kit has aborted the signal: GitHub calls stop and waiting checks end at once, stored for the next start.
      await reporting?.reporter.settled();
    },
  });

  function reportCheck(
    subscription: GithubSubscription,
    runId: number,
    payload: Payload,
    log: ExtensionLogger,
    fields: Record<string, unknown>,
  ): void {
    const repository = repositoryOf(payload);
    const headSha = field(payload, "pull_request", "head", "sha");
    if (!reporting || repository === undefined || headSha === undefined) {
      log.warn("no check run for this run: the delivery lacks the repository or head commit", {
        ...fields,
        run_id: runId,
      });
      return;
    }
    reporting.reporter.report({ ...subscription.key, runId, repository, headSha });
  }
}
