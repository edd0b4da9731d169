/**
 * The servers sharing this installation's database, for admins: which one leads (runs the work) under which lease,
 * when each was last heard from and what the leader has in hand. Heartbeats announce no event, so this page (and
 * only this page, while it is open) asks again every few seconds.
 */
import { ApiError, api } from "../api/client.ts";
import type { ReplicaListing } from "../api/types.ts";
import { ErrorNote } from "../components/status.tsx";
import { Time } from "../components/time.tsx";
import { useEvery } from "../components/use-every.ts";
import { useResource } from "../components/use-resource.ts";
import { ago } from "../format.ts";
import {
  isGone,
  leaseFacts,
  orderReplicas,
  ownsText,
  shortId,
  stateText,
} from "../replicas/replica-facts.ts";

const REFRESH_MS = 5000;

export function ReplicasPage() {
  const listing = useResource(() => api<ReplicaListing>("GET", "/api/system/replicas"), []);
  // A refusal stands until someone else signs in, which loads the page afresh: asking again would not help.
  const refused = listing.error instanceof ApiError && listing.error.isPermission;
  useEvery(REFRESH_MS, () => {
    if (!refused) listing.reload();
  });
  const value = listing.value;
  const now = Date.now();
  return (
    <main>
      <div class="page-head">
        <h1>Replicas</h1>
        {!refused && <span class="muted">refreshes every {REFRESH_MS / 1000} s</span>}
      </div>
      <ErrorNote error={listing.error} />
      {value && (
        <ul class="facts" aria-label="Lease" data-storage={value.storage}>
          {leaseFacts(value, now).map((fact) => (
            <li key={fact}>{fact}</li>
          ))}
        </ul>
      )}
      {value && value.replicas.length === 0 && <p class="empty">No server has registered yet.</p>}
      {value && value.replicas.length > 0 && (
        <div class="table-scroll">
          <table class="replicas">
            <thead>
              <tr>
                <th>Replica</th>
                <th>State</th>
                <th>URL</th>
                <th>Host</th>
                <th>Heartbeat</th>
                <th>Started</th>
                <th>Owns</th>
              </tr>
            </thead>
            <tbody>
              {orderReplicas(value.replicas).map((replica) => (
                <tr
                  key={replica.id}
                  data-replica-id={replica.id}
                  data-state={replica.state}
                  class={isGone(replica.state) ? "replica-gone" : undefined}
                >
                  <td>
                    <code title={replica.id}>{shortId(replica.id)}</code>
                    {replica.self && (
                      <span class="self-mark" title="The replica that answered this request">
                        this replica
                      </span>
                    )}
                  </td>
                  <td>
                    <span class={`pill pill-${replica.state}`}>{stateText(replica.state)}</span>
                  </td>
                  <td>
                    <code>{replica.url}</code>
                  </td>
                  <td>
                    {replica.hostname}{" "}
                    <span class="muted">
                      pid {replica.pid} · {replica.version}
                    </span>
                  </td>
                  <td>
                    <Time at={replica.heartbeat} show={(at) => ago(at, now)} />
                  </td>
                  <td>
                    <Time at={replica.started} />
                  </td>
                  <td>{ownsText(replica.owns)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
