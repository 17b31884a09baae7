/** `npm run build [-- --gdk] [--out DIR] [--version X.Y.Z]` (gdk runs it with --gdk from gdk-config.json). */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildComponent } from './build';
import { RECIPE_SIZE_LIMIT_BYTES, recipeSizeProblem } from './recipe';
import { LITE_RECIPE_SUBOBJECT_LIMIT, liteObjectMeasure } from './runtimes';
import { describeError } from '../../src/util/describe-error';

const USAGE = `Usage: npm run build -- [--gdk] [--out DIR] [--version X.Y.Z]

Bundles src/main.ts with esbuild and renders the recipe from recipe.yaml, gdk-config.json and src/.
Always writes the greengrass-cli local deployment layout: recipes/<Name>-<Version>.yaml and artifacts/<Name>/<Version>/.
  --gdk            also write greengrass-build/ as \`gdk component build\` / \`publish\` expect it
  --out DIR        write the layouts under DIR instead of the project root
  --version X.Y.Z  ComponentVersion of the local layout (default: gdk-config.json's version)
  --help           show this text`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gdk: { type: 'boolean', default: false },
      out: { type: 'string' },
      version: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const result = await buildComponent({
    gdk: values.gdk,
    ...(values.out !== undefined ? { outputRoot: resolve(values.out) } : {}),
    ...(values.version !== undefined ? { localVersion: values.version } : {}),
  });
  const show = (path: string): string => relative(process.cwd(), path) || '.';
  for (const warning of result.warnings) console.warn(`warning: ${warning}`);
  console.log(
    `${result.identity.name} ${result.local.version}: bundle ${result.bundleBytes} B, SDK bundle ${result.sdkBundleBytes} B, recipe ${result.recipeBytes} B as published with the longest bucket name (limit ${RECIPE_SIZE_LIMIT_BYTES}), ${liteObjectMeasure(result.recipe).subobjects} of the ${LITE_RECIPE_SUBOBJECT_LIMIT} subobjects nucleus lite accepts`,
  );
  console.log(
    `  greengrass-cli: --recipeDir ${show(result.local.recipesDir)} --artifactDir ${show(result.local.artifactsDir)} --merge ${result.identity.name}=${result.local.version}`,
  );
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const download of result.downloads) {
    console.log(
      `  download "${download.manifest}": ${kib(download.zippedBytes)} zipped, ${kib(download.rawBytes)} raw (${download.files.join(', ')})`,
    );
  }
  if (result.gdk) console.log(`  gdk: ${show(result.gdk.recipeFile)}, ${show(result.gdk.componentArtifactsDir)}/`);
  const sizeProblem = recipeSizeProblem(result.recipeBytes);
  if (sizeProblem) throw new Error(sizeProblem);
}

main().catch((error: unknown) => {
  console.error(`build failed: ${describeError(error)}`);
  process.exit(1);
});
