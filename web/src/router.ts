/** Client-side routing on the history API: the server answers index.html for every page path. */
import { Signal } from "./state/signal.ts";

export const currentPath = new Signal<string>(location.pathname);

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  currentPath.value = location.pathname;
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => {
  currentPath.value = location.pathname;
});

export type Route =
  | { page: "namespace"; namespace: string }
  | { page: "pipeline"; namespace: string; pipeline: string }
  | { page: "run"; namespace: string; pipeline: string; run: number }
  | { page: "events" }
  | { page: "extensions" }
  | { page: "extension"; extension: string }
  | { page: "replicas" }
  | { page: "not-found" };

const PATTERNS: [RegExp, (match: string[]) => Route][] = [
  [/^\/namespaces\/([^/]+)\/?$/, ([, namespace = ""]) => ({ page: "namespace", namespace })],
  [
    /^\/namespaces\/([^/]+)\/pipelines\/([^/]+)\/?$/,
    ([, namespace = "", pipeline = ""]) => ({ page: "pipeline", namespace, pipeline }),
  ],
  [
    /^\/namespaces\/([^/]+)\/pipelines\/([^/]+)\/runs\/(\d+)\/?$/,
    ([, namespace = "", pipeline = "", run = "0"]) => ({
      page: "run",
      namespace,
      pipeline,
      run: Number(run),
    }),
  ],
  [/^\/events\/?$/, () => ({ page: "events" })],
  [/^\/extensions\/?$/, () => ({ page: "extensions" })],
  [/^\/extensions\/([^/]+)\/?$/, ([, extension = ""]) => ({ page: "extension", extension })],
  [/^\/replicas\/?$/, () => ({ page: "replicas" })],
];

export function routeOf(path: string): Route {
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(path);
    if (match) {
      try {
        return build(match.map((part) => decodeURIComponent(part)));
      } catch {
        return { page: "not-found" };
      }
    }
  }
  return { page: "not-found" };
}

export const paths = {
  namespace: (namespace: string) => `/namespaces/${encodeURIComponent(namespace)}`,
  pipeline: (namespace: string, pipeline: string) =>
    `${paths.namespace(namespace)}/pipelines/${encodeURIComponent(pipeline)}`,
  run: (namespace: string, pipeline: string, run: number) =>
    `${paths.pipeline(namespace, pipeline)}/runs/${run}`,
  /** The pipeline page showing one config version, compared with the live one. */
  configVersion: (namespace: string, pipeline: string, version: number) =>
    `${paths.pipeline(namespace, pipeline)}?config=${version}`,
  /** The run page with one task selected. */
  task: (namespace: string, pipeline: string, run: number, task: string) =>
    `${paths.run(namespace, pipeline, run)}?task=${encodeURIComponent(task)}`,
  extension: (extension: string) => `/extensions/${encodeURIComponent(extension)}`,
};
