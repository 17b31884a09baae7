/**
 * Nucleus lite's daemons run by hand, as its systemd units would run them (ggconfigd, iotcored, ggpubsubd, ggipcd,
 * ggdeploymentd, each with the root path as working directory; each binds its core bus socket under
 * /run/greengrass/), a local deployment with `ggl-cli deploy`, and a lifecycle phase run the way the unit file that
 * ggdeploymentd wrote says: `ExecStart` in a cgroup named after the unit (ggipcd identifies a component by the systemd
 * unit of its process, which libsystemd reads from the cgroup-v2 path), as the unit's `User=`/`Group=`, in its
 * `WorkingDirectory=`, with its `Environment=` and the variables systemd sets for a service.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Certificates } from './certificates';
import { TOOLS } from './lite-build';
import type { RunState } from './run-state';

export const CORE_BUS_DIR = '/run/greengrass';
/** The cgroup-v2 hierarchy libsystemd reads a process's unit from (hybrid layout: /sys/fs/cgroup/unified). */
export const UNIT_CGROUP_ROOT = fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs')
  ? '/sys/fs/cgroup/unified/system.slice'
  : '/sys/fs/cgroup/system.slice';
/** systemd's PATH for services (systemd.exec(5), "Environment variables in spawned processes"). */
const SYSTEMD_SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The daemons in start order, with the socket each binds once it serves (relative to /run/greengrass, or the root path). */
const DAEMONS = [
  { name: 'ggconfigd', socket: 'gg_config' },
  { name: 'iotcored', socket: 'aws_iot_mqtt' },
  { name: 'ggpubsubd', socket: 'gg_pubsub' },
  { name: 'ggipcd', socket: 'ipc_component' },
  { name: 'ggdeploymentd', socket: 'gg_deployment' },
] as const;

export interface UnitFile {
  file: string;
  execStart: string[];
  user: string;
  group: string;
  workingDirectory: string;
  environment: Record<string, string>;
  text: string;
}

/** The `[Service]` settings a phase needs, read from a unit file recipe2unit wrote. */
export function parseUnitFile(file: string): UnitFile {
  const text = fs.readFileSync(file, 'utf8');
  const values = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, [...(values.get(match[1]!) ?? []), match[2]!]);
  }
  const one = (key: string): string => {
    const value = values.get(key)?.[0];
    if (value === undefined) throw new Error(`${file} has no ${key}=`);
    return value;
  };
  const environment: Record<string, string> = {};
  for (const entry of values.get('Environment') ?? []) {
    const unquoted = entry.startsWith('"') && entry.endsWith('"') ? entry.slice(1, -1) : entry;
    const at = unquoted.indexOf('=');
    environment[unquoted.slice(0, at)] = unquoted.slice(at + 1);
  }
  return {
    file,
    execStart: one('ExecStart').split(/\s+/),
    user: one('User'),
    group: one('Group'),
    workingDirectory: one('WorkingDirectory'),
    environment,
    text,
  };
}

export interface PhaseRun {
  process: ChildProcess;
  cgroup: string;
  logFile: string;
  exited: Promise<number | null>;
}

export class LiteCore {
  private readonly daemons: ChildProcess[] = [];
  readonly rootPath: string;
  readonly logDir: string;

  constructor(
    private readonly binDir: string,
    private readonly runDir: string,
    private readonly state: RunState,
    readonly thingName: string,
  ) {
    this.rootPath = path.join(runDir, 'greengrass');
    this.logDir = path.join(runDir, 'logs');
  }

  log(daemon: string): string {
    const file = path.join(this.logDir, `${daemon}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** Writes the nucleus configuration and starts the daemons, each once the previous one serves its socket. */
  async start(certificates: Certificates, options: { posixUser: string; dataPlanePort: number }): Promise<void> {
    fs.mkdirSync(this.rootPath, { recursive: true, mode: 0o755 });
    fs.mkdirSync(this.logDir, { recursive: true });
    fs.mkdirSync(CORE_BUS_DIR, { recursive: true, mode: 0o755 });
    const configFile = path.join(this.runDir, 'nucleus-config.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        system: {
          privateKeyPath: certificates.thing.key,
          certificateFilePath: certificates.thing.cert,
          rootCaPath: certificates.caFile,
          rootPath: this.rootPath,
          thingName: this.thingName,
        },
        services: {
          'aws.greengrass.NucleusLite': {
            componentType: 'NUCLEUS',
            configuration: {
              awsRegion: 'us-west-2',
              iotDataEndpoint: 'localhost',
              iotCredEndpoint: 'localhost',
              iotRoleAlias: 'GreengrassV2TokenExchangeRoleAlias',
              runWithDefault: { posixUser: options.posixUser },
              greengrassDataPlanePort: String(options.dataPlanePort),
              platformOverride: {},
              fleetStatus: { periodicStatusPublishIntervalSeconds: 86400 },
            },
          },
        },
      }),
    );
    for (const daemon of DAEMONS) {
      const args = daemon.name === 'ggconfigd' ? ['-c', configFile] : [];
      const log = fs.openSync(path.join(this.logDir, `${daemon.name}.log`), 'a');
      const child = spawn(path.join(this.binDir, daemon.name), args, { cwd: this.rootPath, stdio: ['ignore', log, log] });
      fs.closeSync(log);
      this.daemons.push(child);
      if (child.pid) this.state.addProcess(child.pid, daemon.name);
      const socket = path.join(CORE_BUS_DIR, daemon.socket);
      await this.waitFor(() => fs.existsSync(socket) || child.exitCode !== null, 15_000, `${daemon.name} to bind ${socket}`);
      if (child.exitCode !== null) throw new Error(`${daemon.name} exited with ${child.exitCode}: ${this.log(daemon.name).slice(-800)}`);
    }
    await this.waitFor(() => fs.existsSync(this.ipcSocket), 15_000, `ggipcd to bind ${this.ipcSocket}`);
  }

  get ipcSocket(): string {
    return path.join(this.rootPath, 'gg-ipc.socket');
  }

  /** Runs `ggl-cli deploy`, then waits until ggdeploymentd finished processing that deployment. */
  async deploy(
    recipeDir: string,
    artifactsDir: string,
    component: string,
    version: string,
    timeoutMs: number,
  ): Promise<{ id: string; log: string }> {
    const before = this.log('ggdeploymentd').length;
    const cli = spawnSync(
      path.join(this.binDir, 'ggl-cli'),
      ['deploy', '--recipe-dir', recipeDir, '--artifacts-dir', artifactsDir, '--add-component', `${component}=${version}`],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const output = `${cli.stdout}${cli.stderr}`;
    const id = /Deployment id: ([0-9a-f-]+)/.exec(output)?.[1];
    if (cli.status !== 0 || !id) throw new Error(`ggl-cli deploy failed (${cli.status}): ${output.trim()}`);
    const done = /Completed deployment processing and reporting job as (\w+)/;
    await this.waitFor(() => done.test(this.log('ggdeploymentd').slice(before)), timeoutMs, `ggdeploymentd to finish deployment ${id}`);
    return { id, log: this.log('ggdeploymentd').slice(before) };
  }

  unitFile(component: string, phase: 'install' | 'run'): string {
    return path.join(this.rootPath, phase === 'install' ? `ggl.${component}.install.service` : `ggl.${component}.service`);
  }

  /**
   * Starts a phase as its unit would run it. A shell running as root puts itself into the unit's cgroup, then execs
   * setpriv (drops to the unit's user and group) and env (the service's environment only) into ExecStart.
   */
  startPhase(unit: UnitFile, logFile: string): PhaseRun {
    const unitName = path.basename(unit.file);
    const cgroup = path.join(UNIT_CGROUP_ROOT, unitName);
    fs.mkdirSync(cgroup, { recursive: true });
    this.state.addCgroup(cgroup);
    const account = spawnSync(TOOLS.getent, ['passwd', unit.user], { encoding: 'utf8' }).stdout.trim().split(':');
    const environment = {
      PATH: SYSTEMD_SERVICE_PATH,
      HOME: account[5] || '/',
      USER: unit.user,
      LOGNAME: unit.user,
      SHELL: account[6] || '/bin/sh',
      ...unit.environment,
    };
    const log = fs.openSync(logFile, 'a');
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        'echo $$ > "$1/cgroup.procs" && shift && exec "$@"',
        'phase',
        cgroup,
        TOOLS.setpriv,
        `--reuid=${unit.user}`,
        `--regid=${unit.group}`,
        '--init-groups',
        'env',
        '-i',
        ...Object.entries(environment).map(([key, value]) => `${key}=${value}`),
        ...unit.execStart,
      ],
      { cwd: unit.workingDirectory, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    if (child.pid) this.state.addProcess(child.pid, unitName);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
      child.once('error', () => resolve(null));
    });
    return { process: child, cgroup, logFile, exited };
  }

  /** SIGTERM to every process of the phase's cgroup, then SIGKILL after `graceMs`; removes the cgroup. */
  async stopPhase(run: PhaseRun, graceMs = 5_000): Promise<void> {
    await stopCgroup(run.cgroup, graceMs);
    await Promise.race([run.exited, sleep(1_000)]);
    this.state.removeCgroup(run.cgroup);
  }

  async stop(): Promise<void> {
    for (const child of [...this.daemons].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    const deadline = Date.now() + 5_000;
    while (this.daemons.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
    for (const child of this.daemons) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.daemons.length = 0;
  }

  private async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(100);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cgroupPids(cgroup: string): number[] {
  try {
    return fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Ends every process in a cgroup (TERM, then the cgroup's kill switch) and removes the directory. */
export async function stopCgroup(cgroup: string, graceMs: number): Promise<void> {
  if (!fs.existsSync(cgroup)) return;
  for (const pid of cgroupPids(cgroup)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (cgroupPids(cgroup).length > 0 && Date.now() < deadline) await sleep(100);
  if (cgroupPids(cgroup).length > 0) {
    try {
      fs.writeFileSync(path.join(cgroup, 'cgroup.kill'), '1');
    } catch {
      for (const pid of cgroupPids(cgroup)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const killDeadline = Date.now() + 5_000;
    while (cgroupPids(cgroup).length > 0 && Date.now() < killDeadline) await sleep(50);
  }
  // A process that exited stays in its cgroup until its parent reaps it: rmdir answers EBUSY until then.
  const rmdirDeadline = Date.now() + 5_000;
  for (;;) {
    try {
      fs.rmdirSync(cgroup);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > rmdirDeadline) throw error;
      await sleep(100);
    }
  }
}
