/**
 * Two config versions as a line diff of their JSON: the version before the live one against the live one unless a
 * version was asked for (see compare-pair.ts), unchanged stretches folded. Long lines scroll inside the diff's own
 * box, never the page.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { PipelineConfig } from "../api/types.ts";
import { foldUnchanged } from "../diff/collapse.ts";
import { type ComparePair, comparePair } from "../diff/compare-pair.ts";
import { diffSummary } from "../diff/diff-summary.ts";
import { type DiffLine, lineDiff } from "../diff/line-diff.ts";
import "../styles/lists.css";

/** The parts of a config that define what runs, without bookkeeping that always differs. */
function comparable(config: PipelineConfig): string[] {
  const { name, description, parallelism, tasks } = config;
  return JSON.stringify({ name, description, parallelism, tasks }, null, 2).split("\n");
}

const MARK: Record<DiffLine["kind"], string> = { added: "+ ", removed: "- ", same: "  " };

export function ConfigDiff({
  configs,
  requested,
}: {
  configs: PipelineConfig[];
  requested?: number | undefined;
}) {
  const versions = configs.map((config) => config.version).sort((a, b) => b - a);
  const [picked, setPicked] = useState<ComparePair | undefined>(undefined);
  const [unfolded, setUnfolded] = useState<ReadonlySet<string>>(new Set());
  // A version asked for anew (a link followed) replaces what was picked by hand.
  useEffect(() => setPicked(undefined), [requested]);
  const pair = picked ?? comparePair(configs, requested);
  const before = configs.find((config) => config.version === pair?.from);
  const after = configs.find((config) => config.version === pair?.to);
  const lines = useMemo(
    () => (before && after ? lineDiff(comparable(before), comparable(after)) : []),
    [before, after],
  );
  if (!pair) return <p class="muted">Only one version: nothing to compare yet.</p>;
  const changed = lines.filter((line) => line.kind !== "same").length;
  const live = configs.find((config) => config.state === "live")?.version;
  const picker = (label: string, name: string, value: number, set: (version: number) => void) => (
    <label class="inline">
      {label}
      <select aria-label={name} value={value} onChange={(event) => set(Number(event.currentTarget.value))}>
        {versions.map((version) => (
          <option key={version} value={version}>
            v{version}
            {version === live ? " (live)" : ""}
          </option>
        ))}
      </select>
    </label>
  );
  const foldKey = (at: number) => `${pair.from}:${pair.to}:${at}`;
  return (
    <div class="config-compare">
      <div class="diff-pickers">
        {picker("Compare", "Compare version", pair.from, (from) => setPicked({ ...pair, from }))}
        {picker("with", "with version", pair.to, (to) => setPicked({ ...pair, to }))}
        <span class="muted" data-testid="diff-summary">
          {pair.from === pair.to ? "the same version" : diffSummary(lines)}
        </span>
      </div>
      {changed > 0 && (
        <section class="diff config-diff" aria-label={`Changes from v${pair.from} to v${pair.to}`}>
          {foldUnchanged(lines).map((hunk, index) =>
            hunk.kind === "folded" && !unfolded.has(foldKey(hunk.at)) ? (
              <button
                type="button"
                key={`fold-${hunk.at}`}
                class="diff-fold"
                onClick={() => setUnfolded(new Set(unfolded).add(foldKey(hunk.at)))}
              >
                {hunk.lines.length} unchanged lines
              </button>
            ) : (
              hunk.lines.map((line, at) => (
                <div key={`${index}-${at}`} class={`diff-line diff-${line.kind}`}>
                  {MARK[line.kind]}
                  {line.text}
                </div>
              ))
            ),
          )}
        </section>
      )}
    </div>
  );
}
