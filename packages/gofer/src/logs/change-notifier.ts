/**
 * In-process "this log changed" signals, keyed by log file path. Writers and `finish` notify; followers subscribe
 * instead of polling. A topic's entry is dropped with its last listener, so finished logs cost nothing.
 */
export class ChangeNotifier {
  readonly #listeners = new Map<string, Set<() => void>>();

  /** Returns the unsubscribe function. */
  subscribe(topic: string, listener: () => void): () => void {
    let listeners = this.#listeners.get(topic);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(topic, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(topic) === listeners) this.#listeners.delete(topic);
    };
  }

  notify(topic: string): void {
    const listeners = this.#listeners.get(topic);
    if (!listeners) return;
    for (const listener of [...listeners]) listener();
  }

  /** Listeners of every topic. */
  totalListeners(): number {
    let total = 0;
    for (const listeners of this.#listeners.values()) total += listeners.size;
    return total;
  }

  listenerCount(topic: string): number {
    return this.#listeners.get(topic)?.size ?? 0;
  }
}
