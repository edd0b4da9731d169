/**
 * The rule for object keys. Keys never become file names (content files get generated names), but a key is
 * still shown in listings, logs and CLI output, and it is used as a single URL path segment, so the rule
 * refuses anything that reads like a path or would be invisible or ambiguous there.
 */
export const MAX_OBJECT_KEY_BYTES = 256;

/** Why `key` is not a valid object key, or undefined when it is. */
export function objectKeyProblem(key: string): string | undefined {
  if (key === "") return "an object key must not be empty";
  if (key === "." || key === "..") return `an object key must not be "." or ".."`;
  if (/[/\\]/.test(key)) return "an object key must not contain '/' or '\\' (keys are names, not paths)";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(key))
    return "an object key must not contain NUL or other control characters";
  const bytes = new TextEncoder().encode(key).length;
  if (bytes > MAX_OBJECT_KEY_BYTES) {
    return `an object key must be at most ${MAX_OBJECT_KEY_BYTES} bytes of UTF-8 (this one is ${bytes})`;
  }
  return undefined;
}
