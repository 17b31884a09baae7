import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateTopicRuleCommand, ReplaceTopicRuleCommand } from '@aws-sdk/client-iot';
import { CreateTopicCommand, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, awsError, CREATED_BY, harness, inputsOf, makeProject, mocks, resetMocks, totalCalls } from '../helpers';

const TOPIC_ARN = `arn:aws:sns:eu-west-1:${ACCOUNT}:edge-alarms`;
const ROLE = 'com.example.TestAgent-edge-rules-eu-west-1';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;

function accountReady(): void {
  mocks.sns.on(GetTopicAttributesCommand).rejects(awsError('NotFoundException', 'Topic does not exist', 404));
  mocks.sns.on(CreateTopicCommand).resolves({ TopicArn: TOPIC_ARN });
  mocks.iam.on(CreateRoleCommand).resolves({});
  mocks.iam.on(PutRolePolicyCommand).resolves({});
  mocks.iot.on(CreateTopicRuleCommand).resolves({});
  mocks.iot.on(ReplaceTopicRuleCommand).resolves({});
}

function rules() {
  return inputsOf(mocks.iot, CreateTopicRuleCommand);
}

describe('setup-edge', () => {
  it('routes the alarm topic of every thing to SNS, unchanged, with a role that may only publish there', async () => {
    accountReady();
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms'], h.deps)).toBe(0);

    // What the tool creates carries its tag: cleanup removes only that.
    expect(inputsOf(mocks.sns, CreateTopicCommand)[0]!).toEqual({ Name: 'edge-alarms', Tags: CREATED_BY });
    const role = inputsOf(mocks.iam, CreateRoleCommand)[0]!;
    expect(role.RoleName).toBe(ROLE);
    expect(role.Tags).toEqual(CREATED_BY);
    expect(JSON.parse(role.AssumeRolePolicyDocument!).Statement[0].Principal).toEqual({ Service: 'iot.amazonaws.com' });
    expect(JSON.parse(inputsOf(mocks.iam, PutRolePolicyCommand)[0]!.PolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC_ARN },
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/defender-agent/alarms:*`,
        },
      ],
    });
    expect(rules()).toEqual([
      {
        ruleName: 'com_example_TestAgent_alarms',
        topicRulePayload: {
          sql: "SELECT * FROM 'defender-agent/+/alarms'",
          awsIotSqlVersion: '2016-03-23',
          description: 'Device Defender agent alarms (violation events raised on the core) to SNS',
          ruleDisabled: false,
          actions: [
            { sns: { targetArn: TOPIC_ARN, roleArn: ROLE_ARN, messageFormat: 'RAW' } },
            { cloudwatchLogs: { roleArn: ROLE_ARN, logGroupName: '/defender-agent/alarms', batchMode: false } },
          ],
        },
        tags: 'gg-created-by=com.example.TestAgent',
      },
    ]);
    expect(h.text()).toContain(`alarms published on defender-agent/+/alarms now reach ${TOPIC_ARN}`);
  });

  it('adds the metrics sink rule and the PutMetricData permission for its namespace only', async () => {
    accountReady();
    const h = harness(makeProject());
    const argv = ['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--metrics-sink-topic', 'fleet/{iot:thingName}/reports', '--short-names'];
    expect(await run(argv, h.deps)).toBe(0);
    expect(mocks.sns.calls()).toHaveLength(0);
    const policy = JSON.parse(inputsOf(mocks.iam, PutRolePolicyCommand)[0]!.PolicyDocument!);
    expect(policy.Statement[1]).toEqual({
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'DeviceDefenderAgent' } },
    });
    const metrics = rules()[1]!;
    expect(metrics.ruleName).toBe('com_example_TestAgent_metrics');
    expect(metrics.topicRulePayload!.sql).toBe(
      "SELECT topic(2) AS thing, met.tp.t AS ListeningTcpPorts, met.up.t AS ListeningUdpPorts, met.tc.ec.t AS EstablishedTcpConnections, met.ns.bi AS BytesIn, met.ns.bo AS BytesOut, met.ns.pi AS PacketsIn, met.ns.po AS PacketsOut FROM 'fleet/+/reports'",
    );
    expect(metrics.topicRulePayload!.actions).toHaveLength(7);
    expect(h.text()).toContain('cost: the metrics rule makes 7 CloudWatch custom metrics per core that reports');
    expect(h.text()).toContain('so 7 x cores custom metrics');
    expect(metrics.topicRulePayload!.actions![4]).toEqual({
      cloudwatchMetric: {
        roleArn: ROLE_ARN,
        metricNamespace: 'DeviceDefenderAgent',
        metricName: '${thing}.BytesOut',
        metricValue: '${BytesOut}',
        metricUnit: 'Bytes',
      },
    });
  });

  it('replaces a rule that exists and reuses a role that exists', async () => {
    accountReady();
    mocks.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExistsException', 'exists', 409));
    mocks.iot.on(CreateTopicRuleCommand).rejects(awsError('ResourceAlreadyExistsException', 'exists', 409));
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--sns-topic-arn', TOPIC_ARN, '--alarm-topic', 'site/alarms/{iot:thingName}'], h.deps)).toBe(0);
    const replaced = inputsOf(mocks.iot, ReplaceTopicRuleCommand)[0]!;
    expect(replaced.ruleName).toBe('com_example_TestAgent_alarms');
    expect(replaced.topicRulePayload!.sql).toBe("SELECT * FROM 'site/alarms/+'");
    expect(mocks.iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
    expect(h.text()).toContain('replaced topic rule com_example_TestAgent_alarms');
  });

  it('waits, bounded, while AWS IoT cannot assume a role IAM has just created', async () => {
    accountReady();
    mocks.iot
      .on(CreateTopicRuleCommand)
      .rejectsOnce(awsError('InvalidRequestException', 'iot.amazonaws.com is unable to assume role and perform the action'))
      .resolves({});
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--sns-topic-arn', TOPIC_ARN], h.deps)).toBe(0);
    expect(h.sleeps).toEqual([5000]);
    expect(rules()).toHaveLength(2);

    resetMocks();
    accountReady();
    mocks.iot.on(CreateTopicRuleCommand).rejects(awsError('InvalidRequestException', 'unable to assume role'));
    const stuck = harness(makeProject());
    expect(await run(['setup-edge', '--sns-topic-arn', TOPIC_ARN], stuck.deps)).toBe(1);
    expect(stuck.sleeps).toEqual(Array(6).fill(5000));
    expect(stuck.errors[0]).toBe("error: AWS IoT still cannot use the rule's role: unable to assume role");
  });

  it.each([
    [[], 'setup-edge needs exactly one of --sns-topic-arn or --create-sns'],
    [['--create-sns', 'a', '--sns-topic-arn', TOPIC_ARN], 'exactly one of'],
    [['--sns-topic-arn', 'arn:aws:sqs:eu-west-1:1:q'], 'is not an SNS topic ARN'],
    [['--create-sns', 'a', '--alarm-topic', '$aws/things/x/alarms'], '--alarm-topic: "$aws/things/x/alarms" is under $aws/'],
    [['--create-sns', 'a', '--alarm-topic', 'alarms/#'], '--alarm-topic: "alarms/#" is not a plain topic'],
    [['--create-sns', 'a', '--short-names'], '--metric-namespace and --short-names only apply with --metrics-sink-topic'],
    [['--create-sns', 'a', '--rule-name', 'has-dash'], '--rule-name "has-dash" must be 1-128 letters, digits or _'],
  ])('%j is a usage error, before any request', async (flags, message) => {
    const h = harness(makeProject());
    expect(await run(['setup-edge', ...flags], h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(totalCalls()).toBe(0);
  });

  it('--dry-run prints the rule, the role and the topic, and sends nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    for (const request of [
      '[dry-run] sns CreateTopic',
      '[dry-run] iam CreateRole',
      '[dry-run] iam PutRolePolicy',
      '[dry-run] iot CreateTopicRule',
    ]) {
      expect(h.text()).toContain(request);
    }
  });

  it('--help exits 0', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-edge', '--help'], h.deps)).toBe(0);
    expect(h.lines[0]).toMatch(/^Usage: npm run gg -- setup-edge/);
  });
});
