/**
 * An event kind (`started_task_execution_cancellation`) that may break only after its underscores: a kind cut
 * mid-word reads as two different words, and these names have no other natural break. Pair it with the
 * `.kind-name` style, which forbids breaking anywhere else.
 */
export function KindName({ name }: { name: string }) {
  const parts = name.split("_");
  return (
    <span class="kind-name">
      {parts.flatMap((part, index) =>
        index < parts.length - 1 ? [`${part}_`, <wbr key={`${index}-${part}`} />] : [part],
      )}
    </span>
  );
}
