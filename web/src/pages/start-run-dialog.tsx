/** "Start run" with optional variables; on success the page moves to the new run. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, apiPath } from "../api/client.ts";
import type { Run } from "../api/types.ts";
import { navigate, paths } from "../router.ts";
import { runsPaused } from "../state/system.ts";

interface Row {
  key: string;
  value: string;
}

export function StartRunDialog({
  namespace,
  pipeline,
  onClose,
}: {
  namespace: string;
  pipeline: string;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const update = (index: number, change: Partial<Row>) =>
    setRows(rows.map((row, at) => (at === index ? { ...row, ...change } : row)));

  const start = async () => {
    const variables: Record<string, string> = {};
    for (const row of rows) {
      if (!row.key.trim()) continue;
      variables[row.key.trim()] = row.value;
    }
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
        <h2 id="start-run-title">Start a run of {pipeline}</h2>
        <p class="hint">
          Variables reach every task as environment variables; they override the pipeline's own.
        </p>
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
