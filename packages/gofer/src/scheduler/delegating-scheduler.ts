/**
 * A scheduler that passes every call to `inner` except those `overrides` replace: for wrappers that observe
 * some calls (metrics, traces). Plain delegation, not a prototype, since backends keep private state.
 */
import type { Scheduler } from "./scheduler.ts";

export function delegate(inner: Scheduler, overrides: Partial<Scheduler>): Scheduler {
  const wrapped: Scheduler = {
    start: (spec) => inner.start(spec),
    wait: (id, options) => inner.wait(id, options),
    logs: (id, options) => inner.logs(id, options),
    stop: (id, timeoutSeconds) => inner.stop(id, timeoutSeconds),
    remove: (id) => inner.remove(id),
    listManaged: (labels) => inner.listManaged(labels),
    serviceBindHost: () => inner.serviceBindHost(),
    ...(inner.mergesStreams !== undefined && { mergesStreams: inner.mergesStreams }),
  };
  if (inner.exec) wrapped.exec = inner.exec.bind(inner);
  if (inner.observeImagePulls) wrapped.observeImagePulls = inner.observeImagePulls.bind(inner);
  return Object.assign(wrapped, overrides);
}
