/** A terminal into a running task, in the browser. The emulator loads on first use. */
import { useEffect, useRef, useState } from "preact/hooks";

interface Props {
  attachPath: string;
  taskId: string;
  onClose: () => void;
}

export function TerminalPanel({ attachPath, taskId, onClose }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState("Loading the terminal…");
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    import("./xterm-session.ts").then(
      ({ startTerminal }) => {
        if (cancelled || !host.current) return;
        setStatus("Connecting…");
        stop = startTerminal(host.current, attachPath, { onStatus: setStatus });
      },
      () => setStatus("The terminal could not be loaded; reload the page and try again"),
    );
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [attachPath]);
  return (
    <section class="terminal-panel" aria-label="Terminal">
      <header>
        <strong>Shell in {taskId}</strong>
        <span class="terminal-status" aria-live="polite">
          {status}
        </span>
        <button type="button" onClick={onClose}>
          Close terminal
        </button>
      </header>
      <div class="terminal-host" ref={host} />
    </section>
  );
}
