/** The function's settings, from the environment `gg quarantine auto enable` gives it. */
import { isIotName } from '../../src/config/names';
import type { IsolationSettings } from './isolate';
import { DEFAULT_QUARANTINE_SHADOW } from './shadow';

export const ENV = {
  group: 'QUARANTINE_GROUP',
  shadow: 'QUARANTINE_SHADOW',
  behaviors: 'QUARANTINE_BEHAVIORS',
} as const;

/** Behaviors are listed comma-separated; `*` (or nothing) means all. */
export function behaviorsValue(behaviors: readonly string[] | undefined): string {
  return behaviors && behaviors.length > 0 ? behaviors.join(',') : '*';
}

/** Throws with the variable's name when the function was deployed with a setting it cannot use. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): IsolationSettings {
  const groupName = env[ENV.group] ?? '';
  if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(groupName))
    throw new Error(`${ENV.group} must be a thing group name, got ${JSON.stringify(groupName)}`);
  const shadowName = env[ENV.shadow] || DEFAULT_QUARANTINE_SHADOW;
  if (!/^[a-zA-Z0-9:_-]{1,64}$/.test(shadowName)) throw new Error(`${ENV.shadow} must be a shadow name, got ${JSON.stringify(shadowName)}`);
  const listed = (env[ENV.behaviors] ?? '*').trim();
  if (listed === '*' || listed === '') return { groupName, shadowName, behaviors: undefined };
  const names = listed.split(',').map((name) => name.trim());
  const bad = names.find((name) => !isIotName(name));
  if (bad !== undefined) throw new Error(`${ENV.behaviors} holds ${JSON.stringify(bad)}, which is not a behavior name`);
  return { groupName, shadowName, behaviors: new Set(names) };
}
