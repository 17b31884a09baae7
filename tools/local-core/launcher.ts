/**
 * The process-running half of the launcher: starts a component the way the Greengrass nucleus does, for the local
 * core. It stages the artifacts under <root>/packages, registers the component with the IPC server, then runs the
 * plan recipe-plan.ts made (Install, then Run, with `sh -c` in <root>/work/<Name> and the nucleus environment) and
 * copies every output line into <root>/logs/<Name>.log in the nucleus' format.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  currentPlatform,
  nucleusLayout,
  planLifecycle,
  readRecipe,
  RecipeError,
  type ComponentRecipe,
  type LifecyclePlan,
  type RecipeRuntime,
  type LifecycleStep,
  type NucleusLayout,
  type PlatformAttributes,
  type StepPlan,
} from './recipe-plan';

export type { LifecycleStep } from './recipe-plan';

/** What the launcher needs from the IPC server (LocalCore implements it). */
export interface ComponentHost {
  readonly socketPath: string;
  registerComponent(
    registration: { name: string; version: string; configuration: Record<string, unknown> },
    options?: { svcuid?: string },
  ): { svcuid: string };
  getConfiguration(componentName: string): Record<string, unknown>;
}

export interface LaunchOptions {
  core: ComponentHost;
  /** The nucleus root: packages/, work/ and logs/ are created under it. */
  rootDir: string;
  recipeFile: string;
  /** The greengrass-cli --artifactDir root, holding <Name>/<Version>/<files>. */
  artifactsDir: string;
  thingName: string;
  region?: string;
  /** Deep-merged onto DefaultConfiguration, like a deployment's MERGE. */
  configurationMerge?: Record<string, unknown>;
  /** Extra environment for the lifecycle scripts; wins over everything else. */
  env?: Record<string, string>;
  /** Default: this machine. */
  platform?: PlatformAttributes;
  nucleusVersion?: string;
  /** Read the recipe as nucleus lite does (its manifest and key rules); default classic. */
  runtime?: RecipeRuntime;
}

export interface OutputLine {
  step: LifecycleStep;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Payload of the 'exit' event; `requested` is false when Run ended on its own (a crash, or a normal exit). */
export interface ExitEvent extends ExitResult {
  requested: boolean;
}

export interface StopResult extends ExitResult {
  elapsedMs: number;
  /** True when the process ignored SIGTERM and was killed with SIGKILL. */
  forced: boolean;
}

const DEFAULT_INSTALL_TIMEOUT_SECONDS = 120;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/**
 * How long stop() waits, after the Run process group is gone, for the output pipes to close: a process that left the
 * group may still hold them. Copying stops after it, so that no line reaches the log once stop has resolved.
 */
const OUTPUT_DRAIN_MS = 2_000;
const INSTALL_OUTPUT_LINES_KEPT = 40;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export class ComponentProcess extends EventEmitter {
  readonly name: string;
  readonly version: string;
  readonly logFile: string;
  readonly workPath: string;
  readonly artifactsPath: string;
  private readonly recipe: ComponentRecipe;
  private readonly layout: NucleusLayout;
  private svcuidValue: string | undefined;
  private steps: LifecyclePlan | undefined;
  private installed = false;
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<ExitResult> = Promise.resolve({ code: null, signal: null });
  /** Resolves once Run's output is closed and every line of it copied; after it no line is copied. */
  private outputDrained: () => Promise<void> = async () => undefined;
  private lastExit: ExitResult | undefined;
  private stopping = false;

  constructor(private readonly options: LaunchOptions) {
    super();
    this.recipe = readRecipe(
      readFileSync(options.recipeFile, 'utf8'),
      options.recipeFile,
      options.platform ?? currentPlatform(),
      options.configurationMerge,
      options.runtime,
    );
    this.name = this.recipe.name;
    this.version = this.recipe.version;
    this.layout = nucleusLayout(options.rootDir, this.name, this.version);
    this.logFile = this.layout.logFile;
    this.workPath = this.layout.workPath;
    this.artifactsPath = this.layout.artifactsPath;
  }

  get svcuid(): string | undefined {
    return this.svcuidValue;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  /** Settles when the current (or last) Run process exits. */
  get exited(): Promise<ExitResult> {
    return this.exitedPromise;
  }

  /** Deploys on the first call (artifacts, registration, Install), then starts Run. Resolves once Run is spawned. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (!this.steps) this.deploy();
    if (!this.installed && this.steps?.install) await this.runInstall(this.steps.install);
    this.installed = true;
    await this.spawnRun();
  }

  /** SIGTERM to the whole process group, SIGKILL after `timeoutMs`, as the nucleus stops a component. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<StopResult> {
    const child = this.child;
    if (!child) return { code: null, signal: null, elapsedMs: 0, forced: false };
    if (this.lastExit) {
      await this.outputDrained();
      return { ...this.lastExit, elapsedMs: 0, forced: false };
    }
    const started = Date.now();
    this.stopping = true;
    killGroup(child, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([this.exitedPromise, timedOut]);
    clearTimeout(timer);
    const forced = first === 'timeout';
    if (forced) killGroup(child, 'SIGKILL');
    const exit = await this.exitedPromise;
    // Children that outlive the script's main process go too, as with the nucleus.
    killGroup(child, 'SIGKILL');
    await this.outputDrained();
    return { ...exit, elapsedMs: Date.now() - started, forced };
  }

  /** SIGKILL to the Run process group at once, for a core that is exiting and cannot wait for a stop. */
  kill(): void {
    if (this.child && this.running) killGroup(this.child, 'SIGKILL');
  }

  /**
   * Stops reading the running Run process's stdout and stderr and closes them, as a nucleus that dies without its
   * components leaves them: the component's next write fails with EPIPE. A fault to drive; the process keeps running.
   */
  closeOutput(): void {
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
  }

  async restart(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    await this.stop(timeoutMs);
    await this.spawnRun();
  }

  private deploy(): void {
    const { core, recipeFile } = this.options;
    const source = join(this.options.artifactsDir, this.name, this.version);
    rmSync(this.artifactsPath, { recursive: true, force: true });
    mkdirSync(this.artifactsPath, { recursive: true });
    for (const artifact of this.recipe.artifacts) {
      const from = join(source, artifact.file);
      if (!existsSync(from)) throw new RecipeError(recipeFile, `artifact ${artifact.file} not found in ${source}`);
      const to = join(this.artifactsPath, artifact.file);
      copyFileSync(from, to);
      chmodSync(to, artifact.mode);
    }
    for (const dir of [this.layout.decompressedPath, this.workPath, join(this.options.rootDir, 'logs')])
      mkdirSync(dir, { recursive: true });

    const { name, version, configuration } = this.recipe;
    this.svcuidValue = core.registerComponent({ name, version, configuration }).svcuid;
    this.steps = planLifecycle(this.recipe, {
      layout: this.layout,
      thingName: this.options.thingName,
      configuration: core.getConfiguration(this.name),
      svcuid: this.svcuidValue,
      socketPath: core.socketPath,
      ...(this.options.region !== undefined ? { region: this.options.region } : {}),
      ...(this.options.nucleusVersion !== undefined ? { nucleusVersion: this.options.nucleusVersion } : {}),
      ...(this.options.env !== undefined ? { env: this.options.env } : {}),
    });
    for (const variable of this.steps.unresolved) this.log('WARN', `unresolved recipe variable ${variable} left as written`);
  }

  private log(level: 'INFO' | 'WARN', message: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} [${level}] (local-core) ${this.name}: ${message}\n`);
  }

  /** The step's process, its output copied line by line to the log until `stopCopying`. */
  private spawnStep(step: LifecycleStep, definition: StepPlan): { child: ChildProcess; stopCopying: () => void } {
    const state = step === 'Install' ? 'NEW' : 'RUNNING';
    const context = `{scriptName=services.${this.name}.lifecycle.${step}.Script, serviceName=${this.name}, currentState=${state}}`;
    this.log(
      'INFO',
      `shell-runner-start. {scriptName=services.${this.name}.lifecycle.${step}.Script, command=${JSON.stringify(definition.script)}}`,
    );
    // detached: its own process group, so stop() reaches the script's children as the nucleus does.
    const child = spawn('sh', ['-c', definition.script], {
      cwd: this.workPath,
      env: { ...process.env, ...definition.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let copying = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (text) => {
        if (!copying) return;
        const level = stream === 'stdout' ? 'INFO' : 'WARN';
        appendFileSync(this.logFile, `${new Date().toISOString()} [${level}] (Copier) ${this.name}: ${stream}. ${text}. ${context}\n`);
        this.emit('line', { step, stream, text } satisfies OutputLine);
      });
    }
    const stopCopying = (): void => {
      copying = false;
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    return { child, stopCopying };
  }

  private runInstall(install: StepPlan): Promise<void> {
    const timeoutSeconds = install.timeoutSeconds ?? DEFAULT_INSTALL_TIMEOUT_SECONDS;
    const output: string[] = [];
    const keep = (line: OutputLine): void => {
      if (line.step !== 'Install') return;
      output.push(line.text);
      if (output.length > INSTALL_OUTPUT_LINES_KEPT) output.shift();
    };
    this.on('line', keep);
    const { child } = this.spawnStep('Install', install);
    return new Promise<void>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, 'SIGKILL');
      }, timeoutSeconds * 1000);
      child.once('error', (error) => {
        clearTimeout(timer);
        this.off('line', keep);
        reject(new Error(`${this.name}: Install could not start: ${error.message}`));
      });
      // 'close' rather than 'exit': every output line has been read by then.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.off('line', keep);
        this.log('INFO', `Install script exited. {exitCode=${code ?? signal}}`);
        if (code === 0) return resolve();
        const why = timedOut ? `timed out after ${timeoutSeconds} s` : `failed with exit code ${code ?? signal}`;
        reject(new Error(`${this.name}: Install ${why}${output.length > 0 ? `:\n${output.join('\n')}` : ''}`));
      });
    });
  }

  private spawnRun(): Promise<void> {
    const { child, stopCopying } = this.spawnStep('Run', this.steps!.run);
    this.child = child;
    // 'close' comes once every process holding the output has closed it and every line has been read.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.outputDrained = async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
      clearTimeout(timer);
      stopCopying();
    };
    this.lastExit = undefined;
    this.stopping = false;
    let settle: (exit: ExitResult) => void = () => undefined;
    this.exitedPromise = new Promise<ExitResult>((resolve) => {
      settle = (exit) => {
        if (this.lastExit) return;
        this.lastExit = exit;
        this.log('INFO', `Run script exited. {exitCode=${exit.code ?? exit.signal}}`);
        this.emit('exit', { ...exit, requested: this.stopping } satisfies ExitEvent);
        resolve(exit);
      };
    });
    child.once('exit', (code, signal) => settle({ code, signal }));
    return new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => {
        settle({ code: null, signal: null });
        reject(new Error(`${this.name}: Run could not start: ${error.message}`));
      });
    });
  }
}

/** Reads and checks the recipe now; nothing runs until `start()`. */
export function launchComponent(options: LaunchOptions): ComponentProcess {
  return new ComponentProcess(options);
}
