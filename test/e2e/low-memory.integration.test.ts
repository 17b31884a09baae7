/**
 * lowMemory through the built component: the recipe's Run script reads it from the lifecycle environment and starts
 * node without its optimizing compiler for `auto` (the default) and `true`; the agent says so once, reports as usual,
 * and with `auto` turns the compiler on at the first sample of a busy device. Portable client, as on the cores short
 * of memory (the manifest for any other Linux architecture).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSY_SOCKETS } from '../../src/agent/optimizing-compiler';
import { writeGeneratedProc } from '../fixtures/proc/generate';
import { BuiltComponent, buildOnce } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const commandLine = (pid: number | undefined): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('lowMemory, through the built component and the local core', () => {
  let built: Awaited<ReturnType<typeof buildOnce>>;
  let run: BuiltComponent | undefined;
  let busyProc: string;

  beforeAll(async () => {
    built = await buildOnce();
    busyProc = fs.mkdtempSync(path.join(os.tmpdir(), 'low-memory-proc-'));
    writeGeneratedProc(busyProc, { established: BUSY_SOCKETS + 200, listeners: 5 });
  }, 120_000);
  afterAll(() => {
    built?.remove();
    fs.rmSync(busyProc, { recursive: true, force: true });
  });
  afterEach(async () => {
    await run?.stop();
    run = undefined;
  });

  it.each([
    { lowMemory: undefined, busy: false, flagged: true, said: /until a sample holds 1000 established sockets \(lowMemory=auto\)/ },
    { lowMemory: 'auto', busy: true, flagged: true, said: /until a sample holds 1000 established sockets \(lowMemory=auto\)/ },
    { lowMemory: 'true', busy: true, flagged: true, said: /without its optimizing compiler \(lowMemory=true\)/ },
    { lowMemory: 'false', busy: true, flagged: false, said: undefined },
  ])(
    'lowMemory=$lowMemory, busy device: $busy: node started without its optimizing compiler: $flagged; the reports are accepted',
    async ({ lowMemory, busy, flagged, said }) => {
      run = await BuiltComponent.start({
        tempPrefix: 'low-memory-',
        thingName: 'LowMemoryThing',
        intervalSeconds: 5,
        build: built.build,
        platform: { os: 'linux', architecture: 'arm' },
        configurationMerge: { ...(lowMemory === undefined ? {} : { lowMemory }), ...(busy ? { procfsRoot: busyProc } : {}) },
      });
      const component = run;
      await waitFor(() => component.reports.filter((r) => r.status === 'ACCEPTED').length >= 2, 60_000, 'two accepted reports');
      const argv = commandLine(component.component.pid);
      expect(argv[0]).toMatch(/node$/);
      expect(argv.at(-1)).toMatch(/defender-agent\.js$/);
      expect(argv.includes('--max-opt=1')).toBe(flagged);
      const lines = component.log().split('\n');
      expect(lines.filter((line) => line.includes('low memory:'))).toEqual(said ? [expect.stringMatching(said)] : []);
      // Only auto turns the compiler on, and only on a busy device: once, at the first sample.
      const turnedOn = lines.filter((line) => line.includes('busy device:'));
      expect(turnedOn).toEqual(
        lowMemory !== 'true' && lowMemory !== 'false' && busy
          ? [expect.stringMatching(new RegExp(`INFO {2}busy device: a sample held ${BUSY_SOCKETS + 200} established sockets`))]
          : [],
      );
    },
    120_000,
  );
});
