/**
 * With replicas, an interval extension starts runs of its own pipeline every two seconds for the whole test:
 * whichever replica leads supervises it, adopting it after each takeover. At the end it must still be firing
 * (a run of its pipeline started after the last kill), and it is uninstalled so no container is left.
 */

import { pipeline, task } from "@gofer/sdk";
import type { GoferClient } from "@gofer/sdk/client";
import { IMAGE } from "./pipelines.ts";

const NS = "default";
const PIPELINE = "chaos-ticks";
const EXTENSION = "interval";

export async function startExtensionTicks(client: GoferClient): Promise<void> {
  await client.extensions.install({
    id: EXTENSION,
    image: "gofer/extension-interval:latest",
    settings: { min_interval: "1s" },
  });
  const config = pipeline(PIPELINE, "chaos ticks")
    .tasks(task("tick", IMAGE).command("sh", "-c", "echo tick"))
    .finish();
  const registered = await client.configs.register(NS, PIPELINE, config);
  await client.configs.deploy(NS, PIPELINE, registered.version);
  await client.subscriptions.create(NS, PIPELINE, {
    extension_id: EXTENSION,
    subscription_id: "every-two-seconds",
    settings: { every: "2s" },
  });
}

/** Violations: the extension stopped firing after the last kill, or its runs did not finish. */
export async function checkExtensionStillFiring(client: GoferClient, lastKill: number): Promise<string[]> {
  const violations: string[] = [];
  const fired = async () =>
    (await client.runs.list(NS, PIPELINE, { limit: 100 })).some((run) => run.started > lastKill);
  const until = Date.now() + 30_000;
  while (!(await fired())) {
    if (Date.now() > until) {
      violations.push("the interval extension started no run in the 30 s after the last kill");
      break;
    }
    await new Promise((wake) => setTimeout(wake, 500));
  }
  const extension = await client.extensions.get(EXTENSION);
  if (extension.state !== "running")
    violations.push(`the interval extension is ${extension.state} at the end`);
  await client.extensions.uninstall(EXTENSION);
  const drained = Date.now() + 60_000;
  for (;;) {
    const runs = await client.runs.list(NS, PIPELINE, { limit: 1000 });
    if (runs.every((run) => run.state === "complete")) break;
    if (Date.now() > drained) {
      violations.push("runs started by the interval extension did not finish within 60 s of its uninstall");
      break;
    }
    await new Promise((wake) => setTimeout(wake, 500));
  }
  return violations;
}
