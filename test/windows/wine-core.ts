/**
 * The stand-in Greengrass core as node.exe runs it under Wine (bundled by end-to-end.ts with esbuild into one file): it
 * serves IPC on a Windows named pipe, as the nucleus does on Windows, registers the component, and starts the
 * Windows manifest's Run script as the nucleus does (`cmd /C <script>`, in the component's work folder, with the
 * nucleus's variables), node.exe's folder on the PATH as the Node.js installer puts it. Every event of the core
 * (connections, reports with Defender's verdict, denied calls, the Run script's exit) is appended to a file of JSON
 * lines, which the test on the Linux side reads. It runs until it is killed (wineserver -k ends the whole session).
 *
 * Named pipes live inside Wine (a Linux process can neither serve nor open one), so the core has to run under Wine too.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeError } from '../../src/util/describe-error';
import { LocalCore } from '../../tools/local-core/core';

/** What end-to-end.ts hands the core (a JSON file named by the only argument). */
export interface WineCoreInput {
  pipe: string;
  thingName: string;
  defenderMinIntervalSeconds: number;
  component: { name: string; version: string; configuration: Record<string, unknown>; svcuid: string };
  run: { script: string; env: Record<string, string>; workPath: string };
  /** Windows paths: the core's events (JSON lines) and the Run script's output (stdout and stderr). */
  eventsFile: string;
  outputFile: string;
}

async function main(): Promise<void> {
  const input = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as WineCoreInput;
  const record = (event: Record<string, unknown>): void =>
    fs.appendFileSync(input.eventsFile, `${JSON.stringify({ at: Date.now(), ...event })}\n`);
  try {
    const core = new LocalCore({
      socketPath: input.pipe,
      thingName: input.thingName,
      interpolateComponentConfiguration: true,
      defenderMinIntervalSeconds: input.defenderMinIntervalSeconds,
    });
    core.on('connect', ({ component }) => record({ event: 'connect', component }));
    core.on('disconnect', ({ component }) => record({ event: 'disconnect', component }));
    core.on('denied', (denied) => record({ event: 'denied', ...denied }));
    core.on('defender-report', (report) => record({ event: 'report', ...report }));
    const { name, version, configuration, svcuid } = input.component;
    core.registerComponent({ name, version, configuration }, { svcuid });
    await core.start();
    record({ event: 'listening', pipe: core.socketPath });

    fs.mkdirSync(input.run.workPath, { recursive: true });
    const output = fs.openSync(input.outputFile, 'a');
    const env = { ...process.env, ...input.run.env, PATH: `${path.dirname(process.execPath)};${process.env.PATH ?? ''}` };
    // As the nucleus (Java's ProcessBuilder) starts it: `cmd /C` and the script as one argument, which it quotes
    // because it has spaces; cmd then drops the outer quotes. Output to a file: node.exe under Wine cannot write to a
    // pipe from Linux, and the nucleus copies the output into the component's log likewise.
    const child = spawn('cmd.exe', ['/C', `"${input.run.script}"`], {
      cwd: input.run.workPath,
      env,
      stdio: ['ignore', output, output],
      windowsVerbatimArguments: true,
    });
    child.once('spawn', () => record({ event: 'run-started', pid: child.pid }));
    child.once('error', (error) => record({ event: 'run-error', message: describeError(error) }));
    child.once('exit', (code, signal) => record({ event: 'run-exited', code, signal }));
  } catch (error) {
    record({ event: 'core-error', message: describeError(error) });
    process.exit(1);
  }
}

void main();
