/** The page frame: header, pause banner, and the page the path names. */
import { Header, PausedBanner } from "./components/header.tsx";
import { EventsPage } from "./pages/events-page.tsx";
import { ExtensionPage, ExtensionsPage } from "./pages/extensions-page.tsx";
import { NamespacePage } from "./pages/namespace-page.tsx";
import { PipelinePage } from "./pages/pipeline-page.tsx";
import { ReplicasPage } from "./pages/replicas-page.tsx";
import { RunPage } from "./pages/run-page.tsx";
import { currentPath, routeOf } from "./router.ts";
import { session } from "./state/session.ts";
import { useSignal } from "./state/signal.ts";

export function App() {
  const path = useSignal(currentPath);
  // Pages are keyed by the signed-in user, so signing in or out reloads what they show.
  const user = useSignal(session.user);
  const route = routeOf(path);
  return (
    <>
      <Header />
      <PausedBanner />
      <div key={`${user}|${path}`} class="page">
        {route.page === "namespace" && <NamespacePage namespace={route.namespace} />}
        {route.page === "pipeline" && <PipelinePage namespace={route.namespace} pipeline={route.pipeline} />}
        {route.page === "run" && (
          <RunPage namespace={route.namespace} pipeline={route.pipeline} runId={route.run} />
        )}
        {route.page === "events" && <EventsPage />}
        {route.page === "extensions" && <ExtensionsPage />}
        {route.page === "extension" && <ExtensionPage extension={route.extension} />}
        {route.page === "replicas" && <ReplicasPage />}
        {route.page === "not-found" && (
          <main>
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{path}</code>. <a href="/namespaces/default">Go to the pipelines</a>.
            </p>
          </main>
        )}
      </div>
    </>
  );
}
