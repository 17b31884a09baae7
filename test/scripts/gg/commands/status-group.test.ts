import { GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, COMPONENT, harness, inputsOf, makeProject, mocks, VERSION } from '../helpers';

const NOW = Date.parse('2025-01-01T00:00:00Z');

function fleet(things: string[], reporting: Set<string>, alarms: object[]): void {
  mocks.greengrass.on(ListDeploymentsCommand).resolves({ deployments: [{ deploymentId: 'd-1' }] });
  mocks.iot.on(ListThingsInThingGroupCommand).resolves({ things });
  mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
    effectiveDeployments: [
      { deploymentId: 'd-1', coreDeviceExecutionStatus: 'SUCCEEDED', creationTimestamp: new Date(NOW - 60_000) },
    ] as never,
  });
  mocks.greengrass.on(GetDeploymentCommand).resolves({ components: { [COMPONENT]: { componentVersion: VERSION } } });
  mocks.greengrass
    .on(ListInstalledComponentsCommand)
    .resolves({ installedComponents: [{ componentName: COMPONENT, componentVersion: VERSION, lifecycleState: 'RUNNING' }] });
  mocks.cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.map((query) => {
      const thing = query.MetricStat!.Metric!.MetricName!.replace(/\.ListeningTcpPorts$/, '');
      return { Id: query.Id, Values: reporting.has(thing) ? [2] : [] };
    }),
  }));
  mocks.logs.on(FilterLogEventsCommand).resolves({ events: alarms.map((alarm, i) => ({ timestamp: i, message: JSON.stringify(alarm) })) });
}

const alarm = (thingName: string, behavior: string, type: string, minutesAgo: number) => ({
  violationId: `v-${thingName}-${behavior}`,
  thingName,
  securityProfileName: 'defender-agent-edge',
  behavior: { name: behavior },
  metricValue: { count: 1 },
  violationEventType: type,
  violationEventTime: NOW - minutesAgo * 60_000,
});

describe('status --group', () => {
  it('follows the group deployment, then sums the fleet up: reporting, silent, in alarm', async () => {
    fleet(['core-1', 'core-2', 'core-3'], new Set(['core-1', 'core-3']), [
      alarm('core-2', 'only-ssh-and-mqtt', 'in-alarm', 30),
      alarm('core-3', 'max-bytes-out', 'in-alarm', 20),
      alarm('core-3', 'max-bytes-out', 'alarm-cleared', 10),
      alarm('elsewhere', 'max-bytes-out', 'in-alarm', 5),
    ]);
    const h = harness(makeProject());
    expect(await run(['status', '--group', 'fleet'], h.deps)).toBe(0);
    expect(inputsOf(mocks.greengrass, ListDeploymentsCommand)[0]!).toEqual({
      targetArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet`,
      historyFilter: 'LATEST_ONLY',
    });
    const summary = h.lines.slice(h.lines.findIndex((line) => line.startsWith('fleet fleet:')));
    expect(summary).toEqual([
      'fleet fleet: 3 thing(s): 2 reporting, 1 silent (no report in 15 min), 1 in alarm (edge alarms, 24 h)',
      '  silent: core-2',
      '  in alarm: core-2 (only-ssh-and-mqtt)',
    ]);
    const query = inputsOf(mocks.cloudwatch, GetMetricDataCommand)[0]!;
    expect(query.MetricDataQueries![0]!.MetricStat).toEqual({
      Metric: { Namespace: 'DeviceDefenderAgent', MetricName: 'core-1.ListeningTcpPorts' },
      Period: 900,
      Stat: 'SampleCount',
    });
  });

  it('stays a few lines for a large fleet, and says where reports come from when none arrive', async () => {
    const things = Array.from({ length: 1200 }, (_, i) => `core-${String(i).padStart(4, '0')}`);
    fleet(things, new Set(), []);
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({ effectiveDeployments: [] });
    const h = harness(makeProject());
    await run(['status', '--group', 'fleet', '--deadline-seconds', '1'], h.deps);
    expect(mocks.cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.length)).toEqual([
      500, 500, 200,
    ]);
    const summary = h.lines.slice(h.lines.findIndex((line) => line.startsWith('fleet fleet:')));
    expect(summary).toHaveLength(3);
    expect(summary[1]).toBe(
      '  silent: core-0000, core-0001, core-0002, core-0003, core-0004, core-0005, core-0006, core-0007, core-0008, core-0009 and 1190 more',
    );
    expect(summary[2]).toContain('no report reached namespace DeviceDefenderAgent');
  });

  it.each([
    [['status'], 'status needs --thing or --group'],
    [['status', '--thing', 'a', '--group', 'b'], 'status needs --thing or --group'],
    [['status', '--thing', 'a', '--metric-namespace', 'X'], 'apply to status --group only'],
  ])('%j is refused', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
  });
});
