/**
 * The device facts gathered in a short-lived process: the built bundle started again with DEVICE_FACTS_FLAG, which
 * prints the facts as one JSON line and exits. The agent itself then never loads systeminformation (about 2.6 MiB of
 * resident memory for the rest of its life) and its event loop is never blocked by the tools it runs.
 *
 * The process is a stranger to the agent: it gets no nucleus token and no IPC socket path (only PATH and the locale
 * variables), it is killed at a deadline, and no more than a bounded amount of its output is read.
 */
import { spawn } from 'node:child_process';
import { describeError } from '../util/describe-error';
import { type DeviceFacts, type DeviceFactsSource, parseDeviceFacts } from './device-inventory';

/** The argument that makes the bundle print the device facts instead of running the agent. */
export const DEVICE_FACTS_FLAG = '--device-facts';

const DEFAULT_DEADLINE_MS = 8_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** Enough of the process's stderr to say why it failed, in one log line. */
const MAX_ERROR_CHARACTERS = 300;
/** The variables the process gets, when the agent has them. Nothing else: above all not SVCUID or the socket path. */
const PASSED_VARIABLES = ['PATH', 'LANG', 'LC_ALL'] as const;

export interface DeviceFactsProcessOptions {
  /** The program and its arguments: the agent passes node, the bundle and DEVICE_FACTS_FLAG. */
  command: string;
  args: readonly string[];
  /** The process is killed (with SIGKILL, its own children too) when it has not finished by then. */
  deadlineMs?: number;
  /** Output beyond this many bytes kills the process: the facts are one short line. */
  maxOutputBytes?: number;
  /** The agent's environment, from which the process gets PATH and the locale only. */
  environment?: NodeJS.ProcessEnv;
}

/** The environment the device-facts process gets from the agent's. */
export function deviceFactsEnvironment(agentEnvironment: NodeJS.ProcessEnv): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of PASSED_VARIABLES) {
    const value = agentEnvironment[name];
    if (value !== undefined) environment[name] = value;
  }
  return environment;
}

/** The adapter: each read() starts the process once. It rejects (never throws) with what went wrong. */
export function deviceFactsProcess(options: DeviceFactsProcessOptions): DeviceFactsSource {
  return { read: () => runDeviceFactsProcess(options) };
}

function runDeviceFactsProcess(options: DeviceFactsProcessOptions): Promise<DeviceFacts> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise<DeviceFacts>((resolve, reject) => {
    // Its own process group, so that a kill also ends the tools it is running.
    const child = spawn(options.command, [...options.args], {
      cwd: '/',
      env: deviceFactsEnvironment(options.environment ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output: Buffer[] = [];
    let outputBytes = 0;
    let errorText = '';
    let killedBecause: string | undefined;
    let settled = false;

    const kill = (reason: string): void => {
      killedBecause ??= reason;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    // The agent stopping must not leave the process behind.
    const killOnExit = (): void => kill('the agent exited');
    process.once('exit', killOnExit);
    const deadline = setTimeout(() => kill(`did not finish within ${deadlineMs} ms; killed`), deadlineMs);
    deadline.unref();

    const settle = (outcome: () => DeviceFacts): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      process.off('exit', killOnExit);
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (killedBecause !== undefined) return;
      outputBytes += chunk.length;
      if (outputBytes > maxOutputBytes) {
        kill(`printed more than ${maxOutputBytes} bytes; killed`);
        return;
      }
      output.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errorText.length < MAX_ERROR_CHARACTERS) errorText += chunk.toString('utf8', 0, MAX_ERROR_CHARACTERS);
    });
    child.on('error', (error) =>
      settle(() => {
        throw new Error(`device-facts process: ${describeError(error)}`);
      }),
    );
    child.on('close', (code, signal) =>
      settle(() => {
        if (killedBecause !== undefined) throw new Error(`device-facts process ${killedBecause}`);
        if (code !== 0) {
          const why = errorText.trim().split('\n')[0]?.slice(0, MAX_ERROR_CHARACTERS);
          throw new Error(`device-facts process exited with ${code ?? signal}${why ? `: ${why}` : ''}`);
        }
        const text = Buffer.concat(output).toString('utf8').trim();
        try {
          return parseDeviceFacts(text);
        } catch (error) {
          throw new Error(`device-facts process printed no facts (${describeError(error)})`);
        }
      }),
    );
  });
}

/**
 * The device-facts process itself: prints the facts from `source` as one JSON line; resolves with the exit code (a
 * failure is said on stderr, which the agent quotes in its warning).
 */
export async function printDeviceFacts(
  source: DeviceFactsSource,
  write: (line: string) => void,
  writeError: (line: string) => void,
): Promise<number> {
  try {
    write(`${JSON.stringify(await source.read())}\n`);
    return 0;
  } catch (error) {
    writeError(`${describeError(error)}\n`);
    return 1;
  }
}
