/**
 * Delivers run notifications: part of the work only the server doing the work (the leading replica) does, started
 * and stopped with it (service/work-duties.ts). Its promises, in order:
 *
 * 1. A run that ends (or a task that fails) in a pipeline with an enabled target asking for that event gets one
 *    delivery per target, stored (`pending`) in one transaction with the progress mark, before anything is sent.
 *    It listens to this server's own events only: the replica that does the work is the one that stores them.
 * 2. At start it catches up on the events stored after the progress mark (a crash between an event's commit and
 *    its deliveries, or a new leader taking over), and resumes every pending delivery at its due time. A
 *    delivery is made at most once per target and event (a unique key), so hearing an event twice sends it once.
 *    The mark moves with each event's deliveries, and past the events that fired nothing every minute and at a
 *    clean stop, so a start reads little of the event log.
 * 3. Each attempt is one POST with a timeout. A 2xx succeeds; no answer, a 5xx, 408 or 429 is retried after the
 *    first backoff, doubling, up to the configured attempts; any other answer fails at once (domain/notifications.ts).
 *    The outcome is stored after the attempt, so a crash mid-send sends it again: delivery is at least once, and
 *    the `X-Gofer-Delivery` id, the same on every attempt, lets a receiver drop a repeat.
 * 4. A delivery that fails counts against its target; a success clears the count. At the configured count in a
 *    row the target is disabled, with the reason, and its remaining pending deliveries are skipped when due.
 * 5. Stopping aborts the sends in flight without recording them (they stay pending for the next start) and waits
 *    for them to end.
 */
import {
  DELIVERIES_KEPT,
  failingReason,
  type NotifiableEvent,
  notifiableEvent,
  retryDelayMs,
} from "../domain/notifications.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { SecretStore } from "../secrets/secret-store.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  advanceNotificationProgress,
  countTargetFailure,
  disableFailingTarget,
  getDelivery,
  getNotificationProgress,
  getNotificationTarget,
  insertDelivery,
  listEnabledTargetsFor,
  listPendingDeliveries,
  newestEventId,
  pageEventsOfKinds,
  pruneDeliveries,
  recordDeliveryAttempt,
  resetTargetFailures,
  type StoredDelivery,
} from "../storage/notifications-store.ts";
import { getRun } from "../storage/runs-store.ts";
import { getTaskExecution } from "../storage/task-executions-store.ts";
import { SerialQueue } from "../support/serial-queue.ts";
import { attemptDelivery } from "./delivery-attempt.ts";
import { type EndDetails, eventPayload, newDeliveryId } from "./notification-payload.ts";
import { SendStoppedError } from "./notification-sender.ts";

export interface DeliverySettings {
  /** How long one attempt may take, answer included. */
  timeoutMs: number;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** The wait after the first failed attempt; each further wait doubles. */
  firstBackoffMs: number;
  /** Failed deliveries in a row after which a target is disabled. */
  disableAfter: number;
}

export interface NotificationDispatcherOptions {
  db: GoferDb;
  bus: EventBus;
  secrets: SecretStore;
  settings: DeliverySettings;
  /** Where users reach the web UI, for links to runs; undefined when the server serves none. */
  webUrl: () => string | undefined;
  userAgent: string;
  log: { info: (message: string) => void; error: (message: string, error?: unknown) => void };
}

/** The Gofer event kinds that may fire a notification. */
const NOTIFIABLE_KINDS = ["completed_run", "completed_task_execution"] as const;
const CATCH_UP_PAGE = 500;
/** Sends in flight at once: a run ending in a namespace with many targets must not open a socket per target at once. */
const CONCURRENT_SENDS = 16;
/** When storing an outcome fails (the database is away), the attempt is made again after this long. */
const STORAGE_RETRY_MS = 5_000;
/**
 * How often the progress mark is moved past the events that fired nothing, so a start after a crash catches up on
 * at most this much of the event log, however long the server ran without a target firing.
 */
const PROGRESS_FLUSH_MS = 60_000;

export class NotificationDispatcher {
  readonly #options: NotificationDispatcherOptions;
  readonly #recording = new SerialQueue();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #waiting: Array<() => void> = [];
  #sending = 0;
  #running = false;
  /** The newest event id this server's bus delivered; its deliveries, if any, are queued or made. */
  #heard = 0;
  /** The progress mark as last stored. */
  #stored = 0;
  /**
   * Set when making an event's deliveries failed: the mark then stays where it is, so the next start catches up
   * on that event again (the deliveries made meanwhile are not made twice).
   */
  #gap = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #stop = new AbortController();
  #unsubscribe: (() => void) | undefined;

  constructor(options: NotificationDispatcherOptions) {
    this.#options = options;
  }

  /** Listens for events, catches up on those it missed, and resumes pending deliveries. */
  async start(): Promise<void> {
    const { db, bus, log } = this.#options;
    this.#running = true;
    this.#gap = false;
    this.#stop = new AbortController();
    this.#unsubscribe = bus.subscribe((event) => {
      const notifiable = notifiableEvent(event);
      if (notifiable) void this.#record(() => this.#makeDeliveries([notifiable]));
      this.#heard = Math.max(this.#heard, Number(event.id));
    });
    await this.#record(() => this.#catchUp());
    this.#flushTimer = setInterval(() => void this.#flush(), PROGRESS_FLUSH_MS);
    this.#flushTimer.unref();
    try {
      for (const pending of await listPendingDeliveries(db)) {
        this.#schedule(pending.delivery_id, pending.next_attempt);
      }
    } catch (error) {
      log.error("could not resume pending notification deliveries; they are sent at the next start", error);
    }
  }

  /** Makes the deliveries of the events already heard, stores the mark past them, and ends the sends in flight. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    clearInterval(this.#flushTimer);
    await this.#flush();
    this.#running = false;
    this.#stop.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const release of this.#waiting.splice(0)) release();
    await this.#recording.drain();
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /** Event handling one piece at a time, in arrival order; a failure is logged, never thrown at the bus. */
  #record(work: () => Promise<void>): Promise<void> {
    return this.#recording.run("events", work).catch((error: unknown) => {
      this.#gap = true;
      this.#options.log.error("could not store notification deliveries for an event", error);
    });
  }

  /**
   * Moves the mark to the newest event heard so far. Queued behind the work of every event heard before it, so
   * it never passes an event whose deliveries are not made yet.
   */
  #flush(): Promise<void> {
    const upTo = this.#heard;
    return this.#record(async () => {
      if (this.#gap) {
        // An event whose deliveries could not be stored is caught up on from the mark once storage answers
        // again (a delivery already made is not made twice), not only at the next start.
        this.#gap = false;
        await this.#catchUp();
        return;
      }
      if (upTo <= this.#stored) return;
      await advanceNotificationProgress(this.#options.db, upTo);
      this.#stored = upTo;
    });
  }

  async #advance(db: GoferDb, eventId: number): Promise<void> {
    if (this.#gap) return;
    await advanceNotificationProgress(db, eventId);
    this.#stored = Math.max(this.#stored, eventId);
  }

  async #catchUp(): Promise<void> {
    const { db } = this.#options;
    let after = await getNotificationProgress(db);
    if (after === undefined) {
      // The first start with notifications: the events before it are history, not news.
      await this.#advance(db, await newestEventId(db));
      return;
    }
    this.#stored = after;
    for (;;) {
      const page = await pageEventsOfKinds(db, NOTIFIABLE_KINDS, after, CATCH_UP_PAGE);
      const last = page.at(-1);
      if (!last) return;
      await this.#makeDeliveries(page.flatMap((event) => notifiableEvent(event) ?? []));
      after = Number(last.id);
      await this.#advance(db, after);
      if (page.length < CATCH_UP_PAGE || !this.#running) return;
    }
  }

  /** Stores the deliveries the events fire, each event's in one transaction with the progress mark. */
  async #makeDeliveries(events: NotifiableEvent[]): Promise<void> {
    const { db, webUrl } = this.#options;
    for (const event of events) {
      if (!this.#running) return;
      const targets = (await listEnabledTargetsFor(db, event.namespace_id, event.pipeline_id)).filter(
        // A target made after the event (seen while catching up) was not asked about it.
        (target) => target.events.includes(event.event) && target.created <= event.emitted,
      );
      if (targets.length === 0) continue;
      const details = await this.#endDetails(event);
      const now = Date.now();
      const made: string[] = [];
      await db.transaction().execute(async (tx) => {
        for (const target of targets) {
          const deliveryId = newDeliveryId();
          const stored: StoredDelivery = {
            delivery: {
              delivery_id: deliveryId,
              notification_id: target.notification_id,
              event: event.event,
              event_id: String(event.event_id),
              pipeline_id: event.pipeline_id,
              run_id: event.run_id,
              task_execution_id: event.task_execution_id ?? null,
              state: "pending",
              state_reason: null,
              attempts: [],
              next_attempt: now,
              created: now,
              completed: 0,
            },
            payload: eventPayload(event, target, deliveryId, details, webUrl()),
          };
          if (await insertDelivery(tx, stored)) made.push(deliveryId);
        }
        if (!this.#gap) await advanceNotificationProgress(tx, event.event_id);
      });
      this.#stored = Math.max(this.#stored, event.event_id);
      for (const deliveryId of made) this.#schedule(deliveryId, now);
    }
  }

  async #endDetails(event: NotifiableEvent): Promise<EndDetails> {
    const { db } = this.#options;
    const { namespace_id, pipeline_id, run_id, task_execution_id } = event;
    if (task_execution_id === undefined) {
      const run = await getRun(db, namespace_id, pipeline_id, run_id);
      return { status_reason: run?.status_reason ?? null };
    }
    const task = await getTaskExecution(db, {
      namespace_id,
      pipeline_id,
      run_id,
      task_id: task_execution_id,
    });
    return { status_reason: task?.status_reason ?? null, exit_code: task?.exit_code ?? null };
  }

  #schedule(deliveryId: string, at: number): void {
    if (!this.#running || this.#timers.has(deliveryId) || this.#inFlight.has(deliveryId)) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(deliveryId);
        this.#launch(deliveryId);
      },
      Math.max(0, at - Date.now()),
    );
    this.#timers.set(deliveryId, timer);
  }

  #launch(deliveryId: string): void {
    const work = this.#withSlot(() => this.#attempt(deliveryId))
      .catch((error: unknown): number | undefined => {
        if (error instanceof SendStoppedError) return undefined;
        this.#options.log.error(
          `could not store the outcome of notification delivery ${deliveryId}; trying it again later`,
          error,
        );
        return Date.now() + STORAGE_RETRY_MS;
      })
      .then((retryAt) => {
        this.#inFlight.delete(deliveryId);
        if (retryAt !== undefined) this.#schedule(deliveryId, retryAt);
      });
    this.#inFlight.set(deliveryId, work);
  }

  async #withSlot<T>(work: () => Promise<T | undefined>): Promise<T | undefined> {
    while (this.#sending >= CONCURRENT_SENDS) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      if (!this.#running) return undefined;
    }
    this.#sending++;
    try {
      return await work();
    } finally {
      this.#sending--;
      this.#waiting.shift()?.();
    }
  }

  /** One attempt of the delivery and its outcome stored; answers when to try again, if it is to be. */
  async #attempt(deliveryId: string): Promise<number | undefined> {
    const { db, secrets, settings } = this.#options;
    if (!this.#running) return undefined;
    const stored = await getDelivery(db, deliveryId);
    if (stored?.delivery.state !== "pending") return undefined;
    const { delivery, payload } = stored;
    const target = await getNotificationTarget(db, delivery.notification_id);
    // Deleted with its target in between: nothing left to record.
    if (!target) return undefined;
    if (target.notification.state !== "enabled") {
      await recordDeliveryAttempt(db, deliveryId, {
        attempts: delivery.attempts,
        state: "skipped",
        state_reason: "the target was disabled before this delivery was sent",
        next_attempt: 0,
        completed: Date.now(),
      });
      return undefined;
    }
    const attempt = delivery.attempts.length + 1;
    const { record, verdict } = await attemptDelivery(target, payload, attempt, {
      secrets,
      timeoutMs: settings.timeoutMs,
      userAgent: this.#options.userAgent,
      stop: this.#stop.signal,
    });
    const attempts = [...delivery.attempts, record];
    const now = Date.now();
    if (verdict.outcome === "succeeded") {
      await db.transaction().execute(async (tx) => {
        const recorded = await recordDeliveryAttempt(tx, deliveryId, {
          attempts,
          state: "succeeded",
          state_reason: null,
          next_attempt: 0,
          completed: now,
        });
        if (recorded) await resetTargetFailures(tx, delivery.notification_id);
      });
    } else if (verdict.outcome === "retry" && attempt < settings.maxAttempts) {
      const next = now + retryDelayMs(attempt, settings.firstBackoffMs);
      const recorded = await recordDeliveryAttempt(db, deliveryId, {
        attempts,
        state: "pending",
        state_reason: null,
        next_attempt: next,
        completed: 0,
      });
      return recorded ? next : undefined;
    } else {
      const reason =
        verdict.outcome === "retry"
          ? `gave up after ${attempt} attempt(s): ${verdict.reason}`
          : verdict.reason;
      const disabled = await db.transaction().execute(async (tx) => {
        const recorded = await recordDeliveryAttempt(tx, deliveryId, {
          attempts,
          state: "failed",
          state_reason: reason,
          next_attempt: 0,
          completed: now,
        });
        if (!recorded) return false;
        const failures = await countTargetFailure(tx, delivery.notification_id);
        if (failures === undefined || failures < settings.disableAfter) return false;
        return disableFailingTarget(tx, delivery.notification_id, failingReason(failures, reason), now);
      });
      if (disabled) {
        this.#options.log.info(
          `notification target ${delivery.notification_id} disabled after ${settings.disableAfter} or more failed deliveries in a row`,
        );
      }
    }
    await pruneDeliveries(db, delivery.notification_id, DELIVERIES_KEPT);
    return undefined;
  }
}
