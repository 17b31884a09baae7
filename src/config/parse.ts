/**
 * Turns the component configuration as Greengrass delivers it (numbers possibly as strings,
 * keys case-insensitive) into an AgentConfig, naming every bad key and why.
 */
import {
  type AgentConfig,
  CONFIG_KEYS,
  CUSTOM_METRIC_SOURCES,
  type CustomMetricSource,
  type CustomMetricSpec,
  type LogLevel,
  MAX_REPORT_BYTES_LIMIT,
  MIN_DEVELOPMENT_INTERVAL_SECONDS,
  MIN_PRODUCTION_INTERVAL_SECONDS,
  MIN_REPORT_BYTES,
  recipeDefaultConfiguration,
} from './definition';

export interface ConfigError {
  key: string;
  message: string;
}

export interface ParsedConfig {
  config: AgentConfig;
  errors: ConfigError[];
}

/** Keys that belong to Greengrass rather than to the agent. */
const GREENGRASS_KEYS = new Set(['accesscontrol']);
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const METRIC_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

type KeyParser = (value: unknown) => unknown;

class InvalidValue extends Error {}

function integer(min: number, max: number): KeyParser {
  return (value) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidValue(`must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    }
    return n;
  };
}

function boolean(value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidValue(`must be true or false (got ${JSON.stringify(value)})`);
}

function oneOf<T extends string>(allowed: readonly T[]): KeyParser {
  return (value) => {
    const text = typeof value === 'string' ? value.toLowerCase() : value;
    if (typeof text !== 'string' || !allowed.includes(text as T)) {
      throw new InvalidValue(`must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
    }
    return text;
  };
}

function thingName(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidValue(`must be a string (got ${JSON.stringify(value)})`);
  if (value !== '' && !THING_NAME.test(value)) {
    throw new InvalidValue(`"${value}" is not a valid thing name (1-128 of a-z A-Z 0-9 : _ -)`);
  }
  return value;
}

function absolutePath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new InvalidValue(`must be an absolute path (got ${JSON.stringify(value)})`);
  }
  return value.replace(/\/+$/, '') || '/';
}

function customMetrics(value: unknown): Record<string, CustomMetricSpec> {
  const parsed = typeof value === 'string' && value.trim().startsWith('{') ? safeJson(value) : value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidValue('must be an object of { "<metric name>": { "source": "<source>" } }');
  }
  const sources = Object.keys(CUSTOM_METRIC_SOURCES);
  const result: Record<string, CustomMetricSpec> = {};
  for (const [name, spec] of Object.entries(parsed)) {
    if (!METRIC_NAME.test(name) || name.toLowerCase().startsWith('aws:')) {
      throw new InvalidValue(`metric name "${name}" must be 1-128 of a-z A-Z 0-9 : _ - and not start with aws:`);
    }
    const fields = lowerCaseKeys(spec);
    const source = sources.find((s) => s.toLowerCase() === String(fields.source ?? '').toLowerCase());
    if (!source) {
      throw new InvalidValue(`metric "${name}": source must be one of ${sources.join(', ')} (got ${JSON.stringify(fields.source)})`);
    }
    const entry: CustomMetricSpec = { source: source as CustomMetricSource };
    if (source === 'diskUsed') {
      const mountPoint = fields.mountpoint ?? '/';
      if (typeof mountPoint !== 'string' || !mountPoint.startsWith('/')) {
        throw new InvalidValue(`metric "${name}": mountPoint must be an absolute path (got ${JSON.stringify(mountPoint)})`);
      }
      entry.mountPoint = mountPoint;
    }
    result[name] = entry;
  }
  return result;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidValue('is a string that is not valid JSON');
  }
}

function lowerCaseKeys(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}

const PARSERS: Record<keyof AgentConfig, KeyParser> = {
  // The production floor is applied after all keys are read, because it depends on another key.
  intervalSeconds: integer(MIN_DEVELOPMENT_INTERVAL_SECONDS, 86_400),
  allowFastIntervalForDevelopment: boolean,
  format: oneOf(['json', 'cbor'] as const),
  shortNames: boolean,
  thingName,
  customMetrics,
  maxListedPorts: integer(1, 10_000),
  maxListedConnections: integer(1, 100_000),
  maxReportBytes: integer(MIN_REPORT_BYTES, MAX_REPORT_BYTES_LIMIT),
  networkStatsIncludeLoopback: boolean,
  procfsRoot: absolutePath,
  logLevel: oneOf(LOG_LEVELS),
};

let defaultsCache: AgentConfig | undefined;

/** The recipe defaults, parsed: what the agent runs with when nothing else is configured. */
export function defaultConfig(): AgentConfig {
  if (!defaultsCache) {
    const defaults = recipeDefaultConfiguration();
    const config = {} as Record<string, unknown>;
    for (const doc of CONFIG_KEYS) config[doc.key] = PARSERS[doc.key](defaults[doc.key]);
    defaultsCache = config as unknown as AgentConfig;
  }
  return { ...defaultsCache, customMetrics: { ...defaultsCache.customMetrics } };
}

/**
 * Parses `raw` (the component's whole configuration). Keys that are missing take the recipe
 * default; keys that are invalid keep the value from `fallback` and are reported in `errors`.
 */
export function parseConfig(raw: unknown, fallback: AgentConfig = defaultConfig()): ParsedConfig {
  const errors: ConfigError[] = [];
  const defaults = defaultConfig();
  const config: Record<string, unknown> = { ...defaults };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { config: { ...fallback }, errors: [{ key: '(root)', message: 'configuration must be an object' }] };
  }
  const byLowerKey = new Map(CONFIG_KEYS.map((doc) => [doc.key.toLowerCase(), doc.key]));
  for (const [rawKey, value] of Object.entries(raw)) {
    const key = byLowerKey.get(rawKey.toLowerCase());
    if (!key) {
      if (!GREENGRASS_KEYS.has(rawKey.toLowerCase())) {
        errors.push({ key: rawKey, message: `unknown key (known keys: ${CONFIG_KEYS.map((d) => d.key).join(', ')})` });
      }
      continue;
    }
    try {
      config[key] = PARSERS[key](value);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      errors.push({ key, message: error.message });
      config[key] = fallback[key];
    }
  }
  const result = config as unknown as AgentConfig;
  if (!result.allowFastIntervalForDevelopment && result.intervalSeconds < MIN_PRODUCTION_INTERVAL_SECONDS) {
    errors.push({
      key: 'intervalSeconds',
      message:
        `${result.intervalSeconds} is below ${MIN_PRODUCTION_INTERVAL_SECONDS}: Device Defender throttles a thing to one report ` +
        `every ${MIN_PRODUCTION_INTERVAL_SECONDS} s (set allowFastIntervalForDevelopment only on a local development core)`,
    });
    result.intervalSeconds = Math.max(fallback.intervalSeconds, MIN_PRODUCTION_INTERVAL_SECONDS);
  }
  return { config: result, errors };
}

export function describeConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.key}: ${e.message}`).join('; ');
}
