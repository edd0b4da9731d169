/**
 * Lines read from a log route as it grows, batched into one re-render per animation frame: a task printing
 * thousands of lines a second re-renders at most 60 times a second.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { streamLines } from "../api/log-stream.ts";
import { type LogLineObject, streamLineObjects } from "./line-objects-stream.ts";

export interface LineStream {
  lines: string[];
  /**
   * Per line, the stream it came from and when it arrived (Unix epoch ms), for a log read `withStreams`; undefined
   * where the server does not know. Appended in step with `lines`.
   */
  streams: Array<LogLineObject["stream"]>;
  times: Array<number | undefined>;
  version: number;
  following: boolean;
  /** The read has ended: `lines` is the whole log (or all of it that could be read). */
  ended: boolean;
  error: unknown;
}

/**
 * Reads `path` (undefined: nothing to read) with `follow=true` while `follow` holds; `onFollowEnd` is called when
 * a followed log ends by itself (the server closes it when the attempt writing it ends). `withStreams` reads a
 * task log's line objects (`format=lines`), which say each line's stream and time.
 */
export function useLineStream(
  path: string | undefined,
  follow: boolean,
  onFollowEnd?: () => void,
  withStreams = false,
): LineStream {
  const lines = useRef<string[]>([]);
  const streams = useRef<Array<LogLineObject["stream"]>>([]);
  const times = useRef<Array<number | undefined>>([]);
  const followEnd = useRef(onFollowEnd);
  followEnd.current = onFollowEnd;
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const [following, setFollowing] = useState(false);
  const [ended, setEnded] = useState(false);
  useEffect(() => {
    lines.current = [];
    streams.current = [];
    times.current = [];
    setVersion((value) => value + 1);
    setError(undefined);
    setEnded(false);
    if (!path) return;
    const abort = new AbortController();
    let frame = 0;
    setFollowing(follow);
    const rendered = () => {
      if (!frame) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          setVersion((value) => value + 1);
        });
      }
    };
    const query = [...(follow ? ["follow=true"] : []), ...(withStreams ? ["format=lines"] : [])].join("&");
    const url = `${path}${query ? `?${query}` : ""}`;
    const reading = withStreams
      ? streamLineObjects(
          url,
          (batch) => {
            for (const item of batch) {
              lines.current.push(
                item.truncated
                  ? `${item.line} … [${item.truncated} more bytes: download the log]`
                  : item.line,
              );
              streams.current.push(item.stream);
              times.current.push(item.time);
            }
            rendered();
          },
          abort.signal,
        )
      : streamLines(
          url,
          (batch) => {
            // A loop, not push(...batch): a whole log read at once can exceed the engine's argument limit.
            for (const line of batch) lines.current.push(line);
            rendered();
          },
          abort.signal,
        );
    reading
      .catch((failure: unknown) => {
        if (!abort.signal.aborted) setError(failure);
      })
      .finally(() => {
        if (abort.signal.aborted) return;
        setFollowing(false);
        setEnded(true);
        setVersion((value) => value + 1);
        if (follow) followEnd.current?.();
      });
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [path, follow, withStreams]);
  return {
    lines: lines.current,
    streams: streams.current,
    times: times.current,
    version,
    following,
    ended,
    error,
  };
}
