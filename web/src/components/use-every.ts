/**
 * Calls `tick` every `ms` while the tab is visible, and at once when it becomes visible again: for what no event
 * announces (a replica's heartbeat), on the one page that shows it. Stops when the page goes.
 */
import { useEffect, useRef } from "preact/hooks";

export function useEvery(ms: number, tick: () => void): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    const fire = () => {
      if (document.visibilityState === "visible") latest.current();
    };
    const timer = setInterval(fire, ms);
    document.addEventListener("visibilitychange", fire);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", fire);
    };
  }, [ms]);
}
