/** Entry point of `npm run gg`: real clients, console, terminal and clock wired into run(). */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { run } from './cli';
import { createAwsClients, sdkNodeNote } from './clients';
import type { AwsClients, CliDeps } from './deps';
import { CliError } from './errors';

let nodeNoteShown = false;

function createClients(region: string | undefined): AwsClients {
  const note = nodeNoteShown ? undefined : sdkNodeNote(process.version);
  nodeNoteShown = true;
  if (note) console.error(note);
  return createAwsClients(region);
}

async function confirm(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

function runBuild(projectRoot: string): Promise<void> {
  return new Promise((done, fail) => {
    const build = spawn('npm', ['run', '--silent', 'build', '--', '--gdk'], { cwd: projectRoot, stdio: 'inherit' });
    build.on('error', (error) =>
      fail(new CliError(`cannot start the build: ${error.message}`, 'run `npm run build -- --gdk` yourself and look at its output')),
    );
    build.on('exit', (code) =>
      code === 0 ? done() : fail(new CliError(`the build exited with ${code}`, 'fix the build errors above, then publish again')),
    );
  });
}

/** A second Ctrl-C while a request is still in flight ends the process at once. */
function onInterrupt(handler: () => void): () => void {
  let interrupts = 0;
  const listener = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    handler();
  };
  process.on('SIGINT', listener);
  return () => process.off('SIGINT', listener);
}

const deps: CliDeps = {
  createClients,
  out: { info: (line) => console.log(line), error: (line) => console.error(line) },
  sleep: (ms, signal) =>
    new Promise((wake) => {
      const timer = setTimeout(wake, ms);
      const early = (): void => {
        clearTimeout(timer);
        wake();
      };
      signal?.addEventListener('abort', early, { once: true });
    }),
  onInterrupt,
  stdoutIsTerminal: process.stdout.isTTY === true,
  now: () => new Date(),
  projectRoot: resolve(__dirname, '..', '..'),
  confirm: process.stdin.isTTY && process.stdout.isTTY ? confirm : undefined,
  runBuild,
};

run(process.argv.slice(2), deps).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`unexpected failure: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  },
);
