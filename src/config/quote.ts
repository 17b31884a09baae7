/**
 * Quotes a configuration value for a log line or a validity report. Values come from whoever can
 * deploy, so a newline must not forge a log line and a megabyte must not become a megabyte line.
 */
const MAX_QUOTED_CHARACTERS = 80;

/** `maxCharacters`: a longer bound for text that is worth reading whole, such as a loader's error. */
export function quoteValue(value: unknown, maxCharacters = MAX_QUOTED_CHARACTERS): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  // JSON.stringify escapes control characters inside strings, but not U+2028/U+2029 or those in String(value).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is escaped here
  const escaped = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > maxCharacters ? `${escaped.slice(0, maxCharacters)}... (${escaped.length} characters)` : escaped;
}
