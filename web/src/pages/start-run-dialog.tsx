/**
 * "Start run" with optional variables; on success the page moves to the new run. It opens with the variables of
 * `from` (run again) or of the pipeline's last run, and offers the sets its recent runs used.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, apiPath } from "../api/client.ts";
import type { Run } from "../api/types.ts";
import { useResource } from "../components/use-resource.ts";
import { navigate, paths } from "../router.ts";
import {
  describeSet,
  recentVariableSets,
  startVariables,
  type VariableRow,
  variablesToStart,
} from "../runs/variable-sets.ts";
import { runsPaused } from "../state/system.ts";

type Row = VariableRow;

/** How many recent runs are read for the sets they used. */
const RECENT_RUNS = 20;

export function StartRunDialog({
  namespace,
  pipeline,
  onClose,
  from,
}: {
  namespace: string;
  pipeline: string;
  onClose: () => void;
  /** Run again: start with this run's variables. */
  from?: Run | undefined;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [rows, setRows] = useState<Row[]>(from ? startVariables(from) : []);
  /** The run whose set is in the rows ("" for none); undefined until the person or the recent runs choose. */
  const [chosen, setChosen] = useState<string | undefined>(from ? String(from.run_id) : undefined);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const recent = useResource(
    () =>
      api<Run[]>(
        "GET",
        `${apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}/runs`}?limit=${RECENT_RUNS}&reverse=true`,
        "runs",
      ),
    [namespace, pipeline],
  );
  const sets = recentVariableSets([...(recent.value ?? []), ...(from ? [from] : [])]);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  // Without a run to repeat, the last run's variables are the likeliest next ones.
  useEffect(() => {
    const last = sets[0];
    if (chosen !== undefined || !recent.value || !last) return;
    setChosen(String(last.runId));
    setRows(last.variables);
  }, [recent.value]);
  const pick = (value: string) => {
    setChosen(value);
    setRows(sets.find((set) => String(set.runId) === value)?.variables ?? []);
  };
  const update = (index: number, change: Partial<Row>) =>
    setRows(rows.map((row, at) => (at === index ? { ...row, ...change } : row)));

  const start = async () => {
    const checked = variablesToStart(rows);
    if ("problem" in checked) {
      setError(checked.problem);
      return;
    }
    const { variables } = checked;
    setBusy(true);
    setError("");
    try {
      const run = await api<Run>(
        "POST",
        apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}/runs`,
        "run",
        {
          variables,
        },
      );
      onClose();
      navigate(paths.run(namespace, pipeline, run.run_id));
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === "RUNS_PAUSED") runsPaused.value = true;
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="start-run-title" onClose={onClose}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <h2 id="start-run-title">
          {from
            ? `Run ${pipeline} again with the variables of run ${from.run_id}`
            : `Start a run of ${pipeline}`}
        </h2>
        <p class="hint">
          Variables reach every task as environment variables; they override the pipeline's own.
        </p>
        {sets.length > 0 && (
          <label class="variable-sets">
            Variables of{" "}
            <select
              aria-label="Variables of an earlier run"
              value={chosen ?? ""}
              onChange={(event) => pick(event.currentTarget.value)}
            >
              {sets.map((set) => (
                <option key={set.runId} value={String(set.runId)}>
                  {describeSet(set)}
                </option>
              ))}
              <option value="">none</option>
            </select>
          </label>
        )}
        {rows.map((row, index) => (
          <div class="variable-row" key={index}>
            <input
              aria-label="Variable name"
              placeholder="NAME"
              value={row.key}
              onInput={(event) => update(index, { key: event.currentTarget.value })}
            />
            <input
              aria-label="Variable value"
              placeholder="value"
              value={row.value}
              onInput={(event) => update(index, { value: event.currentTarget.value })}
            />
            <button
              type="button"
              aria-label="Remove variable"
              onClick={() => setRows(rows.filter((_, at) => at !== index))}
            >
              ×
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows([...rows, { key: "", value: "" }])}>
          Add variable
        </button>
        {error && (
          <p class="error-note" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Start
          </button>
        </div>
      </form>
    </dialog>
  );
}
