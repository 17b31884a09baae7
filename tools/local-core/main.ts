/**
 * `npm start`: reads its options, builds the component (`--build`), starts a local stand-in for the Greengrass core (IPC server + fake Device
 * Defender) in a fresh temporary root, launches the built component from its recipe with a development
 * configuration, and shows live what happens: each report and Defender's answer, denied IPC calls, and the agent's
 * own log lines. Ctrl-C stops everything and removes the temporary root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { thingNameProblem } from '../../src/config/names';
import { MIN_DEVELOPMENT_INTERVAL_SECONDS } from '../../src/config/definition';
import type { ReportFormat } from '../../src/component/definition';
import { componentIdentity } from '../../src/component/identity';
import { DRILL_KINDS, type DrillKind } from '../../src/config/detection';
import { LocalCore, type DefenderReportEvent } from './core';
import { launchComponent, type ComponentProcess, type ExitEvent, type OutputLine } from './launcher';
import { drillDemo, type StartProgress, startVerdict } from './drill-demo';
import { describeError } from '../../src/util/describe-error';

const DEFAULT_THING_NAME = 'LocalCoreThing';
/** Where `npm start` has the build write the component (kept out of the greengrass-cli layout in the project root). */
const DEFAULT_COMPONENT_DIR = '.local-core/component';
const BUILD_SCRIPT = join(__dirname, '..', '..', 'scripts', 'build', 'main.ts');
const DEFAULT_INTERVAL_SECONDS = 10;
const STOP_TIMEOUT_MS = 5_000;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** With --reports, how long past the expected reports to wait before giving up. */
const REPORTS_GRACE_SECONDS = 60;

const USAGE = `Usage: npm start -- [options]

Runs the built component (npm start builds it first) against a local Greengrass core stand-in (IPC server + fake Device Defender) and
shows every report with Defender's answer, denied IPC calls and the agent's log. Ctrl-C stops.

  --interval N       seconds between reports (default ${DEFAULT_INTERVAL_SECONDS}, at least ${MIN_DEVELOPMENT_INTERVAL_SECONDS}); the
                     component runs with allowFastIntervalForDevelopment, Defender throttles at the same pace
  --format F         json or cbor (default json)
  --short-names      report with the short key names
  --thing NAME       thing name of the core (default $LOCAL_CORE_THING_NAME or ${DEFAULT_THING_NAME})
  --ipc-client C     the component's ipcClient configuration: auto, sdk or portable (default: the recipe's, auto)
  --reports N        exit after N reports: 0 if all were accepted, 1 otherwise (a smoke check)
  --drill KIND       run a bounded attack drill (listening-port, connections or bytes-out) with a behavior it trips;
                     with --reports, exits 0 only once the alarm was raised and cleared (bytes-out: once its padding
                     reached the core, as the local core sends nothing onto the network and so raises no alarm)
  --component-dir D  where the build wrote recipes/ and artifacts/ (default .local-core/component)
  --build            build the component into the component dir first (npm start passes it, after the options
                     were read, so --help and a mistyped flag answer at once)
  --lite             run the core as nucleus lite: its recipe rules, no configuration validation, 10,000-byte IPC
                     messages (a larger one closes the connection)
  --keep-root        keep the temporary core root (logs/, work/, packages/) and print where it is
  --help             show this text`;

export interface StartOptions {
  intervalSeconds: number;
  format: ReportFormat;
  shortNames: boolean;
  thingName: string;
  reports?: number;
  ipcClient?: 'auto' | 'sdk' | 'portable';
  drill?: DrillKind;
  keepRoot: boolean;
  componentDir: string;
  build: boolean;
  /** Run the core as nucleus lite (--lite). */
  lite: boolean;
}

class UsageError extends Error {}

function positiveInteger(flag: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${flag} needs a whole number >= ${minimum}, got "${text}"`);
  return value;
}

function drillKind(text: string): DrillKind {
  if (!DRILL_KINDS.includes(text as DrillKind)) throw new UsageError(`--drill must be one of ${DRILL_KINDS.join(', ')}, got "${text}"`);
  return text as DrillKind;
}

export function parseStartOptions(argv: string[], env: NodeJS.ProcessEnv): StartOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      interval: { type: 'string' },
      format: { type: 'string' },
      'short-names': { type: 'boolean', default: false },
      thing: { type: 'string' },
      reports: { type: 'string' },
      'ipc-client': { type: 'string' },
      drill: { type: 'string' },
      'keep-root': { type: 'boolean', default: false },
      'component-dir': { type: 'string', default: DEFAULT_COMPONENT_DIR },
      build: { type: 'boolean', default: false },
      lite: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'cbor') throw new UsageError(`--format must be json or cbor, got "${format}"`);
  const ipcClient = values['ipc-client'];
  if (ipcClient !== undefined && ipcClient !== 'auto' && ipcClient !== 'sdk' && ipcClient !== 'portable') {
    throw new UsageError(`--ipc-client must be auto, sdk or portable, got "${ipcClient}"`);
  }
  const thingName = values.thing ?? env.LOCAL_CORE_THING_NAME ?? DEFAULT_THING_NAME;
  const problem = thingNameProblem(thingName);
  if (problem) throw new UsageError(`"${thingName}" is not valid: ${problem}`);
  return {
    intervalSeconds:
      values.interval === undefined
        ? DEFAULT_INTERVAL_SECONDS
        : positiveInteger('--interval', values.interval, MIN_DEVELOPMENT_INTERVAL_SECONDS),
    format,
    shortNames: values['short-names'],
    thingName,
    keepRoot: values['keep-root'],
    componentDir: resolve(values['component-dir']),
    build: values.build,
    lite: values.lite,
    ...(values.reports === undefined ? {} : { reports: positiveInteger('--reports', values.reports, 1) }),
    ...(ipcClient === undefined ? {} : { ipcClient }),
    ...(values.drill === undefined ? {} : { drill: drillKind(values.drill) }),
  };
}

/** The newest recipe in `<dir>/recipes` and the artifact folder beside it: the greengrass-cli layout the build writes. */
function findBuiltComponent(dir: string): { recipeFile: string; artifactsDir: string } {
  const recipesDir = join(dir, 'recipes');
  let recipes: string[];
  try {
    recipes = readdirSync(recipesDir).filter((name) => /\.(ya?ml|json)$/.test(name));
  } catch {
    recipes = [];
  }
  const newest = recipes.map((name) => join(recipesDir, name)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`no built recipe in ${recipesDir}: run \`npm run build -- --out ${dir}\` first (npm start does)`);
  return { recipeFile: newest, artifactsDir: join(dir, 'artifacts') };
}

const clock = (): string => new Date().toTimeString().slice(0, 8);
const say = (tag: string, message: string): void => console.log(`${clock()} ${`[${tag}]`.padEnd(8)} ${message}`);

function describeAlarm(payload: Buffer): { type: string; behavior: string; measured: string } | undefined {
  try {
    const event = JSON.parse(payload.toString('utf8')) as {
      violationEventType?: unknown;
      behavior?: { name?: unknown };
      metricValue?: unknown;
    };
    if (typeof event.violationEventType !== 'string') return undefined;
    return { type: event.violationEventType, behavior: String(event.behavior?.name), measured: JSON.stringify(event.metricValue) };
  } catch {
    return undefined;
  }
}

export function describeReport(count: number, report: DefenderReportEvent): string {
  const id = report.reportId === undefined ? 'no reportId' : `reportId ${report.reportId}`;
  const outcome =
    report.status === 'ACCEPTED' ? 'ACCEPTED' : `REJECTED${report.tooSoon ? ' (throttled)' : ''}: ${report.errors.join('; ')}`;
  return `#${count} ${id}, ${report.bytes} B ${report.format} on ${report.topic} -> ${outcome}`;
}

async function run(options: StartOptions): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'ddlc-'));
  // Defender's throttle window, one second shorter than the interval so timer jitter is not reported as throttling.
  const core = new LocalCore({
    socketPath: join(root, 'ipc.sock'),
    thingName: options.thingName,
    // Lite substitutes the thing into accessControl itself and never into configuration values.
    interpolateComponentConfiguration: !options.lite,
    runtime: options.lite ? 'lite' : 'classic',
    defenderMinIntervalSeconds: Math.max(1, options.intervalSeconds - 1),
    stateDir: root,
  });
  let component: ComponentProcess | undefined;
  let finished: (code: number) => void = () => undefined;
  const outcome = new Promise<number>((resolve) => {
    finished = resolve;
  });
  const onSignal = (): void => finished(0);
  // SIGHUP (the terminal closed) stops the run like Ctrl-C: node's default would end this process at once and leave
  // the component, in its own process group, running without a core.
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  // Whatever ends this process, the component does not outlive it; a graceful stop has already run by then.
  const killComponent = (): void => component?.kill();
  process.once('exit', killComponent);
  let deadline: NodeJS.Timeout | undefined;

  try {
    const built = findBuiltComponent(options.componentDir);

    await core.start();
    say(
      'core',
      `listening on ${core.socketPath} as thing ${options.thingName}; Defender accepts one report per ${options.intervalSeconds - 1} s or more`,
    );
    core.on('connect', ({ component: name }) => say('core', `${name} connected`));
    core.on('disconnect', ({ component: name }) => say('core', `${name} disconnected`));
    core.on('state', ({ component: name, state }) => say('core', `${name} reported state ${state}`));
    core.on('denied', ({ component: name, operation, resource }) => say('denied', `${name}: ${operation} on ${resource}`));
    core.on('frame-too-large', ({ component: name, bytes }) =>
      say('core', `${name ?? 'a client'}: a ${bytes}-byte IPC frame is above nucleus lite's buffer; connection closed`),
    );
    core.on('access-control-error', ({ component: name, problem }) =>
      say('denied', `${name}: accessControl unusable, every call will be denied: ${problem}`),
    );
    const demo = options.drill ? await drillDemo(options.drill, { ...options, componentName: componentIdentity().name }) : undefined;
    if (demo) say('drill', demo.note);
    const progress: StartProgress = { reports: 0, rejected: 0, alarmRaised: false, alarmCleared: false, drillBytes: 0 };
    const finishIfDone = (): void => {
      const code = startVerdict(options.reports, demo, progress);
      if (code !== undefined) finished(code);
    };
    core.on('defender-report', (report) => {
      progress.reports += 1;
      if (report.status !== 'ACCEPTED') progress.rejected += 1;
      say('report', describeReport(progress.reports, report));
      finishIfDone();
    });
    core.on('publish', ({ topic, payload }) => {
      if (demo?.evidence.kind === 'published' && topic === demo.evidence.topic) {
        progress.drillBytes += payload.length;
        finishIfDone();
        return;
      }
      const alarm = demo && topic === `defender-agent/${options.thingName}/alarms` ? describeAlarm(payload) : undefined;
      if (!alarm) return;
      say('alarm', `${alarm.type} ${alarm.behavior} on ${topic}: ${alarm.measured}`);
      if (alarm.behavior !== demo?.behaviorName) return;
      if (alarm.type === 'in-alarm') progress.alarmRaised = true;
      if (alarm.type === 'alarm-cleared' && progress.alarmRaised) progress.alarmCleared = true;
      finishIfDone();
    });
    core.on('local-publish', ({ topic, payload }) => {
      const alarm = describeAlarm(payload);
      if (alarm) say('alarm', `${alarm.type} ${alarm.behavior} on local topic ${topic}`);
    });

    component = launchComponent({
      core,
      rootDir: join(root, 'core'),
      recipeFile: built.recipeFile,
      artifactsDir: built.artifactsDir,
      thingName: options.thingName,
      runtime: options.lite ? 'lite' : 'classic',
      configurationMerge: {
        intervalSeconds: String(options.intervalSeconds),
        allowFastIntervalForDevelopment: 'true',
        format: options.format,
        shortNames: String(options.shortNames),
        ...(options.ipcClient === undefined ? {} : { ipcClient: options.ipcClient }),
        ...demo?.configurationMerge,
      },
    });
    component.on('line', (line: OutputLine) => say('agent', `${line.step === 'Install' ? '(install) ' : ''}${line.text}`));
    component.on('exit', ({ code, signal, requested }: ExitEvent) => {
      if (requested) return;
      say('core', `${component?.name ?? 'component'} exited unexpectedly (${code ?? signal}); see ${component?.logFile ?? 'its log'}`);
      finished(1);
    });
    await component.start();
    say('core', `${component.name} running (pid ${component.pid ?? '?'}), log ${component.logFile}`);
    if (options.reports !== undefined) {
      const seconds = options.reports * options.intervalSeconds + REPORTS_GRACE_SECONDS;
      deadline = setTimeout(() => {
        const drill = demo?.evidence.kind === 'published' ? `, ${progress.drillBytes} of ${demo.evidence.bytes} drill bytes` : '';
        say('core', `gave up: ${progress.reports} of ${options.reports} reports${drill} after ${seconds} s`);
        finished(1);
      }, seconds * 1000);
    }
  } catch (error) {
    say('error', describeError(error));
    finished(1);
  }

  const code = await outcome;
  clearTimeout(deadline);
  for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  if (component?.running) {
    const stopped = await component.stop(STOP_TIMEOUT_MS);
    say(
      'core',
      `${component.name} stopped (${stopped.forced ? 'killed after ignoring SIGTERM' : (stopped.signal ?? `exit code ${stopped.code}`)}, ${stopped.elapsedMs} ms)`,
    );
  }
  await core.stop();
  if (options.keepRoot) say('core', `kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
  return code;
}

async function main(): Promise<void> {
  // With the terminal gone (SIGHUP) the live view has no reader: its writes fail with EPIPE and are dropped, so the
  // stop goes on instead of crashing on its first line.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  let options: StartOptions | 'help';
  try {
    options = parseStartOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${describeError(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  if (options.build) {
    const build = spawnSync(process.execPath, [require.resolve('tsx/cli'), BUILD_SCRIPT, '--out', options.componentDir], {
      stdio: 'inherit',
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  process.exit(await run(options));
}

if (require.main === module) void main();
