/**
 * Splits an attach command line into words the way a POSIX shell would (without expansions): whitespace
 * separates, 'single quotes' keep everything literally, "double quotes" keep spaces and honour \" and \\, and a
 * backslash outside quotes escapes the next character. v0 split on spaces only, so `sh -c 'a b'` could not
 * be written; every command v0 accepted splits the same way here.
 */
import { badRequest } from "../domain/errors.ts";

export function splitCommandWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  // A word can be empty ('' is a word), so whether one has begun is tracked apart from its text.
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] as string;
    const next = line[index + 1];
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && (next === '"' || next === "\\")) {
        word += next;
        index += 1;
      } else word += char;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (char === "'" || char === '"') quote = char;
      else if (char === "\\" && next !== undefined) {
        word += next;
        index += 1;
      } else word += char;
    }
  }
  if (quote) throw badRequest(`\`command\` has an unclosed ${quote} quote: ${line}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw badRequest("`command` is empty; give a program to run, e.g. /bin/sh");
  return words;
}
