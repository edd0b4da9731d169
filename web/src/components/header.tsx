/**
 * The top bar: where you are, who you are, and (in its menu, apart from the everyday buttons) the operator's
 * pause switch. On a phone it is one row: the everyday pages, the live mark and the menu, which holds the rest.
 */
import { useState } from "preact/hooks";
import { streamState } from "../api/event-stream.ts";
import { currentPath } from "../router.ts";
import { signIn, signOut } from "../state/identity.ts";
import { session } from "../state/session.ts";
import { useSignal } from "../state/signal.ts";
import { runsPaused } from "../state/system.ts";
import { toggleTheme } from "../theme.ts";
import { HeaderMenu } from "./header-menu.tsx";
import { Link } from "./link.tsx";
import { PauseRunsControl, ResumeRunsButton } from "./pause-control.tsx";

const STREAM_LABELS = {
  live: "live",
  connecting: "connecting…",
  offline: "reconnecting…",
  forbidden: "not live",
} as const;

const STREAM_HINTS = {
  live: "Pages update as events happen",
  connecting: "Connecting to the event stream",
  offline: "The event stream dropped; reconnecting. Pages show what they last loaded",
  forbidden: "This token may not read events, so pages do not update by themselves; reload to refresh",
} as const;

export function Header() {
  const path = useSignal(currentPath);
  const user = useSignal(session.user);
  const admin = useSignal(session.admin);
  const paused = useSignal(runsPaused);
  const stream = useSignal(streamState);
  const [signingIn, setSigningIn] = useState(false);

  const everyday = [
    { href: "/namespaces/default", label: "Pipelines", active: path.startsWith("/namespaces") },
    { href: "/events", label: "Events", active: path.startsWith("/events") },
  ];
  const lessUsed = [
    { href: "/extensions", label: "Extensions", active: path.startsWith("/extensions") },
    // Which servers share the database is an operator's concern, and only admin tokens may read it.
    ...(admin ? [{ href: "/replicas", label: "Replicas", active: path.startsWith("/replicas") }] : []),
  ];
  const operator = admin && paused !== undefined;
  const linkOf = (extra: string) => (item: (typeof everyday)[number]) => (
    <Link key={item.href} href={item.href} class={`${extra}${item.active ? " active" : ""}`}>
      {item.label}
    </Link>
  );

  return (
    <header class="topbar">
      <Link href="/namespaces/default" class="brand">
        Gofer
      </Link>
      <nav aria-label="Main">
        {everyday.map(linkOf(""))}
        {lessUsed.map(linkOf("wide-only"))}
      </nav>
      <span class={`stream stream-${stream}`} title={STREAM_HINTS[stream]}>
        <span class="visually-hidden">Live updates: </span>
        <span class="stream-label">{STREAM_LABELS[stream]}</span>
      </span>
      <div class="account">
        <button
          type="button"
          class="icon wide-only"
          onClick={toggleTheme}
          aria-label="Toggle theme"
          title="Toggle theme"
        >
          ◐
        </button>
        {user ? (
          <>
            <span class="user wide-only" title="Signed in">
              {user}
            </span>
            <button type="button" class="wide-only" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setSigningIn(!signingIn)} aria-expanded={signingIn}>
            Sign in
          </button>
        )}
        <HeaderMenu wide={operator}>
          {(close) => (
            <>
              <nav aria-label="More" class="phone-only">
                {lessUsed.map(linkOf(""))}
              </nav>
              <div class="menu-group phone-only">
                <button type="button" onClick={toggleTheme}>
                  ◐ Switch theme
                </button>
                {user && (
                  <>
                    <span>
                      Signed in as <span class="user">{user}</span>
                    </span>
                    <button
                      type="button"
                      onClick={() => {
                        close();
                        signOut();
                      }}
                    >
                      Sign out
                    </button>
                  </>
                )}
              </div>
              {operator && (
                <section class="menu-group operator" aria-labelledby="operator-title">
                  <h2 id="operator-title">Operator</h2>
                  <p class="hint">Affects the whole server, every namespace.</p>
                  <PauseRunsControl onDone={close} />
                </section>
              )}
            </>
          )}
        </HeaderMenu>
      </div>
      {signingIn && !user && (
        <SignInForm
          onDone={() => {
            setSigningIn(false);
          }}
        />
      )}
    </header>
  );
}

function SignInForm({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="signin"
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        setError("");
        try {
          await signIn(token.trim());
          onDone();
        } catch (failure) {
          setError(failure instanceof Error ? failure.message : String(failure));
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        API token
        <input
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy || !token.trim()}>
        Sign in
      </button>
      <p class="hint">
        Paste a token from <code>gofer token create</code>; after the quickstart, the admin token is the{" "}
        <code>token</code> line of <code>.gofer-data/cli.toml</code>. It is kept in this tab only and sent
        only to this server.
      </p>
      {error && (
        <p class="error-note" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function PausedBanner() {
  const paused = useSignal(runsPaused);
  const admin = useSignal(session.admin);
  if (!paused) return null;
  return (
    <div class="banner" role="alert">
      <span>
        New runs are paused on this server. Runs already started go on;{" "}
        {admin ? "resume here" : "an admin can resume them"} or with <code>gofer system resume</code>.
      </span>
      {admin && <ResumeRunsButton />}
    </div>
  );
}
