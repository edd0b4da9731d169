/**
 * Loads something from the API and keeps it with its error; `reload` fetches it again (called when an event
 * says it changed). A reload keeps showing the previous value until the new one arrives, so pages do not flicker.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

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
  const reload = useCallback(() => {
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
  useEffect(() => {
    setValue(undefined);
    reload();
  }, keys);
  return { value, error, loading, reload };
}
