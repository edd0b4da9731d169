/**
 * `gofer service replicas`: the servers sharing the installation's database, which one leads (runs the work)
 * and how long ago each was heard from. A client command: it asks the API, through the load balancer or any
 * replica.
 */
import type { ReplicaListing } from "@gofer/sdk/client";
import type { Command } from "commander";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";

export function registerReplicasCommand(service: Command): void {
  service
    .command("replicas")
    .description(
      "List the servers sharing this installation's PostgreSQL database: which one leads, their last heartbeat " +
        "and what the leader has in hand (admin tokens only)",
    )
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const listing = await client.system.replicas();
      out.result(listing, () => render(out, listing));
    });
}

function render(out: Printer, listing: ReplicaListing): string[] {
  const table = out.table(
    ["replica", "state", "url", "host", "heartbeat", "started", "owns"],
    listing.replicas.map((replica) => [
      `${replica.id.slice(0, 8)}${replica.self ? " (answered)" : ""}`,
      replica.state === "leader" ? out.style.paint("bold", replica.state) : replica.state.replace("_", " "),
      replica.url,
      `${replica.hostname} pid ${replica.pid}`,
      out.time(replica.heartbeat),
      out.time(replica.started),
      replica.owns
        ? `${replica.owns.runs_in_flight} run(s), ${replica.owns.tasks_in_flight} task(s), ${replica.owns.extensions} extension(s)`
        : "",
    ]),
  );
  const lease = listing.lease;
  const summary =
    listing.storage === "sqlite"
      ? "storage: SQLite (one server, always leading; replicas need PostgreSQL)"
      : lease
        ? `lease: term ${lease.term}, ${lease.serving ? "serving" : "being taken over"}, expires ${out.time(lease.expires)} (timeout ${listing.lease_timeout_ms / 1000}s)`
        : "lease: never taken";
  return [table, summary];
}
