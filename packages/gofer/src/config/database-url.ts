/** Checks `server.database_url` at load time, so a malformed URL stops the start before anything is opened. */

const SCHEMES = new Set(["postgres:", "postgresql:"]);

/** The URL's problem as a sentence (never quoting the password), or undefined when it is a usable URL. */
export function databaseUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL; expected postgres://user:password@host:port/database";
  }
  if (!SCHEMES.has(url.protocol)) {
    return `has scheme "${url.protocol.replace(/:$/, "")}"; expected postgres:// or postgresql://`;
  }
  if (url.hostname === "" && !url.searchParams.has("host")) return "names no host";
  if (url.pathname.replace(/^\//, "") === "")
    return "names no database (postgres://user:password@host:port/DATABASE)";
  return undefined;
}
