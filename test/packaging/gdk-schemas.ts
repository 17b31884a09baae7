/**
 * Validates gdk-config.json and recipes the way gdk does: its own JSON schemas (gdk-schemas/) with the three Ajv settings
 * that make Ajv agree with gdk's Python validator, plus the lifecycle `Script` check the recipe schema misses when
 * ComponentType is absent.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const schemaDir = join(__dirname, 'gdk-schemas');
const loadSchema = (file: string): object => JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as object;

const regExp = Object.assign(
  (pattern: string, flags: string) => (pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), `${flags}i`) : new RegExp(pattern, flags)),
  { code: 'ciRegExp' },
);
const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp } });
const recipeValidator = ajv.compile(loadSchema('recipe_schema.json'));
const configValidator = ajv.compile(loadSchema('config_schema.json'));

function lowercaseKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowercaseKeysDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.toLowerCase(), lowercaseKeysDeep(inner)]));
  }
  return value;
}

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());

/** Schema errors, empty when gdk would accept the recipe. */
export function recipeSchemaErrors(recipe: unknown): string[] {
  return recipeValidator(lowercaseKeysDeep(recipe)) ? [] : describe(recipeValidator.errors);
}

export function gdkConfigSchemaErrors(config: unknown): string[] {
  return configValidator(config) ? [] : describe(configValidator.errors);
}

const LIFECYCLE_STEPS = ['install', 'run', 'startup', 'shutdown', 'recover', 'bootstrap'];

/** Lifecycle steps in object form that have no Script (e.g. "Manifests[0].Lifecycle.Install"). */
export function stepsWithoutScript(recipe: Record<string, unknown>): string[] {
  const manifests = Array.isArray(recipe.Manifests) ? (recipe.Manifests as unknown[]) : [];
  const missing: string[] = [];
  manifests.forEach((manifest, index) => {
    const lifecycle = (manifest as { Lifecycle?: Record<string, unknown> }).Lifecycle ?? {};
    for (const [step, value] of Object.entries(lifecycle)) {
      if (!LIFECYCLE_STEPS.includes(step.toLowerCase())) continue;
      const script = typeof value === 'string' ? value : (value as { Script?: unknown } | null)?.Script;
      if (typeof script !== 'string' || script.trim() === '') missing.push(`Manifests[${index}].Lifecycle.${step}`);
    }
  });
  return missing;
}
