/** The top bar: where you are, who you are, and the operator's pause switch. */
import { useState } from "preact/hooks";
import { streamState } from "../api/event-stream.ts";
import { currentPath } from "../router.ts";
import { signIn, signOut } from "../state/identity.ts";
import { session } from "../state/session.ts";
import { useSignal } from "../state/signal.ts";
import { runsPaused, setRunsPaused } from "../state/system.ts";
import { toggleTheme } from "../theme.ts";
import { Link } from "./link.tsx";

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
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);

  const nav = [
    { href: "/namespaces/default", label: "Pipelines", active: path.startsWith("/namespaces") },
    { href: "/events", label: "Events", active: path.startsWith("/events") },
    { href: "/extensions", label: "Extensions", active: path.startsWith("/extensions") },
    // Which servers share the database is an operator's concern, and only admin tokens may read it.
    ...(admin ? [{ href: "/replicas", label: "Replicas", active: path.startsWith("/replicas") }] : []),
  ];

  const flipPause = async () => {
    setBusy(true);
    setProblem("");
    try {
      await setRunsPaused(!paused);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <header class="topbar">
      <Link href="/namespaces/default" class="brand">
        Gofer
      </Link>
      <nav aria-label="Main">
        {nav.map((item) => (
          <Link key={item.href} href={item.href} class={item.active ? "active" : ""}>
            {item.label}
          </Link>
        ))}
      </nav>
      <span class={`stream stream-${stream}`} title={STREAM_HINTS[stream]}>
        <span class="visually-hidden">Live updates: </span>
        {STREAM_LABELS[stream]}
      </span>
      <div class="account">
        {admin && paused !== undefined && (
          <button type="button" class={paused ? "primary" : "warn"} onClick={flipPause} disabled={busy}>
            {paused ? "Resume runs" : "Pause runs"}
          </button>
        )}
        <button
          type="button"
          class="icon"
          onClick={toggleTheme}
          aria-label="Toggle theme"
          title="Toggle theme"
        >
          ◐
        </button>
        {user ? (
          <>
            <span class="user" title="Signed in">
              {user}
            </span>
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setSigningIn(!signingIn)} aria-expanded={signingIn}>
            Sign in
          </button>
        )}
      </div>
      {signingIn && !user && (
        <SignInForm
          onDone={() => {
            setSigningIn(false);
          }}
        />
      )}
      {problem && (
        <p class="error-note header-problem" role="alert">
          {problem}
        </p>
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
        Paste a token from <code>gofer token create</code>. It is kept in this tab only and sent only to this
        server.
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
  if (!paused) return null;
  return (
    <div class="banner" role="alert">
      New runs are paused on this server. Runs already started go on; an admin can resume with "Resume runs"
      or <code>gofer system resume</code>.
    </div>
  );
}
