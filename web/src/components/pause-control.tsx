/**
 * The operator's server-wide pause of new runs. Pausing stops every pipeline's new runs at once, from every
 * source, so it is asked for in a dialog that says exactly that; resuming only undoes it and needs no question.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { useSignal } from "../state/signal.ts";
import { runsPaused, setRunsPaused } from "../state/system.ts";

/** "Pause runs…" (with its confirmation) or "Resume runs", whichever applies; nothing until the state is known. */
export function PauseRunsControl({ onDone }: { onDone?: () => void }) {
  const paused = useSignal(runsPaused);
  const [confirming, setConfirming] = useState(false);
  if (paused === undefined) return null;
  if (paused) return <ResumeRunsButton onDone={onDone} />;
  return (
    <>
      <button type="button" class="warn" onClick={() => setConfirming(true)} aria-haspopup="dialog">
        Pause runs…
      </button>
      {confirming && (
        <ConfirmPause
          onClose={() => {
            setConfirming(false);
            onDone?.();
          }}
        />
      )}
    </>
  );
}

export function ResumeRunsButton({ onDone }: { onDone?: (() => void) | undefined }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  return (
    <>
      <button
        type="button"
        class="primary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setProblem("");
          try {
            await setRunsPaused(false);
            onDone?.();
          } catch (error) {
            setProblem(error instanceof Error ? error.message : String(error));
          } finally {
            setBusy(false);
          }
        }}
      >
        Resume runs
      </button>
      {problem && (
        <span class="error-note" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}

function ConfirmPause({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const pause = async () => {
    setBusy(true);
    setProblem("");
    try {
      await setRunsPaused(true);
      onClose();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="pause-title"
      aria-describedby="pause-effect"
      onClose={onClose}
    >
      <h2 id="pause-title">Pause new runs on this server?</h2>
      <p id="pause-effect">
        No pipeline in any namespace will start a new run until an admin resumes: starts from this page, the
        CLI, the API and extensions (timers, schedules, webhooks) are all refused. Runs already started go on.
      </p>
      {problem && (
        <p class="error-note" role="alert">
          {problem}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" onClick={onClose} autofocus>
          Keep accepting runs
        </button>
        <button type="button" class="danger" onClick={pause} disabled={busy}>
          Pause new runs
        </button>
      </div>
    </dialog>
  );
}
