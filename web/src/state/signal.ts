/** A value that components re-render on when it changes: the whole of the UI's shared state. */
import { useEffect, useState } from "preact/hooks";

export class Signal<T> {
  #value: T;
  readonly #listeners = new Set<() => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get value(): T {
    return this.#value;
  }

  set value(next: T) {
    if (Object.is(next, this.#value)) return;
    this.#value = next;
    for (const listener of [...this.#listeners]) listener();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export function useSignal<T>(signal: Signal<T>): T {
  const [, setRenders] = useState(0);
  useEffect(() => signal.subscribe(() => setRenders((count) => count + 1)), [signal]);
  return signal.value;
}
