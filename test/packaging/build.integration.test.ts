import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { accessControlFor } from '../../src/component/definition';
import { recipeDefaultConfiguration } from '../../src/config/definition';
import { buildComponent, type BuildResult, PORTABLE_DOWNLOAD_GOAL_BYTES } from '../../scripts/build/build';
import { BUNDLE_FILE, RECIPE_SIZE_LIMIT_BYTES, type Recipe, WINDOWS_BUNDLE_FILE } from '../../scripts/build/recipe';
import { LocalCore } from '../../tools/local-core/core';
import { SDK_BUNDLE_FILE } from '../../src/ipc/sdk-bundle';
import { rewriteRecipeForPublish } from '../../scripts/gg/project';
import { recipeSchemaErrors, stepsWithoutScript } from './gdk-schemas';
import { waitFor } from '../support/wait-for';

const projectRoot = join(__dirname, '..', '..');
const tempDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const readRecipe = (file: string): Recipe => parse(readFileSync(file, 'utf8'), { version: '1.1' }) as Recipe;
const listFiles = (dir: string): string[] => readdirSync(dir).sort();
const manifestFiles = (recipe: Recipe): string[][] =>
  (recipe.Manifests as Array<{ Artifacts: Array<{ URI: string }> }>).map((m) => m.Artifacts.map((a) => a.URI.split('/').pop() ?? ''));

/** ELF e_machine of a shared object: 62 = x86-64, 183 = AArch64. */
const elfMachine = (file: string): number => readFileSync(file).readUInt16LE(18);
/** PE (Windows DLL) Machine field: 0x8664 = x86-64; 0 when the file is not a PE image. */
const peMachine = (file: string): number => {
  const image = readFileSync(file);
  if (image.toString('latin1', 0, 2) !== 'MZ') return 0;
  const pe = image.readUInt32LE(0x3c);
  return image.toString('latin1', pe, pe + 4) === 'PE\0\0' ? image.readUInt16LE(pe + 4) : 0;
};

let outputRoot: string;
let result: BuildResult;

beforeAll(async () => {
  outputRoot = tempDir('pkg-');
  result = await buildComponent({ projectRoot, outputRoot, gdk: true });
});

describe('buildComponent', () => {
  it('writes the greengrass-cli layout: recipes/<Name>-<Version>.yaml and artifacts/<Name>/<Version>/', () => {
    const { name, version } = result.identity;
    expect(result.local.recipeFile).toBe(join(outputRoot, 'recipes', `${name}-${version}.yaml`));
    expect(listFiles(join(outputRoot, 'recipes'))).toEqual([`${name}-${version}.yaml`]);
    expect(result.local.componentArtifactsDir).toBe(join(outputRoot, 'artifacts', name, version));
    expect(listFiles(result.local.componentArtifactsDir)).toEqual([...result.artifactFiles].sort());
  });

  it('writes the gdk layout: greengrass-build/recipes/recipe.yaml and plain files under artifacts/<Name>/<gdk version>/', () => {
    const { name, version } = result.identity;
    expect(result.gdk?.recipeFile).toBe(join(outputRoot, 'greengrass-build', 'recipes', 'recipe.yaml'));
    expect(listFiles(join(outputRoot, 'greengrass-build', 'artifacts', name))).toEqual([version]);
    expect(listFiles(join(outputRoot, 'greengrass-build', 'artifacts', name, version))).toEqual([...result.artifactFiles].sort());
  });

  it('ships exactly the files the manifests name, in both layouts', () => {
    const named = [...new Set(manifestFiles(result.recipe).flat())].sort();
    expect([...result.artifactFiles].sort()).toEqual(named);
  });

  it('writes recipes that gdk accepts, with a Script in every step, under 16000 bytes', () => {
    for (const file of [result.local.recipeFile, result.gdk!.recipeFile]) {
      const recipe = readRecipe(file);
      expect(recipeSchemaErrors(recipe)).toEqual([]);
      expect(stepsWithoutScript(recipe)).toEqual([]);
      expect(readFileSync(file).byteLength).toBeLessThan(RECIPE_SIZE_LIMIT_BYTES);
      expect(recipe.ComponentName).toBe(result.identity.name);
      expect(recipe.ComponentPublisher).toBe(result.identity.author);
    }
  });

  it('reports the recipe size gdk publish measures: bucket and name filled in, with the longest bucket name', () => {
    const gdkText = readFileSync(result.gdk!.recipeFile, 'utf8');
    const published = rewriteRecipeForPublish(gdkText, result.identity, 'b'.repeat(63), result.artifactFiles);
    expect(result.recipeBytes).toBe(Buffer.byteLength(published));
    expect(result.recipeBytes).toBeGreaterThan(Buffer.byteLength(gdkText));
  });

  it('puts the configuration definition and the least-privilege policy into both recipes', () => {
    for (const file of [result.local.recipeFile, result.gdk!.recipeFile]) {
      const { accessControl, ...keys } = (readRecipe(file).ComponentConfiguration as { DefaultConfiguration: Record<string, unknown> })
        .DefaultConfiguration;
      expect(keys).toEqual(recipeDefaultConfiguration());
      expect(accessControl).toEqual(accessControlFor(result.identity.name, '{iot:thingName}'));
      expect(JSON.stringify(accessControl)).not.toContain('*');
    }
  });

  it('gives each architecture manifest the addons compiled for its platform and architecture, and the any-architecture and Windows ones no addon of aws-crt and no SDK', () => {
    const recipe = readRecipe(result.local.recipeFile);
    const manifests = recipe.Manifests as Array<{ Platform: { os: string; architecture?: string }; Artifacts: Array<{ URI: string }> }>;
    const addonsOf = (index: number) =>
      manifests[index]!.Artifacts.map((a) => a.URI.split('/').pop() ?? '').filter((file) => file.endsWith('.node'));
    const machines = (index: number) =>
      addonsOf(index).map((file) => {
        const path = join(result.local.componentArtifactsDir, file);
        return manifests[index]!.Platform.os === 'windows' ? `PE ${peMachine(path).toString(16)}` : `ELF ${elfMachine(path)}`;
      });
    expect(manifests.map((m) => `${m.Platform.os}/${m.Platform.architecture ?? 'any'}`)).toEqual([
      'linux/amd64',
      'linux/aarch64',
      'linux/any',
      'windows/amd64',
    ]);
    expect(machines(0)).toEqual(['ELF 62']);
    expect(machines(1)).toEqual(['ELF 183']);
    expect(manifests[2]!.Artifacts.map((a) => a.URI.split('/').pop())).toEqual([BUNDLE_FILE]);
    expect(manifests[3]!.Artifacts.map((a) => a.URI.split('/').pop())).toEqual([WINDOWS_BUNDLE_FILE, 'koffi-win32-x64.node']);
    expect(machines(3)).toEqual(['PE 8664']);
  });

  it('ships the addon of the aws-crt that aws-iot-device-sdk-v2 itself loads', () => {
    const sdkDir = dirname(require.resolve('aws-iot-device-sdk-v2/package.json', { paths: [projectRoot] }));
    const sdkCrt = dirname(require.resolve('aws-crt/package.json', { paths: [sdkDir] }));
    const shipped = readFileSync(join(result.local.componentArtifactsDir, 'aws-crt-nodejs-linux-x64.node'));
    expect(shipped.equals(readFileSync(join(sdkCrt, 'dist', 'bin', 'linux-x64-glibc', 'aws-crt-nodejs.node')))).toBe(true);
  });

  it('measures what each manifest downloads, zipped and raw', () => {
    const bundle = readFileSync(join(result.local.componentArtifactsDir, BUNDLE_FILE));
    const sdkBundle = readFileSync(join(result.local.componentArtifactsDir, SDK_BUNDLE_FILE));
    expect(result.downloads.map((d) => d.files)).toEqual(manifestFiles(result.recipe));
    expect(result.downloads.map((d) => d.manifest)).toEqual((result.recipe.Manifests as Array<{ Name: string }>).map((m) => m.Name));
    const portable = result.downloads[2]!;
    expect(portable.rawBytes).toBe(bundle.byteLength);
    expect(portable.zippedBytes).toBeLessThan(bundle.byteLength / 2);
    expect(portable.zippedBytes).toBe(gzipSync(bundle, { level: 9 }).byteLength);
    expect(result.sdkBundleBytes).toBe(sdkBundle.byteLength);
    for (const download of result.downloads.slice(0, 2)) {
      expect(download.rawBytes).toBeGreaterThan(portable.rawBytes + sdkBundle.byteLength + 1_000_000);
      expect(download.zippedBytes).toBeLessThan(download.rawBytes);
    }
  });

  it('keeps the download of the manifest for every other architecture (32-bit ARM, x86, musl) at most 100 KB zipped', () => {
    const portable = result.downloads.find((download) => download.files.length === 1);
    expect(portable?.files).toEqual([BUNDLE_FILE]);
    // The build's own figure: gzip -9 of each file, what a zipped transfer of it costs.
    expect(PORTABLE_DOWNLOAD_GOAL_BYTES).toBe(100_000);
    expect(portable!.zippedBytes).toBeLessThanOrEqual(PORTABLE_DOWNLOAD_GOAL_BYTES);
  });

  it('puts the SDK into its own bundle, and neither the SDK nor all of systeminformation into the agent’s', () => {
    const bundle = readFileSync(join(result.local.componentArtifactsDir, BUNDLE_FILE), 'utf8');
    const sdkBundle = readFileSync(join(result.local.componentArtifactsDir, SDK_BUNDLE_FILE), 'utf8');
    // Texts only each package's own code has: the SDK's model of an operation the agent never calls, aws-crt's addon
    // lookup, systeminformation's docker, wifi and network readers, which the device facts never need.
    for (const sdkCode of ['aws.greengrass#ListComponents', 'AWS CRT binary not present']) {
      expect(sdkBundle).toContain(sdkCode);
      expect(bundle).not.toContain(sdkCode);
    }
    expect(bundle).toContain(`require("./${SDK_BUNDLE_FILE}")`);
    expect(bundle).toContain('/etc/os-release');
    for (const unused of ['dockerContainers', 'wifiNetworks', 'networkGatewayDefault']) expect(bundle).not.toContain(unused);
  });

  it('bakes the gdk-config identity into the bundle', () => {
    const bundle = readFileSync(join(result.local.componentArtifactsDir, BUNDLE_FILE), 'utf8');
    expect(bundle).toContain(JSON.stringify(result.identity.name));
    expect(result.bundleBytes).toBe(Buffer.byteLength(bundle));
  });

  it('runs from a folder without node_modules and loads the aws-crt addon shipped beside it', async () => {
    const runDir = tempDir('run-');
    const addon = `aws-crt-nodejs-${process.platform}-${process.arch}.node`;
    for (const file of [BUNDLE_FILE, SDK_BUNDLE_FILE, addon])
      copyFileSync(join(result.local.componentArtifactsDir, file), join(runDir, file));
    // Reports every native addon the process loads; the IPC variables point at a socket nobody serves, so the
    // agent has to load aws-crt to try it.
    const probe = join(runDir, 'probe.js');
    writeFileSync(
      probe,
      `const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) { const r = dlopen.call(this, module, file, ...rest); process.stderr.write('NATIVE-LOADED ' + file + '\\n'); return r; };`,
    );
    const child = spawn(process.execPath, ['-r', probe, BUNDLE_FILE], {
      cwd: runDir,
      env: {
        PATH: process.env.PATH ?? '',
        SVCUID: 'probe',
        AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: join(runDir, 'none.sock'),
        AWS_IOT_THING_NAME: 'Probe',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const loaded = await new Promise<string | undefined>((resolvePromise) => {
      const timer = setTimeout(() => resolvePromise(undefined), 20_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /NATIVE-LOADED (\S+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolvePromise(match[1]);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolvePromise(/NATIVE-LOADED (\S+)/.exec(stderr)?.[1]);
      });
    });
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    expect(stderr).not.toContain('AWS CRT binary not present');
    expect(loaded).toBe(join(runDir, addon));
  });
});

describe('the bundle beside a truncated aws-crt addon (an interrupted download or copy)', () => {
  it('does not load it (node would die of SIGBUS), says why in one line, and connects with the portable client', async () => {
    const runDir = tempDir('cut-');
    const addon = `aws-crt-nodejs-${process.platform}-${process.arch}.node`;
    for (const file of [BUNDLE_FILE, SDK_BUNDLE_FILE]) copyFileSync(join(result.local.componentArtifactsDir, file), join(runDir, file));
    const whole = readFileSync(join(result.local.componentArtifactsDir, addon));
    writeFileSync(join(runDir, addon), whole.subarray(0, Math.floor(whole.length / 2)));
    const dir = tempDir('core-');
    const core = new LocalCore({ socketPath: join(dir, 's'), thingName: 'Cut', defenderMinIntervalSeconds: 0 });
    await core.start();
    try {
      const { svcuid } = core.registerComponent({ name: result.identity.name, version: result.identity.version, configuration: {} });
      const child = spawn(process.execPath, [BUNDLE_FILE], {
        cwd: runDir,
        env: {
          PATH: process.env.PATH ?? '',
          SVCUID: svcuid,
          AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
          AWS_IOT_THING_NAME: 'Cut',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (code, signal) => resolve([code, signal])),
      );
      try {
        const outcome = await Promise.race([
          new Promise<string>((resolve) => core.once('connect', () => resolve('connected'))),
          exited.then(([code, signal]) => `exited with ${code ?? signal}`),
        ]);
        expect(outcome).toBe('connected');
        const choices = stdout.split('\n').filter((line) => line.includes('IPC client'));
        expect(choices).toHaveLength(1);
        expect(choices[0]).toMatch(
          new RegExp(
            `INFO {2}IPC client: portable \\(the aws-crt native addon for linux/\\w+ is missing or does not load: "${addon.replace(/\./g, '\\.')} is not loaded: cut short: \\d+ bytes, but its .* ends at byte \\d+"\\)$`,
          ),
        );
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      }
    } finally {
      await core.stop();
    }
  });
});

describe('the bundle alone (the any-architecture manifest), where neither the SDK nor an aws-crt addon exists', () => {
  function runBundleAlone(env: Record<string, string>): { child: ReturnType<typeof spawn>; out: () => string; err: () => string } {
    const runDir = tempDir('alone-');
    copyFileSync(join(result.local.componentArtifactsDir, BUNDLE_FILE), join(runDir, BUNDLE_FILE));
    const child = spawn(process.execPath, [BUNDLE_FILE], {
      cwd: runDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return { child, out: () => stdout, err: () => stderr };
  }

  it('with ipcClient=sdk, exits 1 with one clear line', async () => {
    const run = runBundleAlone({
      DEFENDER_AGENT_IPC_CLIENT: 'sdk',
      SVCUID: 'x',
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/nonexistent',
    });
    const code = await new Promise<number | null>((resolve) => run.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(run.out()).toBe('');
    const lines = run.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /ERROR ipcClient=sdk, but the AWS SDK client is not in this platform's download \(no defender-agent-sdk\.js beside the agent\); set ipcClient to auto or portable$/,
    );
  });

  it('with auto (the recipe default, uninterpolated here), says once that it uses the portable client, connects and logs the device inventory', async () => {
    const dir = tempDir('core-');
    const core = new LocalCore({ socketPath: join(dir, 's'), thingName: 'Alone', defenderMinIntervalSeconds: 0 });
    await core.start();
    try {
      const { svcuid } = core.registerComponent({ name: result.identity.name, version: result.identity.version, configuration: {} });
      const connected = new Promise((resolve) => core.once('connect', resolve));
      const run = runBundleAlone({
        DEFENDER_AGENT_IPC_CLIENT: '{configuration:/ipcClient}',
        SVCUID: svcuid,
        AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
        AWS_IOT_THING_NAME: 'Alone',
        DEFENDER_AGENT_INVENTORY_DELAY_MS: '0',
      });
      try {
        await connected;
        // systeminformation's modules are in the bundle itself: the inventory needs no file beside it.
        await waitFor(() => /INFO {2}device: .+, kernel .+ \(gathered in \d+ ms\)$/m.test(run.out()), 20_000, 'the inventory line');
        const choices = run
          .out()
          .split('\n')
          .filter((line) => line.includes('IPC client'));
        expect(choices).toHaveLength(1);
        expect(choices[0]).toMatch(
          /INFO {2}IPC client: portable \(the AWS SDK client is not in this platform's download \(no defender-agent-sdk\.js beside the agent\)\)$/,
        );
        expect(run.err()).not.toContain('AWS CRT binary not present');
      } finally {
        const exited = new Promise((resolve) => run.child.once('exit', resolve));
        run.child.kill('SIGKILL');
        await exited;
      }
    } finally {
      await core.stop();
    }
  });
});

describe('buildComponent with "version": "NEXT_PATCH" in gdk-config.json', () => {
  it('names the gdk artifacts folder NEXT_PATCH and gives the local layout a deployable version', async () => {
    const project = tempDir('proj-');
    for (const entry of ['recipe.yaml', 'src', 'node_modules', 'tsconfig.json', 'package-lock.json'])
      symlinkSync(join(projectRoot, entry), join(project, entry));
    const config = JSON.parse(readFileSync(join(projectRoot, 'gdk-config.json'), 'utf8')) as {
      component: Record<string, { version: string }>;
    };
    for (const component of Object.values(config.component)) component.version = 'NEXT_PATCH';
    writeFileSync(join(project, 'gdk-config.json'), JSON.stringify(config));
    const out = tempDir('pkg-');

    const built = await buildComponent({ projectRoot: project, outputRoot: out, gdk: true });

    const { name } = built.identity;
    expect(listFiles(join(out, 'greengrass-build', 'artifacts', name))).toEqual(['NEXT_PATCH']);
    expect(built.local.version).toBe('0.0.0-local');
    expect(readRecipe(built.local.recipeFile).ComponentVersion).toBe('0.0.0-local');
    expect(listFiles(join(out, 'artifacts', name))).toEqual(['0.0.0-local']);
  });
});
