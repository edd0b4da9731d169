/** A state or status word with its colour, as a small pill. */

export function StatusPill({ value }: { value: string }) {
  return <span class={`pill pill-${value}`}>{value}</span>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error-note" role="alert">
      {message}
    </p>
  );
}
