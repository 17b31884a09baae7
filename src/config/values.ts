/**
 * Parsers for single configuration values as Greengrass delivers them: numbers and booleans may
 * arrive as strings, and whatever is wrong is named in an InvalidValue the caller turns into a
 * validity report or a usage error.
 */
import { thingNameProblem } from './names';
import { quoteValue } from './quote';

export class InvalidValue extends Error {}

/**
 * What a value's validity may depend on: the platform of the core that runs the agent (a Windows core has drives and
 * no load average). Undefined where it is not known (the operator tool checking a deployment for any core): then what
 * some platform accepts is accepted.
 */
export interface ParseContext {
  platform?: NodeJS.Platform;
}

export type ValueParser<T> = (value: unknown, context?: ParseContext) => T;

/**
 * Decimal integers only: `"0x12c"`, `"3e2"` and `" "` are refused although Number() takes them.
 * A trailing `.0` is accepted because the nucleus stores JSON numbers as doubles.
 */
const DECIMAL_INTEGER = /^[+-]?\d{1,16}(\.0*)?$/;

export function integer(min: number, max: number): ValueParser<number> {
  return (value) => {
    const n = typeof value === 'string' ? (DECIMAL_INTEGER.test(value.trim()) ? Number(value) : Number.NaN) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidValue(`must be a whole number from ${min} to ${max} (got ${quoteValue(value)})`);
    }
    return n;
  };
}

/** `auto` or a whole number in range (any case of `auto`). */
export function autoOrInteger(min: number, max: number): ValueParser<number | 'auto'> {
  const whole = integer(min, max);
  return (value) => {
    if (typeof value === 'string' && value.trim().toLowerCase() === 'auto') return 'auto';
    try {
      return whole(value);
    } catch {
      throw new InvalidValue(`must be auto or a whole number from ${min} to ${max} (got ${quoteValue(value)})`);
    }
  };
}

export function boolean(value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidValue(`must be true or false (got ${quoteValue(value)})`);
}

export type LowMemorySetting = 'auto' | 'true' | 'false';

/** Exactly `auto`, `true` or `false` (a JSON boolean too): the recipe's Run script matches the text as it is. */
export function lowMemorySetting(value: unknown): LowMemorySetting {
  if (value === 'auto') return 'auto';
  if (value === true || value === 'true') return 'true';
  if (value === false || value === 'false') return 'false';
  throw new InvalidValue(`must be auto, true or false (got ${quoteValue(value)})`);
}

export function oneOf<T extends string>(allowed: readonly T[]): ValueParser<T> {
  return (value) => {
    const text = typeof value === 'string' ? value.toLowerCase() : value;
    if (typeof text !== 'string' || !allowed.includes(text as T)) {
      throw new InvalidValue(`must be one of ${allowed.join(', ')} (got ${quoteValue(value)})`);
    }
    return text as T;
  };
}

export function thingName(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidValue(`must be a string (got ${quoteValue(value)})`);
  const problem = value === '' ? undefined : thingNameProblem(value);
  if (problem) throw new InvalidValue(`${quoteValue(value)} is not valid: ${problem}`);
  return value;
}

export function absolutePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0')) {
    throw new InvalidValue(`must be an absolute path (got ${quoteValue(value)})`);
  }
  return value.replace(/\/+$/, '') || '/';
}

/** Deeper documents are refused before they are walked: nothing the agent takes nests more than a few levels. */
const MAX_DEPTH = 32;

/** An object value, given as an object or as a JSON string (the console and some tools send strings). */
export function jsonObject(value: unknown, shape: string): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidValue('is a string that is not valid JSON');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidValue(`must be an object of ${shape}`);
  if (depthOf(parsed) > MAX_DEPTH) throw new InvalidValue(`nests deeper than ${MAX_DEPTH} levels`);
  return parsed as Record<string, unknown>;
}

/** Levels of objects and arrays, counted only up to one past MAX_DEPTH (so a cycle ends the walk too). */
function depthOf(value: object): number {
  let deepest = 0;
  let level: object[] = [value];
  while (level.length > 0 && deepest <= MAX_DEPTH) {
    deepest += 1;
    level = level.flatMap((item) => Object.values(item)).filter((item): item is object => item !== null && typeof item === 'object');
  }
  return deepest;
}

/** Field names lower-cased, in a map with no prototype so `__proto__` and `constructor` are plain keys. */
export function lowerCaseFields(value: unknown): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fields;
  for (const [key, field] of Object.entries(value)) fields.set(key.toLowerCase(), field);
  return fields;
}
