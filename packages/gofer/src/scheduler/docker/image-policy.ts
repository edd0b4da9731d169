/**
 * The pull policy of a {@link ContainerSpec}, against the engine Gofer talks to: a local image is used as it is
 * unless `alwaysPull`; otherwise it is pulled (with the spec's registry credentials), and an image that cannot be
 * had is a `failed` {@link SchedulerError} naming it.
 */
import { type ContainerSpec, SchedulerError } from "../scheduler.ts";
import { type EngineClient, EngineError } from "./engine-client.ts";
import { guard, toSchedulerError } from "./engine-errors.ts";

type PullListener = (seconds: number, pulled: boolean) => void;

/** Makes sure the engine holds the spec's image before something else (a swarm service) refers to it. */
export async function ensureImage(
  client: EngineClient,
  spec: ContainerSpec,
  onPull?: PullListener,
): Promise<void> {
  if (!spec.alwaysPull && (await imagePresent(client, spec))) return;
  await pullImage(client, spec, onPull);
}

/**
 * Creates a container under the pull policy, as `docker run` does: the create is tried first and the image
 * pulled only when the engine lacks it, so starting a container whose image is present (the common case, and the
 * only one offline) sends no request about the image. Asking first put a round trip in front of every create,
 * and a hundred tasks starting together sent a hundred inspections ahead of their hundred creates. With
 * `alwaysPull` the image is pulled first.
 *
 * `create` rejects with the engine's own error, which is passed on unchanged when it is not about the image.
 */
export async function createPulling<T>(
  client: EngineClient,
  spec: ContainerSpec,
  create: () => Promise<T>,
  onPull?: PullListener,
): Promise<T> {
  if (!spec.alwaysPull) {
    try {
      return await create();
    } catch (error) {
      // Engines word a missing image differently, and a 404 can name something else the create refers to: the
      // image is looked up before anything is pulled for it.
      if (!(error instanceof EngineError && error.status === 404) || (await imagePresent(client, spec)))
        throw error;
    }
  }
  await pullImage(client, spec, onPull);
  spec.signal?.throwIfAborted();
  return create();
}

function imagePresent(client: EngineClient, spec: ContainerSpec): Promise<boolean> {
  return guard(
    `could not pull image "${spec.image}"`,
    async () => (await client.inspectImage(spec.image)) !== null,
  );
}

async function pullImage(client: EngineClient, spec: ContainerSpec, onPull?: PullListener): Promise<void> {
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
    const failure = toSchedulerError(`could not pull image "${spec.image}"`, error);
    // The engine relays a registry's failure as a server error; retrying would only delay the answer.
    if (error instanceof EngineError) throw new SchedulerError(failure.message, { cause: error });
    throw failure;
  }
}
