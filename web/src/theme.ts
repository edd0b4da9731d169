/** Light or dark: the system's choice unless the person picked one, remembered in this browser. */
const KEY = "gofer.theme";

export function applyStoredTheme(): void {
  try {
    const stored = localStorage.getItem(KEY);
    if (stored === "dark" || stored === "light") document.documentElement.dataset.theme = stored;
  } catch {
    // No storage: the system's choice applies.
  }
}

export function toggleTheme(): void {
  const current =
    document.documentElement.dataset.theme ??
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered; still applied.
  }
}
