/**
 * Reads a report back as Device Defender would: the tests' oracle for what `encodeReport` wrote. JSON integers beyond
 * Number.MAX_SAFE_INTEGER stay exact (JSON.parse would round network_stats' 64-bit counters), CBOR as any plain
 * decoder reads it. The agent never decodes a report, so none of this ships in the bundle.
 */
import { Decoder } from 'cbor-x';
import type { ReportFormat } from '../../src/component/definition';
import { describeError } from '../../src/util/describe-error';

const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/**
 * The decoded report. JSON integers beyond Number.MAX_SAFE_INTEGER come back as bigint (JSON.parse
 * would round them); CBOR 64-bit integers come back as bigint too. Smaller integers are numbers.
 */
export function decodeReport(payload: Buffer, format: ReportFormat): unknown {
  if (format === 'json') return parseJsonExact(payload.toString('utf8'));
  try {
    return cborDecoder.decode(payload);
  } catch (error) {
    throw new Error(`invalid CBOR: ${describeError(error)}`);
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters inside strings (RFC 8259)
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const JSON_WHITESPACE = /[ \t\n\r]*/y;

/** JSON.parse, except that integers beyond Number.MAX_SAFE_INTEGER stay exact as bigint. */
export function parseJsonExact(text: string): unknown {
  let position = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${position}: ${what}`);
  };
  const skipWhitespace = (): void => {
    JSON_WHITESPACE.lastIndex = position;
    JSON_WHITESPACE.test(text);
    position = JSON_WHITESPACE.lastIndex;
  };
  const readToken = (pattern: RegExp): RegExpExecArray | undefined => {
    pattern.lastIndex = position;
    const match = pattern.exec(text) ?? undefined;
    if (match) position = pattern.lastIndex;
    return match;
  };
  const readString = (): string => {
    const match = readToken(JSON_STRING);
    return match ? (JSON.parse(match[0]) as string) : fail('bad string');
  };
  const expect = (character: string): void => {
    skipWhitespace();
    if (text[position] !== character) fail(`expected ${character}`);
    position += 1;
  };
  const readValue = (): unknown => {
    skipWhitespace();
    const first = text[position];
    if (first === '{') {
      position += 1;
      const object: Record<string, unknown> = {};
      skipWhitespace();
      if (text[position] === '}') {
        position += 1;
        return object;
      }
      for (;;) {
        skipWhitespace();
        const key = readString();
        expect(':');
        Object.defineProperty(object, key, { value: readValue(), enumerable: true, writable: true, configurable: true });
        skipWhitespace();
        if (text[position] === '}') {
          position += 1;
          return object;
        }
        expect(',');
      }
    }
    if (first === '[') {
      position += 1;
      const array: unknown[] = [];
      skipWhitespace();
      if (text[position] === ']') {
        position += 1;
        return array;
      }
      for (;;) {
        array.push(readValue());
        skipWhitespace();
        if (text[position] === ']') {
          position += 1;
          return array;
        }
        expect(',');
      }
    }
    if (first === '"') return readString();
    for (const [literal, literalValue] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(literal, position)) {
        position += literal.length;
        return literalValue;
      }
    }
    const number = readToken(JSON_NUMBER) ?? fail('unexpected character');
    const numeric = Number(number[0]);
    const isInteger = number[1] === undefined && number[2] === undefined;
    return isInteger && !Number.isSafeInteger(numeric) ? BigInt(number[0]) : numeric;
  };
  const value = readValue();
  skipWhitespace();
  if (position !== text.length) fail('unexpected text after the document');
  return value;
}
