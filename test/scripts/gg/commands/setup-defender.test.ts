import {
  AttachSecurityProfileCommand,
  CreateCustomMetricCommand,
  CreateSecurityProfileCommand,
  DescribeCustomMetricCommand,
  DescribeSecurityProfileCommand,
  UpdateSecurityProfileCommand,
} from '@aws-sdk/client-iot';
import { AttachRolePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateTopicCommand, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { run } from '../../../../scripts/gg/cli';
import { accountWithoutDefenderSetup } from '../accounts';
import { ACCOUNT, awsError, CREATED_BY, harness, inputsOf, makeProject, mocks, totalCalls } from '../helpers';

const PROFILE = 'com-example-TestAgent-metrics';

beforeEach(accountWithoutDefenderSetup);

describe('setup-defender', () => {
  it('registers custom metrics, creates the rules profile and attaches it to the group', async () => {
    mocks.iot.on(DescribeCustomMetricCommand, { metricName: 'ips' }).resolves({ metricName: 'ips', metricType: 'ip-address-list' });
    const h = harness(makeProject());
    const argv = [
      'setup-defender',
      '--group',
      'fleet',
      '--custom-metric',
      'cpu=cpuUsage',
      '--custom-metric',
      'ips=ipAddresses',
      '--sns-topic-arn',
      'arn:aws:sns:eu-west-1:123456789012:alarms',
      '--sns-role-arn',
      'arn:aws:iam::123456789012:role/dd',
      '--bytes-out',
      '5000000',
      '--max-listening-tcp-ports',
      '10',
    ];
    expect(await run(argv, h.deps)).toBe(0);

    expect(inputsOf(mocks.iot, CreateCustomMetricCommand)).toEqual([
      { metricName: 'cpu', metricType: 'number', displayName: 'cpuUsage: CPU busy % over the last interval, all cores (/proc/stat)' },
    ]);
    expect(h.text()).toContain('custom metric ips (ip-address-list) already registered');

    const profile = inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!;
    expect(profile.securityProfileName).toBe(PROFILE);
    expect(profile.alertTargets).toEqual({
      SNS: { alertTargetArn: 'arn:aws:sns:eu-west-1:123456789012:alarms', roleArn: 'arn:aws:iam::123456789012:role/dd' },
    });
    // ips has no rule: retained, or Device Defender would keep none of its values.
    expect(profile.additionalMetricsToRetainV2).toEqual([
      { metric: 'aws:listening-tcp-ports' },
      { metric: 'aws:listening-udp-ports' },
      { metric: 'aws:destination-ip-addresses' },
      { metric: 'ips' },
    ]);
    const byName = Object.fromEntries((profile.behaviors ?? []).map((b) => [b.name, b]));
    expect(Object.keys(byName)).toEqual([
      'bytes-out',
      'bytes-in',
      'packets-out',
      'packets-in',
      'listening-tcp-ports',
      'listening-udp-ports',
      'established-tcp-connections',
      'cpu-high',
    ]);
    expect(byName['bytes-out']).toEqual({
      name: 'bytes-out',
      metric: 'aws:all-bytes-out',
      criteria: {
        comparisonOperator: 'greater-than',
        durationSeconds: 300,
        value: { count: 5000000 },
        consecutiveDatapointsToAlarm: 1,
        consecutiveDatapointsToClear: 1,
      },
    });
    expect(byName['bytes-in']).toEqual({
      name: 'bytes-in',
      metric: 'aws:all-bytes-in',
      criteria: {
        comparisonOperator: 'greater-than',
        durationSeconds: 300,
        statisticalThreshold: { statistic: 'p99' },
        consecutiveDatapointsToAlarm: 1,
        consecutiveDatapointsToClear: 1,
      },
    });
    expect(byName['listening-tcp-ports']).toEqual({
      name: 'listening-tcp-ports',
      metric: 'aws:num-listening-tcp-ports',
      criteria: {
        comparisonOperator: 'greater-than',
        value: { count: 10 },
        consecutiveDatapointsToAlarm: 1,
        consecutiveDatapointsToClear: 1,
      },
    });
    expect(byName['established-tcp-connections']!.metric).toBe('aws:num-established-tcp-connections');
    expect(byName['listening-udp-ports']!.metric).toBe('aws:num-listening-udp-ports');
    expect(byName['cpu-high']).toEqual({
      name: 'cpu-high',
      metric: 'cpu',
      criteria: {
        comparisonOperator: 'greater-than',
        value: { number: 90 },
        consecutiveDatapointsToAlarm: 2,
        consecutiveDatapointsToClear: 2,
      },
    });

    expect(inputsOf(mocks.iot, AttachSecurityProfileCommand)).toEqual([
      { securityProfileName: PROFILE, securityProfileTargetArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet` },
    ]);
    expect(h.lines[1]).toContain('without one the reports are ignored');
  });

  it('updates an existing profile with its version and attaches it to all registered things', async () => {
    mocks.iot.on(DescribeSecurityProfileCommand).resolves({ securityProfileName: 'mine', version: 7 });
    mocks.iot.on(UpdateSecurityProfileCommand).resolves({});
    const h = harness(makeProject());
    expect(
      await run(
        [
          'setup-defender',
          '--all-things',
          '--profile-name',
          'mine',
          '--config-json',
          '{"customMetrics":{"mem":{"source":"memoryUsed"}}}',
          '--memory-threshold',
          '75',
        ],
        h.deps,
      ),
    ).toBe(0);
    expect(mocks.iot.commandCalls(CreateSecurityProfileCommand)).toHaveLength(0);
    const update = inputsOf(mocks.iot, UpdateSecurityProfileCommand)[0]!;
    expect(update.securityProfileName).toBe('mine');
    expect(update.expectedVersion).toBe(7);
    expect(update.alertTargets).toBeUndefined();
    expect(update.behaviors?.find((b) => b.name === 'mem-high')?.criteria?.value).toEqual({ number: 75 });
    expect(inputsOf(mocks.iot, AttachSecurityProfileCommand)[0]!).toEqual({
      securityProfileName: 'mine',
      securityProfileTargetArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:all/registered-things`,
    });
  });

  it('adds an ML Detect profile with --ml', async () => {
    const h = harness(makeProject());
    expect(
      await run(
        [
          'setup-defender',
          '--group',
          'fleet',
          '--ml',
          '--ml-confidence',
          'MEDIUM',
          '--custom-metric',
          'cpu=cpuUsage',
          '--custom-metric',
          'load=loadAverage',
        ],
        h.deps,
      ),
    ).toBe(0);
    const created = inputsOf(mocks.iot, CreateSecurityProfileCommand);
    expect(created.map((p) => p.securityProfileName)).toEqual([PROFILE, `${PROFILE}-ml`]);
    const ml = created[1]!;
    expect(ml.behaviors).toEqual(
      [
        ['ml-bytes-out', 'aws:all-bytes-out'],
        ['ml-bytes-in', 'aws:all-bytes-in'],
        ['ml-packets-out', 'aws:all-packets-out'],
        ['ml-packets-in', 'aws:all-packets-in'],
        ['ml-listening-tcp-ports', 'aws:num-listening-tcp-ports'],
        ['ml-listening-udp-ports', 'aws:num-listening-udp-ports'],
        ['ml-established-tcp-connections', 'aws:num-established-tcp-connections'],
        ['ml-cpu', 'cpu'],
      ].map(([name, metric]) => ({ name, metric, criteria: { mlDetectionConfig: { confidenceLevel: 'MEDIUM' } } })),
    );
    expect(ml.additionalMetricsToRetainV2).toBeUndefined();
    expect(mocks.iot.commandCalls(AttachSecurityProfileCommand).map((c) => c.args[0].input.securityProfileName)).toEqual([
      PROFILE,
      `${PROFILE}-ml`,
    ]);
  });

  it('refuses a custom metric registered with another type', async () => {
    mocks.iot.on(DescribeCustomMetricCommand).resolves({ metricName: 'cpu', metricType: 'string-list' });
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--custom-metric', 'cpu=cpuUsage'], h.deps)).toBe(1);
    expect(h.errors[0]).toBe(
      "error: custom metric cpu is registered as string-list, but its source sends number; a custom metric's type cannot be changed",
    );
    expect(h.errors[1]).toContain('delete it');
    expect(mocks.iot.commandCalls(CreateSecurityProfileCommand)).toHaveLength(0);
  });

  it('treats an existing attachment as done', async () => {
    mocks.iot.on(AttachSecurityProfileCommand).rejects(awsError('ResourceAlreadyExistsException', 'exists', 409));
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet'], h.deps)).toBe(0);
    expect(h.text()).toContain('was already attached');
  });

  it.each([
    [['setup-defender'], 'needs exactly one of --group or --all-things'],
    [
      ['setup-defender', '--group', 'g', '--sns-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:a'],
      '--sns-topic-arn and --sns-role-arn go together',
    ],
    [['setup-defender', '--group', 'g', '--sns-topic-arn', 'arn:x'], '--sns-topic-arn "arn:x" is not an SNS topic ARN'],
    [
      ['setup-defender', '--group', 'g', '--sns-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:a', '--sns-role-arn', 'dd'],
      '--sns-role-arn "dd" is not an IAM role ARN',
    ],
    [['setup-defender', '--group', 'g', '--region', 'eu-west'], '--region "eu-west" is not an AWS region name'],
    [['setup-defender', '--group', 'g', '--statistic', 'p42'], '--statistic must be one of'],
    [['setup-defender', '--group', 'g', '--ml-confidence', 'HIGH'], '--ml-confidence needs --ml'],
    [['setup-defender', '--group', 'g', '--cpu-threshold', '150'], '--cpu-threshold must be a number from 0 to 100'],
  ])('%j is refused before any AWS call', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(totalCalls()).toBe(0);
  });

  it('--dry-run sends nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--dry-run', '--custom-metric', 'cpu=cpuUsage'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] iot CreateSecurityProfile');
    expect(h.text()).toContain('[dry-run] iot CreateCustomMetric');
  });
});

describe('setup-defender: ML Detect limits', () => {
  it('fails before creating anything when an ML metric is not supported (a list-type custom metric)', async () => {
    const h = harness(makeProject());
    const argv = ['setup-defender', '--group', 'fleet', '--ml', '--custom-metric', 'load=loadAverage', '--ml-metric', 'load'];
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain('custom metric load is of type number-list; ML Detect takes custom metrics of type number only');
    expect(totalCalls()).toBe(0);
  });

  it.each(['aws:listening-tcp-ports', 'aws:destination-ip-addresses', 'aws:source-ip-address'])(
    'refuses ML on %s before any AWS call',
    async (metric) => {
      const h = harness(makeProject());
      expect(await run(['setup-defender', '--group', 'fleet', '--ml', '--ml-metric', metric], h.deps)).toBe(2);
      expect(h.errors[0]).toContain(`${metric} is not one of the metrics ML Detect supports`);
      expect(totalCalls()).toBe(0);
    },
  );

  it('takes cloud-side metrics and number custom metrics named with --ml-metric', async () => {
    const h = harness(makeProject());
    const argv = ['setup-defender', '--group', 'fleet', '--ml', '--custom-metric', 'cpu=cpuUsage'];
    expect(await run([...argv, '--ml-metric', 'cpu', '--ml-metric', 'aws:num-messages-sent'], h.deps)).toBe(0);
    const ml = inputsOf(mocks.iot, CreateSecurityProfileCommand)[1]!;
    expect(ml.behaviors!.map((b) => [b.name, b.metric])).toEqual([
      ['ml-cpu', 'cpu'],
      ['ml-messages-sent', 'aws:num-messages-sent'],
    ]);
  });

  it('--help names the supported metrics and the AWS page it comes from', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--help'], h.deps)).toBe(0);
    expect(h.text()).toContain('https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-detect-ml.html');
    expect(h.text()).toContain('custom metrics of type number');
    expect(h.text()).toContain('aws:num-established-tcp-connections');
  });

  it('refuses behavior names over 128 characters before any AWS call', async () => {
    const h = harness(makeProject());
    const long = 'm'.repeat(124);
    expect(await run(['setup-defender', '--group', 'fleet', '--custom-metric', `${long}=cpuUsage`], h.deps)).toBe(2);
    expect(h.errors[0]).toContain(`behavior name "${long}-high" must be 1-128 characters`);
    expect(totalCalls()).toBe(0);
  });
});

describe('setup-defender: detect and alert', () => {
  it('--cloud-side adds the workshop behaviors and --suppress-alerts marks the named ones', async () => {
    const h = harness(makeProject());
    const argv = [
      'setup-defender',
      '--group',
      'fleet',
      '--cloud-side',
      '--max-message-bytes',
      '2048',
      '--suppress-alerts',
      'messages-sent',
    ];
    expect(await run(argv, h.deps)).toBe(0);
    const behaviors = inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!.behaviors!;
    const byName = Object.fromEntries(behaviors.map((b) => [b.name, b]));
    expect(byName['authorization-failures']).toEqual({
      name: 'authorization-failures',
      metric: 'aws:num-authorization-failures',
      criteria: {
        comparisonOperator: 'greater-than',
        value: { count: 5 },
        durationSeconds: 300,
        consecutiveDatapointsToAlarm: 1,
        consecutiveDatapointsToClear: 1,
      },
    });
    expect(byName['message-size']!.criteria).toEqual({
      comparisonOperator: 'greater-than',
      value: { count: 2048 },
      consecutiveDatapointsToAlarm: 1,
      consecutiveDatapointsToClear: 1,
    });
    expect(byName.disconnects!.metric).toBe('aws:num-disconnects');
    expect(byName['messages-sent']!.suppressAlerts).toBe(true);
    expect(behaviors.filter((b) => b.suppressAlerts).map((b) => b.name)).toEqual(['messages-sent']);
  });

  it('refuses --suppress-alerts for a behavior the profiles do not have', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--suppress-alerts', 'messages-sent'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('--suppress-alerts names no behavior of the profiles: messages-sent');
    expect(totalCalls()).toBe(0);
  });

  it('--create-sns creates the topic and the role Device Defender assumes, and alerts go there', async () => {
    const topicArn = `arn:aws:sns:eu-west-1:${ACCOUNT}:defender-alarms`;
    mocks.sns.on(GetTopicAttributesCommand).rejects(awsError('NotFoundException', 'Topic does not exist', 404));
    mocks.sns.on(CreateTopicCommand).resolves({ TopicArn: topicArn });
    mocks.iam.on(CreateRoleCommand).resolves({});
    mocks.iam.on(PutRolePolicyCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--create-sns', 'defender-alarms'], h.deps)).toBe(0);

    // What the tool creates carries its tag: cleanup removes only that.
    expect(inputsOf(mocks.sns, CreateTopicCommand)[0]!).toEqual({ Name: 'defender-alarms', Tags: CREATED_BY });
    const role = inputsOf(mocks.iam, CreateRoleCommand)[0]!;
    expect(role.RoleName).toBe('defender-alarms-alerts-eu-west-1');
    expect(role.Tags).toEqual(CREATED_BY);
    expect(JSON.parse(role.AssumeRolePolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnLike: { 'aws:SourceArn': `arn:aws:iot:eu-west-1:${ACCOUNT}:*` } },
        },
      ],
    });
    const policy = inputsOf(mocks.iam, PutRolePolicyCommand)[0]!;
    expect(JSON.parse(policy.PolicyDocument!).Statement).toEqual([{ Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn }]);
    expect(mocks.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(0);
    expect(inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!.alertTargets).toEqual({
      SNS: { alertTargetArn: topicArn, roleArn: `arn:aws:iam::${ACCOUNT}:role/defender-alarms-alerts-eu-west-1` },
    });
  });

  it('--create-sns reuses an existing role of that name', async () => {
    mocks.sns.on(GetTopicAttributesCommand).resolves({ Attributes: {} });
    mocks.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExistsException', 'exists', 409));
    mocks.iam.on(PutRolePolicyCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--create-sns', 'a'], h.deps)).toBe(0);
    expect(h.text()).toContain('IAM role a-alerts-eu-west-1 exists; updated its trust (AWS IoT in eu-west-1) and permissions');
    expect(mocks.iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it('--create-sns reuses a topic of that name as it is, untagged, and says cleanup keeps it', async () => {
    mocks.sns.on(GetTopicAttributesCommand).resolves({ Attributes: { Owner: ACCOUNT } });
    mocks.iam.on(CreateRoleCommand).resolves({});
    mocks.iam.on(PutRolePolicyCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--create-sns', 'by-hand'], h.deps)).toBe(0);
    expect(mocks.sns.commandCalls(CreateTopicCommand)).toHaveLength(0);
    expect(h.text()).toContain(
      `SNS topic arn:aws:sns:eu-west-1:${ACCOUNT}:by-hand exists; used as it is (not created by this tool, so cleanup keeps it)`,
    );
  });
});
