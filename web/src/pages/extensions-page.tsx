/** Installed extensions and their state; one extension's documentation, subscriptions and output. */
import { useEffect } from "preact/hooks";
import { api, apiPath } from "../api/client.ts";
import { eventKind, onEvent } from "../api/event-stream.ts";
import type { Extension, Subscription } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../components/use-resource.ts";
import { LogViewer } from "../logs/log-viewer.tsx";
import { useLineStream } from "../logs/use-line-stream.ts";
import { Markdown, renderInlineMarkdown } from "../markdown/render.ts";
import { paths } from "../router.ts";

const reloadOnExtensionEvents = (reload: () => void) =>
  onEvent((event) => {
    if (/extension|subscri/.test(eventKind(event).name)) reload();
  });

export function ExtensionsPage() {
  const extensions = useResource(() => api<Extension[]>("GET", "/api/extensions", "extensions"), []);
  useEffect(() => reloadOnExtensionEvents(extensions.reload), []);
  return (
    <main>
      <div class="page-head">
        <h1>Extensions</h1>
      </div>
      <ErrorNote error={extensions.error} />
      {extensions.value && extensions.value.length === 0 && (
        <p class="empty">
          No extensions installed.{" "}
          <code>gofer extension install interval gofer/extension-interval:latest</code> adds one.
        </p>
      )}
      {extensions.value && extensions.value.length > 0 && (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Extension</th>
                <th>State</th>
                <th>Image</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {extensions.value.map((extension) => (
                <tr key={extension.registration.extension_id}>
                  <td>
                    <Link href={paths.extension(extension.registration.extension_id)}>
                      {extension.registration.extension_id}
                    </Link>
                  </td>
                  <td>
                    <StatusPill
                      value={extension.registration.status === "disabled" ? "disabled" : extension.state}
                    />
                  </td>
                  <td>
                    <code>{extension.registration.image}</code>
                  </td>
                  <td>
                    <Time at={extension.started} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

export function ExtensionPage({ extension }: { extension: string }) {
  const base = apiPath`/api/extensions/${extension}`;
  const details = useResource(() => api<Extension>("GET", base, "extension"), [base]);
  const subscriptions = useResource(
    () => api<Subscription[]>("GET", `${base}/subscriptions`, "subscriptions"),
    [base],
  );
  useEffect(
    () =>
      reloadOnExtensionEvents(() => {
        details.reload();
        subscriptions.reload();
      }),
    [base],
  );
  const value = details.value;
  const logs = useLineStream(value ? `${base}/logs` : undefined, value?.state === "running");
  return (
    <main>
      <nav class="crumbs" aria-label="Breadcrumbs">
        <Link href="/extensions">Extensions</Link> / <span>{extension}</span>
      </nav>
      <div class="page-head">
        <h1>{extension}</h1>
        {value && <StatusPill value={value.state} />}
      </div>
      <ErrorNote error={details.error} />
      {value?.state_reason?.description && <p class="lead">{value.state_reason.description}</p>}
      {value && (
        <div class="columns">
          <section aria-labelledby="docs-title">
            <h2 id="docs-title">Documentation</h2>
            {value.documentation?.body ? (
              // Written by the extension's author and served from its container: rendered, never run as HTML.
              <Markdown class="docs" source={value.documentation.body} />
            ) : (
              <p class="muted">None given.</p>
            )}
            {(value.documentation?.pipeline_subscription_params.length ?? 0) > 0 && (
              <>
                <h3>Subscription settings</h3>
                <ul class="plain-list">
                  {value.documentation?.pipeline_subscription_params.map((param) => (
                    <li key={param.key}>
                      <code>{param.key}</code>
                      {param.required ? " (required)" : ""}: {renderInlineMarkdown(param.documentation)}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>
          <section aria-labelledby="subs-title">
            <h2 id="subs-title">Subscriptions</h2>
            <ErrorNote error={subscriptions.error} />
            {subscriptions.value && subscriptions.value.length === 0 && (
              <p class="muted">No pipeline subscribes to it.</p>
            )}
            <ul class="plain-list">
              {(subscriptions.value ?? []).map((subscription) => (
                <li
                  key={`${subscription.namespace_id}/${subscription.pipeline_id}/${subscription.subscription_id}`}
                >
                  <Link href={paths.pipeline(subscription.namespace_id, subscription.pipeline_id)}>
                    {subscription.namespace_id}/{subscription.pipeline_id}
                  </Link>{" "}
                  {subscription.subscription_id} <StatusPill value={subscription.status} />
                </li>
              ))}
            </ul>
          </section>
        </div>
      )}
      {value && (
        <section aria-labelledby="ext-log-title">
          <h2 id="ext-log-title">Output</h2>
          <ErrorNote error={logs.error} />
          <LogViewer
            lines={logs.lines}
            version={logs.version}
            fileName={`extension-${extension}.log`}
            following={logs.following}
            label="Extension log"
          />
        </section>
      )}
    </main>
  );
}
