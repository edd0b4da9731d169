import { render } from "preact";
import { App } from "./app.tsx";
import { navigate } from "./router.ts";
import { restoreSession } from "./state/identity.ts";
import "./styles.css";
import { applyStoredTheme } from "./theme.ts";

applyStoredTheme();
if (location.pathname === "/") navigate("/namespaces/default", { replace: true });
const root = document.getElementById("app");
if (root) {
  render(<App />, root);
  void restoreSession();
}
