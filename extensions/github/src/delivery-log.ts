/**
 * The deliveries handled lately, so a redelivery (GitHub retries, or someone presses "Redeliver") starts
 * nothing twice. Per delivery it keeps the subscriptions a run was started for: a redelivery of one whose run
 * failed to start starts only that one. The oldest delivery is forgotten past the capacity.
 */
export const DELIVERY_LOG_CAPACITY = 1000;

export class DeliveryLog {
  readonly #started = new Map<string, Set<string>>();
  readonly #capacity: number;

  constructor(capacity = DELIVERY_LOG_CAPACITY) {
    this.#capacity = capacity;
  }

  /** Marks `subscription` as started for `delivery`; false when it already was. */
  claim(delivery: string, subscription: string): boolean {
    let started = this.#started.get(delivery);
    if (!started) {
      started = new Set();
      this.#started.set(delivery, started);
      while (this.#started.size > this.#capacity) {
        const oldest = this.#started.keys().next().value as string;
        this.#started.delete(oldest);
      }
    }
    if (started.has(subscription)) return false;
    started.add(subscription);
    return true;
  }

  /** Forgets a claim whose run did not start, so a redelivery tries again. */
  release(delivery: string, subscription: string): void {
    this.#started.get(delivery)?.delete(subscription);
  }

  has(delivery: string): boolean {
    return this.#started.has(delivery);
  }

  get size(): number {
    return this.#started.size;
  }
}
