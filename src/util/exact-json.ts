/**
 * JSON with integers beyond 2^53 kept exact. JSON.parse turns every number into a double (9223372036854775807 becomes
 * 9223372036854775808) and JSON.stringify refuses a bigint; behavior counts (64-bit in the AWS IoT API) and traffic
 * sums (64-bit kernel counters) need the exact digits both ways. Node 20's JSON.parse offers no access to a number's
 * source text, so integer literals that a double cannot hold are rewritten as marked strings before JSON.parse and
 * turned into bigints by its reviver. The mark holds a random part chosen per call, so no string written in the text
 * can pass for one.
 */

/** A text without a run of 16 digits holds no integer a double cannot hold exactly: the plain JSON.parse then. */
const MAYBE_UNSAFE_INTEGER = /\d{16}/;
/** A JSON integer literal exactly as the grammar allows it (no leading zero): anything else is left for JSON.parse to judge. */
const INTEGER_LITERAL = /^-?(0|[1-9]\d*)$/;

function newMark(): string {
  return `\u0000${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}:`;
}

/** JSON.parse, except that an integer literal beyond Number.MAX_SAFE_INTEGER (either sign) is a bigint. Throws as JSON.parse does. */
export function parseExactJson(text: string): unknown {
  if (!MAYBE_UNSAFE_INTEGER.test(text)) return JSON.parse(text);
  const mark = newMark();
  const parts: string[] = [];
  let copiedTo = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // A string: its digits are text. A backslash escapes the next character (a quote included).
      i += 1;
      while (i < text.length) {
        const inside = text.charCodeAt(i);
        i += inside === 0x5c ? 2 : 1;
        if (inside === 0x22) break;
      }
      continue;
    }
    if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      const start = i;
      i += 1;
      while (i < text.length && /[0-9.eE+-]/.test(text[i] as string)) i += 1;
      const literal = text.slice(start, i);
      if (INTEGER_LITERAL.test(literal) && !Number.isSafeInteger(Number(literal))) {
        parts.push(text.slice(copiedTo, start), JSON.stringify(mark + literal));
        copiedTo = i;
      }
      continue;
    }
    i += 1;
  }
  if (parts.length === 0) return JSON.parse(text);
  parts.push(text.slice(copiedTo));
  try {
    return JSON.parse(parts.join(''), (key, value: unknown) => {
      // An integer literal where a key belongs is no JSON: the rewritten text must not make it one.
      if (key.startsWith(mark)) throw new SyntaxError('a number where a key belongs');
      return typeof value === 'string' && value.startsWith(mark) ? BigInt(value.slice(mark.length)) : value;
    });
  } catch {
    // The error of the text as written, without the marks in it.
    JSON.parse(text);
    throw new SyntaxError('not valid JSON: a number where a key belongs');
  }
}

/**
 * JSON.stringify, except that a bigint is written as its exact integer (JSON.stringify throws on one). Without a
 * bigint in the value this is JSON.stringify itself, at its cost.
 */
export function stringifyExactJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent);
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
  }
  const mark = newMark();
  const json = JSON.stringify(value, (_key, member: unknown) => (typeof member === 'bigint' ? `${mark}${member}` : member), indent);
  // The mark as JSON writes it, opening quote included: each piece after one starts with digits and the closing quote.
  const quotedMark = JSON.stringify(mark).slice(0, -1);
  const [first = '', ...marked] = json.split(quotedMark);
  return first + marked.map((piece) => piece.replace('"', '')).join('');
}
