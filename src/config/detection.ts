/**
 * Parsers of the configuration keys for detection at the edge: alarm topics, the metrics sink and the drill. The keys
 * themselves are rows of CONFIG_KEYS (src/config/definition.ts).
 */
import { isIotName } from './names';
import { quoteValue } from './quote';
import { InvalidValue, integer, jsonObject, lowerCaseFields } from './values';
import { THING_NAME_VARIABLE } from '../component/definition';
import { describeError } from '../util/describe-error';

export const DEFAULT_ALARM_TOPIC = `defender-agent/${THING_NAME_VARIABLE}/alarms`;
export const DEFAULT_LOCAL_ALARM_TOPIC = 'defender-agent/alarms';
export const DEFAULT_SECURITY_PROFILE_NAME = 'defender-agent-edge';
const DRILL_TOPIC = `defender-agent/${THING_NAME_VARIABLE}/drill`;

/** AWS IoT Core: at most 7 forward slashes and 256 bytes per topic. */
const MAX_TOPIC_SLASHES = 7;
const MAX_TOPIC_BYTES = 256;
/**
 * Letters, digits and `_ - . : /` only, plus the `{iot:thingName}` variable: no MQTT wildcards, and none of the
 * characters (`*`, `?`, `$`) that an accessControl resource would read as a glob or an escape, so the exact topic is
 * also the exact permission.
 */
const TOPIC_CHARACTERS = /^[A-Za-z0-9_\-.:/]+$/;

function topic(value: unknown, options: { cloud: boolean }): string {
  if (typeof value !== 'string') throw new InvalidValue(`must be a topic string (got ${quoteValue(value)})`);
  if (value === '') return '';
  if (value.toLowerCase().startsWith('$aws/')) {
    throw new InvalidValue(`${quoteValue(value)} is under $aws/, which AWS reserves for its services; use a topic of your own`);
  }
  const bare = value.split(THING_NAME_VARIABLE).join('x');
  if (!TOPIC_CHARACTERS.test(bare) || bare.startsWith('/') || bare.endsWith('/') || bare.includes('//')) {
    throw new InvalidValue(
      `${quoteValue(value)} is not a plain topic: use letters, digits, "_", "-", ".", ":" and "/" between non-empty levels, and ${THING_NAME_VARIABLE}`,
    );
  }
  if (options.cloud && [...value].filter((c) => c === '/').length > MAX_TOPIC_SLASHES) {
    throw new InvalidValue(`${quoteValue(value)} has more than ${MAX_TOPIC_SLASHES} "/": AWS IoT Core refuses it`);
  }
  if (options.cloud && Buffer.byteLength(resolveTopic(value, 'x'.repeat(128))) > MAX_TOPIC_BYTES) {
    throw new InvalidValue(
      `${quoteValue(value)} is too long: with a 128-character thing name it must stay within ${MAX_TOPIC_BYTES} bytes`,
    );
  }
  return value;
}

/** An AWS IoT Core topic of our own (never under $aws/); empty turns the feature off. */
export function cloudTopic(value: unknown): string {
  return topic(value, { cloud: true });
}

/** A Greengrass local publish/subscribe topic; empty turns the feature off. */
export function localTopic(value: unknown): string {
  return topic(value, { cloud: false });
}

export function profileName(value: unknown): string {
  if (typeof value !== 'string' || !isIotName(value)) {
    throw new InvalidValue(`must be 1-128 letters, digits, ":", "_" or "-", like a security profile name (got ${quoteValue(value)})`);
  }
  return value;
}

/** `{iot:thingName}` replaced by the thing (when the nucleus has not already interpolated it). */
export function resolveTopic(template: string, thingName: string): string {
  return template.split(THING_NAME_VARIABLE).join(thingName);
}

export type MetricsSinkMode = 'also' | 'only';

export type DrillKind = 'listening-port' | 'connections' | 'bytes-out';
export const DRILL_KINDS: readonly DrillKind[] = ['listening-port', 'connections', 'bytes-out'];

/** Hard caps: a drill is a short, bounded exercise, whatever the configuration asks. */
export const DRILL_LIMITS = {
  maxDurationSeconds: 900,
  defaultDurationSeconds: 120,
  maxConnections: 1_000,
  defaultConnections: 100,
  maxBytes: 10 * 1024 * 1024,
  defaultBytes: 1024 * 1024,
} as const;

export interface DrillConfig {
  kind: DrillKind;
  /** How long it runs from its start; at most 15 minutes. */
  durationSeconds: number;
  /** Epoch ms after which it does not run (and stops, if running). */
  expiresAtMs?: number;
  /** listening-port: the port to listen on; by default one outside the allowed set of the listening-tcp-ports behaviors. */
  port?: number;
  /** connections: how many loopback connections. */
  connections: number;
  /** bytes-out: how many bytes of padding to publish over the drill's duration. */
  bytes: number;
  /** bytes-out: where the padding goes. */
  topic: string;
}

/** `drill`: `{}` (off, the default) or `{ "kind": ..., "durationSeconds": ..., "expiresAt": ..., ... }`. */
export function drill(value: unknown): DrillConfig | undefined {
  const document = jsonObject(value, '{ "kind": "listening-port" | "connections" | "bytes-out", "durationSeconds": N, ... }');
  const fields = lowerCaseFields(document);
  if (fields.size === 0) return undefined;
  const allowed = ['kind', 'durationseconds', 'expiresat', 'port', 'connections', 'bytes', 'topic'];
  for (const key of fields.keys()) {
    if (!allowed.includes(key))
      throw new InvalidValue(
        `has unknown field ${quoteValue(key)} (fields: kind, durationSeconds, expiresAt, port, connections, bytes, topic)`,
      );
  }
  const kind = fields.get('kind');
  if (typeof kind !== 'string' || !DRILL_KINDS.includes(kind as DrillKind)) {
    throw new InvalidValue(`kind must be one of ${DRILL_KINDS.join(', ')} (got ${quoteValue(kind)})`);
  }
  const field = <T>(name: string, parse: (v: unknown) => T, fallback: T): T => {
    const given = fields.get(name.toLowerCase());
    if (given === undefined) return fallback;
    try {
      return parse(given);
    } catch (error) {
      throw new InvalidValue(`${name} ${describeError(error)}`);
    }
  };
  const config: DrillConfig = {
    kind: kind as DrillKind,
    durationSeconds: field('durationSeconds', integer(1, DRILL_LIMITS.maxDurationSeconds), DRILL_LIMITS.defaultDurationSeconds),
    connections: field('connections', integer(1, DRILL_LIMITS.maxConnections), DRILL_LIMITS.defaultConnections),
    bytes: field('bytes', integer(1, DRILL_LIMITS.maxBytes), DRILL_LIMITS.defaultBytes),
    topic: field('topic', cloudTopic, DRILL_TOPIC) || DRILL_TOPIC,
  };
  const port = field('port', integer(1, 65_535), undefined as number | undefined);
  if (port !== undefined) config.port = port;
  const expiresAt = fields.get('expiresat');
  if (expiresAt !== undefined) config.expiresAtMs = expiryMs(expiresAt);
  return config;
}

/** An expiry outside these years is a mistake (milliseconds given as seconds, a bare small number), not a plan. */
const EXPIRY_RANGE_MS = { from: Date.UTC(2020, 0, 1), to: Date.UTC(2100, 0, 1) };
const EPOCH_SECONDS = /^\d{1,11}(\.\d{1,3})?$/;
const ISO_8601_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * `expiresAt`: an ISO 8601 time or epoch seconds (a number or its decimal text). Anything else (true, [1], "2", -5)
 * is refused here, where it is seen, rather than accepted as a time long past that silently keeps the drill off.
 */
function expiryMs(value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string' && EPOCH_SECONDS.test(value)) ms = Number(value) * 1000;
  else if (typeof value === 'string' && ISO_8601_TIME.test(value)) ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < EXPIRY_RANGE_MS.from || ms >= EXPIRY_RANGE_MS.to) {
    throw new InvalidValue(
      `expiresAt must be an ISO 8601 time such as "2026-12-01T12:00:00Z", or epoch seconds, between 2020 and 2100 (got ${quoteValue(value)})`,
    );
  }
  return ms;
}
