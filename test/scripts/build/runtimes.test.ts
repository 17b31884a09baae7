import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { describeError } from '../../../src/util/describe-error';
import { accessControlFor, THING_NAME_VARIABLE } from '../../../src/component/definition';
import { readGdkConfig } from '../../../src/component/identity';
import { recipeDefaultConfiguration } from '../../../src/config/definition';
import { readFileSync } from 'node:fs';
import { renderRecipe, recipeToYaml, type Recipe } from '../../../scripts/build/recipe';
import {
  LITE_RECIPE_FILE_LIMIT_BYTES,
  LITE_RECIPE_SUBOBJECT_LIMIT,
  liteObjectMeasure,
  REPORTED_ARCHITECTURES,
  runtimeRuleProblems,
  selectedManifest,
} from '../../../scripts/build/runtimes';

const projectRoot = join(__dirname, '..', '..', '..');
const loadTemplate = (): Record<string, unknown> =>
  parse(readFileSync(join(projectRoot, 'recipe.yaml'), 'utf8'), { version: '1.1' }) as Record<string, unknown>;
const identity = readGdkConfig(projectRoot);
const defaultConfiguration = { ...recipeDefaultConfiguration(), accessControl: accessControlFor(identity.name, THING_NAME_VARIABLE) };
const render = (template: unknown = loadTemplate()): Recipe => renderRecipe(template, { identity, defaultConfiguration });

type Manifest = {
  Name: string;
  Platform: Record<string, string>;
  Lifecycle: Record<string, Record<string, unknown>>;
};
const manifestsOf = (recipe: Record<string, unknown>): Manifest[] => recipe.Manifests as Manifest[];
const selectedName = (runtime: 'classic' | 'lite', recipe: Record<string, unknown>, architecture: string): string | undefined =>
  manifestsOf(recipe)[selectedManifest(runtime, manifestsOf(recipe), architecture)]?.Name;
/** The template with one change to its manifests. */
const templateWith = (change: (manifests: Manifest[]) => void): Record<string, unknown> => {
  const template = loadTemplate();
  const manifests = structuredClone(template.Manifests) as Manifest[];
  change(manifests);
  return { ...template, Manifests: manifests };
};

const AMD64 = 'Linux amd64';
const AARCH64 = 'Linux aarch64';
const OTHER = 'Linux other architectures (portable IPC client)';

describe('manifest selection of the rendered recipe', () => {
  it('is on the classic nucleus what it was before the runtime key: amd64 and aarch64 their own, every other architecture the generic one', () => {
    const recipe = render();
    const withoutRuntimeKey = structuredClone(recipe);
    for (const manifest of manifestsOf(withoutRuntimeKey)) delete manifest.Platform.runtime;
    const expected: Record<string, string> = { amd64: AMD64, aarch64: AARCH64, arm: OTHER, x86: OTHER, '*': OTHER };
    for (const architecture of REPORTED_ARCHITECTURES.classic) {
      expect([architecture, selectedName('classic', recipe, architecture)]).toEqual([architecture, expected[architecture]]);
      expect(selectedName('classic', withoutRuntimeKey, architecture)).toBe(expected[architecture]);
    }
  });

  it('on nucleus lite gives every architecture it reports the same manifest as classic', () => {
    const recipe = render();
    const expected: Record<string, string> = { amd64: AMD64, aarch64: AARCH64, arm: OTHER, x86: OTHER, riscv64: OTHER };
    for (const architecture of REPORTED_ARCHITECTURES.lite) {
      expect([architecture, selectedName('lite', recipe, architecture)]).toEqual([architecture, expected[architecture]]);
    }
  });

  it('on a Windows core gives the classic nucleus the Windows manifest, and nothing for an architecture it does not build; nucleus lite never runs there', () => {
    const manifests = manifestsOf(render());
    expect(manifests[selectedManifest('classic', manifests, 'amd64', 'windows')]?.Name).toBe('Windows amd64');
    expect(selectedManifest('classic', manifests, 'aarch64', 'windows')).toBe(-1);
    expect(selectedManifest('lite', manifests, 'amd64', 'windows')).toBe(-1);
    // and the Windows manifest is no Linux core's: every Linux architecture still gets its own (tests above)
    for (const architecture of REPORTED_ARCHITECTURES.classic)
      expect(selectedName('classic', render(), architecture)).not.toBe('Windows amd64');
  });

  it('the two models read Platform as their runtimes do: lite needs a runtime key, classic skips a runtime it does not report', () => {
    const manifest = (platform: Record<string, string>) => ({ Platform: platform, Lifecycle: { run: 'true' } });
    const liteOnly = manifest({ os: 'linux', runtime: 'aws_nucleus_lite' });
    const both = manifest({ os: 'linux', runtime: '*' });
    const classicOnly = manifest({ os: 'linux' });
    expect(selectedManifest('classic', [liteOnly, classicOnly], 'amd64')).toBe(1);
    expect(selectedManifest('lite', [classicOnly, liteOnly], 'amd64')).toBe(1);
    expect(selectedManifest('lite', [classicOnly], 'amd64')).toBe(-1);
    expect(selectedManifest('classic', [both], 'arm')).toBe(0);
    expect(selectedManifest('lite', [both], 'riscv64')).toBe(0);
    // classic: `/regex/` matches the whole label, `all` is a wildcard for os and architecture, labels are exact.
    expect(selectedManifest('classic', [manifest({ os: 'linux', architecture: '/aarch64|arm/' })], 'arm')).toBe(0);
    expect(selectedManifest('classic', [manifest({ os: 'linux', architecture: '/aarch/' })], 'aarch64')).toBe(-1);
    expect(selectedManifest('classic', [manifest({ os: 'all', architecture: 'Amd64' })], 'amd64')).toBe(-1);
    // lite: no regular expressions, and a manifest without os is skipped.
    expect(selectedManifest('lite', [manifest({ os: 'linux', runtime: '*', architecture: '/arm/' })], 'arm')).toBe(-1);
    expect(selectedManifest('lite', [manifest({ runtime: '*' })], 'arm')).toBe(-1);
  });
});

describe('the build refuses a recipe one runtime cannot deploy, naming the rule and the runtime', () => {
  it('a manifest set without a runtime key: nucleus lite selects nothing', () => {
    const template = templateWith((manifests) => {
      for (const manifest of manifests) delete manifest.Platform.runtime;
    });
    expect(() => render(template)).toThrow(/nucleus lite on amd64: no manifest is selected .*Platform\.runtime "\*" or "aws_nucleus_lite"/);
  });

  it('a lite-only generic manifest: the classic nucleus has nothing for arm', () => {
    const template = templateWith((manifests) => {
      manifests[2]!.Platform.runtime = 'aws_nucleus_lite';
    });
    expect(() => render(template)).toThrow(/the classic nucleus on arm: no manifest is selected/);
  });

  it('lifecycle steps in any case but lower case', () => {
    const template = templateWith((manifests) => {
      const lifecycle = manifests[0]!.Lifecycle;
      lifecycle.Install = lifecycle.install!;
      delete lifecycle.install;
    });
    expect(() => render(template)).toThrow(
      /manifest "Linux amd64" Lifecycle\.Install: nucleus lite looks it up as "install" exactly and would not find it/,
    );
  });

  it('step keys not spelled as lite reads them, and two keys classic reads as one', () => {
    const template = templateWith((manifests) => {
      const run = manifests[1]!.Lifecycle.run!;
      run.script = run.Script;
      delete run.Script;
      manifests[2]!.Lifecycle.Run = { Script: 'true' };
    });
    const message = (() => {
      try {
        render(template);
        return '';
      } catch (error) {
        return describeError(error);
      }
    })();
    expect(message).toContain('manifest "Linux aarch64" Lifecycle.run.script: nucleus lite reads only "Script"');
    expect(message).toContain('manifest "Linux aarch64" Lifecycle.run: nucleus lite needs a Script');
    expect(message).toContain(`manifest "${OTHER}" Lifecycle: run and Run are one key to the classic nucleus`);
  });

  it('a brace that is not a recipe variable, in a script or a Setenv value', () => {
    const template = templateWith((manifests) => {
      manifests[0]!.Lifecycle.install!.Script = 'command -v node || { echo missing; exit 1; }';
      (manifests[1]!.Lifecycle.Setenv as Record<string, string>).HOME_COPY = '${HOME}';
    });
    expect(() => render(template)).toThrow(
      /Lifecycle\.install\.Script: "\{ echo missing; exit 1; }" is not a recipe variable, but nucleus lite/,
    );
    expect(() => render(template)).toThrow(/Lifecycle\.Setenv\.HOME_COPY: "\{HOME}" is not a recipe variable/);
  });

  it('accepts the recipe variables lite substitutes, refuses one it does not', () => {
    const withScript = (script: string) => ({
      Manifests: [{ Platform: { os: 'linux', runtime: '*' }, Lifecycle: { run: { Script: script } } }],
    });
    const problems = (script: string) => runtimeRuleProblems(withScript(script), '');
    expect(problems('cd {work:path} && exec node {artifacts:path}/a.js {configuration:/ipcClient} {iot:thingName}')).toEqual([]);
    expect(problems('echo {kernel:rootPath} {artifacts:decompressedPath}')).toEqual([]);
    expect(problems('echo {some.Component:configuration:/x}')).toEqual([
      expect.stringContaining('"{some.Component:configuration:/x}" is not a recipe variable'),
    ]);
  });

  it('a recipe larger than the buffer nucleus lite reads a stored recipe into', () => {
    const template = { ...loadTemplate(), ComponentDescription: 'x'.repeat(LITE_RECIPE_FILE_LIMIT_BYTES) };
    expect(() => render(template)).toThrow(/nucleus lite reads a stored recipe into 8196 bytes/);
    expect(Buffer.byteLength(recipeToYaml(render()))).toBeLessThanOrEqual(LITE_RECIPE_FILE_LIMIT_BYTES);
  });

  it('counts subobjects as gg_obj_visit does: 2 per mapping entry, 1 per list item, over the whole object', () => {
    expect(liteObjectMeasure('text')).toEqual({ subobjects: 0, depth: 0 });
    expect(liteObjectMeasure({ a: 1, b: [1, 2, 3], c: { d: {} } })).toEqual({ subobjects: 6 + 3 + 2, depth: 2 });
    expect(liteObjectMeasure([[[['deep']]]])).toEqual({ subobjects: 4, depth: 4 });
  });

  it('a recipe with more subobjects than nucleus lite claims: the template with its defaults written out, as when lite refused it', () => {
    const { subobjects } = liteObjectMeasure(render());
    expect(subobjects).toBeLessThanOrEqual(LITE_RECIPE_SUBOBJECT_LIMIT);
    const artifacts = (manifest: Manifest) => (manifest as unknown as { Artifacts: Array<Record<string, unknown>> }).Artifacts;
    // The template as it was: each artifact with Permission Read OWNER, Execute NONE, each step RequiresPrivilege false.
    const asBefore = templateWith((manifests) => {
      for (const manifest of manifests) {
        for (const artifact of artifacts(manifest)) artifact.Permission = { Read: 'OWNER', Execute: 'NONE' };
        for (const step of [manifest.Lifecycle.install!, manifest.Lifecycle.run!]) step.RequiresPrivilege = false;
      }
    });
    expect(() => render(asBefore)).toThrow(
      new RegExp(`the recipe has \\d+ subobjects .*nucleus lite refuses a recipe with more than ${LITE_RECIPE_SUBOBJECT_LIMIT}`),
    );
    let nested: unknown = 'bottom';
    for (let level = 0; level < 13; level++) nested = [nested];
    // Without its configuration, so that the nesting's own subobjects stay within the budget.
    const { ComponentConfiguration: _, ...recipe } = render();
    expect(runtimeRuleProblems({ ...recipe, Deep: nested }, recipeToYaml(recipe))).toEqual([]);
    expect(runtimeRuleProblems({ ...recipe, Deep: [nested] }, recipeToYaml(recipe))).toEqual([
      'the recipe nests a value 15 levels deep; nucleus lite refuses 15 or more',
    ]);
  });
});

describe('the Install script, as sh runs it', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'install-step-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const install = (): string => (manifestsOf(render())[0]!.Lifecycle.install as { Script: string }).Script;
  const runInstall = (path: string) => spawnSync('/bin/sh', ['-c', install()], { env: { PATH: path }, encoding: 'utf8' });

  it('passes with a node >= 20 on the PATH', () => {
    symlinkSync(process.execPath, join(dir, 'node'));
    const result = runInstall(`${dir}:/usr/bin:/bin`);
    expect([result.status, result.stderr]).toEqual([0, '']);
  });

  it('fails with the remedy when no node is on the PATH', () => {
    const result = runInstall(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Node.js >= 20 is required on the PATH of the core');
    expect(result.stderr).toContain(`PATH=${dir}`);
  });

  it('fails with the remedy when the node on the PATH is older than 20', () => {
    // A node that reports version 18 to the check, and runs the real one otherwise.
    const fakeNode = join(dir, 'node');
    writeFileSync(
      fakeNode,
      `#!/bin/sh\nexec "${process.execPath}" -e "Object.defineProperty(process.versions, 'node', { value: '18.19.0' }); eval(process.argv[1])" "$2"\n`,
    );
    chmodSync(fakeNode, 0o755);
    const result = runInstall(`${dir}:${dirname(process.execPath)}:/usr/bin:/bin`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('found v18.19.0');
  });
});
