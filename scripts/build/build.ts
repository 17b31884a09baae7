/**
 * `npm run build`: bundles the agent with esbuild, renders the recipe, and lays both out for greengrass-cli
 * (recipes/ + artifacts/) and, with `gdk`, for `gdk component build/publish` (greengrass-build/).
 *
 * Three bundles: the agent (every Linux manifest), the SDK it loads only where an aws-crt addon exists (SDK_BUNDLE_FILE,
 * only in the manifests with an addon), so that a core on any other architecture downloads no SDK it cannot run, and
 * the agent with its Windows collector (WINDOWS_BUNDLE_FILE, the Windows manifest), which the Linux bundle leaves out.
 */
import { pruneLocalLayout } from './local-layout';
import { build, type BuildOptions as EsbuildOptions, type Metafile, type Plugin } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { accessControlFor, THING_NAME_VARIABLE } from '../../src/component/definition';
import { readGdkConfig, type ComponentIdentity } from '../../src/component/identity';
import { recipeDefaultConfiguration } from '../../src/config/definition';
import { koffiAddonSource } from './koffi-addon';
import { SDK_BUNDLE_FILE } from '../../src/ipc/sdk-bundle';
import {
  BUNDLE_FILE,
  WINDOWS_BUNDLE_FILE,
  koffiAddonFile,
  manifestArtifacts,
  nativeAddonFile,
  recipeToYaml,
  renderRecipe,
  TARGET_PLATFORMS,
  type Recipe,
  publishedRecipeText,
  recipeByteLength,
} from './recipe';

const ROOT_RECIPE_FILE = 'recipe.yaml';
/** gdk leaves this string as the artifacts folder name; greengrass-cli needs a real version. */
const NEXT_PATCH = 'NEXT_PATCH';
const LOCAL_VERSION_FOR_NEXT_PATCH = '0.0.0-local';

export interface BuildOptions {
  /** Where gdk-config.json, recipe.yaml, src/ and node_modules/ are. Default: this repository. */
  projectRoot?: string;
  /** Where recipes/, artifacts/ and greengrass-build/ are written. Default: projectRoot. */
  outputRoot?: string;
  /** Also write gdk's greengrass-build/ layout. */
  gdk?: boolean;
  /** ComponentVersion of the greengrass-cli layout. Default: gdk-config's version (0.0.0-local if that is NEXT_PATCH). */
  localVersion?: string;
}

interface LocalLayout {
  version: string;
  recipeFile: string;
  recipesDir: string;
  /** The --artifactDir root, holding <Name>/<Version>/. */
  artifactsDir: string;
  componentArtifactsDir: string;
}

interface GdkLayout {
  recipeFile: string;
  componentArtifactsDir: string;
}

export interface BuildResult {
  identity: ComponentIdentity;
  /** The recipe of the local layout (the gdk copy differs only in ComponentVersion when gdk-config says NEXT_PATCH). */
  recipe: Recipe;
  recipeBytes: number;
  /** The agent's bundle (every manifest). */
  bundleBytes: number;
  /** The SDK's bundle (the manifests with an aws-crt addon). */
  sdkBundleBytes: number;
  /** Artifact file names, the same in every layout. */
  artifactFiles: string[];
  /** What a core downloads under each manifest: raw bytes and gzip -9 bytes (what a zipped transfer or S3 object costs). */
  downloads: ManifestDownload[];
  warnings: string[];
  local: LocalLayout;
  gdk?: GdkLayout;
}

/**
 * What the manifest for every other architecture (32-bit ARM, x86, musl: the agent's bundle alone) may download at
 * most, zipped (issue 20; decimal kilobytes, the stricter reading). test/packaging/build.integration.test.ts holds the
 * build to it and `npm run bench` reports it.
 */
export const PORTABLE_DOWNLOAD_GOAL_BYTES = 100_000;

interface ManifestDownload {
  manifest: string;
  files: string[];
  rawBytes: number;
  zippedBytes: number;
}

function manifestDownloads(recipe: Recipe, artifactsDir: string): ManifestDownload[] {
  const sizes = new Map<string, { raw: number; zipped: number }>();
  const sizeOf = (file: string): { raw: number; zipped: number } => {
    let size = sizes.get(file);
    if (!size) {
      const data = readFileSync(join(artifactsDir, file));
      size = { raw: data.byteLength, zipped: gzipSync(data, { level: 9 }).byteLength };
      sizes.set(file, size);
    }
    return size;
  };
  return manifestArtifacts(recipe).map(({ name, files }) => ({
    manifest: name,
    files,
    rawBytes: files.reduce((sum, file) => sum + sizeOf(file).raw, 0),
    zippedBytes: files.reduce((sum, file) => sum + sizeOf(file).zipped, 0),
  }));
}

const defaultProjectRoot = resolve(__dirname, '..', '..');

export function readTemplate(projectRoot: string = defaultProjectRoot): unknown {
  const file = join(projectRoot, ROOT_RECIPE_FILE);
  if (!existsSync(file)) throw new Error(`${file} is missing: gdk and the build both need the root recipe template`);
  return parse(readFileSync(file, 'utf8'), { version: '1.1' });
}

function renderFor(template: unknown, identity: ComponentIdentity): { recipe: Recipe; text: string } {
  const recipe = renderRecipe(template, {
    identity,
    defaultConfiguration: { ...recipeDefaultConfiguration(), accessControl: accessControlFor(identity.name, THING_NAME_VARIABLE) },
  });
  return { recipe, text: recipeToYaml(recipe) };
}

/**
 * The folders (relative to the project root) of every copy of `packageName` whose files went into the bundle. npm
 * nests a second copy when our own range and a dependency's pinned version disagree (aws-iot-device-sdk-v2 pins
 * aws-crt exactly): the bundle then carries both, and the SDK's copy loads an addon built for the other version.
 */
export function bundledPackageCopies(bundledFiles: readonly string[], packageName: string): string[] {
  const copies = new Set<string>();
  const marker = `node_modules/${packageName}/`;
  for (const file of bundledFiles) {
    const at = file.lastIndexOf(marker);
    if (at >= 0) copies.add(file.slice(0, at + marker.length - 1));
  }
  return [...copies].sort();
}

/** The SDK packages: in SDK_BUNDLE_FILE, never in the agent's bundle. */
const SDK_PACKAGES = ['aws-iot-device-sdk-v2', 'aws-crt'];
/** The module through which the SDK adapter reaches the SDK (src/ipc/sdk-modules.ts). */
const SDK_MODULES = join('src', 'ipc', 'sdk-modules.ts');

/** In the agent's bundle, the SDK adapter's import of sdk-modules.ts becomes a require of the file beside it. */
const sdkBesideTheAgent: Plugin = {
  name: 'sdk-beside-the-agent',
  setup(context) {
    context.onResolve({ filter: /^\.\/sdk-modules$/ }, (args) =>
      args.importer.endsWith(join('src', 'ipc', 'greengrass-ipc.ts')) ? { path: `./${SDK_BUNDLE_FILE}`, external: true } : undefined,
    );
  },
};

const LEFT_OUT = 'left-out';
/** What src/collect/platform.ts imports of the Windows collector; the Linux bundle leaves it out. */
const WINDOWS_COLLECTOR_IMPORT = /^\.\/windows\//;

const windowsCollectorLeftOut: Plugin = {
  name: 'windows-collector-left-out',
  setup(context) {
    context.onResolve({ filter: WINDOWS_COLLECTOR_IMPORT }, (args) =>
      args.importer.endsWith(join('src', 'collect', 'platform.ts')) ? { path: 'windows-collector', namespace: LEFT_OUT } : undefined,
    );
    // Any function it exports fails when called, which only the Windows branch of platform.ts does.
    context.onLoad({ filter: /^windows-collector$/, namespace: LEFT_OUT }, () => ({
      contents: `module.exports = new Proxy({}, { get: () => () => { throw new Error("the Windows collector is in ${WINDOWS_BUNDLE_FILE}, not in this bundle"); } });`,
      loader: 'js',
    }));
  },
};
/**
 * systeminformation's osinfo.js requires its network module (a third of what the device facts would bundle) only
 * in uuid(), inside a try that falls back without it; the device facts never call uuid().
 */
const systeminformationWithoutNetwork: Plugin = {
  name: 'systeminformation-without-network',
  setup(context) {
    context.onResolve({ filter: /^\.\/network$/ }, (args) =>
      args.importer.endsWith(`${sep}systeminformation${sep}lib${sep}osinfo.js`)
        ? { path: 'systeminformation-network', namespace: LEFT_OUT }
        : undefined,
    );
    context.onLoad({ filter: /^systeminformation-network$/, namespace: LEFT_OUT }, () => ({
      contents: 'throw new Error("systeminformation\'s network module is not in the bundle");',
      loader: 'js',
    }));
  },
};

async function bundleOne(
  projectRoot: string,
  entry: string,
  options: EsbuildOptions,
): Promise<{ code: Uint8Array; warnings: string[]; inputs: string[] }> {
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: [join(projectRoot, entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    write: false,
    logLevel: 'silent',
    metafile: true,
    ...options,
  });
  const output = result.outputFiles?.[0];
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return {
    code: output.contents,
    warnings: result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`),
    inputs: Object.keys((result.metafile as Metafile).inputs),
  };
}

async function bundle(
  projectRoot: string,
  identity: ComponentIdentity,
): Promise<{ code: Uint8Array; windowsCode: Uint8Array; sdkCode: Uint8Array; warnings: string[]; crtRoot: string }> {
  const agentOptions = (file: string, plugins: Plugin[]): EsbuildOptions => ({
    outfile: join(projectRoot, 'dist', file),
    define: { __COMPONENT_IDENTITY__: JSON.stringify(identity) },
    plugins: [sdkBesideTheAgent, systeminformationWithoutNetwork, ...plugins],
  });
  const agent = await bundleOne(projectRoot, join('src', 'main.ts'), agentOptions(BUNDLE_FILE, [windowsCollectorLeftOut]));
  const windows = await bundleOne(projectRoot, join('src', 'main.ts'), agentOptions(WINDOWS_BUNDLE_FILE, []));
  const leaked = SDK_PACKAGES.flatMap((name) => bundledPackageCopies([...agent.inputs, ...windows.inputs], name));
  if (leaked.length > 0)
    throw new Error(
      `the agent's bundle holds ${leaked.join(', ')}: only ${SDK_BUNDLE_FILE} may (src/ipc/sdk-modules.ts is the one module that imports the SDK)`,
    );
  const sdk = await bundleOne(projectRoot, SDK_MODULES, { outfile: join(projectRoot, 'dist', SDK_BUNDLE_FILE) });
  const crtCopies = bundledPackageCopies(sdk.inputs, 'aws-crt');
  if (crtCopies.length !== 1)
    throw new Error(
      `the SDK's bundle must hold exactly one copy of aws-crt, the one whose native addon ships beside it, but holds ${crtCopies.length}` +
        `${crtCopies.length > 0 ? ` (${crtCopies.join(', ')})` : ''}: give aws-crt in package.json the exact version ` +
        'aws-iot-device-sdk-v2 depends on, then npm install',
    );
  return {
    code: agent.code,
    windowsCode: windows.code,
    sdkCode: sdk.code,
    warnings: [...agent.warnings, ...windows.warnings, ...sdk.warnings],
    crtRoot: crtCopies[0] as string,
  };
}

/** Every native addon a manifest ships: aws-crt's where the target runs the SDK, and koffi's where its collector needs it. */
function nativeAddonSources(projectRoot: string, crtRoot: string): Array<{ file: string; source: string }> {
  return TARGET_PLATFORMS.flatMap((target) => {
    const addons: Array<{ file: string; source: string }> = [];
    if (target.crtBinaryDir) {
      const source = join(projectRoot, crtRoot, 'dist', 'bin', target.crtBinaryDir, 'aws-crt-nodejs.node');
      if (!existsSync(source))
        throw new Error(`aws-crt native addon for ${target.os} ${target.architecture} not found at ${source}; run npm ci`);
      addons.push({ file: nativeAddonFile(target), source });
    }
    const koffiFile = koffiAddonFile(target);
    if (koffiFile && target.koffiPackage) addons.push({ file: koffiFile, source: koffiAddonSource(projectRoot, target.koffiPackage) });
    return addons;
  });
}

function writeArtifacts(
  dir: string,
  bundles: { code: Uint8Array; windowsCode: Uint8Array; sdkCode: Uint8Array },
  addons: Array<{ file: string; source: string }>,
): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, BUNDLE_FILE), bundles.code);
  writeFileSync(join(dir, WINDOWS_BUNDLE_FILE), bundles.windowsCode);
  writeFileSync(join(dir, SDK_BUNDLE_FILE), bundles.sdkCode);
  for (const addon of addons) copyFileSync(addon.source, join(dir, addon.file));
}

export async function buildComponent(options: BuildOptions = {}): Promise<BuildResult> {
  const projectRoot = options.projectRoot ?? defaultProjectRoot;
  const outputRoot = options.outputRoot ?? projectRoot;
  const identity = readGdkConfig(projectRoot);
  const template = readTemplate(projectRoot);
  const localVersion = options.localVersion ?? (identity.version === NEXT_PATCH ? LOCAL_VERSION_FOR_NEXT_PATCH : identity.version);

  const local = renderFor(template, { ...identity, version: localVersion });
  const bundles = await bundle(projectRoot, identity);
  const { code, sdkCode, warnings, crtRoot } = bundles;
  const addons = nativeAddonSources(projectRoot, crtRoot);

  const recipesDir = join(outputRoot, 'recipes');
  const artifactsDir = join(outputRoot, 'artifacts');
  const componentArtifactsDir = join(artifactsDir, identity.name, localVersion);
  const localRecipeFile = join(recipesDir, `${identity.name}-${localVersion}.yaml`);
  mkdirSync(recipesDir, { recursive: true });
  pruneLocalLayout(recipesDir, join(artifactsDir, identity.name), identity.name, localVersion);
  writeFileSync(localRecipeFile, local.text);
  writeArtifacts(componentArtifactsDir, bundles, addons);

  const result: BuildResult = {
    identity,
    recipe: local.recipe,
    // What gdk publish measures: the recipe with the bucket and name filled in.
    recipeBytes: recipeByteLength(publishedRecipeText(renderFor(template, identity).recipe, identity)),
    bundleBytes: code.byteLength,
    sdkBundleBytes: sdkCode.byteLength,
    artifactFiles: [BUNDLE_FILE, WINDOWS_BUNDLE_FILE, SDK_BUNDLE_FILE, ...addons.map((a) => a.file)],
    downloads: manifestDownloads(local.recipe, componentArtifactsDir),
    warnings,
    local: { version: localVersion, recipeFile: localRecipeFile, recipesDir, artifactsDir, componentArtifactsDir },
  };

  if (options.gdk) {
    // Same as gdk does before calling us, so a standalone `npm run build -- --gdk` leaves no stale files for publish.
    const gdkRoot = join(outputRoot, 'greengrass-build');
    rmSync(gdkRoot, { recursive: true, force: true });
    const gdkRecipeFile = join(gdkRoot, 'recipes', ROOT_RECIPE_FILE);
    const gdkArtifactsDir = join(gdkRoot, 'artifacts', identity.name, identity.version);
    mkdirSync(join(gdkRoot, 'recipes'), { recursive: true });
    writeFileSync(gdkRecipeFile, renderFor(template, identity).text);
    writeArtifacts(gdkArtifactsDir, bundles, addons);
    result.gdk = { recipeFile: gdkRecipeFile, componentArtifactsDir: gdkArtifactsDir };
  }
  return result;
}
