/**
 * The header's menu. On a phone it holds what does not fit the one-row bar: the less-used pages, the theme and
 * the account. For admins it also holds the operator's pause, kept apart from the everyday buttons on every
 * screen. It closes on Escape, on a click elsewhere and when the page changes.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { currentPath } from "../router.ts";
import { useSignal } from "../state/signal.ts";

export function HeaderMenu({
  children,
  wide,
}: {
  /** The panel's contents; the bar's own copies of the phone-only parts are hidden there. */
  children: (close: () => void) => ComponentChildren;
  /** Whether the menu holds anything on a wide screen; if not, its button shows on phones only. */
  wide: boolean;
}) {
  const path = useSignal(currentPath);
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") setOpen(false);
    };
    const onPointer = (event: PointerEvent) => {
      // A dialog opened from the menu is inside it in the document, though on screen it is not.
      if (!root.current?.contains(event.target as Node | null)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);
  return (
    <div class="menu" ref={root}>
      <button
        type="button"
        class={`icon menu-toggle${wide ? "" : " phone-only"}`}
        aria-label="Menu"
        aria-expanded={open}
        aria-controls="header-menu"
        onClick={() => setOpen(!open)}
      >
        ☰
      </button>
      {open && (
        <div id="header-menu" class="menu-panel">
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}
