/**
 * What the two Greengrass runtimes read in a recipe, modelled on their own code (pure: no IO), so that the build can
 * refuse a recipe one of them would not deploy, and the tests can show which manifest each runtime selects.
 *
 * - The classic (Java) nucleus: manifest selection is aws-greengrass-component-common's `PlatformHelper` on the
 *   platform `PlatformResolver` reports (`os`, `architecture`; an architecture it does not know is reported as `*`);
 *   recipe keys are case-insensitive.
 * - Nucleus lite, source at 326e992b (docs/nucleus-lite.md): `modules/ggl-recipe/src/recipe.c` (manifest selection,
 *   the step keys, the 8196-byte buffer a stored recipe is read into), `modules/recipe2unit/src/unit_file_generator.c`
 *   (phases looked up in lower case), `modules/recipe-runner/src/runner.c` (every `{` of a script or a Setenv value
 *   opens a recipe variable, with no escape) and `modules/ggl-config-interpolation/src/interpolation.c` (the variables
 *   it substitutes; any other fails the phase). The recipe it reads is claimed whole by gg_sdk (aws-greengrass-component-sdk at
 *   4ead4862): `src/object_visit.c` refuses an object with more than GG_MAX_OBJECT_SUBOBJECTS in all or nested deeper
 *   than GG_MAX_OBJECT_DEPTH (`include/gg/object.h`), and the deployment then fails in its dependency resolution.
 */
export type Runtime = 'classic' | 'lite';

/** The `architecture` each runtime reports on Linux. */
export const REPORTED_ARCHITECTURES: Record<Runtime, readonly string[]> = {
  classic: ['amd64', 'aarch64', 'arm', 'x86', '*'],
  lite: ['amd64', 'aarch64', 'arm', 'x86', 'riscv64'],
};

/** `Platform.runtime` values nucleus lite accepts; a manifest without the key is classic-only. */
const LITE_RUNTIME_VALUES = ['*', 'aws_nucleus_lite'];
/** ggl_recipe_get_from_file reads `packages/recipes/<name>-<version>.{json,yaml}` into a buffer of this size. */
export const LITE_RECIPE_FILE_LIMIT_BYTES = 8196;

/**
 * gg_obj_visit's budget for the whole recipe (GG_MAX_OBJECT_SUBOBJECTS): a map entry costs 2, a list item 1, summed over
 * every map and list of the recipe, not per level.
 */
export const LITE_RECIPE_SUBOBJECT_LIMIT = 255;
/** GG_MAX_OBJECT_DEPTH: the visit fails when a value sits 15 maps or lists below the recipe's top. */
const LITE_RECIPE_DEPTH_LIMIT = 15;

/** What gg_obj_visit counts of a parsed recipe: its subobjects, and the deepest nesting of a value below the top. */
export function liteObjectMeasure(value: unknown, depth = 0): { subobjects: number; depth: number } {
  const children = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : undefined;
  if (children === undefined) return { subobjects: 0, depth };
  const own = Array.isArray(value) ? children.length : children.length * 2;
  return children.reduce<{ subobjects: number; depth: number }>(
    (sum, child) => {
      const measured = liteObjectMeasure(child, depth + 1);
      return { subobjects: sum.subobjects + measured.subobjects, depth: Math.max(sum.depth, measured.depth) };
    },
    { subobjects: own, depth },
  );
}

function liteObjectProblems(recipe: Json): string[] {
  const { subobjects, depth } = liteObjectMeasure(recipe);
  const problems: string[] = [];
  if (subobjects > LITE_RECIPE_SUBOBJECT_LIMIT)
    problems.push(
      `the recipe has ${subobjects} subobjects (2 per mapping entry, 1 per list item, in all); nucleus lite refuses a recipe with more than ${LITE_RECIPE_SUBOBJECT_LIMIT} ("Visited object's subobjects exceeds maximum") and fails the deployment: drop keys that repeat a default, or share less per manifest`,
    );
  if (depth >= LITE_RECIPE_DEPTH_LIMIT)
    problems.push(`the recipe nests a value ${depth} levels deep; nucleus lite refuses ${LITE_RECIPE_DEPTH_LIMIT} or more`);
  return problems;
}

/** Lifecycle keys as nucleus lite spells them; shutdown and recover it does not run. */
const LITE_LIFECYCLE_KEYS = ['Setenv', 'install', 'run', 'startup', 'bootstrap'];
const LITE_UNSUPPORTED_STEPS = ['shutdown', 'recover'];
const LITE_STEP_KEYS = ['Script', 'RequiresPrivilege', 'Timeout', 'Setenv'];
/** The recipe variables recipe-runner substitutes (`configuration:` takes any JSON pointer). */
const LITE_VARIABLES = ['kernel:rootPath', 'iot:thingName', 'work:path', 'artifacts:path', 'artifacts:decompressedPath'];

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function manifestLabel(manifest: unknown, index: number): string {
  return isRecord(manifest) && typeof manifest.Name === 'string' ? manifest.Name : `#${index + 1}`;
}

/** PlatformHelper.isAttributeSatisfied: `*` (or no template) matches, a key the core does not report does not. */
function classicAttributeSatisfied(name: string, label: string | undefined, template: unknown): boolean {
  if (template === null || template === undefined || template === '*') return true;
  if (label === undefined || label === '') return false;
  if (typeof template !== 'string') return false;
  if (template.length >= 2 && template.startsWith('/') && template.endsWith('/')) {
    return new RegExp(`^(?:${template.slice(1, -1)})$`).test(label);
  }
  if ((name === 'os' || name === 'architecture') && (template === 'all' || template === 'any')) return true;
  if (!/^[a-zA-Z0-9]/.test(template)) return false;
  return template === label;
}

function classicSelects(manifest: unknown, architecture: string, os: CoreOs): boolean {
  if (!isRecord(manifest)) return false;
  const platform = manifest.Platform;
  if (platform === undefined || platform === null || (isRecord(platform) && Object.keys(platform).length === 0)) return true;
  if (!isRecord(platform)) return false;
  const reported: Record<string, string> = { os, architecture };
  return Object.entries(platform).every(([key, template]) => classicAttributeSatisfied(key, reported[key], template));
}

/**
 * The architectures the classic nucleus matches with a manifest's `Platform.architecture` (`*` standing for one it
 * does not know), by the same PlatformHelper rules as manifest selection; an invalid regular expression matches none.
 */
export function classicArchitecturesMatched(template: unknown): string[] {
  return REPORTED_ARCHITECTURES.classic.filter((architecture) => {
    try {
      return classicAttributeSatisfied('architecture', architecture, template);
    } catch {
      return false;
    }
  });
}

/** recipe.c manifest_selection: `selected`, `skipped`, or a reason lite refuses the whole recipe. */
function liteSelection(manifest: unknown, architecture: string): 'selected' | 'skipped' | { refused: string } {
  if (!isRecord(manifest)) return { refused: 'a manifest is not a mapping' };
  const platform = manifest.Platform;
  if (!isRecord(platform)) return { refused: 'a manifest has no Platform mapping' };
  const runtime = platform.runtime;
  if (runtime === undefined) return 'skipped';
  if (typeof runtime !== 'string') return { refused: 'Platform.runtime is not a string' };
  if (!LITE_RUNTIME_VALUES.includes(runtime)) return 'skipped';
  const os = platform.os;
  if (os === undefined) return 'skipped';
  if (typeof os !== 'string') return { refused: 'Platform.os is not a string' };
  if (!['linux', '*', 'all'].includes(os)) return 'skipped';
  const wanted = platform.architecture;
  if (wanted !== undefined && typeof wanted !== 'string') return { refused: 'Platform.architecture is not a string' };
  if (wanted !== undefined && wanted !== '' && wanted !== '*' && wanted !== architecture) return 'skipped';
  if (manifest.Lifecycle === undefined) return 'skipped';
  if (!isRecord(manifest.Lifecycle)) return { refused: 'a Lifecycle is not a mapping' };
  return 'selected';
}

/** The `os` a core reports; nucleus lite runs on Linux only. */
export type CoreOs = 'linux' | 'windows';

/** Index of the manifest the runtime selects on a core of that architecture (Linux unless `os` says), -1 for none. */
export function selectedManifest(runtime: Runtime, manifests: readonly unknown[], architecture: string, os: CoreOs = 'linux'): number {
  if (runtime === 'classic') return manifests.findIndex((manifest) => classicSelects(manifest, architecture, os));
  if (os !== 'linux') return -1;
  for (const [index, manifest] of manifests.entries()) {
    const outcome = liteSelection(manifest, architecture);
    if (outcome === 'selected') return index;
    if (outcome !== 'skipped') return -1;
  }
  return -1;
}

/** Problems of a `{` that does not open a variable recipe-runner substitutes, in a script or a Setenv value. */
function braceProblems(text: string, where: string): string[] {
  const problems: string[] = [];
  for (let at = text.indexOf('{'); at >= 0; at = text.indexOf('{', at + 1)) {
    const end = text.indexOf('}', at);
    const variable = end < 0 ? undefined : text.slice(at + 1, end);
    const known =
      variable !== undefined && !variable.includes('{') && (LITE_VARIABLES.includes(variable) || /^configuration:\/[^:]*$/.test(variable));
    if (!known) {
      const shown = (end >= 0 && end - at < 48 ? text.slice(at, end + 1) : `${text.slice(at, at + 24)}...`).split('\n')[0];
      problems.push(
        `${where}: "${shown}" is not a recipe variable, but nucleus lite reads every "{" in a script as the start of one ` +
          '(it has no escape) and fails the phase; write the script without "{" (if ...; then ...; fi instead of a brace group)',
      );
    }
  }
  return problems;
}

function setenvProblems(setenv: unknown, where: string): string[] {
  if (!isRecord(setenv)) return [`${where}: nucleus lite needs Setenv to be a mapping`];
  return Object.entries(setenv).flatMap(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      return [`${where}.${key}: nucleus lite refuses a Setenv name that is not a shell identifier`];
    if (typeof value !== 'string') return [`${where}.${key}: nucleus lite needs every Setenv value to be a string`];
    return braceProblems(value, `${where}.${key}`);
  });
}

function stepProblems(step: unknown, where: string): string[] {
  if (typeof step === 'string') return braceProblems(step, where);
  if (!isRecord(step)) return [`${where}: a lifecycle step must be a script or a mapping`];
  const problems: string[] = [];
  for (const key of Object.keys(step)) {
    if (LITE_STEP_KEYS.includes(key)) continue;
    const spelled = LITE_STEP_KEYS.find((known) => known.toLowerCase() === key.toLowerCase());
    problems.push(
      spelled
        ? `${where}.${key}: nucleus lite reads only "${spelled}" (keys are case-sensitive there)`
        : `${where}.${key}: not a step key nucleus lite reads (${LITE_STEP_KEYS.join(', ')})`,
    );
  }
  if (typeof step.Script !== 'string') problems.push(`${where}: nucleus lite needs a Script`);
  else problems.push(...braceProblems(step.Script, `${where}.Script`));
  if (step.Setenv !== undefined) problems.push(...setenvProblems(step.Setenv, `${where}.Setenv`));
  const privilege = step.RequiresPrivilege;
  if (privilege !== undefined && ![true, false, 'true', 'false'].includes(privilege as string | boolean))
    problems.push(`${where}.RequiresPrivilege: nucleus lite reads only true or false`);
  const timeout = step.Timeout;
  if (timeout !== undefined && !(Number.isInteger(Number(timeout)) && Number(timeout) >= 0 && /^\s*\d+$/.test(String(timeout))))
    problems.push(`${where}.Timeout: nucleus lite reads only a whole number of seconds`);
  return problems;
}

function lifecycleProblems(lifecycle: Json, label: string): string[] {
  const where = `manifest "${label}" Lifecycle`;
  const problems: string[] = [];
  const byCase = new Map<string, string[]>();
  for (const key of Object.keys(lifecycle)) byCase.set(key.toLowerCase(), [...(byCase.get(key.toLowerCase()) ?? []), key]);
  for (const keys of byCase.values()) {
    if (keys.length > 1) problems.push(`${where}: ${keys.join(' and ')} are one key to the classic nucleus, which ignores case`);
  }
  for (const [key, value] of Object.entries(lifecycle)) {
    if (LITE_UNSUPPORTED_STEPS.includes(key.toLowerCase())) {
      problems.push(`${where}.${key}: nucleus lite does not run a ${key.toLowerCase()} phase`);
      continue;
    }
    const spelled = LITE_LIFECYCLE_KEYS.find((known) => known.toLowerCase() === key.toLowerCase());
    if (!spelled) {
      problems.push(`${where}.${key}: not a lifecycle key either runtime reads (${LITE_LIFECYCLE_KEYS.join(', ')})`);
      continue;
    }
    if (spelled !== key) {
      problems.push(
        `${where}.${key}: nucleus lite looks it up as "${spelled}" exactly and would not find it (the classic nucleus reads any case)`,
      );
      continue;
    }
    problems.push(...(key === 'Setenv' ? setenvProblems(value, `${where}.Setenv`) : stepProblems(value, `${where}.${key}`)));
  }
  if (lifecycle.run === undefined && lifecycle.startup === undefined) problems.push(`${where}: no run step for nucleus lite`);
  return problems;
}

/**
 * What nucleus lite does with a recipe on a core of `architecture`: the index of the manifest it selects, or the
 * problems (its selection, the selected lifecycle's spelling and braces, the recipe file's size) that stop it.
 */
export function liteDeployment(recipe: Json, recipeText: string, architecture: string): { manifest: number; problems: string[] } {
  const manifests = Array.isArray(recipe.Manifests) ? recipe.Manifests : [];
  const problems: string[] = [];
  const bytes = Buffer.byteLength(recipeText, 'utf8');
  if (bytes > LITE_RECIPE_FILE_LIMIT_BYTES)
    problems.push(`the recipe is ${bytes} bytes; nucleus lite reads a stored recipe into ${LITE_RECIPE_FILE_LIMIT_BYTES} bytes`);
  problems.push(...liteObjectProblems(recipe));
  const manifest = selectedManifest('lite', manifests, architecture);
  const selected = manifests[manifest];
  if (manifest < 0 || !isRecord(selected) || !isRecord(selected.Lifecycle)) {
    problems.push(`nucleus lite on ${architecture}: no manifest is selected (a manifest needs Platform.runtime "*" or "aws_nucleus_lite")`);
    return { manifest: -1, problems };
  }
  problems.push(...lifecycleProblems(selected.Lifecycle, manifestLabel(selected, manifest)));
  return { manifest, problems };
}

/** Every problem that keeps one of the runtimes from deploying and running the recipe; empty when both can. */
export function runtimeRuleProblems(recipe: Json, recipeText: string): string[] {
  const manifests = Array.isArray(recipe.Manifests) ? recipe.Manifests : [];
  const problems: string[] = [];
  for (const runtime of ['classic', 'lite'] as const) {
    for (const architecture of REPORTED_ARCHITECTURES[runtime]) {
      if (selectedManifest(runtime, manifests, architecture) >= 0) continue;
      const refusal = manifests
        .map((manifest) => liteSelection(manifest, architecture))
        .find((outcome): outcome is { refused: string } => typeof outcome === 'object');
      problems.push(
        runtime === 'lite'
          ? `nucleus lite on ${architecture}: no manifest is selected (${refusal ? `it refuses the recipe: ${refusal.refused}` : 'it skips every manifest without Platform.runtime "*" or "aws_nucleus_lite"'})`
          : `the classic nucleus on ${architecture === '*' ? 'an architecture it does not know' : architecture}: no manifest is selected`,
      );
    }
  }
  manifests.forEach((manifest, index) => {
    if (!isRecord(manifest)) return;
    const label = manifestLabel(manifest, index);
    if (!isRecord(manifest.Lifecycle)) {
      problems.push(`manifest "${label}": no Lifecycle of its own (nucleus lite and this build read only a manifest's Lifecycle)`);
      return;
    }
    problems.push(...lifecycleProblems(manifest.Lifecycle, label));
  });
  problems.push(...liteObjectProblems(recipe));
  for (const [form, bytes] of [
    ['YAML', Buffer.byteLength(recipeText, 'utf8')],
    ['JSON', Buffer.byteLength(JSON.stringify(recipe), 'utf8')],
  ] as const) {
    if (bytes > LITE_RECIPE_FILE_LIMIT_BYTES)
      problems.push(
        `the recipe is ${bytes} bytes as ${form}; nucleus lite reads a stored recipe into ${LITE_RECIPE_FILE_LIMIT_BYTES} bytes and fails to deploy a larger one`,
      );
  }
  return problems;
}
