/**
 * Container exits as the engine announces them, ahead of its wait endpoint. Docker answers a wait only once it has
 * cleaned up after the container (unmounted its filesystem, written its state down), and it does that holding the
 * container's lock, after it has announced the exit as a `die` event carrying the exit code. On a busy host that
 * cleanup takes from a few milliseconds to seconds, and every task's completion (so every dependent's start, and
 * every run's end) waited for it.
 *
 * The engine lists such a container as running until its cleanup is done; the scheduler lists it as exited, so
 * that what a wait said and what a listing says agree. An exit is forgotten once the container is removed (by
 * Gofer, or by anyone: the engine announces that too), so a wait for a container that is gone says so.
 *
 * The wait call stays the authority ({@link DockerScheduler.wait} takes whichever answers first), so an event that
 * never comes (the stream broken, an engine without it) costs only the head start. One stream serves every
 * container: opened when a container is started or waited for, kept while there is something to wait for, and
 * closed once idle; it never keeps the process alive.
 */
import { MANAGED_LABEL } from "../container-labels.ts";
import type { ContainerEventMessage, EngineClient } from "./engine-client.ts";

/** How long after the last start or wait, with nobody waiting, the stream is closed. */
const IDLE_MS = 30_000;
/** How long an announced exit is kept for a wait that comes after it (a wait retried, a task adopted). */
const KEEP_MS = 5 * 60_000;
/**
 * Replayed when the stream opens (what the engine still holds of it): covers the exits of containers started
 * while the stream was being opened.
 */
const REPLAY_SECONDS = 10;
/** How long after a failure to open the stream no start or wait tries again. */
const RETRY_MS = 30_000;

type EventStream = AsyncIterable<ContainerEventMessage> & { destroy(): void };

export class ExitEvents {
  readonly #client: EngineClient;
  /** Exits heard, by container id, with when they were heard. */
  readonly #exits = new Map<string, { exitCode: number; heardAt: number }>();
  readonly #waiters = new Map<string, Set<(exitCode: number) => void>>();
  /** Settles once the stream is open, or failed to open; undefined while there is none. */
  #opened: Promise<void> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #stream: EventStream | undefined;
  #lastUse = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(client: EngineClient) {
    this.#client = client;
  }

  /**
   * Opens the stream unless it is open (or failed to open a moment ago). Called before a container starts and
   * never waited for: the stream replays the exits since shortly before this call, whenever it is established.
   */
  listen(): void {
    this.#lastUse = Date.now();
    if (this.#opened || this.#lastUse - this.#failedAt < RETRY_MS) return;
    this.#opened = this.#open();
  }

  /**
   * Resolves with the exit code once the engine announces the container's exit (at once if it has already).
   * Never rejects: once `signal` aborts it forgets the container and never settles.
   */
  exitOf(id: string, signal: AbortSignal): Promise<number> {
    this.listen();
    const heard = this.#exits.get(id);
    if (heard !== undefined) return Promise.resolve(heard.exitCode);
    return new Promise((resolve) => {
      if (signal.aborted) return;
      const waiters = this.#waiters.get(id) ?? new Set();
      const forget = () => {
        waiters.delete(settle);
        if (waiters.size === 0) this.#waiters.delete(id);
      };
      const settle = (exitCode: number) => {
        signal.removeEventListener("abort", forget);
        forget();
        resolve(exitCode);
      };
      signal.addEventListener("abort", forget, { once: true });
      waiters.add(settle);
      this.#waiters.set(id, waiters);
    });
  }

  /** Whether the engine has announced the container's exit (in the last few minutes) and not its removal. */
  hasExited(id: string): boolean {
    return this.#exits.has(id);
  }

  /** The container is gone: a wait must hear so from the engine, not the exit heard before. */
  forget(id: string): void {
    this.#exits.delete(id);
  }

  async #open(): Promise<void> {
    let stream: EventStream;
    try {
      stream = await this.#client.containerEvents({
        actions: ["die", "destroy"],
        labels: { [MANAGED_LABEL]: "true" },
        sinceSeconds: this.#lastUse / 1000 - REPLAY_SECONDS,
      });
    } catch {
      // Waits fall back on the engine's answer; a start or wait after RETRY_MS tries again.
      this.#failedAt = Date.now();
      this.#opened = undefined;
      return;
    }
    this.#stream = stream;
    this.#idleTimer = setInterval(() => this.#closeIfIdle(), IDLE_MS);
    this.#idleTimer.unref();
    void this.#read(stream);
  }

  async #read(stream: EventStream): Promise<void> {
    try {
      for await (const event of stream) {
        const exitCode = Number(event.Actor.Attributes?.exitCode);
        if (event.Action === "destroy") this.forget(event.Actor.ID);
        else if (event.Action === "die" && Number.isSafeInteger(exitCode))
          this.#heard(event.Actor.ID, exitCode);
      }
    } catch {
      // A broken stream (the engine restarting, a garbled line) is reopened by the next start or wait.
    } finally {
      if (this.#stream === stream) this.#close();
    }
  }

  #heard(id: string, exitCode: number): void {
    const now = Date.now();
    for (const [other, exit] of this.#exits) {
      // In the order heard: the first one young enough ends the sweep.
      if (now - exit.heardAt < KEEP_MS) break;
      this.#exits.delete(other);
    }
    this.#exits.set(id, { exitCode, heardAt: now });
    for (const settle of [...(this.#waiters.get(id) ?? [])]) settle(exitCode);
  }

  #closeIfIdle(): void {
    if (this.#waiters.size === 0 && Date.now() - this.#lastUse >= IDLE_MS) this.#close();
  }

  #close(): void {
    clearInterval(this.#idleTimer);
    this.#stream?.destroy();
    this.#stream = undefined;
    this.#opened = undefined;
  }
}
