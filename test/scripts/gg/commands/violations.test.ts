import { ListActiveViolationsCommand, ListViolationEventsCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { harness, inputsOf, makeProject, mocks, totalCalls } from '../helpers';

describe('violations', () => {
  it("lists every page of a thing's active violations readably", async () => {
    mocks.iot
      .on(ListActiveViolationsCommand)
      .resolvesOnce({
        activeViolations: [
          {
            thingName: 'core-1',
            securityProfileName: 'rules',
            behavior: { name: 'listening-tcp-ports', metric: 'aws:num-listening-tcp-ports' },
            lastViolationValue: { count: 40 },
            violationStartTime: new Date('2025-01-01T00:00:00Z'),
            lastViolationTime: new Date('2025-01-01T00:05:00Z'),
          },
        ],
        nextToken: 'page-2',
      })
      .resolves({
        activeViolations: [
          {
            thingName: 'core-1',
            securityProfileName: 'rules-ml',
            behavior: { name: 'ml-bytes-out', metric: 'aws:all-bytes-out' },
            lastViolationValue: { count: 123 },
            violationEventAdditionalInfo: { confidenceLevel: 'HIGH' },
            verificationState: 'UNKNOWN',
          },
        ],
      });
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, ListActiveViolationsCommand)).toEqual([
      { thingName: 'core-1', nextToken: undefined },
      { thingName: 'core-1', nextToken: 'page-2' },
    ]);
    expect(h.lines).toEqual([
      'region: eu-west-1 (from AWS_REGION / profile)',
      '2 active violation(s):',
      '  core-1: rules / listening-tcp-ports (aws:num-listening-tcp-ports), value 40, since 2025-01-01T00:00:00.000Z, last 2025-01-01T00:05:00.000Z',
      '  core-1: rules-ml / ml-bytes-out (aws:all-bytes-out), value 123, since ?, last ?, ML confidence HIGH, verification UNKNOWN',
    ]);
  });

  it('says so when a profile has none', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [] });
    const h = harness(makeProject());
    expect(await run(['violations', '--profile', 'rules'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, ListActiveViolationsCommand)[0]!).toEqual({
      securityProfileName: 'rules',
      nextToken: undefined,
    });
    expect(h.lines).toEqual(['region: eu-west-1 (from AWS_REGION / profile)', 'no active violations for profile rules']);
  });

  it('needs exactly one of --thing and --profile', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'a', '--profile', 'b'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: violations needs exactly one of --thing or --profile');
    expect(totalCalls()).toBe(0);
  });
});

describe('violations history', () => {
  it('--since lists every page of ListViolationEvents over the range, oldest first, cleared alarms included', async () => {
    mocks.iot
      .on(ListViolationEventsCommand)
      .resolvesOnce({
        violationEvents: [
          {
            violationId: 'v-1',
            thingName: 'core-1',
            securityProfileName: 'rules',
            behavior: { name: 'bytes-out', metric: 'aws:all-bytes-out' },
            metricValue: { count: 9000 },
            violationEventType: 'alarm-cleared',
            violationEventTime: new Date('2024-12-31T23:00:00Z'),
          },
        ],
        nextToken: 'e2',
      })
      .resolves({
        violationEvents: [
          {
            violationId: 'v-1',
            thingName: 'core-1',
            securityProfileName: 'rules',
            behavior: { name: 'bytes-out', metric: 'aws:all-bytes-out', suppressAlerts: true },
            metricValue: { count: 12000 },
            violationEventType: 'in-alarm',
            violationEventTime: new Date('2024-12-31T22:00:00Z'),
          },
        ],
      });
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--since', '24h', '--include-suppressed'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, ListViolationEventsCommand)).toEqual([
      {
        thingName: 'core-1',
        startTime: new Date('2024-12-31T00:00:00Z'),
        endTime: new Date('2025-01-01T00:00:00Z'),
        listSuppressedAlerts: true,
      },
      {
        thingName: 'core-1',
        startTime: new Date('2024-12-31T00:00:00Z'),
        endTime: new Date('2025-01-01T00:00:00Z'),
        listSuppressedAlerts: true,
        nextToken: 'e2',
      },
    ]);
    expect(mocks.iot.commandCalls(ListActiveViolationsCommand)).toHaveLength(0);
    expect(h.lines.slice(1)).toEqual([
      '2 violation event(s) from 2024-12-31T00:00:00.000Z to 2025-01-01T00:00:00.000Z:',
      '  2024-12-31T22:00:00.000Z in-alarm, core-1: rules / bytes-out (aws:all-bytes-out), value 12000, alerts suppressed',
      '  2024-12-31T23:00:00.000Z alarm-cleared, core-1: rules / bytes-out (aws:all-bytes-out), value 9000',
    ]);
  });

  it('--start/--end take ISO times for a profile', async () => {
    mocks.iot.on(ListViolationEventsCommand).resolves({ violationEvents: [] });
    const h = harness(makeProject());
    const argv = ['violations', '--profile', 'rules', '--start', '2024-12-20T00:00:00Z', '--end', '2024-12-21T00:00:00Z'];
    expect(await run(argv, h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, ListViolationEventsCommand)[0]!).toEqual({
      securityProfileName: 'rules',
      startTime: new Date('2024-12-20T00:00:00Z'),
      endTime: new Date('2024-12-21T00:00:00Z'),
    });
    expect(h.text()).toContain('no violation events from 2024-12-20T00:00:00.000Z to 2024-12-21T00:00:00.000Z');
  });

  it.each([
    [['--since', '3w'], '--since "3w" must be a duration like 90m, 24h or 7d'],
    [['--since', '1h', '--start', '2024-12-31T00:00:00Z'], '--since replaces --start/--end'],
    [['--end', '2024-12-31T00:00:00Z'], '--end needs --start'],
    [['--start', 'yesterday'], '--start "yesterday" is not an ISO 8601 time'],
    [['--start', '2024-12-31T12:00:00Z', '--end', '2024-12-31T00:00:00Z'], 'must start before it ends'],
    [['--since', '40d'], 'the history reaches back at most 14 days'],
    [['--since', '15d'], 'the history reaches back at most 14 days'],
  ])('%j is refused before any AWS call', async (extra, message) => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', ...extra], h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(totalCalls()).toBe(0);
  });

  it('--dry-run shows the ListViolationEvents request and sends none', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--since', '1h', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] iot ListViolationEvents');
  });
});
