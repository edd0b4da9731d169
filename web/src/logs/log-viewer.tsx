/**
 * A log that stays smooth at 100,000 lines: rows have one fixed height, so only the rows in view (plus a few
 * either side) are in the DOM, placed under a spacer as tall as the whole log. While following (or when asked to
 * start at the end, where a failure's error is), new lines keep the view at the bottom unless the reader
 * scrolled up. Clicking a line selects it; a selected line is brought into view once it has arrived.
 *
 * Where the log says which stream each line came from, stderr lines carry a mark in the gutter and their own
 * colour, explained beside the tools; a "Timestamps" toggle shows the local time each line arrived.
 *
 * Once the whole log is here, the box is as tall as its lines up to its usual height, so a two-line log is not a
 * tall empty box; while lines may still come it keeps that height, so the page does not jump as they arrive. A
 * selected line past the end of a whole log is said, and the last lines are shown.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { Time } from "../components/time.tsx";
import { lineCountText, pastEndNote } from "./log-counts.ts";
import { clockTime, hasStderr, rememberTimestamps, timestampsRemembered } from "./log-line-marks.ts";
import "../styles/log-streams.css";
import "../styles/log-viewer.css";

const ROW_HEIGHT = 18;
const OVERSCAN = 20;

interface Props {
  lines: string[];
  /** Per line, the stream it came from (absent, or undefined for a line, where unknown); appended with `lines`. */
  streams?: ReadonlyArray<"stdout" | "stderr" | undefined>;
  /** Per line, when it arrived (Unix epoch ms; undefined where unknown); appended with `lines`. */
  times?: ReadonlyArray<number | undefined>;
  /** Changes whenever lines were appended (the array itself is appended to in place). */
  version: number;
  fileName: string;
  following: boolean;
  /** The whole log is here: no more lines will come. */
  ended?: boolean;
  /** The accessible name of the log region. */
  label?: string;
  /** Show the last lines first, even when not following. */
  startAtEnd?: boolean;
  /** The selected line, counted from 1. */
  selectedLine?: number | undefined;
  /** Called with the clicked line, or undefined when the selected line is clicked again. */
  onSelectLine?: ((line: number | undefined) => void) | undefined;
}

export function LogViewer({
  lines,
  streams,
  times,
  version,
  fileName,
  following,
  ended = false,
  label = "Task log",
  startAtEnd = false,
  selectedLine,
  onSelectLine,
}: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(400);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState(0);
  const [timestamps, setTimestamps] = useState(timestampsRemembered);
  // Counted per append, not per render: a 100,000-line log is scanned once per batch at most.
  const stderrShown = useMemo(() => (streams ? hasStderr(streams) : false), [streams, version]);
  const timed = useMemo(() => (times ? times.some((time) => time !== undefined) : false), [times, version]);
  const stickToBottom = useRef(selectedLine === undefined);
  /** Whether the selected line given at first has been scrolled to (it may arrive long after the first render). */
  const broughtIntoView = useRef(selectedLine === undefined);

  const matches = useMemo(() => {
    if (!query) return [];
    const needle = query.toLowerCase();
    const found: number[] = [];
    lines.forEach((line, index) => {
      if (line.toLowerCase().includes(needle)) found.push(index);
    });
    return found;
    // `version` marks appends to `lines`, which is the same array throughout.
  }, [query, version, lines]);

  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (!broughtIntoView.current && selectedLine !== undefined && lines.length >= selectedLine) {
      broughtIntoView.current = true;
      element.scrollTop = Math.max(0, (selectedLine - 1) * ROW_HEIGHT - element.clientHeight / 2);
      setScrollTop(element.scrollTop);
      return;
    }
    if (!broughtIntoView.current && ended) {
      // The linked line never came: its note says so, and the end is as near to it as the log goes.
      broughtIntoView.current = true;
      element.scrollTop = element.scrollHeight;
      setScrollTop(element.scrollTop);
      return;
    }
    if ((following || startAtEnd) && stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [version, following, startAtEnd, ended]);

  const jumpTo = (matchIndex: number) => {
    if (matches.length === 0) return;
    const wrapped = (matchIndex + matches.length) % matches.length;
    setCurrent(wrapped);
    const line = matches[wrapped] ?? 0;
    stickToBottom.current = false;
    if (scroller.current) scroller.current.scrollTop = Math.max(0, line * ROW_HEIGHT - viewHeight / 2);
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(lines.length, Math.ceil((scrollTop + viewHeight) / ROW_HEIGHT) + OVERSCAN);
  const currentLine = matches.length > 0 ? matches[Math.min(current, matches.length - 1)] : undefined;
  const matchSet = new Set(matches.filter((line) => line >= first && line < last));
  const pastEnd = ended ? pastEndNote(selectedLine, lines.length) : undefined;

  const download = () => {
    const url = URL.createObjectURL(new Blob([lines.join("\n"), "\n"], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <div class="log-panel">
      <div class="log-tools">
        <label class="search">
          <span class="visually-hidden">Search log</span>
          <input
            type="search"
            placeholder="Search log"
            aria-label="Search log"
            value={query}
            onInput={(event) => {
              setQuery(event.currentTarget.value);
              setCurrent(0);
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter") jumpTo(current + (event.shiftKey ? -1 : 1));
            }}
          />
        </label>
        <span class="match-count" aria-live="polite">
          {query
            ? matches.length
              ? `${Math.min(current, matches.length - 1) + 1} of ${matches.length}`
              : "no match"
            : ""}
        </span>
        <button
          type="button"
          onClick={() => jumpTo(current - 1)}
          disabled={!matches.length}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button
          type="button"
          onClick={() => jumpTo(current + 1)}
          disabled={!matches.length}
          aria-label="Next match"
        >
          ↓
        </button>
        {stderrShown && (
          <span class="log-legend" title="Lines the task wrote to stderr carry this mark and colour">
            <span class="log-legend-mark" aria-hidden="true" /> stderr
          </span>
        )}
        {timed && (
          <label class="log-timestamps-toggle">
            <input
              type="checkbox"
              checked={timestamps}
              onChange={(event) => {
                setTimestamps(event.currentTarget.checked);
                rememberTimestamps(event.currentTarget.checked);
              }}
            />
            Timestamps
          </label>
        )}
        <span class="line-count">{lineCountText(lines.length)}</span>
        <button type="button" onClick={download} disabled={lines.length === 0}>
          Download log
        </button>
      </div>
      {pastEnd && (
        <p class="log-note" role="status" data-testid="log-past-end">
          {pastEnd}
        </p>
      )}
      <div
        class={`log${ended ? " log-fitted" : ""}`}
        role="log"
        aria-label={label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        tabIndex={0}
        ref={scroller}
        onScroll={(event) => {
          const element = event.currentTarget;
          setScrollTop(element.scrollTop);
          stickToBottom.current =
            element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT * 2;
        }}
      >
        <div style={{ height: `${lines.length * ROW_HEIGHT}px`, position: "relative" }}>
          {lines.slice(first, last).map((line, offset) => {
            const index = first + offset;
            const kind = index === currentLine ? " log-current" : matchSet.has(index) ? " log-match" : "";
            const selected = index + 1 === selectedLine;
            const stderr = streams?.[index] === "stderr";
            const time = timestamps ? times?.[index] : undefined;
            return (
              // The line number is drawn from data-line by CSS, so a row's text is exactly the log line. A click
              // that ends a text selection copies text, not a line to link to.
              // biome-ignore lint/a11y/useKeyWithClickEvents: the selection is a pointer shortcut; the search reaches every line by keyboard
              // biome-ignore lint/a11y/noStaticElementInteractions: a log row stays plain text for screen readers
              <div
                key={index}
                class={`log-line${kind}${selected ? " log-selected" : ""}${stderr ? " log-stderr" : ""}`}
                data-line={index + 1}
                data-stream={streams?.[index]}
                style={{ top: `${index * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }}
                onClick={
                  onSelectLine &&
                  (() => {
                    if (getSelection()?.isCollapsed === false) return;
                    // A line chosen to point at stays put while more lines arrive.
                    stickToBottom.current = false;
                    onSelectLine(selected ? undefined : index + 1);
                  })
                }
              >
                {timestamps && (
                  <span class="log-time">
                    {time === undefined ? "" : <Time at={time} show={clockTime} />}
                  </span>
                )}
                {line}
              </div>
            );
          })}
        </div>
        {lines.length === 0 && (
          <p class="empty log-empty">{following ? "Waiting for output…" : "No output."}</p>
        )}
      </div>
    </div>
  );
}
