/**
 * Lines read from a log route as it grows, batched into one re-render per animation frame: a task printing
 * thousands of lines a second re-renders at most 60 times a second.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { streamLines } from "../api/log-stream.ts";

export interface LineStream {
  lines: string[];
  version: number;
  following: boolean;
  error: unknown;
}

/**
 * Reads `path` (undefined: nothing to read) with `follow=true` while `follow` holds; `onFollowEnd` is called when
 * a followed log ends by itself (the server closes it when the attempt writing it ends).
 */
export function useLineStream(
  path: string | undefined,
  follow: boolean,
  onFollowEnd?: () => void,
): LineStream {
  const lines = useRef<string[]>([]);
  const followEnd = useRef(onFollowEnd);
  followEnd.current = onFollowEnd;
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const [following, setFollowing] = useState(false);
  useEffect(() => {
    lines.current = [];
    setVersion((value) => value + 1);
    setError(undefined);
    if (!path) return;
    const abort = new AbortController();
    let frame = 0;
    setFollowing(follow);
    streamLines(
      `${path}${follow ? "?follow=true" : ""}`,
      (batch) => {
        // A loop, not push(...batch): a whole log read at once can exceed the engine's argument limit.
        for (const line of batch) lines.current.push(line);
        if (!frame) {
          frame = requestAnimationFrame(() => {
            frame = 0;
            setVersion((value) => value + 1);
          });
        }
      },
      abort.signal,
    )
      .catch((failure: unknown) => {
        if (!abort.signal.aborted) setError(failure);
      })
      .finally(() => {
        if (abort.signal.aborted) return;
        setFollowing(false);
        setVersion((value) => value + 1);
        if (follow) followEnd.current?.();
      });
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [path, follow]);
  return { lines: lines.current, version, following, error };
}
