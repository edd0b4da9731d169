/** A state or status word with its colour, as a small pill; a failure's message, with what to do about it. */
import { ApiError } from "../api/client.ts";
import { session } from "../state/session.ts";

export function StatusPill({ value }: { value: string }) {
  return <span class={`pill pill-${value}`}>{value}</span>;
}

/** Why a run or task ended as it did: the reason's word (`timeout`, `superseded`…) and the server's sentence. */
export function ReasonText({
  reason,
}: {
  reason: { reason: string; description: string } | null | undefined;
}) {
  if (!reason) return null;
  return (
    <span data-reason={reason.reason}>
      <code class="reason-code">{reason.reason}</code>
      {reason.description}
    </span>
  );
}

/** The server's message says what was refused; this says what the person can do next. */
function permissionHint(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || !error.isPermission) return undefined;
  if (!session.token.value)
    return error.status === 403 ? "Sign in with an API token that may see this." : undefined;
  return "The signed-in token lacks this permission: sign in with another token, or ask an administrator for a role that grants it.";
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const hint = permissionHint(error);
  return (
    <p class="error-note" role="alert">
      {message}
      {hint && <span class="error-hint"> {hint}</span>}
    </p>
  );
}
