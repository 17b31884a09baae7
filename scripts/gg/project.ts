/**
 * What `publish` reads from the project: gdk-config.json's publish section and the gdk layout the
 * build writes under greengrass-build/, and the recipe rewrite gdk itself does on publish.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import YAML from 'yaml';
import type { ComponentIdentity } from '../../src/component/identity';
import { recipeByteLength, recipeSizeProblem, recipeToYaml } from '../build/recipe';
import { CliError } from './errors';

export const BUILD_DIR = 'greengrass-build';
const RECIPE_FILE_NAMES = ['recipe.yaml', 'recipe.yml', 'recipe.json'];
const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

export interface PublishSettings {
  bucketPrefix: string;
  /** Undefined: the SDK's region chain decides. */
  region: string | undefined;
}

export function readPublishSettings(projectRoot: string, componentName: string): PublishSettings {
  const config = JSON.parse(readFileSync(join(projectRoot, 'gdk-config.json'), 'utf8')) as {
    component?: Record<string, { publish?: { bucket?: unknown; region?: unknown } }>;
  };
  const publish = config.component?.[componentName]?.publish;
  if (typeof publish?.bucket !== 'string' || publish.bucket === '') {
    throw new CliError(
      'gdk-config.json has no publish.bucket',
      `add "publish": { "bucket": "<prefix>", "region": "<region>" } to component ${componentName}`,
    );
  }
  return { bucketPrefix: publish.bucket, region: typeof publish.region === 'string' && publish.region !== '' ? publish.region : undefined };
}

/** The bucket name gdk derives, so `gdk component publish` and this tool share one bucket. */
export function gdkBucketName(prefix: string, region: string, account: string): string {
  return `${prefix}-${region}-${account}`;
}

export function artifactKey(identity: ComponentIdentity, fileName: string): string {
  return `${identity.name}/${identity.version}/${fileName}`;
}

export function requireFixedVersion(identity: ComponentIdentity): void {
  if (!SEMVER.test(identity.version)) {
    throw new CliError(
      `gdk-config.json version "${identity.version}" is not a fixed major.minor.patch version`,
      'set "version" in gdk-config.json to the version to publish (deploy needs to know it too), e.g. "1.0.0"',
    );
  }
}

export function nextPatchVersion(version: string): string {
  const match = SEMVER.exec(version);
  if (!match) throw new CliError(`"${version}" is not a semantic version`);
  return `${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
}

function builtArtifactsDir(projectRoot: string, identity: ComponentIdentity): string {
  return join(projectRoot, BUILD_DIR, 'artifacts', identity.name, identity.version);
}

export function hasBuildOutput(projectRoot: string, identity: ComponentIdentity): boolean {
  return existsSync(join(projectRoot, BUILD_DIR, 'recipes')) && existsSync(builtArtifactsDir(projectRoot, identity));
}

export interface BuiltArtifact {
  fileName: string;
  path: string;
  bytes: number;
}

export function listBuiltArtifacts(projectRoot: string, identity: ComponentIdentity): BuiltArtifact[] {
  const dir = builtArtifactsDir(projectRoot, identity);
  return readdirSync(dir)
    .sort()
    .map((fileName) => ({ fileName, path: join(dir, fileName) }))
    .filter((entry) => statSync(entry.path).isFile())
    .map((entry) => ({ ...entry, bytes: statSync(entry.path).size }));
}

export function readBuiltRecipe(projectRoot: string): { path: string; text: string } {
  const dir = join(projectRoot, BUILD_DIR, 'recipes');
  for (const name of RECIPE_FILE_NAMES) {
    const path = join(dir, name);
    if (existsSync(path)) return { path, text: readFileSync(path, 'utf8') };
  }
  throw new CliError(`no recipe.yaml or recipe.json in ${BUILD_DIR}/recipes`, `delete ${BUILD_DIR}/ and run \`npm run build -- --gdk\``);
}

interface RecipeArtifact {
  URI?: unknown;
}

/**
 * Points every s3:// artifact URI at the uploaded object, as gdk publish does, and checks that the
 * build is for the identity being published. Returns the recipe as YAML text.
 */
export function rewriteRecipeForPublish(
  recipeText: string,
  identity: ComponentIdentity,
  bucket: string,
  artifactFiles: readonly string[],
  publishedVersion: string = identity.version,
): string {
  const recipe = YAML.parse(recipeText) as Record<string, unknown> | null;
  if (typeof recipe !== 'object' || recipe === null)
    throw new CliError('the built recipe is not a YAML/JSON object', `rebuild with \`npm run build -- --gdk\``);
  if (recipe.ComponentName !== identity.name || recipe.ComponentVersion !== identity.version) {
    throw new CliError(
      `the built recipe is ${String(recipe.ComponentName)} ${String(recipe.ComponentVersion)}, gdk-config.json says ${identity.name} ${identity.version}`,
      `the build is stale: delete ${BUILD_DIR}/ and run publish again (it rebuilds)`,
    );
  }
  // gdk's NEXT_PATCH: the build names the version as the placeholder; the recipe gets the resolved one.
  recipe.ComponentVersion = publishedVersion;
  const published = { ...identity, version: publishedVersion };
  const manifests = Array.isArray(recipe.Manifests) ? (recipe.Manifests as Array<{ Artifacts?: RecipeArtifact[] }>) : [];
  for (const manifest of manifests) {
    for (const artifact of manifest.Artifacts ?? []) {
      if (typeof artifact.URI !== 'string' || !artifact.URI.startsWith('s3://')) continue;
      const fileName = basename(artifact.URI);
      if (!artifactFiles.includes(fileName)) {
        throw new CliError(
          `the recipe names artifact ${artifact.URI} but ${BUILD_DIR}/artifacts/${identity.name}/${identity.version}/ has no ${fileName}`,
          `delete ${BUILD_DIR}/ and run publish again (it rebuilds)`,
        );
      }
      artifact.URI = `s3://${bucket}/${artifactKey(published, fileName)}`;
    }
  }
  // YAML 1.1 as the build writes it: the nucleus (SnakeYAML) reads 1.1, where an unquoted 2020-01-25 is a date.
  const text = recipeToYaml(recipe);
  const problem = recipeSizeProblem(recipeByteLength(text));
  if (problem) throw new CliError(problem, 'shorten the recipe (descriptions, policies) and rebuild');
  return text;
}
