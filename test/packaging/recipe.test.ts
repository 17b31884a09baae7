import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { accessControlFor, THING_NAME_VARIABLE } from '../../src/component/definition';
import { readGdkConfig } from '../../src/component/identity';
import { recipeDefaultConfiguration } from '../../src/config/definition';
import {
  ARTIFACT_URI_PREFIX,
  BUNDLE_FILE,
  WINDOWS_BUNDLE_FILE,
  RECIPE_SIZE_LIMIT_BYTES,
  recipeToYaml,
  renderRecipe,
  runStepOf,
  type Recipe,
} from '../../scripts/build/recipe';
import { LITE_RECIPE_FILE_LIMIT_BYTES } from '../../scripts/build/runtimes';
import { SDK_BUNDLE_FILE } from '../../src/ipc/sdk-bundle';
import { gdkConfigSchemaErrors, recipeSchemaErrors, stepsWithoutScript } from './gdk-schemas';

const projectRoot = join(__dirname, '..', '..');
const templateText = readFileSync(join(projectRoot, 'recipe.yaml'), 'utf8');
const loadTemplate = (): Record<string, unknown> => parse(templateText, { version: '1.1' }) as Record<string, unknown>;
const identity = readGdkConfig(projectRoot);
const defaultConfiguration = { ...recipeDefaultConfiguration(), accessControl: accessControlFor(identity.name, THING_NAME_VARIABLE) };
const render = (template: unknown = loadTemplate()): Recipe => renderRecipe(template, { identity, defaultConfiguration });

interface Manifest {
  Platform: Record<string, string>;
  Artifacts: Array<{ URI: string }>;
  Lifecycle: {
    install: { Script: string };
    run: { Script: string; RequiresPrivilege?: boolean; Setenv?: Record<string, string> };
    Setenv?: Record<string, string>;
  };
}
const manifestsOf = (recipe: Recipe): Manifest[] => recipe.Manifests as Manifest[];
const linuxManifestsOf = (recipe: Recipe): Manifest[] => manifestsOf(recipe).filter((m) => m.Platform.os === 'linux');
const windowsManifestOf = (recipe: Recipe): Manifest => {
  const windows = manifestsOf(recipe).filter((m) => m.Platform.os === 'windows');
  expect(windows).toHaveLength(1);
  return windows[0]!;
};

describe('gdk-config.json', () => {
  const config = JSON.parse(readFileSync(join(projectRoot, 'gdk-config.json'), 'utf8')) as {
    component: Record<string, { build: { custom_build_command: unknown } }>;
  };

  it('passes gdk config schema', () => {
    expect(gdkConfigSchemaErrors(config)).toEqual([]);
  });

  it('runs the build as an argument array (gdk runs it without a shell) asking for the gdk layout', () => {
    const command = config.component[identity.name]?.build.custom_build_command;
    expect(Array.isArray(command)).toBe(true);
    expect(command).toContain('--gdk');
  });

  it('the schema check is not vacuous: a custom build without a command is refused', () => {
    const broken = {
      ...config,
      component: { [identity.name]: { author: 'a', version: '1.0.0', build: { build_system: 'custom' }, publish: { bucket: 'b' } } },
    };
    expect(gdkConfigSchemaErrors(broken)).not.toEqual([]);
  });
});

describe('root recipe.yaml template', () => {
  it('is valid for gdk as it stands (gdk loads it before calling the custom build)', () => {
    expect(recipeSchemaErrors(loadTemplate())).toEqual([]);
  });

  it('is under the size limit gdk applies', () => {
    expect(Buffer.byteLength(templateText)).toBeLessThan(RECIPE_SIZE_LIMIT_BYTES);
  });
});

describe('renderRecipe', () => {
  it('takes name, version and publisher from gdk-config.json', () => {
    const recipe = render();
    expect([recipe.ComponentName, recipe.ComponentVersion, recipe.ComponentPublisher]).toEqual([
      identity.name,
      identity.version,
      identity.author,
    ]);
  });

  it('generates DefaultConfiguration from the configuration definition and the least-privilege policy', () => {
    const configuration = (render().ComponentConfiguration as { DefaultConfiguration: Record<string, unknown> }).DefaultConfiguration;
    const { accessControl, ...keys } = configuration;
    expect(keys).toEqual(recipeDefaultConfiguration());
    expect(accessControl).toEqual(accessControlFor(identity.name, '{iot:thingName}'));
    expect(Object.keys(accessControl as object)).toEqual(['aws.greengrass.ipc.mqttproxy']);
    expect(JSON.stringify(accessControl)).not.toContain('*');
  });

  it('produces a recipe gdk accepts, every lifecycle step with a Script, under 16000 bytes', () => {
    const recipe = render();
    expect(recipeSchemaErrors(recipe)).toEqual([]);
    expect(stepsWithoutScript(recipe)).toEqual([]);
    expect(Buffer.byteLength(recipeToYaml(recipe))).toBeLessThan(RECIPE_SIZE_LIMIT_BYTES);
  });

  it("gives Linux amd64 and aarch64 first a manifest with both bundles and only their own aws-crt addon, then any other Linux the agent's bundle alone, then Windows amd64 the agent's bundle (portable IPC client) with koffi's Windows addon", () => {
    const manifests = manifestsOf(render()).map((m) => [
      `${m.Platform.os}/${m.Platform.architecture ?? 'any'}`,
      m.Artifacts.map((a) => a.URI).sort(),
    ]);
    expect(manifests).toEqual([
      [
        'linux/amd64',
        [
          `${ARTIFACT_URI_PREFIX}aws-crt-nodejs-linux-x64.node`,
          `${ARTIFACT_URI_PREFIX}${SDK_BUNDLE_FILE}`,
          `${ARTIFACT_URI_PREFIX}${BUNDLE_FILE}`,
        ],
      ],
      [
        'linux/aarch64',
        [
          `${ARTIFACT_URI_PREFIX}aws-crt-nodejs-linux-arm64.node`,
          `${ARTIFACT_URI_PREFIX}${SDK_BUNDLE_FILE}`,
          `${ARTIFACT_URI_PREFIX}${BUNDLE_FILE}`,
        ],
      ],
      ['linux/any', [`${ARTIFACT_URI_PREFIX}${BUNDLE_FILE}`]],
      ['windows/amd64', [`${ARTIFACT_URI_PREFIX}${WINDOWS_BUNDLE_FILE}`, `${ARTIFACT_URI_PREFIX}koffi-win32-x64.node`]],
    ]);
  });

  it('hands the ipcClient, lowMemory and procfsRoot configuration to the process through the lifecycle environment in every Linux manifest, ipcClient alone on Windows', () => {
    for (const manifest of linuxManifestsOf(render())) {
      expect(manifest.Lifecycle.Setenv).toEqual({
        DEFENDER_AGENT_IPC_CLIENT: '{configuration:/ipcClient}',
        DEFENDER_AGENT_LOW_MEMORY: '{configuration:/lowMemory}',
        DEFENDER_AGENT_PROCFS_ROOT: '{configuration:/procfsRoot}',
        GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072',
      });
    }
    expect(windowsManifestOf(render()).Lifecycle.Setenv).toEqual({ DEFENDER_AGENT_IPC_CLIENT: '{configuration:/ipcClient}' });
    expect(render().ComponentConfiguration).toMatchObject({ DefaultConfiguration: { ipcClient: 'auto', lowMemory: 'auto' } });
  });

  it('refuses an any-architecture manifest that is not last, or ships an addon or the SDK', () => {
    const template = loadTemplate();
    const manifests = structuredClone(template.Manifests) as Manifest[];
    const portable = manifests[2]!;
    expect(() => render({ ...template, Manifests: [portable, ...manifests.slice(0, 2)] })).toThrow(/must be the last one/);
    for (const extra of ['aws-crt-nodejs-linux-x64.node', SDK_BUNDLE_FILE]) {
      const withExtra = structuredClone(manifests);
      withExtra[2]!.Artifacts.push({ URI: `${ARTIFACT_URI_PREFIX}${extra}` });
      expect(() => render({ ...template, Manifests: withExtra })).toThrow(
        /\(any architecture\) must list exactly defender-agent.js \(found/,
      );
    }
  });

  it('reads as the Run step the bench and the armv7 script start node by: fixed flags, then the lines that choose the tier', () => {
    const run = runStepOf(render());
    expect(run).toEqual({
      script: expect.any(String),
      nodeFlags: ['--max-semi-space-size=1', '--optimize-for-size'],
      tierChoice: expect.stringMatching(/^tier="--max-opt=0 --gc-global"; case "\$DEFENDER_AGENT_LOW_MEMORY" in .* esac$/),
      env: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072' },
    });
    const template = loadTemplate() as { Manifests: Array<{ Lifecycle: { run: { Script: string } } }> };
    for (const manifest of template.Manifests) manifest.Lifecycle.run.Script = 'exec node {artifacts:path}/defender-agent.js';
    expect(() => runStepOf(template)).toThrow(/no longer reads/);
  });

  it('runs the bundle unprivileged after an Install step that checks for Node.js >= 20', () => {
    for (const manifest of linuxManifestsOf(render())) {
      // No RequiresPrivilege: both runtimes run a step unprivileged unless it says true.
      expect(manifest.Lifecycle.run).toEqual({
        Script: [
          'tier="--max-opt=0 --gc-global"; case "$DEFENDER_AGENT_LOW_MEMORY" in false) tier= ;; true) ;; *) [ $(cat "$DEFENDER_AGENT_PROCFS_ROOT"/net/tcp* | wc -l) -gt 1000 ] && tier= ;; esac',
          `exec node --max-semi-space-size=1 --optimize-for-size $tier {artifacts:path}/${BUNDLE_FILE}`,
        ].join('\n'),
      });
      expect(manifest.Lifecycle.install.Script).toContain('command -v node');
      expect(manifest.Lifecycle.install.Script).toContain('Node.js >= 20 is required');
    }
  });

  it('on Windows, runs the bundle unprivileged with one line of cmd syntax each, the path quoted, no configuration value in the text', () => {
    const { install, run } = windowsManifestOf(render()).Lifecycle;
    expect(run).toEqual({ Script: `node --max-semi-space-size=1 --optimize-for-size "{artifacts:path}\\${WINDOWS_BUNDLE_FILE}"` });
    expect(install).toMatchObject({ Timeout: 30 });
    expect(install).not.toHaveProperty('RequiresPrivilege');
    // The nucleus runs `cmd /C <script>`: cmd reads one line, and expands %VARIABLE% into the command's text.
    for (const script of [install.Script, run.Script]) {
      expect(script).not.toContain('\n');
      expect(script).not.toContain('%');
    }
    expect(install.Script).toMatch(/^node -e 0 \|\| \(echo Node\.js 20 or newer is required [^()]* 1>&2 & exit 1\) & node -e "/);
    expect(install.Script).toContain("Number(v.split('.')[0])<20");
  });

  it('depends softly on a nucleus that can put the thing name into the IPC policy', () => {
    expect(render().ComponentDependencies).toEqual({
      'aws.greengrass.Nucleus': { VersionRequirement: '>=2.6.0 <3.0.0', DependencyType: 'SOFT' },
    });
  });

  it('writes YAML that reads back identically, with the format version quoted for YAML 1.1 readers', () => {
    const recipe = render();
    const text = recipeToYaml(recipe);
    expect(text).toContain('RecipeFormatVersion: "2020-01-25"');
    expect(text).not.toMatch(/[&*]lifecycle/);
    // Sequences are not indented under their key: two bytes a line that nucleus lite's recipe buffer is short of.
    expect(text).toMatch(/^Manifests:\n- Name: /m);
    expect(parse(text, { version: '1.1' })).toEqual(recipe);
  });

  it('refuses a template with a real identity value, which the build would silently replace', () => {
    expect(() => render({ ...loadTemplate(), ComponentVersion: '2.0.0' })).toThrow(
      /ComponentVersion must stay the placeholder COMPONENT_VERSION/,
    );
  });

  it('refuses a template with its own ComponentConfiguration', () => {
    expect(() => render({ ...loadTemplate(), ComponentConfiguration: { DefaultConfiguration: {} } })).toThrow(
      /must not contain ComponentConfiguration/,
    );
  });

  it('refuses a manifest that ships another architecture’s addon, or an addon without the SDK', () => {
    const template = loadTemplate();
    const expected = /"Linux amd64" must list exactly defender-agent.js, defender-agent-sdk.js, aws-crt-nodejs-linux-x64.node/;
    const manifests = structuredClone(template.Manifests) as Manifest[];
    manifests[0]!.Artifacts.push({ URI: `${ARTIFACT_URI_PREFIX}aws-crt-nodejs-linux-arm64.node` });
    expect(() => render({ ...template, Manifests: manifests })).toThrow(expected);
    const withoutSdk = structuredClone(template.Manifests) as Manifest[];
    withoutSdk[0]!.Artifacts = withoutSdk[0]!.Artifacts.filter((artifact) => !artifact.URI.endsWith(SDK_BUNDLE_FILE));
    expect(() => render({ ...template, Manifests: withoutSdk })).toThrow(expected);
  });

  it.each([
    ['all', /"all" is a pattern to the classic nucleus \(it matches amd64, aarch64, arm, x86, any architecture it does not know\)/],
    ['any', /"any" is a pattern to the classic nucleus \(it matches amd64, aarch64, arm, x86, any architecture it does not know\)/],
    ['/arm.*/', /"\/arm\.\*\/" is a pattern to the classic nucleus \(it matches arm\)/],
    ['/amd64|x86/', /"\/amd64\|x86\/" is a pattern to the classic nucleus \(it matches amd64, x86\)/],
  ])('refuses architecture %s, a pattern to the classic nucleus that nucleus lite skips, saying so', (architecture, message) => {
    const template = loadTemplate();
    const manifests = structuredClone(template.Manifests) as Manifest[];
    manifests[2]!.Platform.architecture = architecture;
    const attempt = () => render({ ...template, Manifests: manifests });
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/nucleus lite matches only "\*" or one exact name and skips this manifest/);
    expect(attempt).not.toThrow(/has no aws-crt addon/);
  });

  it('measures the size limits on the recipe as published, with the bucket and name filled in', () => {
    const template = loadTemplate();
    const placeholderBytes = Buffer.byteLength(recipeToYaml(render(template)));
    // As gdk publish fills it in, with the longest bucket name S3 allows.
    const published = recipeToYaml(render(template)).replaceAll(
      ARTIFACT_URI_PREFIX,
      `s3://${'b'.repeat(63)}/${identity.name}/${identity.version}/`,
    );
    const publishedBytes = Buffer.byteLength(published);
    const fillIn = publishedBytes - placeholderBytes;
    expect(fillIn).toBeGreaterThan(0);
    // Grown to just under nucleus lite's limit with placeholders, over it once published.
    const description = `${String(template.ComponentDescription)} ${'d'.repeat(LITE_RECIPE_FILE_LIMIT_BYTES - placeholderBytes - Math.ceil(fillIn / 2))}`;
    const grown = { ...template, ComponentDescription: description };
    expect(() => renderRecipe(grown, { identity, defaultConfiguration }) && undefined).toThrow(
      new RegExp(`bytes as YAML; nucleus lite reads a stored recipe into ${LITE_RECIPE_FILE_LIMIT_BYTES} bytes`),
    );
  });

  it('refuses an architecture without a prebuilt addon, and a missing one', () => {
    const template = loadTemplate();
    const manifests = structuredClone(template.Manifests) as Manifest[];
    manifests[1]!.Platform.architecture = 'arm';
    expect(() => render({ ...template, Manifests: manifests })).toThrow(/architecture arm has no aws-crt addon/);
    expect(() => render({ ...template, Manifests: manifests.slice(0, 1) })).toThrow(/no manifest for architecture aarch64/);
  });

  it('refuses a recipe without its Windows manifest, a Windows architecture it does not build, and a Windows manifest without koffi', () => {
    const template = loadTemplate();
    const manifests = structuredClone(template.Manifests) as Manifest[];
    expect(() => render({ ...template, Manifests: manifests.filter((m) => m.Platform.os !== 'windows') })).toThrow(
      /no manifest for Windows amd64/,
    );
    const windows = manifests.find((m) => m.Platform.os === 'windows')!;
    windows.Platform.architecture = 'aarch64';
    expect(() => render({ ...template, Manifests: manifests })).toThrow(/Windows aarch64 is not built \(known: amd64\)/);
    windows.Platform.architecture = 'amd64';
    windows.Artifacts = windows.Artifacts.filter((a) => !a.URI.endsWith('koffi-win32-x64.node'));
    expect(() => render({ ...template, Manifests: manifests })).toThrow(
      /"Windows amd64" must list exactly defender-agent-windows.js, koffi-win32-x64.node/,
    );
  });
});

describe('the schema checks used above', () => {
  it('catch what gdk catches (a bad Unarchive) and what it misses (a step without Script)', () => {
    const recipe = render();
    const manifests = structuredClone(recipe.Manifests) as Array<Record<string, unknown>>;
    (manifests[0]!.Artifacts as Array<Record<string, unknown>>)[0]!.Unarchive = 'TAR';
    (manifests[1]!.Lifecycle as Record<string, unknown>).install = { RequiresPrivilege: true };
    const broken = { ...recipe, Manifests: manifests };
    expect(recipeSchemaErrors(broken).join('\n')).toContain('unarchive');
    expect(stepsWithoutScript(broken)).toEqual(['Manifests[1].Lifecycle.install']);
  });
});
