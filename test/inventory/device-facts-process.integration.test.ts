/**
 * The device-facts adapter against real child processes (node scripts standing in for the bundle's device-facts mode):
 * the facts line, the environment the process gets, the deadline, the output cap and each way the process can fail.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DeviceFactsProcessOptions,
  deviceFactsEnvironment,
  deviceFactsProcess,
  printDeviceFacts,
} from '../../src/inventory/device-facts-process';
import { waitFor } from '../support/wait-for';
import { PI_FACTS } from '../fixtures/device-facts';

/** A node script as the device-facts process. */
function script(source: string, options: Partial<DeviceFactsProcessOptions> = {}) {
  return deviceFactsProcess({ command: process.execPath, args: ['-e', source], environment: { PATH: process.env.PATH }, ...options });
}

/** A process that is gone, or a zombie waiting for a parent that is not us. */
function ended(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('deviceFactsProcess', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'device-facts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the facts from the one JSON line the process prints', async () => {
    await expect(script(`console.log(${JSON.stringify(JSON.stringify(PI_FACTS))})`).read()).resolves.toEqual(PI_FACTS);
  });

  it('gives the process PATH and the locale only: no nucleus token, no IPC socket path, no NODE_OPTIONS', async () => {
    const agentEnvironment = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      SVCUID: 'token-of-the-agent',
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: join(dir, 'ipc.sock'),
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'another-token',
      NODE_OPTIONS: `--require ${join(dir, 'missing.js')}`,
    };
    expect(deviceFactsEnvironment(agentEnvironment)).toEqual({ PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });
    // The process reports the names of the variables it sees, as its distro.
    const source = `console.log(JSON.stringify({ ...${JSON.stringify(PI_FACTS)}, distro: Object.keys(process.env).sort().join(',') }))`;
    const facts = await script(source, { environment: agentEnvironment }).read();
    expect(facts.distro).toBe('LANG,LC_ALL,PATH');
  });

  it('kills a process that hangs at the deadline, with the tools it started, and says so', async () => {
    const pids = join(dir, 'pids');
    const hang = `
      const { spawn } = require('node:child_process');
      const tool = spawn('sleep', ['60'], { stdio: 'ignore' });
      require('node:fs').writeFileSync(${JSON.stringify(pids)}, process.pid + ' ' + tool.pid);
      setInterval(() => undefined, 1000);`;
    await expect(script(hang, { deadlineMs: 3_000 }).read()).rejects.toThrow('device-facts process did not finish within 3000 ms; killed');
    const [processPid, toolPid] = readFileSync(pids, 'utf8').split(' ').map(Number);
    expect(ended(processPid!)).toBe(true);
    await waitFor(() => ended(toolPid!), 5_000, 'the tool the process started ends too');
  });

  it('stops reading at the output cap and kills a process that keeps printing', async () => {
    const flood = `const block = 'x'.repeat(65536); (function more() { process.stdout.write(block, more); })();`;
    await expect(script(flood, { deadlineMs: 30_000 }).read()).rejects.toThrow(
      'device-facts process printed more than 65536 bytes; killed',
    );
  });

  it('refuses facts padded beyond a smaller cap, though they would parse', async () => {
    const padded = `process.stdout.write(${JSON.stringify(JSON.stringify(PI_FACTS))} + ' '.repeat(2000) + '\\n')`;
    await expect(script(padded, { maxOutputBytes: 1_000 }).read()).rejects.toThrow('printed more than 1000 bytes; killed');
    await expect(script(padded, { maxOutputBytes: 4_000 }).read()).resolves.toEqual(PI_FACTS);
  });

  it('quotes the first line of stderr when the process fails, and rejects output that is not the facts', async () => {
    await expect(script(`console.error('cannot read /etc/os-release\\nmore'); process.exit(3)`).read()).rejects.toThrow(
      'device-facts process exited with 3: cannot read /etc/os-release',
    );
    await expect(script(`console.log('hello')`).read()).rejects.toThrow(/device-facts process printed no facts \(not JSON: "hello"\)/);
    await expect(script(`process.kill(process.pid, 'SIGSEGV')`).read()).rejects.toThrow('device-facts process exited with SIGSEGV');
  });

  it('rejects, not throws, when the program cannot be started', async () => {
    const missing = join(dir, 'no-such-node');
    const source = deviceFactsProcess({ command: missing, args: [] });
    await expect(source.read()).rejects.toThrow(/device-facts process: spawn .*no-such-node ENOENT/);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('printDeviceFacts', () => {
  it('prints the facts as one JSON line and exits 0', async () => {
    const out: string[] = [];
    const code = await printDeviceFacts(
      { read: async () => PI_FACTS },
      (line) => out.push(line),
      () => undefined,
    );
    expect(code).toBe(0);
    expect(out).toEqual([`${JSON.stringify(PI_FACTS)}\n`]);
  });

  it('says on stderr why it could not, and exits 1', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await printDeviceFacts(
      { read: async () => Promise.reject(new Error('no /proc/cpuinfo')) },
      (l) => out.push(l),
      (l) => err.push(l),
    );
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual(['no /proc/cpuinfo\n']);
  });
});
