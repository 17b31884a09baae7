/**
 * The pure half of the launcher: from a recipe, a platform and a configuration merge to what the nucleus would run.
 * Two steps, because the nucleus registers the component between them: `readRecipe` picks the manifest and merges
 * the configuration; `planLifecycle` substitutes recipe variables into the lifecycle, as the nucleus's
 * `src/main/java/com/aws/greengrass/componentmanager/KernelConfigResolver.java` does, and lays out each step's script,
 * environment and timeout.
 *
 * Supported recipe subset (anything else is refused with a clear error rather than silently ignored): manifests with
 * Platform/Artifacts/Lifecycle (or a global Lifecycle), artifacts without Unarchive, lifecycle Setenv, Install
 * (Script, Timeout, Setenv) and Run (Script, Setenv), all unprivileged.
 */
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { liteDeployment } from '../../scripts/build/runtimes';
import { isConfigObject, mergeConfiguration, valueAtPointer, type ConfigObject } from './config-store';

/** Greengrass platform attributes (`os`, `architecture`, ...) that manifests are matched against. */
export type PlatformAttributes = Record<string, string>;

export type LifecycleStep = 'Install' | 'Run';

const SUPPORTED_LIFECYCLE_KEYS = ['setenv', 'install', 'run'];
const SUPPORTED_STEP_KEYS = ['script', 'setenv', 'timeout', 'requiresprivilege'];
const DEFAULT_REGION = 'us-east-1';
const DEFAULT_NUCLEUS_VERSION = '2.14.0';

export class RecipeError extends Error {
  constructor(recipeFile: string, message: string) {
    super(`${recipeFile}: ${message}`);
    this.name = 'RecipeError';
  }
}

/** Recipe keys are case-insensitive for the nucleus. */
function field(object: ConfigObject, key: string): unknown {
  const wanted = key.toLowerCase();
  return Object.entries(object).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

export function currentPlatform(): PlatformAttributes {
  const os: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
  const architecture: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', arm: 'arm', ia32: 'x86' };
  return { os: os[process.platform] ?? process.platform, architecture: architecture[process.arch] ?? process.arch };
}

/** Platform values: `*` or `all` match anything, `/regex/` must match the whole value, otherwise equal ignoring case. */
function platformMatches(wanted: unknown, platform: PlatformAttributes): boolean {
  if (wanted === undefined) return true;
  if (!isConfigObject(wanted)) return false;
  return Object.entries(wanted).every(([key, value]) => {
    if (value === '*' || value === 'all') return true;
    const actual = platform[key];
    if (typeof value !== 'string' || actual === undefined) return false;
    if (value.length > 2 && value.startsWith('/') && value.endsWith('/')) return new RegExp(`^(?:${value.slice(1, -1)})$`).test(actual);
    return value.toLowerCase() === actual.toLowerCase();
  });
}

function artifactMode(permission: unknown): number {
  const level = (key: string, fallback: string): string => {
    const value = isConfigObject(permission) ? field(permission, key) : undefined;
    return typeof value === 'string' ? value.toUpperCase() : fallback;
  };
  const read = level('Read', 'OWNER');
  const execute = level('Execute', 'NONE');
  const bits = (value: string, bit: number): number => (value === 'ALL' ? bit * 0o111 : value === 'OWNER' ? bit * 0o100 : 0);
  // Execute implies Read.
  return bits(read, 4) | bits(execute, 4) | bits(execute, 1);
}

interface ArtifactPlan {
  file: string;
  mode: number;
}

export interface ComponentRecipe {
  recipeFile: string;
  name: string;
  version: string;
  /** DefaultConfiguration with the deployment's merge applied, as the nucleus's configuration store merges. */
  configuration: ConfigObject;
  artifacts: ArtifactPlan[];
  /** The selected manifest's lifecycle, variables not yet substituted. */
  lifecycle: ConfigObject;
}

/** Which nucleus reads the recipe: the classic one (any key case) or nucleus lite (its own manifest and key rules). */
export type RecipeRuntime = 'classic' | 'lite';

export function readRecipe(
  recipeText: string,
  recipeFile: string,
  platform: PlatformAttributes,
  configurationMerge: ConfigObject = {},
  runtime: RecipeRuntime = 'classic',
): ComponentRecipe {
  const fail = (message: string): never => {
    throw new RecipeError(recipeFile, message);
  };
  const recipe: unknown = parse(recipeText, { version: '1.1' });
  if (!isConfigObject(recipe)) return fail('not a recipe (expected a mapping)');
  const name = field(recipe, 'ComponentName');
  const version = field(recipe, 'ComponentVersion');
  if (typeof name !== 'string' || typeof version !== 'string') return fail('ComponentName and ComponentVersion must be strings');
  const componentConfiguration = field(recipe, 'ComponentConfiguration');
  const defaults = isConfigObject(componentConfiguration) ? field(componentConfiguration, 'DefaultConfiguration') : undefined;

  const manifests = field(recipe, 'Manifests');
  if (!Array.isArray(manifests)) return fail('Manifests must be a list');
  let manifest: ConfigObject | undefined;
  if (runtime === 'lite') {
    // Lite reads keys exactly as written, so once its rules hold, the case-insensitive reads below see what it sees.
    const lite = liteDeployment(recipe, recipeText, platform.architecture ?? '');
    if (lite.problems.length > 0) return fail(`nucleus lite would not deploy this recipe:\n  ${lite.problems.join('\n  ')}`);
    manifest = manifests[lite.manifest] as ConfigObject;
  } else {
    manifest = manifests.find((m): m is ConfigObject => isConfigObject(m) && platformMatches(field(m, 'Platform'), platform));
  }
  if (!manifest) return fail(`no manifest matches this platform ${JSON.stringify(platform)}`);

  const artifactList = field(manifest, 'Artifacts') ?? [];
  if (!Array.isArray(artifactList)) return fail('Artifacts must be a list');
  const artifacts = artifactList.map((artifact, index) => {
    const uri = isConfigObject(artifact) ? field(artifact, 'URI') : undefined;
    if (typeof uri !== 'string') return fail(`artifact ${index + 1} has no URI`);
    const unarchive = field(artifact as ConfigObject, 'Unarchive');
    if (unarchive !== undefined && String(unarchive).toUpperCase() !== 'NONE')
      return fail(`artifact ${uri}: Unarchive ${String(unarchive)} is not supported by the local core`);
    return { file: basename(uri), mode: artifactMode(field(artifact as ConfigObject, 'Permission')) };
  });

  const lifecycle = field(manifest, 'Lifecycle') ?? field(recipe, 'Lifecycle');
  if (!isConfigObject(lifecycle)) return fail('the selected manifest has no Lifecycle');
  for (const key of Object.keys(lifecycle)) {
    if (!SUPPORTED_LIFECYCLE_KEYS.includes(key.toLowerCase()))
      return fail(`lifecycle ${key} is not supported by the local core (only Setenv, Install, Run)`);
  }
  if (field(lifecycle, 'Run') === undefined) return fail('the lifecycle has no Run step');
  return {
    recipeFile,
    name,
    version,
    configuration: mergeConfiguration(isConfigObject(defaults) ? defaults : {}, configurationMerge),
    artifacts,
    lifecycle,
  };
}

/** Where the nucleus keeps a component's files under its root. */
export interface NucleusLayout {
  rootDir: string;
  artifactsPath: string;
  decompressedPath: string;
  workPath: string;
  logFile: string;
}

export function nucleusLayout(rootDir: string, name: string, version: string): NucleusLayout {
  return {
    rootDir,
    artifactsPath: join(rootDir, 'packages', 'artifacts', name, version),
    decompressedPath: join(rootDir, 'packages', 'artifacts-unarchived', name, version),
    workPath: join(rootDir, 'work', name),
    logFile: join(rootDir, 'logs', `${name}.log`),
  };
}

interface Interpolation {
  variables: Record<string, string>;
  configuration: ConfigObject;
  unresolved: Set<string>;
}

/** Same-component variables only (`{namespace:key}`); unknown or missing ones stay as written, like the nucleus. */
function interpolate(value: unknown, context: Interpolation): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{([.\w-]+):([^:}]*)\}/g, (whole, namespace: string, key: string) => {
      if (namespace === 'configuration') {
        const resolved = valueAtPointer(context.configuration, key);
        if (resolved.found) {
          const found = resolved.value;
          return typeof found === 'object' && found !== null ? JSON.stringify(found) : String(found);
        }
      } else if (context.variables[`${namespace}:${key}`] !== undefined) {
        return context.variables[`${namespace}:${key}`]!;
      }
      context.unresolved.add(whole);
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, context));
  if (isConfigObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, context)]));
  return value;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isConfigObject(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export interface StepPlan {
  script: string;
  /** The step's whole environment beyond the inherited one: nucleus variables, lifecycle and step Setenv, overrides. */
  env: Record<string, string>;
  timeoutSeconds?: number;
}

export interface LifecyclePlan {
  install?: StepPlan;
  run: StepPlan;
  /** Recipe variables that could not be resolved and were left as written. */
  unresolved: string[];
}

export interface LifecycleContext {
  layout: NucleusLayout;
  thingName: string;
  /** The configuration as the core registered it (interpolated, when the core does that). */
  configuration: ConfigObject;
  svcuid: string;
  socketPath: string;
  region?: string;
  nucleusVersion?: string;
  /** Wins over everything else. */
  env?: Record<string, string>;
}

function stepDefinition(
  recipeFile: string,
  lifecycle: ConfigObject,
  step: LifecycleStep,
): { script: string; setenv: Record<string, string>; timeoutSeconds?: number } | undefined {
  const value = field(lifecycle, step);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { script: value, setenv: {} };
  if (!isConfigObject(value)) throw new RecipeError(recipeFile, `lifecycle ${step} must be a script or a mapping`);
  for (const key of Object.keys(value)) {
    if (!SUPPORTED_STEP_KEYS.includes(key.toLowerCase()))
      throw new RecipeError(recipeFile, `lifecycle ${step}.${key} is not supported by the local core`);
  }
  const privileged = field(value, 'RequiresPrivilege');
  if (privileged === true || privileged === 'true')
    throw new RecipeError(recipeFile, `lifecycle ${step} requires privilege; the local core runs components unprivileged only`);
  const script = field(value, 'Script');
  if (typeof script !== 'string') throw new RecipeError(recipeFile, `lifecycle ${step} has no Script`);
  const timeout = Number(field(value, 'Timeout'));
  return {
    script,
    setenv: stringMap(field(value, 'Setenv')),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutSeconds: timeout } : {}),
  };
}

/** The variables the nucleus gives every lifecycle step (Greengrass developer guide, "Component environment variables"). */
function nucleusEnvironment(context: LifecycleContext): Record<string, string> {
  const region = context.region ?? DEFAULT_REGION;
  return {
    SVCUID: context.svcuid,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: context.svcuid,
    AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH: context.socketPath,
    AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: context.socketPath,
    AWS_IOT_THING_NAME: context.thingName,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    GGC_VERSION: context.nucleusVersion ?? DEFAULT_NUCLEUS_VERSION,
    // The nucleus points at its root CA file; nothing local connects to AWS, so the file need not exist.
    GG_ROOT_CA_PATH: join(context.layout.rootDir, 'rootCA.pem'),
  };
}

export function planLifecycle(recipe: ComponentRecipe, context: LifecycleContext): LifecyclePlan {
  const { layout } = context;
  const unresolved = new Set<string>();
  const lifecycle = interpolate(recipe.lifecycle, {
    variables: {
      'artifacts:path': layout.artifactsPath,
      'artifacts:decompressedPath': layout.decompressedPath,
      'work:path': layout.workPath,
      'kernel:rootPath': layout.rootDir,
      'iot:thingName': context.thingName,
    },
    configuration: context.configuration,
    unresolved,
  }) as ConfigObject;
  const lifecycleEnv = stringMap(field(lifecycle, 'Setenv'));
  const plan = (step: LifecycleStep): StepPlan | undefined => {
    const definition = stepDefinition(recipe.recipeFile, lifecycle, step);
    if (!definition) return undefined;
    return {
      script: definition.script,
      env: { ...nucleusEnvironment(context), ...lifecycleEnv, ...definition.setenv, ...context.env },
      ...(definition.timeoutSeconds !== undefined ? { timeoutSeconds: definition.timeoutSeconds } : {}),
    };
  };
  const run = plan('Run');
  if (!run) throw new RecipeError(recipe.recipeFile, 'the lifecycle has no Run step');
  const install = plan('Install');
  return { run, ...(install ? { install } : {}), unresolved: [...unresolved] };
}
