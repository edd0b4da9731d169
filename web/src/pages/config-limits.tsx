/**
 * What a config version says about time and overlap, beside its graph: the run timeout, the concurrency group,
 * the subscriptions it declares, and each task's timeout and retry policy. Nothing shows for a config that
 * declares none of them.
 */
import type { PipelineConfig } from "../api/types.ts";
import { describeRetries } from "../runs/attempts.ts";

export function ConfigLimits({ config }: { config: PipelineConfig }) {
  const limited = Object.values(config.tasks)
    .filter((task) => task.timeout || task.retries)
    .sort((a, b) => a.id.localeCompare(b.id));
  const declared = config.subscriptions ?? [];
  return (
    <>
      {(config.timeout || config.concurrency || declared.length > 0) && (
        <ul class="facts" aria-label="Run limits">
          {config.timeout && (
            <li data-testid="config-timeout">
              runs time out after <code>{config.timeout}</code>
            </li>
          )}
          {config.concurrency && (
            <li data-testid="config-concurrency">
              one run at a time per group <code>{config.concurrency.group}</code>;{" "}
              {config.concurrency.cancel_in_progress
                ? "a new run cancels those in progress"
                : "a new run waits its turn"}
            </li>
          )}
          {declared.length > 0 && (
            <li>
              declares {declared.length} subscription{declared.length === 1 ? "" : "s"}:{" "}
              {declared
                .map((subscription) => `${subscription.extension_id}/${subscription.subscription_id}`)
                .join(", ")}
            </li>
          )}
        </ul>
      )}
      {limited.length > 0 && (
        <div class="table-scroll">
          <table aria-label="Task timeouts and retries">
            <thead>
              <tr>
                <th>Task</th>
                <th>Timeout</th>
                <th>Retries</th>
              </tr>
            </thead>
            <tbody>
              {limited.map((task) => (
                <tr key={task.id} data-task-id={task.id}>
                  <td>{task.id}</td>
                  <td>{task.timeout ?? "–"}</td>
                  <td>{task.retries ? describeRetries(task.retries) : "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
