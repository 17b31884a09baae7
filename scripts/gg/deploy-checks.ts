/**
 * What deploy checks beyond the agent's own parser, and the reset paths it owns. The parser falls back to 300 s for
 * a fast interval (a device must never stop reporting over a flag), so the workstation refuses it instead.
 */
import { CONFIG_KEYS, MIN_PRODUCTION_INTERVAL_SECONDS } from '../../src/config/definition';
import { metricNameProblem } from '../../src/config/names';
import type { AgentSettings } from './agent-config';
import { UsageError } from './errors';
import { quotedInput } from './terminal-text';

/** CreateDeployment's timeoutInSeconds members are 32-bit integers. */
export const MAX_UPDATE_TIMEOUT_SECONDS = 2_147_483_647;
/** IoT jobs take an in-progress timeout of 1 minute to 7 days. */
export const MAX_JOB_TIMEOUT_MINUTES = 10_080;

export function checkInterval(settings: AgentSettings): void {
  // Values carried over from an earlier deploy are in the recipe's string form.
  const interval = Number(settings.intervalSeconds);
  const development = settings.allowFastIntervalForDevelopment === true || settings.allowFastIntervalForDevelopment === 'true';
  if (Number.isFinite(interval) && interval < MIN_PRODUCTION_INTERVAL_SECONDS && !development) {
    throw new UsageError(
      `--interval ${interval} is under ${MIN_PRODUCTION_INTERVAL_SECONDS}: Device Defender throttles a thing to one report every ` +
        `${MIN_PRODUCTION_INTERVAL_SECONDS / 60} minutes, and the device would fall back to ${MIN_PRODUCTION_INTERVAL_SECONDS}. For a local ` +
        `development core only, add --config-json '{"allowFastIntervalForDevelopment":true}'`,
    );
  }
}

const KEYS = new Set<string>(CONFIG_KEYS.map((doc) => doc.key));

export interface ResetPlan {
  /** configurationUpdate.reset: JSON pointers into the component's configuration. */
  paths: string[];
  /** What the previous deploy's merge still contributes once the reset keys are gone. */
  keep(previous: AgentSettings): AgentSettings;
}

/**
 * `--reset KEY` (a configuration key, or customMetrics/NAME) puts KEY back to the recipe default and stops carrying
 * it over from the previous deploy; `--reset-config` does that for the whole configuration.
 */
export function resetPlan(resetFlags: readonly string[], resetAll: boolean, settings: AgentSettings): ResetPlan {
  if (resetAll) {
    if (resetFlags.length) throw new UsageError('--reset-config already resets every key: drop --reset');
    return { paths: [''], keep: () => ({}) };
  }
  const keys: string[] = [];
  const metrics: string[] = [];
  for (const flag of resetFlags) {
    const [key, metric, ...extra] = flag.split('/');
    if (key === 'customMetrics' && metric !== undefined && extra.length === 0) {
      const problem = metricNameProblem(metric);
      if (problem) throw new UsageError(`--reset ${quotedInput(flag)}: ${problem}`);
      metrics.push(metric);
    } else if (key !== undefined && metric === undefined && KEYS.has(key)) {
      keys.push(key);
    } else {
      throw new UsageError(`--reset ${quotedInput(flag)} is not a configuration key (${[...KEYS].join(', ')}) or customMetrics/NAME`);
    }
    if (key !== undefined && key in settings && (metric === undefined || key !== 'customMetrics')) {
      throw new UsageError(`--reset ${quotedInput(flag)} and a flag setting ${key} contradict each other`);
    }
  }
  return {
    paths: [...keys.map((key) => `/${key}`), ...metrics.map((metric) => `/customMetrics/${metric}`)],
    keep: (previous) => {
      const kept: Record<string, unknown> = { ...previous };
      for (const key of keys) delete kept[key];
      const custom = kept.customMetrics;
      if (metrics.length && typeof custom === 'object' && custom !== null) {
        kept.customMetrics = Object.fromEntries(Object.entries(custom).filter(([name]) => !metrics.includes(name)));
      }
      return kept as AgentSettings;
    },
  };
}
