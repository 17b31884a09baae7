import { PutDashboardCommand } from '@aws-sdk/client-cloudwatch';
import { CreateLogGroupCommand, FilterLogEventsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateTopicRuleCommand, ListViolationEventsCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, harness, inputsOf, makeProject, mocks } from '../helpers';

const TOPIC_ARN = `arn:aws:sns:eu-west-1:${ACCOUNT}:edge-alarms`;

/** Alarms as the agent publishes them (src/detect/alarms.ts), which the rule's CloudWatch Logs action stores unchanged. */
const RAISED = {
  violationId: '0b6f3c1e-8d2a-4f4b-9b7e-5a1c2d3e4f50',
  thingName: 'core-1',
  securityProfileName: 'defender-agent-edge',
  behavior: { name: 'only-ssh-and-mqtt', metric: 'aws:listening-tcp-ports' },
  metricValue: { ports: [22, 8883, 4444] },
  violationEventType: 'in-alarm',
  violationEventTime: Date.parse('2024-12-30T10:00:00Z'),
};
const CLEARED = {
  ...RAISED,
  metricValue: { ports: [22, 8883] },
  violationEventType: 'alarm-cleared',
  violationEventTime: Date.parse('2024-12-30T10:05:00Z'),
};

beforeEach(() => {
  mocks.iam.on(CreateRoleCommand).resolves({});
  mocks.iam.on(PutRolePolicyCommand).resolves({});
  mocks.iot.on(CreateTopicRuleCommand).resolves({});
  mocks.logs.on(CreateLogGroupCommand).resolves({});
  mocks.logs.on(PutRetentionPolicyCommand).resolves({});
  mocks.cloudwatch.on(PutDashboardCommand).resolves({ DashboardValidationMessages: [] });
});

describe('setup-edge keeps every alarm, and draws the fleet', () => {
  it('creates the alarm log group with a retention, and the rule writes every alarm to it', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--alarm-log-group', '/site-a/alarms'], h.deps)).toBe(0);
    expect(inputsOf(mocks.logs, CreateLogGroupCommand)[0]!).toEqual({ logGroupName: '/site-a/alarms' });
    expect(inputsOf(mocks.logs, PutRetentionPolicyCommand)[0]!).toEqual({
      logGroupName: '/site-a/alarms',
      retentionInDays: 90,
    });
    const actions = inputsOf(mocks.iot, CreateTopicRuleCommand)[0]!.topicRulePayload!.actions!;
    expect(actions[1]).toEqual({
      cloudwatchLogs: {
        roleArn: `arn:aws:iam::${ACCOUNT}:role/com.example.TestAgent-edge-rules-eu-west-1`,
        logGroupName: '/site-a/alarms',
        batchMode: false,
      },
    });
  });

  it('--dashboard puts a dashboard of the reported metrics and the alarm counts per behavior', async () => {
    const h = harness(makeProject());
    const argv = [
      'setup-edge',
      '--sns-topic-arn',
      TOPIC_ARN,
      '--metrics-sink-topic',
      'fleet/{iot:thingName}/reports',
      '--dashboard',
      'defender-fleet',
    ];
    expect(await run(argv, h.deps)).toBe(0);
    const put = inputsOf(mocks.cloudwatch, PutDashboardCommand)[0]!;
    expect(put.DashboardName).toBe('defender-fleet');
    const body = JSON.parse(put.DashboardBody!) as {
      widgets: { type: string; x: number; width: number; properties: Record<string, any> }[];
    };
    const logs = body.widgets.filter((w) => w.type === 'log');
    expect(logs[0]!.properties.query).toBe(
      "SOURCE '/defender-agent/alarms' | filter violationEventType = 'in-alarm' | stats count(*) as alarms by behavior.name | sort alarms desc",
    );
    const metrics = body.widgets.filter((w) => w.type === 'metric').map((w) => w.properties.metrics[0][0].expression);
    expect(metrics).toHaveLength(7);
    expect(metrics).toContain("SEARCH('{DeviceDefenderAgent} BytesOut', 'Maximum', 300)");
    for (const widget of body.widgets) expect(widget.x + widget.width).toBeLessThanOrEqual(24);
    expect(h.text()).toContain('put dashboard defender-fleet');
  });

  it('--dashboard without the metrics sink still shows the alarms, and says where the metrics would come from', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--dashboard', 'fleet'], h.deps)).toBe(0);
    const body = JSON.parse(inputsOf(mocks.cloudwatch, PutDashboardCommand)[0]!.DashboardBody!);
    expect(body.widgets.map((w: { type: string }) => w.type)).toEqual(['log', 'log', 'text']);
  });

  it.each([
    [['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--dashboard', 'my fleet'], '--dashboard "my fleet" must be'],
    [['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--alarm-log-group', 'a b'], '--alarm-log-group "a b"'],
  ])('%j is refused before any request', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
  });
});

describe('violations --edge', () => {
  it('reads the alarm history from the log group, in the same columns as Detect history', async () => {
    mocks.logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [
          { timestamp: 2, message: JSON.stringify(CLEARED) },
          { timestamp: 3, message: 'not json' },
        ],
        nextToken: 'p2',
      })
      .resolves({ events: [{ timestamp: 1, message: JSON.stringify(RAISED) }] });
    const edge = harness(makeProject());
    expect(await run(['violations', '--edge', '--thing', 'core-1', '--since', '7d'], edge.deps)).toBe(0);
    const calls = inputsOf(mocks.logs, FilterLogEventsCommand);
    expect(calls[0]).toEqual({
      logGroupName: '/defender-agent/alarms',
      startTime: Date.parse('2024-12-25T00:00:00Z'),
      endTime: Date.parse('2025-01-01T00:00:00Z'),
      filterPattern: '{ $.thingName = "core-1" }',
      nextToken: undefined,
    });
    expect(calls[1]!.nextToken).toBe('p2');

    // The same two events as Device Defender's ListViolationEvents would return them.
    const asDetect = (alarm: typeof RAISED) => ({ ...alarm, violationEventTime: new Date(alarm.violationEventTime) });
    mocks.iot.on(ListViolationEventsCommand).resolves({ violationEvents: [asDetect(CLEARED), asDetect(RAISED)] as never });
    const detect = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--since', '7d'], detect.deps)).toBe(0);

    const rows = (lines: string[]) => lines.filter((line) => line.startsWith('  '));
    expect(rows(edge.lines)).toHaveLength(2);
    expect(rows(edge.lines)).toEqual(rows(detect.lines));
    expect(rows(edge.lines)[0]).toContain('2024-12-30T10:00:00.000Z in-alarm, core-1: defender-agent-edge / only-ssh-and-mqtt');
    expect(edge.text()).toContain('1 log event(s) in /defender-agent/alarms are not alarms; skipped');
  });

  it('needs a time range, and takes no --include-suppressed', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--edge'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('violations --edge reads the alarm history: give --since D or --start T');
    expect(await run(['violations', '--edge', '--since', '1d', '--include-suppressed'], h.deps)).toBe(2);
    expect(mocks.logs.calls()).toHaveLength(0);
  });
});
