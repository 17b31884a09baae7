/**
 * The agent end to end under Wine, once per IPC client: the stand-in core (tools/local-core, bundled into one file run
 * by node.exe, see wine-core.ts) serves a Windows named pipe named as the nucleus names it on Windows, and starts the
 * Windows manifest's Run script from the rendered recipe with the nucleus's variables; the agent (node.exe, the Windows
 * bundle and koffi's addon as the manifest lays them out) connects to the pipe and reports, and the core validates each
 * report against its own schema of the Device Defender specification. Passing: two reports ACCEPTED by the core, and
 * the agent's log saying which client it chose and that the same two reports were ACCEPTED.
 *
 * The portable client runs from exactly the Windows manifest's artifacts (no SDK there, so `ipcClient: auto` must pick
 * it and say why). The SDK client (aws-crt) runs with `ipcClient: sdk` from the same artifacts plus what a manifest with
 * the SDK would add: the SDK's bundle and aws-crt's own win32-x64 addon from its npm package, under the name the agent
 * points aws-crt at (src/native-binding.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SDK_BUNDLE_FILE } from '../../src/ipc/sdk-bundle';
import { describeError } from '../../src/util/describe-error';
import { type ComponentRecipe, type NucleusLayout, planLifecycle, readRecipe } from '../../tools/local-core/recipe-plan';
import type { Checks } from '../nucleus-lite/checks';
import type { WineCoreInput } from './wine-core';
import { TOOLS, type WineEnvironment, wineEnv } from './wine-env';

export type IpcClientName = 'portable' | 'sdk';

/** What the outer run prepares for the end to end (paths on the Linux side). */
export interface EndToEndInput {
  /** wine-core.ts bundled into one file. */
  coreBundle: string;
  recipeFile: string;
  /** The build's artifacts for this component version (every manifest's files). */
  builtArtifacts: string;
  /** aws-crt's Windows x64 addon from its npm package. */
  crtWindowsAddon: string;
}

const THING = 'WineThing';
/** The development minimum, so two reports take about ten seconds. */
const INTERVAL_SECONDS = 5;
const REPORTS = 2;
/** Time for node.exe to start twice under Wine (core, then agent) and the reports to come, on a loaded machine. */
const DEADLINE_MS = 120_000;
/** A fixed token, as a nucleus hands one per component in SVCUID. */
const SVCUID = 'wine-end-to-end-svcuid';
/** Where the nucleus puts the component's Windows addon of aws-crt (src/native-binding.ts reads it by this name). */
const CRT_WINDOWS_ADDON_FILE = 'aws-crt-nodejs-win32-x64.node';

const CLIENT_LINE: Record<IpcClientName, RegExp> = {
  portable: /INFO {2}IPC client: portable \(the AWS SDK client is not in this platform's download/,
  sdk: /INFO {2}IPC client: sdk \(ipcClient=sdk\)/,
};

export function windowsPath(unixPath: string): string {
  return `Z:${unixPath.replace(/\//g, '\\')}`;
}

/**
 * The pipe the nucleus serves on Windows and hands components in AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT:
 * `\\.\pipe\NucleusNamedPipe-` and its root path with everything but letters, digits and '-' removed (a random UUID
 * instead when that is longer than 256 characters). aws-greengrass-nucleus,
 * src/main/java/com/aws/greengrass/util/platforms/windows/WindowsPlatform.java, prepareIpcFilepath.
 */
export function nucleusPipeName(windowsRootPath: string): string {
  const name = `\\\\.\\pipe\\NucleusNamedPipe-${windowsRootPath.replace(/[^a-zA-Z0-9-]/g, '')}`;
  if (name.length > 256) throw new Error(`the pipe name for ${windowsRootPath} is longer than the nucleus allows; use a shorter root`);
  return name;
}

interface CoreEvent {
  at: number;
  event: string;
  component?: string;
  status?: string;
  reportId?: number;
  errors?: string[];
  message?: string;
  code?: number | null;
  operation?: string;
  resource?: string;
}

function readLines<T>(file: string, parse: (line: string) => T): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // The last line may be half written.
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => parse(line));
}

/** Lays out the nucleus root for one client and writes the core's input; returns the files to watch. */
function prepare(client: IpcClientName, input: EndToEndInput, dir: string) {
  const recipe: ComponentRecipe = readRecipe(
    fs.readFileSync(input.recipeFile, 'utf8'),
    input.recipeFile,
    { os: 'windows', architecture: 'amd64' },
    {
      intervalSeconds: String(INTERVAL_SECONDS),
      allowFastIntervalForDevelopment: 'true',
      ...(client === 'sdk' ? { ipcClient: 'sdk' } : {}),
    },
  );
  const root = path.join(dir, 'root');
  const artifactsPath = path.join(root, 'packages', 'artifacts', recipe.name, recipe.version);
  fs.mkdirSync(artifactsPath, { recursive: true });
  for (const artifact of recipe.artifacts)
    fs.copyFileSync(path.join(input.builtArtifacts, artifact.file), path.join(artifactsPath, artifact.file));
  if (client === 'sdk') {
    fs.copyFileSync(path.join(input.builtArtifacts, SDK_BUNDLE_FILE), path.join(artifactsPath, SDK_BUNDLE_FILE));
    fs.copyFileSync(input.crtWindowsAddon, path.join(artifactsPath, CRT_WINDOWS_ADDON_FILE));
  }
  const layout: NucleusLayout = {
    rootDir: windowsPath(root),
    artifactsPath: windowsPath(artifactsPath),
    decompressedPath: windowsPath(path.join(root, 'packages', 'artifacts-unarchived', recipe.name, recipe.version)),
    workPath: windowsPath(path.join(root, 'work', recipe.name)),
    logFile: windowsPath(path.join(root, 'logs', `${recipe.name}.log`)),
  };
  const pipe = nucleusPipeName(layout.rootDir);
  const plan = planLifecycle(recipe, { layout, thingName: THING, configuration: recipe.configuration, svcuid: SVCUID, socketPath: pipe });
  if (plan.unresolved.length > 0) throw new Error(`recipe variables left unresolved: ${plan.unresolved.join(', ')}`);
  const files = { events: path.join(dir, 'events.jsonl'), output: path.join(dir, 'agent.log'), core: path.join(dir, 'core.out') };
  const coreInput: WineCoreInput = {
    pipe,
    thingName: THING,
    // Half the interval, as the component's end to end on Linux: timer jitter under load is not throttling.
    defenderMinIntervalSeconds: INTERVAL_SECONDS / 2,
    component: { name: recipe.name, version: recipe.version, configuration: recipe.configuration, svcuid: SVCUID },
    run: { script: plan.run.script, env: plan.run.env, workPath: layout.workPath },
    eventsFile: windowsPath(files.events),
    outputFile: windowsPath(files.output),
  };
  fs.writeFileSync(path.join(dir, 'core-input.json'), JSON.stringify(coreInput));
  return { files, pipe, coreInputFile: path.join(dir, 'core-input.json'), artifacts: fs.readdirSync(artifactsPath).sort() };
}

/** Ends the Wine session (the core, cmd and the agent) and waits for the core's launcher to be gone. */
async function endSession(env: WineEnvironment, exited: Promise<unknown>): Promise<void> {
  await new Promise<void>((resolve) => {
    const kill = spawn(TOOLS.wineserver, ['-k'], { env: wineEnv(env.prefix), stdio: 'ignore' });
    kill.once('exit', () => resolve());
    kill.once('error', () => resolve());
  });
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
}

/** One client's run: two checks (the core's verdicts; the agent's log). Returns a figure for the summary. */
export async function endToEndChecks(
  client: IpcClientName,
  env: WineEnvironment,
  input: EndToEndInput,
  workDir: string,
  checks: Checks,
): Promise<string | undefined> {
  const dir = path.join(workDir, `e2e-${client}`);
  fs.mkdirSync(dir, { recursive: true });
  const coreName = `end to end under Wine, ${client} client: the stand-in core (node.exe) serves a named pipe, the Windows Run step's agent connects to it and the core ACCEPTS ${REPORTS} reports`;
  const logName = `end to end under Wine, ${client} client: the agent's log names the ${client} client and the same ${REPORTS} reports ACCEPTED`;
  let prepared: ReturnType<typeof prepare>;
  try {
    prepared = prepare(client, input, dir);
  } catch (error) {
    checks.record({ name: coreName, passed: false, detail: `setup: ${describeError(error)}`, seconds: 0 });
    checks.notReached(logName, 'the end to end was not set up');
    return undefined;
  }
  const { files } = prepared;
  const started = Date.now();
  const events = () => readLines<CoreEvent>(files.events, (line) => JSON.parse(line) as CoreEvent);
  const log = () => readLines(files.output, (line) => line);
  const loggedAccepted = (id: number) => log().some((line) => line.includes(`INFO  report ${id} ACCEPTED by Device Defender`));
  const tail = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8').slice(-1500);
    } catch {
      return '(none)';
    }
  };
  let outcome = 'not started';
  await checks.run(coreName, async () => {
    const out = fs.openSync(files.core, 'w');
    const core = spawn(TOOLS.wine, [env.nodeExe, windowsPath(input.coreBundle), windowsPath(prepared.coreInputFile)], {
      stdio: ['ignore', out, out],
      env: wineEnv(env.prefix),
    });
    fs.closeSync(out);
    let coreExit: string | undefined;
    const exited = new Promise<void>((resolve) => {
      core.once('exit', (code, signal) => {
        coreExit = `${code ?? signal}`;
        resolve();
      });
      core.once('error', (error) => {
        coreExit = error.message;
        resolve();
      });
    });
    const accepted = () => events().filter((e) => e.event === 'report' && e.status === 'ACCEPTED');
    const finished = () => {
      const done = accepted().slice(0, REPORTS);
      return done.length === REPORTS && done.every((e) => loggedAccepted(e.reportId!));
    };
    /** Why waiting longer is pointless: the core gone, or the Run step ended or could not start. */
    const stopped = (): string | undefined => {
      if (coreExit !== undefined) return `the core's node.exe exited (${coreExit})`;
      const event = events().find((e) => ['core-error', 'run-error', 'run-exited'].includes(e.event));
      if (event?.event === 'run-exited') return `the Run step exited (code ${event.code})`;
      return event ? `${event.event}: ${event.message}` : undefined;
    };
    let problem: string | undefined;
    try {
      while (!finished() && !stopped() && Date.now() - started < DEADLINE_MS) await new Promise((resolve) => setTimeout(resolve, 250));
      problem = finished() ? undefined : (stopped() ?? `no ${REPORTS} reports within ${DEADLINE_MS / 1000} s`);
    } finally {
      // Also when this check fails: the session's processes end here, not at the end of the run.
      await endSession(env, exited);
    }
    outcome = problem ?? `${REPORTS} reports accepted`;
    const all = events();
    const reports = all.filter((e) => e.event === 'report');
    const context = `; core events: ${JSON.stringify(all.slice(-6))}; agent output: ${tail(files.output)}; core output: ${tail(files.core)}`;
    if (!all.some((e) => e.event === 'listening')) throw new Error(`the core never listened: ${problem}${context}`);
    if (!all.some((e) => e.event === 'connect')) throw new Error(`the agent never connected to ${prepared.pipe}: ${problem}${context}`);
    const denied = all.filter((e) => e.event === 'denied');
    if (denied.length > 0) throw new Error(`calls denied: ${denied.map((e) => `${e.operation} on ${e.resource}`).join('; ')}`);
    const rejected = reports.filter((e) => e.status !== 'ACCEPTED');
    if (rejected.length > 0) throw new Error(`reports REJECTED: ${rejected.map((e) => (e.errors ?? []).join(', ')).join('; ')}`);
    if (reports.length < REPORTS) throw new Error(`${reports.length} reports: ${problem}${context}`);
    return `pipe ${prepared.pipe}; artifacts ${prepared.artifacts.join(', ')}; reports ${reports
      .slice(0, REPORTS)
      .map((e) => e.reportId)
      .join(', ')} ACCEPTED`;
  });
  const reports = events().filter((e) => e.event === 'report');
  await checks.run(logName, async () => {
    const lines = log();
    const choices = lines.filter((line) => line.includes('IPC client:'));
    if (choices.length !== 1 || !CLIENT_LINE[client].test(choices[0]!))
      throw new Error(`the client lines are ${JSON.stringify(choices)}, not one matching ${CLIENT_LINE[client]}`);
    const ids = reports.filter((e) => e.status === 'ACCEPTED').map((e) => e.reportId!);
    if (ids.length < REPORTS) throw new Error(`the core accepted ${ids.length} reports, so the log cannot show ${REPORTS}`);
    const missing = ids.slice(0, REPORTS).filter((id) => !loggedAccepted(id));
    if (missing.length > 0)
      throw new Error(`no "report N ACCEPTED by Device Defender" line for ${missing.join(', ')}: ${tail(files.output)}`);
    return choices[0]!.replace(/^.*INFO {2}/, '');
  });
  return `end to end under Wine, ${client} client: ${outcome} after ${((Date.now() - started) / 1000).toFixed(1)} s (both node.exe started, session ended)`;
}
