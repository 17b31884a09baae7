/**
 * The configuration document a deployment merges into the component: agent keys the operator
 * set (checked against CONFIG_KEYS) plus the least-privilege accessControl for the topics used.
 */
import { accessControlFor, THING_NAME_VARIABLE } from '../../src/component/definition';
import { type AgentConfig, CONFIG_KEYS, type CustomMetricSpec } from '../../src/config/definition';
import type { ReportFormat } from '../../src/component/definition';
import { describeConfigErrors, parseConfig } from '../../src/config/parse';
import { featureAccessControlFor, withFeatureAccessControl } from './edge-permissions';
import { UsageError } from './errors';
import { quotedInput } from './terminal-text';
import { describeError } from '../../src/util/describe-error';

export type AgentSettings = Partial<Record<keyof AgentConfig, unknown>>;

const KNOWN_KEYS = new Map(CONFIG_KEYS.map((doc) => [doc.key.toLowerCase(), doc]));
export const ACCESS_CONTROL_KEY = 'accessControl';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Custom metrics as the agent's own parser takes them; what the device would refuse fails here. */
function validateCustomMetrics(value: unknown): Record<string, CustomMetricSpec> {
  const { config, errors } = parseConfig({ customMetrics: value });
  if (errors.length > 0) throw new UsageError(`customMetrics: ${describeConfigErrors(errors)}`);
  return config.customMetrics;
}

/** The agent's own parser over the settings: a value the device would refuse fails on the workstation. */
export function assertDeviceAccepts(settings: AgentSettings): void {
  const { errors } = parseConfig(settings);
  if (errors.length > 0) throw new UsageError(`the device would refuse this configuration: ${describeConfigErrors(errors)}`);
}

/** `--custom-metric name=source[:mountPoint]`, e.g. `cpu=cpuUsage` or `rootfs=diskUsed:/`. */
export function parseCustomMetricFlag(flag: string): [string, CustomMetricSpec] {
  const match = /^([^=]+)=([A-Za-z]+)(?::(.+))?$/.exec(flag);
  if (!match) throw new UsageError(`--custom-metric ${quotedInput(flag)} must look like name=source or name=diskUsed:/mount/point`);
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
    throw new UsageError(`--config-json is not valid JSON: ${describeError(error)}`);
  }
  if (!isRecord(parsed)) throw new UsageError('--config-json must be a JSON object of configuration keys');
  const settings: AgentSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key.toLowerCase() === ACCESS_CONTROL_KEY.toLowerCase()) {
      throw new UsageError('--config-json must not set accessControl: deploy writes the least-privilege policy for the target itself');
    }
    const doc = KNOWN_KEYS.get(key.toLowerCase());
    if (!doc)
      throw new UsageError(`--config-json has unknown key ${quotedInput(key)}; known keys: ${CONFIG_KEYS.map((d) => d.key).join(', ')}`);
    settings[doc.key] = value;
  }
  assertDeviceAccepts(settings);
  if (settings.customMetrics !== undefined) settings.customMetrics = validateCustomMetrics(settings.customMetrics);
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
  const thing = policyThingName(settings, targetThing);
  document[ACCESS_CONTROL_KEY] = withFeatureAccessControl(
    accessControlFor(componentName, thing),
    featureAccessControlFor(componentName, settings, thing),
  );
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
