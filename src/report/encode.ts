/**
 * Report encoding: JSON (utf8) or CBOR, with the same keys in both (docs/device-defender-report.md, section 1).
 *
 * network_stats deltas are 64-bit counters held as bigint. JSON prints them as plain integers,
 * exact even above 2^53 (JSON.stringify refuses bigint). CBOR sends integers in their shortest
 * form: cbor-x writes a JS number above 2^32 as a float64 and a bigint always as a 9-byte
 * uint64, so integers are converted to whichever of the two gives a CBOR integer of minimal size.
 * The CBOR is a plain map (no cbor-x record extension, no tags), which any CBOR decoder reads.
 */
import { Encoder } from 'cbor-x';
import type { ReportFormat } from '../component/definition';

const cborEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  pack: false,
  useSelfDescribedHeader: false,
});

const UINT32_MAX = 0xffff_ffff;
const NEGATIVE_UINT32_MIN = -0x1_0000_0000;

export function encodeReport(document: Record<string, unknown>, format: ReportFormat): Buffer {
  return format === 'json' ? Buffer.from(toJson(document), 'utf8') : cborEncoder.encode(toCborValue(document));
}

/**
 * The exact number of bytes `encodeReport` writes for this value (as a whole document or as one
 * element of a list), computed without encoding: the byte budget is met by sizing list entries.
 */
export function encodedSize(value: unknown, format: ReportFormat): number {
  return format === 'json' ? jsonSize(value) : cborSize(value);
}

/** Bytes of a list's own framing (brackets and commas, or the CBOR array header) around `count` entries. */
export function listFramingSize(count: number, format: ReportFormat): number {
  return format === 'json' ? 2 + separators(count) : cborHeaderSize(count);
}

/**
 * JSON.stringify (fast, native) for every part of the document without a bigint; the few parts
 * that hold one (network_stats) are written member by member.
 */
function toJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null || !containsBigInt(value)) {
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) throw new TypeError(`cannot encode a ${typeof value} in a report`);
    return json;
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  const members: string[] = [];
  for (const key in value) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${toJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

function containsBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(containsBigInt);
  for (const key in value) {
    if (containsBigInt((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range, control characters included
const ASCII = /^[\x00-\x7f]*$/;

function jsonSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return PLAIN_JSON_STRING.test(value) ? value.length + 2 : Buffer.byteLength(JSON.stringify(value), 'utf8');
    case 'number':
      // NaN and Infinity become null, as JSON.stringify writes them; the validator then refuses the report.
      return Number.isFinite(value) ? String(value).length : 4;
    case 'bigint':
    case 'boolean':
      return String(value).length;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) return listFramingSize(value.length, 'json') + value.reduce((sum: number, item) => sum + jsonSize(item), 0);
      let size = 2;
      let members = 0;
      for (const key in value) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        size += jsonSize(key) + 1 + jsonSize(member);
        members += 1;
      }
      return size + separators(members);
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value} in a report`);
  }
}

function separators(count: number): number {
  return Math.max(count - 1, 0);
}

function toCborValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) && !fitsCborInt32(value) ? BigInt(value) : value;
  if (typeof value === 'bigint') return fitsCborInt32(value) ? Number(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(toCborValue);
  const converted: Record<string, unknown> = {};
  for (const key in value) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) converted[key] = toCborValue(member);
  }
  return converted;
}

/** Integers CBOR writes with a header of at most 5 bytes, which cbor-x does for JS numbers. */
function fitsCborInt32(value: number | bigint): boolean {
  return value >= NEGATIVE_UINT32_MIN && value <= UINT32_MAX;
}

function cborHeaderSize(argument: number): number {
  if (argument < 24) return 1;
  if (argument < 0x100) return 2;
  if (argument < 0x1_0000) return 3;
  return argument <= UINT32_MAX ? 5 : 9;
}

function cborSize(value: unknown): number {
  switch (typeof value) {
    case 'string': {
      const bytes = ASCII.test(value) ? value.length : Buffer.byteLength(value, 'utf8');
      return cborHeaderSize(bytes) + bytes;
    }
    case 'number':
    case 'bigint':
      if ((typeof value === 'bigint' || Number.isSafeInteger(value)) && fitsCborInt32(value)) {
        const integer = Number(value);
        return cborHeaderSize(integer >= 0 ? integer : -1 - integer);
      }
      return 9;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (Array.isArray(value)) return listFramingSize(value.length, 'cbor') + value.reduce((sum: number, item) => sum + cborSize(item), 0);
      let size = 0;
      let members = 0;
      for (const key in value) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        size += cborSize(key) + cborSize(member);
        members += 1;
      }
      return cborHeaderSize(members) + size;
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value} in a report`);
  }
}
