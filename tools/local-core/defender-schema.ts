/**
 * The fake Device Defender's own check of a report: decode the payload with a generic JSON or CBOR decoder and validate
 * it against defender-report.schema.json, a JSON Schema written from the public specification. It shares nothing
 * with the agent's builder or validator (src/report), so an ACCEPTED from the local core can catch a schema mistake
 * the agent makes everywhere.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { Decoder } from 'cbor-x';
import { isIP, isIPv4 } from 'node:net';
import type { ReportFormat } from '../../src/component/definition';
import schema from './defender-report.schema.json';

const MAX_PORT = 65535;

/** An IPv4 or IPv6 address; Node accepts an IPv6 zone (`%eth0`), which is not part of an address. */
function isIpAddress(text: string): boolean {
  return isIP(text) !== 0 && !text.includes('%');
}

/** `ip:port` for IPv4 and `[ip]:port` for IPv6, as the specification's examples and the reference agents write it. */
function isIpAndPort(text: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (!match) return false;
  const port = Number(match[3]);
  if (port > MAX_PORT) return false;
  return match[1] !== undefined ? isIpAddress(match[1]) && isIP(match[1]) === 6 : isIPv4(match[2]!);
}

// strictRequired off: "metrics or custom_metrics" is an anyOf of `required` lists naming properties defined beside it.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
ajv.addFormat('ip-address', isIpAddress);
ajv.addFormat('ip-and-port', isIpAndPort);
ajv.addSchema(schema);
const validateLong = ajv.getSchema(`${schema.$id}#/$defs/longReport`)!;
const validateShort = ajv.getSchema(`${schema.$id}#/$defs/shortReport`)!;

// Plain maps, no cbor-x record extension: what a generic CBOR decoder in the service would see.
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** A generic decode of the payload; 64-bit CBOR integers become numbers (the schema checks kind and sign, not size). */
export function decodePayload(payload: Buffer, format: ReportFormat): unknown {
  if (format === 'json') return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  return withoutBigints(cborDecoder.decode(payload));
}

function withoutBigints(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(withoutBigints);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutBigints(item)]));
  }
  return value;
}

const SHORT_TOP_LEVEL_KEYS = ['hed', 'met', 'cmet'];

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'report' : error.instancePath.slice(1).split('/').join('.');
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

/**
 * Problems with a decoded report, empty when it conforms. A report is checked against the long-name or short-name
 * form by its top-level keys, so the messages speak about the form the sender meant.
 */
export function reportProblems(document: unknown): string[] {
  const isObject = typeof document === 'object' && document !== null && !Array.isArray(document);
  const short = isObject && Object.keys(document).some((key) => SHORT_TOP_LEVEL_KEYS.includes(key));
  const validate = short ? validateShort : validateLong;
  return validate(document) ? [] : (validate.errors ?? []).map(describe);
}
