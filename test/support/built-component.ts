/**
 * The built component started from its recipe by the local core, as the nucleus would start it: the setup the
 * end-to-end suites share. `restartCore()` stops the core and starts a new one on the same socket, with the component
 * registered under its old token, as a nucleus restart looks to the component.
 */
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
  /** A build to reuse (it is only read); default a fresh build in this run's folder. */
  build?: BuildResult;
  /** `lite`: the local core and the launcher behave as nucleus lite (tools/local-core/core.ts). Default classic. */
  runtime?: 'classic' | 'lite';
  /** Called with every core started (the first and each restart), before it listens. */
  onCoreStarted?: (core: LocalCore) => void;
  /** The socket the component is told to connect to, when not the core's own (a proxy in front of it). */
  componentSocketPath?: string;
}

/** The component built once into a temporary folder, for suites that start it many times; `remove()` deletes it. */
export async function buildOnce(): Promise<{ build: BuildResult; remove: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-build-'));
  const build = await buildComponent({ outputRoot: dir });
  return { build, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
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
    run.build = options.build ?? (await buildComponent({ outputRoot: path.join(run.root, 'build') }));
    run.core = await run.startCore();
    const host: ComponentHost = {
      socketPath: options.componentSocketPath ?? run.core.socketPath,
      registerComponent: (registration, registerOptions) => run.core.registerComponent(registration, registerOptions),
      getConfiguration: (name) => run.core.getConfiguration(name),
    };
    run.component = launchComponent({
      core: host,
      rootDir: path.join(run.root, 'gg'),
      recipeFile: run.build.local.recipeFile,
      artifactsDir: run.build.local.artifactsDir,
      thingName: options.thingName,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.runtime ? { runtime: options.runtime } : {}),
      configurationMerge: {
        allowFastIntervalForDevelopment: 'true',
        intervalSeconds: String(options.intervalSeconds),
        ...options.configurationMerge,
      },
    });
    await run.component.start();
    return run;
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
    if (this.component?.running) await this.component.stop(5_000);
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
