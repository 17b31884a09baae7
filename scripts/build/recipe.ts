/**
 * Renders the deployable recipe from the root recipe.yaml template (pure: no IO).
 * The template owns description, dependencies, manifests and lifecycle; gdk-config.json owns the identity;
 * src/config and src/component own DefaultConfiguration. The checks here keep the three from drifting apart.
 */
import { parse, stringify } from 'yaml';
import type { ComponentIdentity } from '../../src/component/identity';
import { SDK_BUNDLE_FILE } from '../../src/ipc/sdk-bundle';
import { classicArchitecturesMatched, runtimeRuleProblems } from './runtimes';

export type Recipe = Record<string, unknown>;

export const BUNDLE_FILE = 'defender-agent.js';
/**
 * The agent as Windows runs it: the same entry with the Windows collector, which the Linux bundle leaves out so that the
 * generic Linux download stays small (scripts/build/build.ts).
 */
export const WINDOWS_BUNDLE_FILE = 'defender-agent-windows.js';

/** The agent's bundle a target runs. */
function agentBundleFile(target: Pick<TargetPlatform, 'nodePlatform'>): string {
  return target.nodePlatform === 'win32' ? WINDOWS_BUNDLE_FILE : BUNDLE_FILE;
}
export const ARTIFACT_URI_PREFIX = 's3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/';
/** gdk refuses larger recipes at publish (PublishRecipeTransformer). */
export const RECIPE_SIZE_LIMIT_BYTES = 16_000;

/** The one recipe size measure of build and publish: the UTF-8 bytes of the recipe text. */
export function recipeByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest S3 bucket name: gdk fills in its bucket (`<bucket>-<region>-<account>`), which can be this long. */
const LONGEST_BUCKET = 'b'.repeat(63);

/**
 * The recipe as gdk publishes it, with the artifact URIs filled in (bucket, name, version) and the longest bucket a
 * name can have: the size limits apply to that text, not to the template's placeholders.
 */
export function publishedRecipeText(recipe: Recipe, identity: { name: string; version: string }): string {
  const copy = JSON.parse(JSON.stringify(recipe)) as Recipe;
  const prefix = `s3://${LONGEST_BUCKET}/${identity.name}/${identity.version}/`;
  for (const manifest of Array.isArray(copy.Manifests) ? copy.Manifests : []) {
    for (const artifact of isRecord(manifest) && Array.isArray(manifest.Artifacts) ? manifest.Artifacts : []) {
      if (isRecord(artifact) && typeof artifact.URI === 'string' && artifact.URI.startsWith(ARTIFACT_URI_PREFIX))
        artifact.URI = prefix + artifact.URI.slice(ARTIFACT_URI_PREFIX.length);
    }
  }
  return recipeToYaml(copy);
}

/** 16,000 bytes are allowed, 16,001 are not. */
export function recipeSizeProblem(bytes: number): string | undefined {
  return bytes > RECIPE_SIZE_LIMIT_BYTES
    ? `the recipe is ${bytes} bytes; gdk publish accepts at most ${RECIPE_SIZE_LIMIT_BYTES}`
    : undefined;
}

export interface TargetPlatform {
  /** Greengrass `Platform.os` of the manifest. */
  os: 'linux' | 'windows';
  /** Greengrass `Platform.architecture` of the manifest. */
  architecture: string;
  /** `process.platform` and `process.arch` on such a core. */
  nodePlatform: 'linux' | 'win32';
  nodeArch: string;
  /**
   * Folder of the prebuilt aws-crt addon under node_modules/aws-crt/dist/bin; none where the manifest ships no SDK and
   * the agent runs its portable IPC client.
   */
  crtBinaryDir?: string;
  /** koffi's package with the addon for this platform (the Windows collector calls the IP Helper API through it). */
  koffiPackage?: string;
}

/**
 * aws-crt ships no 32-bit ARM addon, and the musl builds would need musl detection on the device. Windows: the classic
 * nucleus runs on x86-64 Windows only. aws-crt ships a Windows x64 addon, but the Windows manifest takes the portable
 * IPC client: the SDK's bundle and addon would add two artifact URIs to a recipe that nucleus lite reads into 8,196
 * bytes (it stores every manifest, Windows included), and 1.9 MiB to the core's download.
 */
export const TARGET_PLATFORMS: readonly TargetPlatform[] = [
  { os: 'linux', architecture: 'amd64', nodePlatform: 'linux', nodeArch: 'x64', crtBinaryDir: 'linux-x64-glibc' },
  { os: 'linux', architecture: 'aarch64', nodePlatform: 'linux', nodeArch: 'arm64', crtBinaryDir: 'linux-arm64-glibc' },
  {
    os: 'windows',
    architecture: 'amd64',
    nodePlatform: 'win32',
    nodeArch: 'x64',
    koffiPackage: '@koromix/koffi-win32-x64',
  },
];

/** The name src/native-binding.ts computes on the core (`aws-crt-nodejs-${platform}-${arch}.node`). */
export function nativeAddonFile(target: TargetPlatform): string {
  return `aws-crt-nodejs-${target.nodePlatform}-${target.nodeArch}.node`;
}

/** The name the Windows collector loads koffi's addon by, beside the bundle (`koffi-${platform}-${arch}.node`). */
export function koffiAddonFile(target: TargetPlatform): string | undefined {
  return target.koffiPackage ? `koffi-${target.nodePlatform}-${target.nodeArch}.node` : undefined;
}

/**
 * The artifact files a target's manifest lists: the agent's bundle; the SDK's bundle and aws-crt's addon where the
 * target has one; koffi's addon where the target's collector calls native APIs (Windows).
 */
function targetArtifactFiles(target: TargetPlatform): string[] {
  const koffi = koffiAddonFile(target);
  return [agentBundleFile(target), ...(target.crtBinaryDir ? [SDK_BUNDLE_FILE, nativeAddonFile(target)] : []), ...(koffi ? [koffi] : [])];
}

const IDENTITY_PLACEHOLDERS = {
  ComponentName: 'COMPONENT_NAME',
  ComponentVersion: 'COMPONENT_VERSION',
  ComponentPublisher: 'COMPONENT_AUTHOR',
} as const;

export interface RenderInputs {
  identity: ComponentIdentity;
  /** Everything under ComponentConfiguration.DefaultConfiguration, accessControl included. */
  defaultConfiguration: Record<string, unknown>;
}

class RecipeTemplateError extends Error {
  constructor(message: string) {
    super(`recipe.yaml: ${message}`);
    this.name = 'RecipeTemplateError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function artifactFileNames(manifest: Record<string, unknown>, label: string): string[] {
  const artifacts = manifest.Artifacts;
  if (!Array.isArray(artifacts)) throw new RecipeTemplateError(`manifest "${label}" has no Artifacts list`);
  return artifacts.map((artifact, index) => {
    const uri = isRecord(artifact) ? artifact.URI : undefined;
    if (typeof uri !== 'string' || !uri.startsWith(ARTIFACT_URI_PREFIX)) {
      throw new RecipeTemplateError(`manifest "${label}" artifact ${index + 1}: URI must start with ${ARTIFACT_URI_PREFIX}`);
    }
    return uri.slice(ARTIFACT_URI_PREFIX.length);
  });
}

/** A Linux manifest without `Platform.architecture` (or with `*`) matches every Linux core the ones above it do not. */
function isPortableManifest(platform: Record<string, unknown>): boolean {
  return platform.architecture === undefined || platform.architecture === '*';
}

const OS_LABEL: Record<TargetPlatform['os'], string> = { linux: 'Linux', windows: 'Windows' };

/**
 * The per-architecture manifests (the agent's bundle, the SDK's bundle, that architecture's aws-crt addon, and koffi's on
 * Windows), one per TARGET_PLATFORMS entry; an optional last Linux manifest for any other Linux architecture ships the
 * agent's bundle alone, and the agent runs the portable IPC client there (the nucleus picks the first manifest that
 * matches the core, and a Windows manifest never matches a Linux core).
 */
function checkManifests(manifests: unknown): void {
  if (!Array.isArray(manifests) || manifests.length === 0) throw new RecipeTemplateError('Manifests must be a non-empty list');
  const osOf = (manifest: unknown): unknown => (isRecord(manifest) && isRecord(manifest.Platform) ? manifest.Platform.os : undefined);
  const lastLinux = manifests.map(osOf).lastIndexOf('linux');
  const covered = new Set<TargetPlatform>();
  manifests.forEach((manifest, index) => {
    const label = isRecord(manifest) && typeof manifest.Name === 'string' ? manifest.Name : `#${index + 1}`;
    const platform = isRecord(manifest) ? manifest.Platform : undefined;
    if (!isRecord(manifest) || !isRecord(platform) || (platform.os !== 'linux' && platform.os !== 'windows')) {
      throw new RecipeTemplateError(`manifest "${label}" must have Platform.os: linux or windows`);
    }
    const os = platform.os;
    if (os === 'linux' && isPortableManifest(platform)) {
      if (index !== lastLinux) {
        throw new RecipeTemplateError(`manifest "${label}" matches every architecture, so it must be the last one of the Linux manifests`);
      }
      const actual = artifactFileNames(manifest, label);
      if (actual.length !== 1 || actual[0] !== BUNDLE_FILE) {
        throw new RecipeTemplateError(
          `manifest "${label}" (any architecture) must list exactly ${BUNDLE_FILE} (found ${actual.join(', ') || 'none'})`,
        );
      }
      return;
    }
    const target = TARGET_PLATFORMS.find((t) => t.os === os && t.architecture === platform.architecture);
    const matched = classicArchitecturesMatched(platform.architecture);
    if (!target && (matched.length > 1 || (typeof platform.architecture === 'string' && platform.architecture.startsWith('/')))) {
      const named = matched.map((a) => (a === '*' ? 'any architecture it does not know' : a)).join(', ');
      throw new RecipeTemplateError(
        `manifest "${label}": architecture ${JSON.stringify(platform.architecture)} is a pattern to the classic nucleus ` +
          `(it matches ${named || 'nothing'}), but nucleus lite matches only "*" or one exact name and skips this manifest; ` +
          'name one architecture per addon manifest, and leave architecture out (or "*") in the last manifest, which serves every other one',
      );
    }
    if (!target) {
      const known = TARGET_PLATFORMS.filter((t) => t.os === os)
        .map((t) => t.architecture)
        .join(', ');
      throw new RecipeTemplateError(
        os === 'linux'
          ? `manifest "${label}": architecture ${String(platform.architecture)} has no aws-crt addon in this build (known: ${known}); ` +
              'other architectures are served by a last manifest without Platform.architecture that ships the bundle alone'
          : `manifest "${label}": Windows ${String(platform.architecture)} is not built (known: ${known}); the classic nucleus runs on x86-64 Windows`,
      );
    }
    if (covered.has(target)) throw new RecipeTemplateError(`two manifests for ${OS_LABEL[target.os]} ${target.architecture}`);
    covered.add(target);
    const expected = targetArtifactFiles(target);
    const actual = artifactFileNames(manifest, label);
    if (actual.length !== expected.length || expected.some((file) => !actual.includes(file))) {
      throw new RecipeTemplateError(`manifest "${label}" must list exactly ${expected.join(', ')} (found ${actual.join(', ') || 'none'})`);
    }
  });
  const missing = TARGET_PLATFORMS.filter((t) => !covered.has(t)).map((t) =>
    t.os === 'linux' ? `architecture ${t.architecture}` : `${OS_LABEL[t.os]} ${t.architecture}`,
  );
  if (missing.length > 0) throw new RecipeTemplateError(`no manifest for ${missing.join(', ')}`);
}

/** Each manifest's name and the artifact files it downloads (for the build's size line). */
export function manifestArtifacts(recipe: Recipe): Array<{ name: string; files: string[] }> {
  const manifests = Array.isArray(recipe.Manifests) ? recipe.Manifests : [];
  return manifests.filter(isRecord).map((manifest, index) => {
    const name = typeof manifest.Name === 'string' ? manifest.Name : `#${index + 1}`;
    return { name, files: artifactFileNames(manifest, name) };
  });
}

export function renderRecipe(template: unknown, inputs: RenderInputs): Recipe {
  if (!isRecord(template)) throw new RecipeTemplateError('must be a YAML mapping');
  for (const [key, placeholder] of Object.entries(IDENTITY_PLACEHOLDERS)) {
    if (template[key] !== placeholder) {
      throw new RecipeTemplateError(`${key} must stay the placeholder ${placeholder}; the build takes it from gdk-config.json`);
    }
  }
  if ('ComponentConfiguration' in template) {
    throw new RecipeTemplateError(
      'must not contain ComponentConfiguration; the build generates it from src/config/definition.ts and src/component/definition.ts',
    );
  }
  checkManifests(template.Manifests);

  const identityValues: Record<string, string> = {
    ComponentName: inputs.identity.name,
    ComponentVersion: inputs.identity.version,
    ComponentPublisher: inputs.identity.author,
  };
  // Conventional order: identity and description first, then configuration, dependencies and manifests.
  const rendered: Recipe = {};
  // A plain copy: the template's YAML aliases (the shared lifecycle) must not become shared objects in the result.
  const copy = JSON.parse(JSON.stringify(template)) as Recipe;
  for (const [key, value] of Object.entries(copy)) {
    if (key === 'ComponentDependencies' || key === 'Manifests') {
      rendered.ComponentConfiguration ??= { DefaultConfiguration: inputs.defaultConfiguration };
    }
    rendered[key] = identityValues[key] ?? value;
  }
  // Measured as published: a core stores the recipe with its artifact URIs filled in.
  const published = publishedRecipeText(rendered, inputs.identity);
  const problems = runtimeRuleProblems(parse(published, { version: '1.1' }) as Recipe, published);
  if (problems.length > 0) throw new RecipeTemplateError(`not deployable on both Greengrass runtimes:\n  ${problems.join('\n  ')}`);
  return rendered;
}

/**
 * The recipe as a standalone YAML file. YAML 1.1 quoting, because gdk (PyYAML) and the nucleus (SnakeYAML) read
 * YAML 1.1, where an unquoted 2020-01-25 is a date and yes/on are booleans. The lifecycle shared by the manifests
 * is written out in each, not as YAML aliases.
 */
export function recipeToYaml(recipe: Recipe): string {
  const header = '# Generated by `npm run build` from recipe.yaml, gdk-config.json and src/: do not edit.\n';
  return header + stringify(recipe, { version: '1.1', aliasDuplicateObjects: false, lineWidth: 0, indentSeq: false });
}

/**
 * How the recipe runs node: its Run script and the fixed values of its Setenv (every manifest has the same, which
 * test/packaging/recipe.test.ts checks). The bench and the armv7 script start node the way that script would
 * (scripts/build/run-step.ts).
 */
export interface RunStep {
  script: string;
  /** The flags of `exec node <flags> {artifacts:path}/…`, without the lowMemory ones (`$tier`). */
  nodeFlags: string[];
  /** The shell lines before `exec node`, which set `tier` from the lowMemory setting and the socket count. */
  tierChoice: string;
  env: Record<string, string>;
}

export { LOW_MEMORY_VARIABLE } from '../../src/component/node-tier';
/** The lifecycle variable the Run script reads procfsRoot from (Setenv: `{configuration:/procfsRoot}`). */
export const PROCFS_ROOT_VARIABLE = 'DEFENDER_AGENT_PROCFS_ROOT';

/** The Run step of a recipe or of the template; throws if its script no longer reads as RunStep expects. */
export function runStepOf(recipe: unknown): RunStep {
  type Setenv = Record<string, string>;
  const lifecycle = (recipe as { Manifests?: Array<{ Lifecycle?: { Setenv?: Setenv; run?: { Script?: string; Setenv?: Setenv } } }> })
    .Manifests?.[0]?.Lifecycle;
  const run = lifecycle?.run;
  const script = run?.Script ?? '';
  const parts = /^(.*\btier=.*)\nexec node (.*?)\s*\{artifacts:path\}/s.exec(script);
  if (parts === null)
    throw new Error(
      `the recipe's Run script no longer reads "<lines that set tier>\nexec node <flags> $tier {artifacts:path}/...": ${script}`,
    );
  return {
    script,
    nodeFlags: (parts[2] ?? '').split(/\s+/).filter((word) => word !== '' && word !== '$tier'),
    tierChoice: parts[1] ?? '',
    // The fixed values only: a recipe variable is the nucleus's to fill in, and its launchers set those themselves.
    env: Object.fromEntries(Object.entries({ ...lifecycle?.Setenv, ...run?.Setenv }).filter(([, value]) => !value.includes('{'))),
  };
}
