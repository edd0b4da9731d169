/**
 * Loads something from the API and keeps it with its error; `reload` fetches it again shortly (called when an
 * event says it changed). A reload keeps showing the previous value until the new one arrives, so pages do not
 * flicker.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

const COALESCE_MS = 50;

export interface Resource<T> {
  value: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useResource<T>(load: () => Promise<T>, keys: unknown[]): Resource<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const fetchNow = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (next) => {
        if (mine !== generation.current) return;
        setValue(next);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setError(failure);
        setLoading(false);
      },
    );
  }, keys);
  // Events come in bursts (a run's tasks start and end together): the reloads of one burst become one request.
  const reload = useCallback(() => {
    if (pending.current !== undefined) return;
    pending.current = setTimeout(() => {
      pending.current = undefined;
      fetchNow();
    }, COALESCE_MS);
  }, [fetchNow]);
  useEffect(() => {
    setValue(undefined);
    fetchNow();
    return () => {
      clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, keys);
  return { value, error, loading, reload };
}
