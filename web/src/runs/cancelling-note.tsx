/** A run being cancelled: since when, who asked, and the grace period counting down. */
import type { Run } from "../api/types.ts";
import { Time } from "../components/time.tsx";
import { askedBy, graceLeft, type RunCancellation } from "./cancellation.ts";

export function CancellingNote({
  run,
  cancellation,
  now,
}: {
  run: Run;
  cancellation: RunCancellation | undefined;
  now: number;
}) {
  return (
    <p class="cancelling-note" role="status" data-testid="cancelling">
      <strong>Cancelling</strong>
      {cancellation ? (
        <>
          {" "}
          — {askedBy(run, cancellation)} <Time at={cancellation.requested} />;{" "}
          <span data-testid="grace-left">{graceLeft(cancellation, now)}</span>.
        </>
      ) : (
        ": running tasks are being asked to stop."
      )}
    </p>
  );
}
