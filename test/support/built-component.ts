/**
 * The built component started from its recipe by the local core, as the nucleus would start it: the setup the
 * end-to-end suites share. `restartCore()` stops the core and starts a new one on the same socket, with the component
 * registered under its old token, as a nucleus restart looks to the component.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildComponent, type BuildResult } from '../../scripts/build/build';
import { type DefenderReportEvent, LocalCore } from '../../tools/local-core/core';
import { type ComponentHost, type ComponentProcess, launchComponent } from '../../tools/local-core/launcher';
import type { PlatformAttributes } from '../../tools/local-core/recipe-plan';

export interface BuiltComponentOptions {
  tempPrefix: string;
  thingName: string;
  intervalSeconds: number;
  /** The core's platform; default this machine's, so the amd64 manifest with the aws-crt addon. */
  platform?: PlatformAttributes;
  configurationMerge?: Record<string, unknown>;
  /** Device Defender's throttle window; default one second shorter than the interval, so timer jitter is not throttling. */
  throttleSeconds?: number;
  /** Keep the core's own state (Defender's throttle memory) across core restarts, as a nucleus does. */
  persistCoreState?: boolean;
  /** The build to run (it is only read); default the shared build of the sources as they are (sharedBuild). */
  build?: BuildResult;
  /** `lite`: the local core and the launcher behave as nucleus lite (tools/local-core/core.ts). Default classic. */
  runtime?: 'classic' | 'lite';
  /** Called with every core started (the first and each restart), before it listens. */
  onCoreStarted?: (core: LocalCore) => void;
  /** The socket the component is told to connect to, when not the core's own (a proxy in front of it). */
  componentSocketPath?: string;
}

const REPO = path.join(__dirname, '..', '..');
/** Beside the other tools' caches, so it goes with node_modules and is never committed. */
const BUILD_CACHE = path.join(REPO, 'node_modules', '.cache', 'defender-agent-test-build');
/** Everything buildComponent reads: the sources it bundles, its own code, the recipe template, the dependencies' versions. */
const BUILD_INPUTS = ['src', 'scripts/build', 'recipe.yaml', 'gdk-config.json', 'package.json', 'package-lock.json'];
const RESULT_FILE = 'build-result.json';
/** Stands for the build's folder in the saved result, so it reads the same wherever the cache is. */
const ROOT_MARK = '<build-root>';
/** Longer than any build takes on a loaded machine: a lock this old was left by a run that was killed. */
const STALE_LOCK_MS = 5 * 60_000;
/** Cached builds of other sources are deleted once this old, so edits do not pile them up. */
const OLD_BUILD_MS = 30 * 60_000;

/** A digest of the build's inputs (and the machine's platform, which picks the native addon). */
function buildInputsKey(): string {
  const hash = createHash('sha256').update(`${process.platform} ${process.arch}\n`);
  const visit = (relative: string): void => {
    const full = path.join(REPO, relative);
    if (fs.statSync(full).isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) visit(path.join(relative, name));
    } else hash.update(`${relative}\0`).update(fs.readFileSync(full)).update('\0');
  };
  for (const input of BUILD_INPUTS) visit(input);
  return hash.digest('hex').slice(0, 20);
}

function readCachedBuild(dir: string): BuildResult | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, RESULT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text, (_key, value) =>
    typeof value === 'string' && value.startsWith(ROOT_MARK) ? dir + value.slice(ROOT_MARK.length) : value,
  );
}

function takeLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

function removeOldBuilds(keep: string): void {
  for (const name of fs.readdirSync(BUILD_CACHE)) {
    const entry = path.join(BUILD_CACHE, name);
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (name !== keep && stat !== undefined && Date.now() - stat.mtimeMs > OLD_BUILD_MS) fs.rmSync(entry, { recursive: true, force: true });
  }
}

/**
 * The component built from the sources as they are now, shared by every test and every jest worker: built once per
 * content of its inputs into node_modules/.cache (under a lock, so two workers never build it twice), then reused
 * until a source changes. Read only: the launcher copies the artifacts it runs. Tests of the build itself call
 * buildComponent.
 */
export async function sharedBuild(): Promise<BuildResult> {
  const key = buildInputsKey();
  const dir = path.join(BUILD_CACHE, key);
  const lock = `${dir}.lock`;
  fs.mkdirSync(BUILD_CACHE, { recursive: true });
  for (const giveUpAt = Date.now() + 2 * STALE_LOCK_MS; Date.now() < giveUpAt; ) {
    const cached = readCachedBuild(dir);
    if (cached) return cached;
    if (!takeLock(lock)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      const again = readCachedBuild(dir);
      if (again) return again;
      const partial = `${dir}.partial`;
      fs.rmSync(partial, { recursive: true, force: true });
      const build = await buildComponent({ outputRoot: partial });
      const saved = JSON.stringify(build, (_key, value) =>
        typeof value === 'string' && value.startsWith(partial) ? ROOT_MARK + value.slice(partial.length) : value,
      );
      fs.writeFileSync(path.join(partial, RESULT_FILE), saved);
      fs.renameSync(partial, dir);
      removeOldBuilds(key);
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error(`no shared build in ${dir}: its lock ${lock} stayed taken`);
}

/** The folder holding a shared build's recipes/ and artifacts/, as `npm start -- --component-dir` takes it. */
export function buildFolder(build: BuildResult): string {
  return path.dirname(build.local.recipesDir);
}

export class BuiltComponent {
  readonly reports: DefenderReportEvent[] = [];
  core!: LocalCore;
  component!: ComponentProcess;
  build!: BuildResult;
  readonly root: string;

  private constructor(private readonly options: BuiltComponentOptions) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), options.tempPrefix));
  }

  static async start(options: BuiltComponentOptions): Promise<BuiltComponent> {
    const run = new BuiltComponent(options);
    try {
      await run.launch();
    } catch (error) {
      await run.stop();
      throw error;
    }
    return run;
  }

  private async launch(): Promise<void> {
    const options = this.options;
    this.build = options.build ?? (await sharedBuild());
    this.core = await this.startCore();
    const host: ComponentHost = {
      socketPath: options.componentSocketPath ?? this.core.socketPath,
      registerComponent: (registration, registerOptions) => this.core.registerComponent(registration, registerOptions),
      getConfiguration: (name) => this.core.getConfiguration(name),
    };
    this.component = launchComponent({
      core: host,
      rootDir: path.join(this.root, 'gg'),
      recipeFile: this.build.local.recipeFile,
      artifactsDir: this.build.local.artifactsDir,
      thingName: options.thingName,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.runtime ? { runtime: options.runtime } : {}),
      configurationMerge: {
        allowFastIntervalForDevelopment: 'true',
        intervalSeconds: String(options.intervalSeconds),
        ...options.configurationMerge,
      },
    });
    await this.component.start();
  }

  get name(): string {
    return this.build.identity.name;
  }

  log(): string {
    return fs.readFileSync(this.component.logFile, 'utf8');
  }

  /** Stops the core; the returned function starts a new one and registers the component again. */
  async stopCore(): Promise<() => Promise<void>> {
    const configuration = this.core.getConfiguration(this.name);
    await this.core.stop();
    return async () => {
      this.core = await this.startCore();
      this.core.registerComponent({ name: this.name, version: this.build.local.version, configuration }, { svcuid: this.component.svcuid });
    };
  }

  async stop(): Promise<void> {
    // Also when the component has exited by itself: stop waits until its last output lines are in the log.
    await this.component?.stop(5_000);
    await this.core?.stop();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private async startCore(): Promise<LocalCore> {
    const core = new LocalCore({
      socketPath: path.join(this.root, 'ipc.sock'),
      thingName: this.options.thingName,
      interpolateComponentConfiguration: this.options.runtime !== 'lite',
      ...(this.options.runtime ? { runtime: this.options.runtime } : {}),
      defenderMinIntervalSeconds: this.options.throttleSeconds ?? this.options.intervalSeconds - 1,
      ...(this.options.persistCoreState ? { stateDir: path.join(this.root, 'core-state') } : {}),
    });
    core.on('defender-report', (event) => this.reports.push(event));
    this.options.onCoreStarted?.(core);
    await core.start();
    return core;
  }
}
