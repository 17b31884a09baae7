/**
 * `npm run bench -- --real-time <minutes>`: memory without forced GC or compressed time. The built component, started
 * by the recipe's Run script exactly as the nucleus starts it (node flags and environment included), runs against its
 * own local core at a 5 s interval, once per IPC client, side by side, for <minutes>. Its RSS is read from /proc
 * every RSS_EVERY_MS; a line is printed every PRINT_EVERY_MS, then the verdict: where RSS levels off, and whether it
 * stays within LEVEL_TOLERANCE_MIB of its value after the first SETTLE_MINUTES. RSS is shown split into anonymous memory
 * (V8's heap, malloc) and file-backed pages (the node binary's code, which grows when each of V8's compilers first
 * runs), since no heap flag bounds the second.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildComponent, readTemplate } from '../../scripts/build/build';
import { PROCFS_ROOT_VARIABLE, runStepOf } from '../../scripts/build/recipe';
import { accessControlFor } from '../../src/component/definition';
import { LocalCore } from '../../tools/local-core/core';
import { writeGeneratedProc } from '../fixtures/proc/generate';

const COMPONENT = 'com.example.DeviceDefenderAgent';
const THING = 'BenchThing';
const INTERVAL_SECONDS = 5;
const RSS_EVERY_MS = 10_000;
const PRINT_EVERY_MS = 5 * 60_000;
const SETTLE_MINUTES = 10;
const LEVEL_TOLERANCE_MIB = 2;
const KIB_PER_MIB = 1024;

interface Reading {
  minute: number;
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
}

interface ClientRun {
  client: 'sdk' | 'portable';
  readings: Reading[];
  reports: number;
  rejected: number;
  /** How the agent ended before the run stopped it (an exit the run asked for is not one). */
  exited?: string;
  stop: () => Promise<void>;
  pid: number | undefined;
}

function readingOf(pid: number, minute: number): Reading | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const mib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / KIB_PER_MIB;
  const reading = { minute, rssMiB: mib('VmRSS'), anonMiB: mib('RssAnon'), fileMiB: mib('RssFile') };
  return Object.values(reading).every(Number.isFinite) ? reading : undefined;
}

async function startClient(
  dir: string,
  artifactsDir: string,
  procRoot: string,
  client: 'sdk' | 'portable',
  startedAt: number,
): Promise<ClientRun> {
  const runDir = fs.mkdtempSync(path.join(dir, `real-time-${client}-`));
  const core = new LocalCore({ socketPath: path.join(runDir, 'ipc.sock'), thingName: THING, defenderMinIntervalSeconds: 0 });
  await core.start();
  const { svcuid } = core.registerComponent({
    name: COMPONENT,
    version: '1.0.0',
    configuration: {
      intervalSeconds: String(INTERVAL_SECONDS),
      allowFastIntervalForDevelopment: 'true',
      procfsRoot: procRoot,
      accessControl: accessControlFor(COMPONENT, THING),
    },
  });
  const recipe = runStepOf(readTemplate());
  const run: ClientRun = { client, readings: [], reports: 0, rejected: 0, pid: undefined, stop: async () => undefined };
  core.on('defender-report', (report) => {
    run.reports += 1;
    if (report.status !== 'ACCEPTED') run.rejected += 1;
  });
  // As the nucleus runs it: the Run script through sh, from the work folder, with the lifecycle's environment.
  const child = spawn('sh', ['-c', recipe.script.replaceAll('{artifacts:path}', artifactsDir)], {
    cwd: runDir,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH ?? '',
      SVCUID: svcuid,
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
      AWS_IOT_THING_NAME: THING,
      ...recipe.env,
      DEFENDER_AGENT_IPC_CLIENT: client,
      // As the Run step's Setenv hands over procfsRoot: the script's lowMemory auto counts this fixture's sockets.
      [PROCFS_ROOT_VARIABLE]: procRoot,
    },
  });
  run.pid = child.pid;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) run.exited = `exited with ${code ?? signal}`;
  });
  const timer = setInterval(() => {
    const reading = child.pid === undefined ? undefined : readingOf(child.pid, (Date.now() - startedAt) / 60_000);
    if (reading !== undefined && run.exited === undefined) run.readings.push(reading);
  }, RSS_EVERY_MS);
  run.stop = async () => {
    clearInterval(timer);
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await core.stop();
  };
  return run;
}

const fmt = (value: number | undefined, digits = 1) => (value === undefined ? '-' : value.toFixed(digits));

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Measure = 'rssMiB' | 'anonMiB' | 'fileMiB';

/** A measure around `minute`: the median of the readings within a minute of it (one reading alone swings with GC timing). */
function around(readings: Reading[], minute: number, measure: Measure = 'rssMiB'): number | undefined {
  return median(readings.filter((r) => Math.abs(r.minute - minute) <= 1).map((r) => r[measure]));
}

interface Verdict {
  line: string;
  levelsOff: boolean;
}

/**
 * Where RSS levels off: the median of the last quarter of the run. It levels off when no reading after SETTLE_MINUTES
 * (each taken as the median of the readings within a minute of it) is more than LEVEL_TOLERANCE_MIB above the value at
 * SETTLE_MINUTES.
 */
function verdictOf(run: ClientRun, minutes: number): Verdict {
  const settled = around(run.readings, SETTLE_MINUTES);
  const after = run.readings.filter((r) => r.minute >= SETTLE_MINUTES);
  const smoothed = after.map((r) => around(run.readings, r.minute) ?? r.rssMiB);
  const highest = smoothed.length > 0 ? Math.max(...smoothed) : undefined;
  const lastQuarterReadings = run.readings.filter((r) => r.minute >= minutes * 0.75);
  const lastQuarterOf = (measure: Measure) => median(lastQuarterReadings.map((r) => r[measure]));
  const lastQuarter = lastQuarterOf('rssMiB');
  const split = (measure: Measure) => `${fmt(around(run.readings, SETTLE_MINUTES, measure))} -> ${fmt(lastQuarterOf(measure))}`;
  const levelsOff = run.exited === undefined && settled !== undefined && highest !== undefined && highest - settled <= LEVEL_TOLERANCE_MIB;
  const line =
    `${run.client.padEnd(8)}: ${run.reports} reports (${run.rejected} rejected)${run.exited ? `, ${run.exited}` : ''}; ` +
    `RSS at ${SETTLE_MINUTES} min ${fmt(settled)} MiB, highest after it ${fmt(highest)} MiB (+${fmt(
      highest !== undefined && settled !== undefined ? highest - settled : undefined,
      2,
    )}), levels off at ${fmt(lastQuarter)} MiB (median of the last quarter): ` +
    (levelsOff ? `within ${LEVEL_TOLERANCE_MIB} MiB` : `NOT within ${LEVEL_TOLERANCE_MIB} MiB`) +
    `; anonymous ${split('anonMiB')} MiB, file-backed ${split('fileMiB')} MiB (at ${SETTLE_MINUTES} min -> last quarter)`;
  return { line, levelsOff };
}

/** Runs both clients for `minutes`; true when RSS levels off for both. */
export async function realTimeMemory(dir: string, projectRoot: string, minutes: number): Promise<boolean> {
  const built = await buildComponent({ projectRoot, outputRoot: path.join(dir, 'component') });
  const procRoot = path.join(dir, 'proc-real-time');
  // A quiet device's /proc (generated): what else this machine holds open must not decide the figure.
  writeGeneratedProc(procRoot, { established: 20, listeners: 5 });
  fs.symlinkSync('/proc/stat', path.join(procRoot, 'stat'));
  const recipe = runStepOf(readTemplate(projectRoot));
  console.log(
    `real time: the built component (recipe Run script: ${recipe.script.split('\n').at(-1)?.trim()}) against the local core, ` +
      `a report every ${INTERVAL_SECONDS} s, both IPC clients side by side, for ${minutes} min, no forced GC; RSS every ` +
      `${RSS_EVERY_MS / 1000} s, a line every ${PRINT_EVERY_MS / 60_000} min`,
  );
  const startedAt = Date.now();
  const runs = [
    await startClient(dir, built.local.componentArtifactsDir, procRoot, 'sdk', startedAt),
    await startClient(dir, built.local.componentArtifactsDir, procRoot, 'portable', startedAt),
  ];
  try {
    const end = startedAt + minutes * 60_000;
    while (Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(PRINT_EVERY_MS, end - Date.now())));
      const minute = (Date.now() - startedAt) / 60_000;
      console.log(
        `  ${fmt(minute, 0).padStart(4)} min: ` +
          runs
            .map((r) => {
              const last = r.readings.at(-1);
              return (
                `${r.client} RSS ${fmt(last?.rssMiB)} MiB (anonymous ${fmt(last?.anonMiB)}, file-backed ${fmt(last?.fileMiB)}), ` +
                `${r.reports} reports${r.exited ? ` (${r.exited})` : ''}`
              );
            })
            .join('; '),
      );
      if (runs.every((r) => r.exited !== undefined)) break;
    }
  } finally {
    for (const run of runs) await run.stop();
  }
  const verdicts = runs.map((run) => verdictOf(run, minutes));
  console.log(`\nreal-time memory after ${minutes} min:`);
  for (const verdict of verdicts) console.log(`  ${verdict.line}`);
  return verdicts.every((v) => v.levelsOff);
}
