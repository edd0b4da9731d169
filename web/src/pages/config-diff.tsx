/** Two config versions side by side as a line diff of their JSON. */
import { useMemo, useState } from "preact/hooks";
import type { PipelineConfig } from "../api/types.ts";
import { lineDiff } from "../diff/line-diff.ts";

/** The parts of a config that define what runs, without bookkeeping that always differs. */
function comparable(config: PipelineConfig): string[] {
  const { name, description, parallelism, tasks } = config;
  return JSON.stringify({ name, description, parallelism, tasks }, null, 2).split("\n");
}

export function ConfigDiff({ configs }: { configs: PipelineConfig[] }) {
  const versions = configs.map((config) => config.version).sort((a, b) => a - b);
  const [from, setFrom] = useState(versions.at(-2) ?? versions[0] ?? 0);
  const [to, setTo] = useState(versions.at(-1) ?? 0);
  const before = configs.find((config) => config.version === from);
  const after = configs.find((config) => config.version === to);
  const lines = useMemo(
    () => (before && after ? lineDiff(comparable(before), comparable(after)) : []),
    [before, after],
  );
  if (versions.length < 2) return <p class="muted">Only one version: nothing to compare yet.</p>;
  const changed = lines.filter((line) => line.kind !== "same").length;
  const picker = (label: string, value: number, set: (version: number) => void) => (
    <label class="inline">
      {label}
      <select value={value} onChange={(event) => set(Number(event.currentTarget.value))}>
        {versions.map((version) => (
          <option key={version} value={version}>
            v{version}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div class="diff-block">
      <div class="diff-pickers">
        {picker("Compare", from, setFrom)}
        {picker("with", to, setTo)}
        <span class="muted">{changed === 0 ? "identical" : `${changed} changed lines`}</span>
      </div>
      <pre class="diff">
        {lines.map((line, index) => (
          <div key={index} class={`diff-${line.kind}`}>
            {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
            {line.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
