/**
 * lowMemory through the built component: the recipe's Run script reads it from the lifecycle environment and starts
 * node without its optimizing compiler; the agent says so once and reports as usual. Portable client, as on the cores
 * short of memory (the manifest for any other Linux architecture).
 */
import fs from 'node:fs';
import { BuiltComponent, buildOnce } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const commandLine = (pid: number | undefined): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('lowMemory, through the built component and the local core', () => {
  let built: Awaited<ReturnType<typeof buildOnce>>;
  let run: BuiltComponent | undefined;

  beforeAll(async () => {
    built = await buildOnce();
  }, 120_000);
  afterAll(() => built?.remove());
  afterEach(async () => {
    await run?.stop();
    run = undefined;
  });

  it.each([
    { lowMemory: 'true', flagged: true },
    { lowMemory: 'false', flagged: false },
  ])(
    'lowMemory=$lowMemory: node started with --max-opt=1: $flagged; the report is accepted',
    async ({ lowMemory, flagged }) => {
      run = await BuiltComponent.start({
        tempPrefix: 'low-memory-',
        thingName: 'LowMemoryThing',
        intervalSeconds: 5,
        build: built.build,
        platform: { os: 'linux', architecture: 'arm' },
        configurationMerge: { lowMemory },
      });
      const component = run;
      await waitFor(() => component.reports.some((r) => r.status === 'ACCEPTED'), 60_000, 'an accepted report');
      const argv = commandLine(component.component.pid);
      expect(argv[0]).toMatch(/node$/);
      expect(argv.at(-1)).toMatch(/defender-agent\.js$/);
      expect(argv.includes('--max-opt=1')).toBe(flagged);
      const said = component
        .log()
        .split('\n')
        .filter((line) => line.includes('low memory:'));
      expect(said).toEqual(flagged ? [expect.stringMatching(/INFO {2}low memory: node runs without its optimizing compiler/)] : []);
    },
    120_000,
  );
});
