/**
 * `server.database_url` names a PostgreSQL database with its password. The password is never printed: every
 * message that names the URL names it through {@link maskDatabaseUrl}, and error texts from the driver pass
 * through {@link maskSecret} before they are shown.
 */

/** The URL with its password (if any) replaced by `***`, for messages and logs. */
export function maskDatabaseUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== "") url.password = "***";
    for (const key of [...url.searchParams.keys()]) {
      if (key.toLowerCase() === "password") url.searchParams.set(key, "***");
    }
    return url.toString();
  } catch {
    // Not a URL: hide anything between `:` and `@`, the usual place of a password.
    return text.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
  }
}

/** `message` with every occurrence of the URL's password (raw or URL-encoded) replaced by `***`. */
export function maskSecret(message: string, databaseUrl: string): string {
  let masked = message.split(databaseUrl).join(maskDatabaseUrl(databaseUrl));
  let password = "";
  try {
    const url = new URL(databaseUrl);
    // libpq also takes the password as a query parameter.
    password =
      url.password || ([...url.searchParams].find(([key]) => key.toLowerCase() === "password")?.[1] ?? "");
  } catch {
    return masked;
  }
  if (password === "") return masked;
  for (const form of new Set([password, safeDecode(password)])) {
    if (form.length > 0) masked = masked.split(form).join("***");
  }
  return masked;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
