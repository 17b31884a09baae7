/**
 * deploy --group --wait on a mocked fleet of 10,000 cores, on an injected clock: every mocked request takes
 * REQUEST_MS of fake time (an account answering 40 requests per second), so the deadline is reached by the
 * requests themselves, as on a real account, without any real wait.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDeploymentCommand,
  DescribeComponentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListEffectiveDeploymentsCommand,
  type ListEffectiveDeploymentsCommandInput,
  ListInstalledComponentsCommand,
  type ListInstalledComponentsCommandInput,
} from '@aws-sdk/client-greengrassv2';
import { ListThingsInThingGroupCommand, type ListThingsInThingGroupCommandInput } from '@aws-sdk/client-iot';
import { run } from '../../../scripts/gg/cli';
import { EXIT_DEADLINE, EXIT_FAILURE, EXIT_OK } from '../../../scripts/gg/exit-codes';
import { FLEET_CONCURRENCY } from '../../../scripts/gg/fleet-wait';
import { COMPONENT, type Harness, harness, makeProject, mocks, notFound, removeProjects, totalCalls, VERSION } from './helpers';

const REQUEST_MS = 25;
const START = Date.parse('2025-01-01T00:00:00Z');
const FLEET = 10_000;
const PAGE = 250;
const CREATED = new Date(START);

type CoreStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'NOT A CORE';

interface FakeFleet {
  h: Harness;
  clock: { nowMs: number };
  things: string[];
}

/** Every thing's state as a function of fake time; each request advances the clock by REQUEST_MS. */
function fakeFleet(statusOf: (thing: string, nowMs: number) => CoreStatus, size = FLEET): FakeFleet {
  const clock = { nowMs: START };
  const things = Array.from({ length: size }, (_, i) => `core-${String(i).padStart(5, '0')}`);
  const h = harness(makeProject(), {
    now: () => new Date(clock.nowMs),
    sleep: async (ms) => {
      h.sleeps.push(ms);
      clock.nowMs += ms;
    },
  });
  const took = <T>(answer: T): T => {
    clock.nowMs += REQUEST_MS;
    return answer;
  };
  mocks.greengrass.on(DescribeComponentCommand).resolves({ status: { componentState: 'DEPLOYABLE' } });
  mocks.greengrass.on(ListDeploymentsCommand).resolves({});
  mocks.greengrass.on(CreateDeploymentCommand).resolves({ deploymentId: 'fleet-dep' });
  mocks.greengrass.on(GetDeploymentCommand).callsFake(() => took({ components: { [COMPONENT]: { componentVersion: VERSION } } }));
  mocks.iot.on(ListThingsInThingGroupCommand).callsFake((input: ListThingsInThingGroupCommandInput) => {
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const next = from + PAGE;
    return took({ things: things.slice(from, next), ...(next < things.length ? { nextToken: String(next) } : {}) });
  });
  mocks.greengrass.on(ListEffectiveDeploymentsCommand).callsFake((input: ListEffectiveDeploymentsCommandInput) => {
    const status = statusOf(input.coreDeviceThingName!, clock.nowMs);
    if (status === 'NOT A CORE') {
      clock.nowMs += REQUEST_MS;
      throw notFound('not a core device');
    }
    return took({
      effectiveDeployments: [
        {
          deploymentId: 'fleet-dep',
          deploymentName: 'd',
          targetArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/fleet',
          coreDeviceExecutionStatus: status,
          creationTimestamp: CREATED,
          modifiedTimestamp: CREATED,
          ...(status === 'FAILED' ? { reason: `${input.coreDeviceThingName} ran out of disk` } : {}),
        },
      ],
    });
  });
  mocks.greengrass
    .on(ListInstalledComponentsCommand)
    .callsFake((_input: ListInstalledComponentsCommandInput) =>
      took({ installedComponents: [{ componentName: COMPONENT, componentVersion: VERSION, lifecycleState: 'RUNNING' }] }),
    );
  return { h, clock, things };
}

function printedLines(h: Harness): string[] {
  return [...h.lines, ...h.errors];
}

const reports: string[] = [];
afterEach(() => {
  removeProjects();
  for (const report of reports.splice(0)) rmSync(report, { force: true });
});

describe('deploy --group --wait on 10,000 cores', () => {
  it('still in progress everywhere: stops at its deadline, prints a bounded summary and exits 3', async () => {
    const { h, clock } = fakeFleet(() => 'IN_PROGRESS');
    const report = join(tmpdir(), `gg-fleet-report-${process.pid}.tsv`);
    reports.push(report);
    const argv = ['deploy', '--group', 'fleet', '--wait', '--deadline-seconds', '120', '--poll-seconds', '10', '--wait-report', report];
    expect(await run(argv, h.deps)).toBe(EXIT_DEADLINE);

    const deadline = START + 120_000;
    // Requests in flight at the deadline finish; nothing starts after it.
    expect(clock.nowMs).toBeLessThanOrEqual(deadline + FLEET_CONCURRENCY * REQUEST_MS);
    const polls = mocks.greengrass.commandCalls(ListEffectiveDeploymentsCommand).length;
    expect(polls).toBeLessThanOrEqual(120_000 / REQUEST_MS + FLEET_CONCURRENCY);
    expect(polls).toBeGreaterThan(4_000);
    expect(totalCalls()).toBeLessThan(120_000 / REQUEST_MS + 100);

    const lines = printedLines(h);
    expect(lines.length).toBeLessThanOrEqual(15);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(400);
    expect(h.lines).toContain(`fleet: 0 of ${FLEET} core device(s) succeeded (${polls} in progress, ${FLEET - polls} not polled)`);
    expect(h.errors).toContain(
      `  deadline reached: ${FLEET} core device(s) had not finished (${FLEET - polls} not polled before the deadline)`,
    );
    expect(h.lines).toContain(`every thing's state: ${report}`);
    const rows = readFileSync(report, 'utf8').split('\n').slice(0, -1);
    expect(rows).toHaveLength(FLEET);
    expect(rows[0]).toBe('core-00000\tin progress\tIN_PROGRESS');
    expect(rows[FLEET - 1]).toBe('core-09999\tnot polled\t');
  });

  it('names at most 20 failed cores, counts the rest, and a failure exits 1 even when others ran out of time', async () => {
    const failing = (thing: string) => Number(thing.slice(5)) % 250 === 7;
    const { h } = fakeFleet((thing) => {
      if (thing === 'core-00003') return 'NOT A CORE';
      if (failing(thing)) return 'FAILED';
      return Number(thing.slice(5)) >= 9_990 ? 'IN_PROGRESS' : 'SUCCEEDED';
    });
    const argv = ['deploy', '--group', 'fleet', '--wait', '--deadline-seconds', '3600', '--poll-seconds', '60'];
    expect(await run(argv, h.deps)).toBe(EXIT_FAILURE);
    const lines = printedLines(h);
    expect(lines.length).toBeLessThanOrEqual(45);
    expect(h.lines).toContain(
      `fleet: 9949 of 9999 core device(s) succeeded (9949 succeeded, 40 failed, 10 in progress, 1 not a core device)`,
    );
    const named = h.errors.filter((line) => line.startsWith('  failed: '));
    expect(named).toHaveLength(20);
    expect(named[0]).toBe('  failed: core-00007: FAILED: core-00007 ran out of disk');
    expect(h.errors).toContain('  ... and 20 more failed core device(s)');
    expect(h.lines).toContain('the state of every thing: add --wait-report FILE');
  });

  it('follows cores round by round, each polled once per period, until all succeed (exit 0)', async () => {
    // Core i finishes i seconds after the start: 10,000 cores over about 2.8 hours of fake time would miss the
    // deadline, so a small fleet shows the rounds; the large ones above show the bounds.
    const { h, clock } = fakeFleet((thing, nowMs) => (nowMs - START >= Number(thing.slice(5)) * 10_000 ? 'SUCCEEDED' : 'IN_PROGRESS'), 30);
    const argv = ['deploy', '--group', 'fleet', '--wait', '--deadline-seconds', '600', '--poll-seconds', '20'];
    expect(await run(argv, h.deps)).toBe(EXIT_OK);
    expect(h.lines).toContain('fleet: 30 of 30 core device(s) succeeded (30 succeeded)');
    // A core is never asked twice within one poll period: rounds start at least 20 s apart.
    const polls = mocks.greengrass.commandCalls(ListEffectiveDeploymentsCommand).length;
    const rounds = h.sleeps.length + 1;
    expect(polls).toBeLessThanOrEqual(rounds * 30);
    expect(clock.nowMs - START).toBeLessThan(600_000);
    expect(h.sleeps.every((ms) => ms > 0 && ms <= 20_000)).toBe(true);
    // GetDeployment is asked once for the whole fleet.
    expect(mocks.greengrass.commandCalls(GetDeploymentCommand)).toHaveLength(1);
  });
});
