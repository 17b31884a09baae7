/**
 * Starts a component from its recipe the way the Greengrass nucleus does, for the local core: picks the manifest
 * for this platform, stages its artifacts under <root>/packages, registers the component (configuration =
 * DefaultConfiguration + merge) with the IPC server, substitutes recipe variables into the lifecycle, runs Install
 * then Run with `sh -c` in <root>/work/<Name> and the nucleus environment, and copies every output line into
 * <root>/logs/<Name>.log in the nucleus' format.
 *
 * Supported recipe subset (anything else is refused with a clear error rather than silently ignored): manifests with
 * Platform/Artifacts/Lifecycle (or a global Lifecycle), artifacts without Unarchive, lifecycle Setenv, Install
 * (Script, Timeout, Setenv) and Run (Script, Setenv), all unprivileged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';

/** What the launcher needs from the IPC server (LocalCore implements it). */
export interface ComponentHost {
  readonly socketPath: string;
  registerComponent(
    registration: { name: string; version: string; configuration: Record<string, unknown> },
    options?: { svcuid?: string },
  ): { svcuid: string };
  getConfiguration(componentName: string): Record<string, unknown>;
}

/** Greengrass platform attributes (`os`, `architecture`, ...) that manifests are matched against. */
type PlatformAttributes = Record<string, string>;

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
}

export type LifecycleStep = 'Install' | 'Run';

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
const INSTALL_OUTPUT_LINES_KEPT = 40;
const SUPPORTED_LIFECYCLE_KEYS = ['setenv', 'install', 'run'];
const SUPPORTED_STEP_KEYS = ['script', 'setenv', 'timeout', 'requiresprivilege'];

class RecipeError extends Error {
  constructor(recipeFile: string, message: string) {
    super(`${recipeFile}: ${message}`);
    this.name = 'RecipeError';
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Recipe keys are case-insensitive for the nucleus. */
function field(object: Json, key: string): unknown {
  const wanted = key.toLowerCase();
  return Object.entries(object).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

function currentPlatform(): PlatformAttributes {
  const os: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
  const architecture: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', arm: 'arm', ia32: 'x86' };
  return { os: os[process.platform] ?? process.platform, architecture: architecture[process.arch] ?? process.arch };
}

/** Platform values: `*` or `all` match anything, `/regex/` must match the whole value, otherwise equal ignoring case. */
function platformMatches(wanted: unknown, platform: PlatformAttributes): boolean {
  if (wanted === undefined) return true;
  if (!isRecord(wanted)) return false;
  return Object.entries(wanted).every(([key, value]) => {
    if (value === '*' || value === 'all') return true;
    const actual = platform[key];
    if (typeof value !== 'string' || actual === undefined) return false;
    if (value.length > 2 && value.startsWith('/') && value.endsWith('/')) return new RegExp(`^(?:${value.slice(1, -1)})$`).test(actual);
    return value.toLowerCase() === actual.toLowerCase();
  });
}

function deepMerge(base: Json, update: Json): Json {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(update)) {
    const current = merged[key];
    merged[key] = isRecord(current) && isRecord(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

/** RFC 6901 pointer into the configuration; keys match case-insensitively, as in the nucleus config store. */
function resolvePointer(configuration: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: configuration };
  if (!pointer.startsWith('/')) return { found: false };
  let node: unknown = configuration;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) node = node[Number(segment)];
    else if (isRecord(node) && field(node, segment) !== undefined) node = field(node, segment);
    else return { found: false };
  }
  return { found: true, value: node };
}

interface Interpolation {
  variables: Record<string, string>;
  configuration: unknown;
  onUnresolved: (variable: string) => void;
}

/** Same-component variables only (`{namespace:key}`); unknown or missing ones stay as written, like the nucleus. */
function interpolate(value: unknown, context: Interpolation): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{([.\w-]+):([^:}]*)\}/g, (whole, namespace: string, key: string) => {
      if (namespace === 'configuration') {
        const { found, value: resolved } = resolvePointer(context.configuration, key);
        if (found) return typeof resolved === 'object' && resolved !== null ? JSON.stringify(resolved) : String(resolved);
      } else if (context.variables[`${namespace}:${key}`] !== undefined) {
        return context.variables[`${namespace}:${key}`]!;
      }
      context.onUnresolved(whole);
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, context));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, context)]));
  return value;
}

interface StepDefinition {
  script: string;
  setenv: Record<string, string>;
  timeoutSeconds?: number;
}

interface ComponentPlan {
  name: string;
  version: string;
  defaultConfiguration: Json;
  artifacts: Array<{ file: string; mode: number }>;
  lifecycle: Json;
}

function artifactMode(permission: unknown): number {
  const level = (key: string, fallback: string): string => {
    const value = isRecord(permission) ? field(permission, key) : undefined;
    return typeof value === 'string' ? value.toUpperCase() : fallback;
  };
  const read = level('Read', 'OWNER');
  const execute = level('Execute', 'NONE');
  const bits = (value: string, bit: number): number => (value === 'ALL' ? bit * 0o111 : value === 'OWNER' ? bit * 0o100 : 0);
  // Execute implies Read.
  return bits(read, 4) | bits(execute, 4) | bits(execute, 1);
}

function planFromRecipe(recipeFile: string, platform: PlatformAttributes): ComponentPlan {
  const fail = (message: string): never => {
    throw new RecipeError(recipeFile, message);
  };
  const recipe: unknown = parse(readFileSync(recipeFile, 'utf8'), { version: '1.1' });
  if (!isRecord(recipe)) return fail('not a recipe (expected a mapping)');
  const name = field(recipe, 'ComponentName');
  const version = field(recipe, 'ComponentVersion');
  if (typeof name !== 'string' || typeof version !== 'string') return fail('ComponentName and ComponentVersion must be strings');
  const componentConfiguration = field(recipe, 'ComponentConfiguration');
  const defaultConfiguration = isRecord(componentConfiguration) ? field(componentConfiguration, 'DefaultConfiguration') : undefined;

  const manifests = field(recipe, 'Manifests');
  if (!Array.isArray(manifests)) return fail('Manifests must be a list');
  const manifest = manifests.find((m): m is Json => isRecord(m) && platformMatches(field(m, 'Platform'), platform));
  if (!manifest) return fail(`no manifest matches this platform ${JSON.stringify(platform)}`);

  const artifactList = field(manifest, 'Artifacts') ?? [];
  if (!Array.isArray(artifactList)) return fail('Artifacts must be a list');
  const artifacts = artifactList.map((artifact, index) => {
    const uri = isRecord(artifact) ? field(artifact, 'URI') : undefined;
    if (typeof uri !== 'string') return fail(`artifact ${index + 1} has no URI`);
    const unarchive = field(artifact as Json, 'Unarchive');
    if (unarchive !== undefined && String(unarchive).toUpperCase() !== 'NONE')
      return fail(`artifact ${uri}: Unarchive ${String(unarchive)} is not supported by the local core`);
    return { file: basename(uri), mode: artifactMode(field(artifact as Json, 'Permission')) };
  });

  const lifecycle = field(manifest, 'Lifecycle') ?? field(recipe, 'Lifecycle');
  if (!isRecord(lifecycle)) return fail('the selected manifest has no Lifecycle');
  for (const key of Object.keys(lifecycle)) {
    if (!SUPPORTED_LIFECYCLE_KEYS.includes(key.toLowerCase()))
      return fail(`lifecycle ${key} is not supported by the local core (only Setenv, Install, Run)`);
  }
  if (field(lifecycle, 'Run') === undefined) return fail('the lifecycle has no Run step');
  return { name, version, defaultConfiguration: isRecord(defaultConfiguration) ? defaultConfiguration : {}, artifacts, lifecycle };
}

function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function stepDefinition(recipeFile: string, lifecycle: Json, step: LifecycleStep): StepDefinition | undefined {
  const value = field(lifecycle, step);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { script: value, setenv: {} };
  if (!isRecord(value)) throw new RecipeError(recipeFile, `lifecycle ${step} must be a script or a mapping`);
  for (const key of Object.keys(value)) {
    if (!SUPPORTED_STEP_KEYS.includes(key.toLowerCase()))
      throw new RecipeError(recipeFile, `lifecycle ${step}.${key} is not supported by the local core`);
  }
  const privileged = field(value, 'RequiresPrivilege');
  if (privileged === true || privileged === 'true')
    throw new RecipeError(recipeFile, `lifecycle ${step} requires privilege; the local core runs components unprivileged only`);
  const script = field(value, 'Script');
  if (typeof script !== 'string') throw new RecipeError(recipeFile, `lifecycle ${step} has no Script`);
  const timeout = Number(field(value, 'Timeout'));
  return {
    script,
    setenv: stringMap(field(value, 'Setenv')),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutSeconds: timeout } : {}),
  };
}

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
  private readonly plan: ComponentPlan;
  private svcuidValue: string | undefined;
  private steps: { install?: StepDefinition; run: StepDefinition; lifecycleEnv: Record<string, string> } | undefined;
  private installed = false;
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<ExitResult> = Promise.resolve({ code: null, signal: null });
  private lastExit: ExitResult | undefined;
  private stopping = false;

  constructor(private readonly options: LaunchOptions) {
    super();
    this.plan = planFromRecipe(options.recipeFile, options.platform ?? currentPlatform());
    this.name = this.plan.name;
    this.version = this.plan.version;
    this.logFile = join(options.rootDir, 'logs', `${this.name}.log`);
    this.workPath = join(options.rootDir, 'work', this.name);
    this.artifactsPath = join(options.rootDir, 'packages', 'artifacts', this.name, this.version);
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
    if (!child || this.lastExit) return { ...(this.lastExit ?? { code: null, signal: null }), elapsedMs: 0, forced: false };
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
    return { ...exit, elapsedMs: Date.now() - started, forced };
  }

  async restart(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    await this.stop(timeoutMs);
    await this.spawnRun();
  }

  private deploy(): void {
    const { core, rootDir, recipeFile, thingName } = this.options;
    const source = join(this.options.artifactsDir, this.name, this.version);
    rmSync(this.artifactsPath, { recursive: true, force: true });
    mkdirSync(this.artifactsPath, { recursive: true });
    for (const artifact of this.plan.artifacts) {
      const from = join(source, artifact.file);
      if (!existsSync(from)) throw new RecipeError(recipeFile, `artifact ${artifact.file} not found in ${source}`);
      const to = join(this.artifactsPath, artifact.file);
      copyFileSync(from, to);
      chmodSync(to, artifact.mode);
    }
    const decompressedPath = join(rootDir, 'packages', 'artifacts-unarchived', this.name, this.version);
    for (const dir of [decompressedPath, this.workPath, join(rootDir, 'logs')]) mkdirSync(dir, { recursive: true });

    const configuration = deepMerge(this.plan.defaultConfiguration, this.options.configurationMerge ?? {});
    this.svcuidValue = core.registerComponent({ name: this.name, version: this.version, configuration }).svcuid;

    const lifecycle = interpolate(this.plan.lifecycle, {
      variables: {
        'artifacts:path': this.artifactsPath,
        'artifacts:decompressedPath': decompressedPath,
        'work:path': this.workPath,
        'kernel:rootPath': rootDir,
        'iot:thingName': thingName,
      },
      configuration: core.getConfiguration(this.name),
      onUnresolved: (variable) => this.log('WARN', `unresolved recipe variable ${variable} left as written`),
    }) as Json;
    const install = stepDefinition(recipeFile, lifecycle, 'Install');
    const run = stepDefinition(recipeFile, lifecycle, 'Run');
    if (!run) throw new RecipeError(recipeFile, 'the lifecycle has no Run step');
    this.steps = { run, lifecycleEnv: stringMap(field(lifecycle, 'Setenv')), ...(install ? { install } : {}) };
  }

  private environment(step: StepDefinition): NodeJS.ProcessEnv {
    const { core, rootDir, thingName } = this.options;
    const region = this.options.region ?? 'us-east-1';
    const svcuid = this.svcuidValue ?? '';
    return {
      ...process.env,
      SVCUID: svcuid,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: svcuid,
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH: core.socketPath,
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
      AWS_IOT_THING_NAME: thingName,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      GGC_VERSION: this.options.nucleusVersion ?? '2.14.0',
      // The nucleus points at its root CA file; nothing local connects to AWS, so the file need not exist.
      GG_ROOT_CA_PATH: join(rootDir, 'rootCA.pem'),
      ...this.steps?.lifecycleEnv,
      ...step.setenv,
      ...this.options.env,
    };
  }

  private log(level: 'INFO' | 'WARN', message: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} [${level}] (local-core) ${this.name}: ${message}\n`);
  }

  private spawnStep(step: LifecycleStep, definition: StepDefinition): ChildProcess {
    const state = step === 'Install' ? 'NEW' : 'RUNNING';
    const context = `{scriptName=services.${this.name}.lifecycle.${step}.Script, serviceName=${this.name}, currentState=${state}}`;
    this.log(
      'INFO',
      `shell-runner-start. {scriptName=services.${this.name}.lifecycle.${step}.Script, command=${JSON.stringify(definition.script)}}`,
    );
    // detached: its own process group, so stop() reaches the script's children as the nucleus does.
    const child = spawn('sh', ['-c', definition.script], {
      cwd: this.workPath,
      env: this.environment(definition),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (text) => {
        const level = stream === 'stdout' ? 'INFO' : 'WARN';
        appendFileSync(this.logFile, `${new Date().toISOString()} [${level}] (Copier) ${this.name}: ${stream}. ${text}. ${context}\n`);
        this.emit('line', { step, stream, text } satisfies OutputLine);
      });
    }
    return child;
  }

  private runInstall(install: StepDefinition): Promise<void> {
    const timeoutSeconds = install.timeoutSeconds ?? DEFAULT_INSTALL_TIMEOUT_SECONDS;
    const output: string[] = [];
    const keep = (line: OutputLine): void => {
      if (line.step !== 'Install') return;
      output.push(line.text);
      if (output.length > INSTALL_OUTPUT_LINES_KEPT) output.shift();
    };
    this.on('line', keep);
    const child = this.spawnStep('Install', install);
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
    const child = this.spawnStep('Run', this.steps!.run);
    this.child = child;
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
