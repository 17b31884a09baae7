/**
 * The configuration document a deployment merges into the component: agent keys the operator
 * set (checked against CONFIG_KEYS) plus the least-privilege accessControl for the topics used.
 */
import { accessControlFor, REPORT_FORMATS, THING_NAME_VARIABLE } from '../../src/component/definition';
import {
  type AgentConfig,
  CONFIG_KEYS,
  CUSTOM_METRIC_SOURCES,
  type CustomMetricSource,
  type CustomMetricSpec,
  type ReportFormat,
} from '../../src/config/definition';
import { UsageError } from './errors';

export type AgentSettings = Partial<Record<keyof AgentConfig, unknown>>;

const KNOWN_KEYS = new Map(CONFIG_KEYS.map((doc) => [doc.key.toLowerCase(), doc]));
const METRIC_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const ACCESS_CONTROL_KEY = 'accessControl';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateCustomMetrics(value: unknown): Record<string, CustomMetricSpec> {
  if (!isRecord(value)) throw new UsageError('customMetrics must be an object: { "<metric name>": { "source": "<source>" } }');
  const result: Record<string, CustomMetricSpec> = {};
  for (const [name, spec] of Object.entries(value)) {
    if (!METRIC_NAME.test(name) || name.startsWith('aws:')) {
      throw new UsageError(`custom metric name "${name}" is invalid: 1-128 of a-z A-Z 0-9 : _ - and not starting with aws:`);
    }
    if (!isRecord(spec) || typeof spec.source !== 'string' || !(spec.source in CUSTOM_METRIC_SOURCES)) {
      throw new UsageError(`custom metric "${name}" needs a source, one of: ${Object.keys(CUSTOM_METRIC_SOURCES).join(', ')}`);
    }
    const source = spec.source as CustomMetricSource;
    if (
      spec.mountPoint !== undefined &&
      (source !== 'diskUsed' || typeof spec.mountPoint !== 'string' || !spec.mountPoint.startsWith('/'))
    ) {
      throw new UsageError(`custom metric "${name}": mountPoint is only for diskUsed and must be an absolute path`);
    }
    result[name] = spec.mountPoint !== undefined ? { source, mountPoint: spec.mountPoint as string } : { source };
  }
  return result;
}

/** `--custom-metric name=source[:mountPoint]`, e.g. `cpu=cpuUsage` or `rootfs=diskUsed:/`. */
export function parseCustomMetricFlag(flag: string): [string, CustomMetricSpec] {
  const match = /^([^=]+)=([A-Za-z]+)(?::(.+))?$/.exec(flag);
  if (!match) throw new UsageError(`--custom-metric "${flag}" must look like name=source or name=diskUsed:/mount/point`);
  const [, name, source, mountPoint] = match as unknown as [string, string, string, string | undefined];
  const spec = mountPoint !== undefined ? { source, mountPoint } : { source };
  const validated = validateCustomMetrics({ [name]: spec });
  return [name, validated[name]!];
}

/** Parses `--config-json`: agent keys only, spelled as CONFIG_KEYS spells them. */
export function settingsFromConfigJson(text: string): AgentSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config-json is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new UsageError('--config-json must be a JSON object of configuration keys');
  const settings: AgentSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === ACCESS_CONTROL_KEY) {
      throw new UsageError('--config-json must not set accessControl: deploy writes the least-privilege policy for the target itself');
    }
    const doc = KNOWN_KEYS.get(key.toLowerCase());
    if (!doc) throw new UsageError(`--config-json has unknown key "${key}"; known keys: ${CONFIG_KEYS.map((d) => d.key).join(', ')}`);
    settings[doc.key] = doc.key === 'customMetrics' ? validateCustomMetrics(value) : value;
  }
  if (settings.format !== undefined && !REPORT_FORMATS.includes(String(settings.format).toLowerCase() as ReportFormat)) {
    throw new UsageError(`format must be one of ${REPORT_FORMATS.join(', ')}`);
  }
  return settings;
}

export function customMetricsOf(settings: AgentSettings): Record<string, CustomMetricSpec> {
  return settings.customMetrics === undefined ? {} : validateCustomMetrics(settings.customMetrics);
}

export function reportFormatOf(settings: AgentSettings): ReportFormat {
  const format = String(settings.format ?? 'json').toLowerCase();
  return format === 'cbor' ? 'cbor' : 'json';
}

/** Scalars take the form the recipe default has (numbers and booleans as strings, see src/config/definition.ts). */
function inRecipeForm(key: keyof AgentConfig, value: unknown): unknown {
  const doc = CONFIG_KEYS.find((d) => d.key === key);
  if (typeof doc?.recipeDefault === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
  return value;
}

/** Thing whose topics the policy must allow: the agent's thingName override if set, else the target's own. */
export function policyThingName(settings: AgentSettings, targetThing: string | undefined): string {
  if (typeof settings.thingName === 'string' && settings.thingName !== '') return settings.thingName;
  return targetThing ?? THING_NAME_VARIABLE;
}

/**
 * The `configurationUpdate.merge` string. `targetThing` undefined means a thing group: the policy
 * then names `{iot:thingName}`, which the nucleus substitutes only with interpolation enabled.
 */
export function buildConfigurationMerge(componentName: string, settings: AgentSettings, targetThing: string | undefined): string {
  const document: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value !== undefined) document[key] = inRecipeForm(key as keyof AgentConfig, value);
  }
  document[ACCESS_CONTROL_KEY] = accessControlFor(componentName, policyThingName(settings, targetThing));
  return JSON.stringify(document);
}

/** Reads the agent keys back out of a deployment's merge string (for doctor and redeploys). */
export function settingsFromMerge(merge: string | undefined): AgentSettings {
  if (!merge) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(merge);
  } catch {
    return {};
  }
  if (!isRecord(parsed)) return {};
  const settings: AgentSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    const doc = KNOWN_KEYS.get(key.toLowerCase());
    if (doc) settings[doc.key] = value;
  }
  return settings;
}

/** Custom metrics named by `--config-json` and `--custom-metric` flags (the flags win). */
export function customMetricsFromFlags(
  configJson: string | undefined,
  customMetricFlags: readonly string[] | undefined,
): Record<string, CustomMetricSpec> {
  const fromJson = configJson !== undefined ? customMetricsOf(settingsFromConfigJson(configJson)) : {};
  return { ...fromJson, ...Object.fromEntries((customMetricFlags ?? []).map(parseCustomMetricFlag)) };
}
