/**
 * `pipeline_object{{key}}` and `run_object{{key}}`: a task variable that takes an object's content, read when
 * the task starts (after its parents finish, so a parent can write a run object its child reads).
 *
 * Objects used as variables should be text: the content is decoded as UTF-8 (invalid sequences become U+FFFD).
 * Large objects are refused rather than passed on, because a container's environment is bounded (with the
 * command line, by the kernel's ARG_MAX) and an oversized one fails the container start far from its cause;
 * NUL bytes are refused because an environment variable cannot hold one.
 */
import {
  ReferenceRefusedError,
  type ReferenceResolvers,
  type ResolutionScope,
} from "../domain/variable-resolution.ts";
import type { ObjectScope, ObjectStore } from "./object-store.ts";

/** The largest object a variable may take. */
export const MAX_VARIABLE_OBJECT_BYTES = 128 * 1024;

export function objectResolvers(store: ObjectStore): ReferenceResolvers {
  const resolve = async (scope: ObjectScope, key: string): Promise<string | undefined> => {
    const content = await store.read(scope, key, MAX_VARIABLE_OBJECT_BYTES);
    if (content === undefined) return undefined;
    if (content === "too_large") {
      throw new ReferenceRefusedError(
        `is larger than the ${MAX_VARIABLE_OBJECT_BYTES} bytes an object used as a variable may hold; ` +
          "download it inside the task instead",
      );
    }
    if (content.includes(0)) {
      throw new ReferenceRefusedError("contains a NUL byte, which an environment variable cannot hold");
    }
    return content.toString("utf8");
  };
  return {
    pipeline_object: {
      resolve: (scope: ResolutionScope, key: string) =>
        resolve({ kind: "pipeline", namespace_id: scope.namespace_id, pipeline_id: scope.pipeline_id }, key),
    },
    run_object: {
      resolve: (scope: ResolutionScope, key: string) =>
        resolve(
          {
            kind: "run",
            namespace_id: scope.namespace_id,
            pipeline_id: scope.pipeline_id,
            run_id: scope.run_id,
          },
          key,
        ),
    },
  };
}
