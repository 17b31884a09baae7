/**
 * Turns the component configuration as Greengrass delivers it (numbers possibly as strings,
 * keys case-insensitive) into an AgentConfig, naming every bad key and why.
 */
import { metricKindOf } from './behaviors';
import {
  type AgentConfig,
  CONFIG_KEYS,
  CUSTOM_METRIC_SOURCES,
  MIN_PRODUCTION_INTERVAL_SECONDS,
  recipeDefaultConfiguration,
} from './definition';
import { quoteValue } from './quote';
import { InvalidValue, type ParseContext, type ValueParser } from './values';

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
/** Unknown keys are named as given when they are plain words, else quoted and escaped. */
const SAFE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

function parseKey<K extends keyof AgentConfig>(
  doc: { key: K; parse: ValueParser<AgentConfig[K]> },
  value: unknown,
  context: ParseContext,
): AgentConfig[K] {
  return doc.parse(value, context);
}

let defaultsCache: AgentConfig | undefined;

/** The recipe defaults, parsed: what the agent runs with when nothing else is configured. */
export function defaultConfig(): AgentConfig {
  if (!defaultsCache) {
    const defaults = recipeDefaultConfiguration();
    const config = {} as Record<string, unknown>;
    for (const doc of CONFIG_KEYS) config[doc.key] = parseKey(doc, defaults[doc.key], {});
    defaultsCache = config as unknown as AgentConfig;
  }
  return { ...defaultsCache, customMetrics: { ...defaultsCache.customMetrics } };
}

/**
 * Parses `raw` (the component's whole configuration). Keys that are missing take the recipe
 * default; keys that are invalid keep the value from `fallback` and are reported in `errors`.
 * `context.platform`: the core's platform, where it is known (the agent and `npm run collect` know theirs).
 */
export function parseConfig(raw: unknown, fallback: AgentConfig = defaultConfig(), context: ParseContext = {}): ParsedConfig {
  const errors: ConfigError[] = [];
  const defaults = defaultConfig();
  const config: Record<string, unknown> = { ...defaults };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { config: { ...fallback }, errors: [{ key: '(root)', message: 'configuration must be an object' }] };
  }
  const byLowerKey = new Map(CONFIG_KEYS.map((doc) => [doc.key.toLowerCase(), doc]));
  for (const [rawKey, value] of Object.entries(raw)) {
    const doc = byLowerKey.get(rawKey.toLowerCase());
    if (!doc) {
      if (!GREENGRASS_KEYS.has(rawKey.toLowerCase())) {
        errors.push({
          key: SAFE_KEY.test(rawKey) ? rawKey : quoteValue(rawKey),
          message: `unknown key (known keys: ${CONFIG_KEYS.map((d) => d.key).join(', ')})`,
        });
      }
      continue;
    }
    try {
      config[doc.key] = parseKey(doc, value, context);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      errors.push({ key: doc.key, message: error.message });
      config[doc.key] = fallback[doc.key];
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
  const unmatched = customMetricBehaviorProblems(result);
  if (unmatched.length > 0) {
    errors.push({ key: 'behaviors', message: unmatched.join('; ') });
    result.behaviors = fallback.behaviors;
  }
  return { config: result, errors };
}

/**
 * A behavior on a custom metric is evaluated only when that metric is collected with the type its operator takes;
 * otherwise it would silently never fire, so the deployment is refused instead.
 */
function customMetricBehaviorProblems(config: AgentConfig): string[] {
  const problems: string[] = [];
  for (const behavior of config.behaviors) {
    if (behavior.criteria === undefined) continue;
    const kind = metricKindOf(behavior);
    if (kind.kind !== 'custom') continue;
    const spec = Object.hasOwn(config.customMetrics, kind.name) ? config.customMetrics[kind.name] : undefined;
    if (!spec) {
      problems.push(`behavior ${quoteValue(behavior.name)} watches custom metric ${quoteValue(kind.name)}, which is not in customMetrics`);
    } else if (CUSTOM_METRIC_SOURCES[spec.source].type !== kind.type) {
      problems.push(
        `behavior ${quoteValue(behavior.name)}: custom metric ${quoteValue(kind.name)} is a ${CUSTOM_METRIC_SOURCES[spec.source].type}, ` +
          `but ${behavior.criteria.comparisonOperator} takes a ${kind.type}`,
      );
    }
  }
  return problems;
}

export function describeConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.key}: ${e.message}`).join('; ');
}
