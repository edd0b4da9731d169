/**
 * The pull policy of a {@link ContainerSpec}, against the engine Gofer talks to: a local image is used as it is
 * unless `alwaysPull`; otherwise it is pulled (with the spec's registry credentials), and an image that cannot be
 * had is a `failed` {@link SchedulerError} naming it.
 */
import { type ContainerSpec, SchedulerError } from "../scheduler.ts";
import { type EngineClient, EngineError } from "./engine-client.ts";
import { guard, toSchedulerError } from "./engine-errors.ts";

export async function ensureImage(
  client: EngineClient,
  spec: ContainerSpec,
  onPull?: (seconds: number, pulled: boolean) => void,
): Promise<void> {
  const what = `could not pull image "${spec.image}"`;
  if (!spec.alwaysPull) {
    const local = await guard(what, () => client.inspectImage(spec.image));
    if (local !== null) return;
  }
  const auth = spec.registryAuth;
  const began = performance.now();
  try {
    await client.pullImage(spec.image, auth ? { username: auth.user, password: auth.pass } : null, {
      signal: spec.signal,
    });
    onPull?.((performance.now() - began) / 1000, true);
  } catch (error) {
    if (!spec.signal?.aborted) onPull?.((performance.now() - began) / 1000, false);
    if (spec.signal?.aborted) throw spec.signal.reason;
    const failure = toSchedulerError(what, error);
    // The engine relays a registry's failure as a server error; retrying would only delay the answer.
    if (error instanceof EngineError) throw new SchedulerError(failure.message, { cause: error });
    throw failure;
  }
}
