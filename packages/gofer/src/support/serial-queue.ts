// In support/ (imports nothing of the project): orchestrator, extension supervisor and API routes all use it.
/**
 * Runs async work one at a time per key, in call order. The orchestrator uses it so that two tasks of one
 * run finishing at the same instant cannot both decide what starts next.
 */
export class SerialQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every queued piece of work has finished. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
