/**
 * lowMemory through the built component: the recipe's Run script reads it and procfsRoot from the lifecycle environment
 * and starts node with that setting's flags, once, at start (nothing in the agent switches V8's compiler afterwards);
 * auto counts the TCP sockets under procfsRoot. The reports are accepted under each. Portable client, as on the cores
 * short of memory (the manifest for any other Linux architecture), on generated /proc trees (a quiet and a busy core)
 * so that the host's own sockets decide nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeGeneratedProc } from '../fixtures/proc/generate';
import { BuiltComponent } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const commandLine = (pid: number | undefined): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('lowMemory, through the built component and the local core', () => {
  let procRoots: string;

  beforeAll(() => {
    procRoots = fs.mkdtempSync(path.join(os.tmpdir(), 'low-memory-proc-'));
    writeGeneratedProc(path.join(procRoots, 'quiet'), { established: 20, listeners: 5 });
    writeGeneratedProc(path.join(procRoots, 'busy'), { established: 1_200, listeners: 5 });
  });
  afterAll(() => fs.rmSync(procRoots, { recursive: true, force: true }));

  it.concurrent.each([
    {
      lowMemory: undefined,
      core: 'quiet',
      tier: ['--max-opt=0', '--gc-global'],
      says: 'V8 interpreter only, full garbage collections: lowMemory auto, at most 1,000 TCP sockets when it started',
    },
    {
      lowMemory: 'auto',
      core: 'quiet',
      tier: ['--max-opt=0', '--gc-global'],
      says: 'V8 interpreter only, full garbage collections: lowMemory auto, at most 1,000 TCP sockets when it started',
    },
    { lowMemory: 'auto', core: 'busy', tier: [], says: 'V8 compilers on: lowMemory auto, more than 1,000 TCP sockets when it started' },
    {
      lowMemory: 'true',
      core: 'busy',
      tier: ['--max-opt=0', '--gc-global'],
      says: 'V8 interpreter only, full garbage collections: lowMemory true',
    },
    { lowMemory: 'false', core: 'quiet', tier: [], says: 'V8 compilers on: lowMemory false' },
  ])(
    'lowMemory=$lowMemory on a $core core: node runs with $tier after the fixed flags, the start line says "$says", and the reports are accepted',
    async ({ lowMemory, core, tier, says }) => {
      const component = await BuiltComponent.start({
        tempPrefix: 'low-memory-',
        thingName: 'LowMemoryThing',
        intervalSeconds: 5,
        platform: { os: 'linux', architecture: 'arm' },
        configurationMerge: { ...(lowMemory === undefined ? {} : { lowMemory }), procfsRoot: path.join(procRoots, core) },
      });
      try {
        await waitFor(() => component.reports.filter((r) => r.status === 'ACCEPTED').length >= 2, 60_000, 'two accepted reports');
        const argv = commandLine(component.component.pid);
        expect(argv[0]).toMatch(/node$/);
        expect(argv.at(-1)).toMatch(/defender-agent\.js$/);
        expect(argv.slice(1, -1)).toEqual(['--max-semi-space-size=1', '--optimize-for-size', ...tier]);
        const startLine = component
          .log()
          .split('\n')
          .find((line) => line.includes(' started on '));
        expect(startLine).toContain(`node ${process.version} (${says}) under `);
      } finally {
        await component.stop();
      }
    },
    120_000,
  );
});
