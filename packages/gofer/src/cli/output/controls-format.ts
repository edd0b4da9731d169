import type { DeclaredSubscription, RunConcurrency, TaskRetries } from "@gofer/sdk";
import { RETRY_CAUSES } from "@gofer/sdk";

/** A task's retry policy for a table cell: `2 (1s ×2, max 5m)`, then the causes when not all; `-` when none. */
export function formatRetries(retries: TaskRetries | undefined): string {
  if (retries === undefined) return "-";
  const causes = RETRY_CAUSES.every((cause) => retries.on.includes(cause))
    ? ""
    : `, on ${retries.on.join("|")}`;
  return `${retries.limit} (${retries.delay} ×${retries.factor}, max ${retries.max_delay}${causes})`;
}

/** A pipeline's concurrency group for a field: `deploy-${BRANCH}, cancels in progress`, or `-`. */
export function formatConcurrency(concurrency: RunConcurrency | undefined): string {
  if (concurrency === undefined) return "-";
  return `${concurrency.group}${concurrency.cancel_in_progress ? ", cancels in progress" : ", queued in order"}`;
}

/** One declared subscription per line: `interval/nightly every=24h`. */
export function formatSubscriptions(subscriptions: readonly DeclaredSubscription[]): string[] {
  return subscriptions.map((subscription) => {
    const settings = Object.entries(subscription.settings).map(([key, value]) => `${key}=${value}`);
    return [`${subscription.extension_id}/${subscription.subscription_id}`, ...settings].join(" ");
  });
}

/** Whether any of `tasks` declares a timeout or retries: tables show those columns only then. */
export function anyTaskControls(tasks: ReadonlyArray<{ timeout?: string; retries?: TaskRetries }>): {
  timeout: boolean;
  retries: boolean;
} {
  return {
    timeout: tasks.some((task) => task.timeout !== undefined),
    retries: tasks.some((task) => task.retries !== undefined),
  };
}
