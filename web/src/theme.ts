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

/** The theme in effect: the person's choice, else the system's. */
export function currentTheme(): "light" | "dark" {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "dark" || chosen === "light") return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function toggleTheme(): void {
  const next = currentTheme() === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered; still applied.
  }
}
