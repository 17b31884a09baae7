import { inflateRawSync } from 'node:zlib';
import { CreateLogGroupCommand, DeleteLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AttachPolicyCommand,
  CreateThingGroupCommand,
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  DescribeThingCommand,
  GetTopicRuleCommand,
  ListThingGroupsForThingCommand,
  RemoveThingFromThingGroupCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { ListSubscriptionsCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { run } from '../../../../scripts/gg/cli';
import { quarantineGroupCreatable } from '../accounts';
import { ACCOUNT, awsError, harness, inputsOf, makeProject, mocks, notFound, resetMocks, totalCalls } from '../helpers';
import { referenceCrc32 } from '../../../support/reference-crc32';

const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:defender-quarantine-isolate`;
const TOPIC_ARN = `arn:aws:sns:eu-west-1:${ACCOUNT}:defender-alerts`;
const ROLE = 'defender-quarantine-isolate-eu-west-1';

beforeEach(() => {
  mocks.iam.on(CreateRoleCommand).resolves({});
  mocks.iam.on(PutRolePolicyCommand).resolves({});
  mocks.logs.on(CreateLogGroupCommand).resolves({});
  mocks.logs.on(PutRetentionPolicyCommand).resolves({});
  mocks.lambda.on(CreateFunctionCommand).resolves({});
  mocks.lambda.on(PutFunctionEventInvokeConfigCommand).resolves({});
  mocks.lambda.on(AddPermissionCommand).resolves({});
  mocks.iot.on(CreateTopicRuleCommand).resolves({});
  mocks.sns.on(SubscribeCommand).resolves({ SubscriptionArn: `${TOPIC_ARN}:sub-1` });
});

/**
 * The package as a zip reader sees it (PKWARE APPNOTE 4.3), without a zip tool on the machine: the end record, the
 * one central directory entry, its local header and the deflated data, whose CRC-32 must match.
 */
function unzipIndex(zip: Uint8Array): string {
  const bytes = Buffer.from(zip);
  const end = bytes.length - 22;
  expect(bytes.readUInt32LE(end)).toBe(0x06054b50);
  expect(bytes.readUInt16LE(end + 10)).toBe(1);
  const central = bytes.readUInt32LE(end + 16);
  expect(bytes.readUInt32LE(central)).toBe(0x02014b50);
  const nameLength = bytes.readUInt16LE(central + 28);
  expect(bytes.subarray(central + 46, central + 46 + nameLength).toString('utf8')).toBe('index.js');
  const local = bytes.readUInt32LE(central + 42);
  expect(bytes.readUInt32LE(local)).toBe(0x04034b50);
  const dataStart = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
  const content = inflateRawSync(bytes.subarray(dataStart, dataStart + bytes.readUInt32LE(central + 20)));
  expect(content.byteLength).toBe(bytes.readUInt32LE(central + 24));
  expect(referenceCrc32(content)).toBe(bytes.readUInt32LE(central + 16));
  return content.toString('utf8');
}

describe('quarantine auto enable', () => {
  it('--dry-run --account prints the function, its role and policy, the rule and the SNS subscription, and sends nothing', async () => {
    const h = harness(makeProject());
    const argv = ['quarantine', 'auto', 'enable', '--dry-run', '--account', ACCOUNT, '--region', 'eu-west-1', '--sns-topic-arn', TOPIC_ARN];
    expect(await run(argv, h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    for (const command of [
      'aws iam create-role',
      'aws iam put-role-policy',
      'aws logs create-log-group',
      'aws lambda create-function',
      'aws lambda put-function-event-invoke-config',
      'aws lambda add-permission',
      'aws iot create-topic-rule',
      'aws sns subscribe',
    ]) {
      expect(text).toContain(`${command} --region eu-west-1`);
    }
    expect(text).toMatch(/--zip-file 'fileb:\/\/<zip of \d+ bytes>'/);
    expect(text).toMatch(/isolation function bundle: [\d.]+ KiB index\.js, [\d.]+ KiB zipped/);
    expect(text).toContain(`"Resource": "arn:aws:iot:eu-west-1:${ACCOUNT}:thing/*/defender-quarantine"`);
  });

  it('without --sns-topic-arn says that Device Defender alerts are not subscribed, and how to subscribe them', async () => {
    const h = harness(makeProject());
    const argv = ['quarantine', 'auto', 'enable', '--dry-run', '--account', ACCOUNT, '--region', 'eu-west-1'];
    expect(await run(argv, h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    expect(text).not.toContain('aws sns subscribe');
    expect(text).toContain("Device Defender's SNS alerts are not subscribed: only the agent's edge alarms isolate");
    expect(text).toContain('--sns-topic-arn <the security profile');
  });

  it('creates the function from the bundle, its least-privilege role, the IoT rule and the SNS subscription', async () => {
    const h = harness(makeProject());
    const argv = ['quarantine', 'auto', 'enable', '--sns-topic-arn', TOPIC_ARN, '--behaviors', 'max-bytes-out,only-ssh-and-mqtt'];
    expect(await run(argv, h.deps)).toBe(0);

    const trust = JSON.parse(inputsOf(mocks.iam, CreateRoleCommand)[0]!.AssumeRolePolicyDocument!);
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
    const policy = JSON.parse(inputsOf(mocks.iam, PutRolePolicyCommand)[0]!.PolicyDocument!);
    const allowed = policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(allowed).toEqual([
      'iot:AddThingToThingGroup',
      'iot:DescribeThing',
      'iot:GetThingShadow',
      'iot:UpdateThingShadow',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(policy.Statement.find((s: { Sid: string }) => s.Sid === 'AddToQuarantineGroup').Resource).toEqual([
      `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/defender-quarantine`,
      `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/*`,
    ]);

    const created = inputsOf(mocks.lambda, CreateFunctionCommand)[0]!;
    expect(created).toMatchObject({
      FunctionName: 'defender-quarantine-isolate',
      Role: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Environment: {
        Variables: {
          QUARANTINE_GROUP: 'defender-quarantine',
          QUARANTINE_SHADOW: 'defender-quarantine',
          QUARANTINE_BEHAVIORS: 'max-bytes-out,only-ssh-and-mqtt',
        },
      },
    });
    const bundle = unzipIndex(created.Code!.ZipFile!);
    expect(bundle).toContain('QUARANTINE_GROUP');
    expect(bundle).toContain('AddThingToThingGroup');
    expect(inputsOf(mocks.lambda, PutFunctionEventInvokeConfigCommand)[0]!).toEqual({
      FunctionName: 'defender-quarantine-isolate',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
    });

    const permissions = inputsOf(mocks.lambda, AddPermissionCommand);
    expect(permissions.map((p) => [p.Principal, p.SourceArn, p.SourceAccount])).toEqual([
      ['iot.amazonaws.com', `arn:aws:iot:eu-west-1:${ACCOUNT}:rule/defender_quarantine_isolate`, ACCOUNT],
      ['sns.amazonaws.com', TOPIC_ARN, ACCOUNT],
    ]);
    const rule = inputsOf(mocks.iot, CreateTopicRuleCommand)[0]!;
    expect(rule.ruleName).toBe('defender_quarantine_isolate');
    expect(rule.topicRulePayload!.sql).toBe(
      "SELECT *, topic(2) AS sourceThing FROM 'defender-agent/+/alarms' WHERE violationEventType = 'in-alarm'",
    );
    expect(rule.topicRulePayload!.actions).toEqual([{ lambda: { functionArn: FUNCTION_ARN } }]);
    expect(inputsOf(mocks.sns, SubscribeCommand)[0]!).toEqual({
      TopicArn: TOPIC_ARN,
      Protocol: 'lambda',
      Endpoint: FUNCTION_ARN,
      Attributes: { FilterPolicyScope: 'MessageBody', FilterPolicy: '{"violationEventType":["in-alarm"]}' },
      ReturnSubscriptionArn: true,
    });
  });

  it('updates an existing function instead, waiting while Lambda applies the new code', async () => {
    mocks.lambda.on(CreateFunctionCommand).rejects(awsError('ResourceConflictException', 'Function already exist', 409));
    mocks.lambda.on(UpdateFunctionCodeCommand).resolves({});
    mocks.lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(awsError('ResourceConflictException', 'The operation cannot be performed at this time. An update is in progress', 409))
      .resolves({});
    mocks.lambda.on(AddPermissionCommand).rejects(awsError('ResourceConflictException', 'The statement id provided already exists', 409));
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'enable'], h.deps)).toBe(0);
    expect(inputsOf(mocks.lambda, UpdateFunctionCodeCommand)[0]!.ZipFile!.byteLength).toBeGreaterThan(1000);
    expect(mocks.lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(2);
    expect(h.sleeps).toEqual([5000]);
    expect(mocks.sns.commandCalls(SubscribeCommand)).toHaveLength(0);
  });

  it('waits for a new role Lambda cannot assume yet', async () => {
    mocks.lambda
      .on(CreateFunctionCommand)
      .rejectsOnce(awsError('InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.'))
      .resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'enable'], h.deps)).toBe(0);
    expect(mocks.lambda.commandCalls(CreateFunctionCommand)).toHaveLength(2);
    expect(h.sleeps).toEqual([5000]);
  });

  it('--create-group creates the group and its deny-all policy as quarantine setup does', async () => {
    quarantineGroupCreatable();
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'enable', '--create-group', '--group-name', 'isolated'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, CreateThingGroupCommand)[0]!.thingGroupName).toBe('isolated');
    expect(inputsOf(mocks.iot, AttachPolicyCommand)[0]!).toEqual({
      policyName: 'isolated-deny-all',
      target: `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/isolated`,
    });
    expect(inputsOf(mocks.lambda, CreateFunctionCommand)[0]!.FunctionName).toBe('isolated-isolate');
  });

  it.each([
    [['quarantine', 'auto'], 'quarantine auto needs enable, disable or status'],
    [['quarantine', 'auto', 'disable', '--behaviors', 'a'], '--behaviors applies to quarantine auto enable only'],
    [['quarantine', 'auto', 'enable', '--keep-logs'], '--keep-logs applies to quarantine auto disable only'],
    [['quarantine', 'auto', 'enable', '--behaviors', 'a,b c'], '--behaviors "b c" is not a valid name'],
    [['quarantine', 'auto', 'enable', '--sns-topic-arn', 'defender-alerts'], 'is not an SNS topic ARN'],
    [['quarantine', 'auto', 'enable', '--alarm-topic', '$aws/things/x'], '--alarm-topic'],
  ])('%j is refused before any AWS call', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(mocks.lambda.calls()).toHaveLength(0);
    expect(mocks.iam.calls()).toHaveLength(0);
  });

  it('quarantine auto --help exits 0 with the auto help', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', '--help'], h.deps)).toBe(0);
    expect(h.text()).toContain('Usage: npm run gg -- quarantine auto enable|disable|status');
    expect(totalCalls()).toBe(0);
  });
});

describe('quarantine auto disable and status', () => {
  it('disable removes what enable created, and only that', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'enable', '--sns-topic-arn', TOPIC_ARN], h.deps)).toBe(0);
    const made = {
      role: inputsOf(mocks.iam, CreateRoleCommand)[0]!.RoleName,
      logGroup: inputsOf(mocks.logs, CreateLogGroupCommand)[0]!.logGroupName,
      fn: inputsOf(mocks.lambda, CreateFunctionCommand)[0]!.FunctionName,
      rule: inputsOf(mocks.iot, CreateTopicRuleCommand)[0]!.ruleName,
    };
    resetMocks();
    mocks.sns.on(ListSubscriptionsCommand).resolves({
      Subscriptions: [
        { SubscriptionArn: `${TOPIC_ARN}:sub-1`, Protocol: 'lambda', Endpoint: FUNCTION_ARN, TopicArn: TOPIC_ARN },
        { SubscriptionArn: `${TOPIC_ARN}:sub-2`, Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: TOPIC_ARN },
      ],
    });
    mocks.sns.on(UnsubscribeCommand).resolves({});
    mocks.iot.on(DeleteTopicRuleCommand).resolves({});
    mocks.lambda.on(DeleteFunctionCommand).resolves({});
    mocks.logs.on(DeleteLogGroupCommand).resolves({});
    mocks.iam.on(DeleteRolePolicyCommand).resolves({});
    mocks.iam.on(DeleteRoleCommand).resolves({});
    const d = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'disable'], d.deps)).toBe(0);
    expect(mocks.sns.commandCalls(UnsubscribeCommand).map((c) => c.args[0].input.SubscriptionArn)).toEqual([`${TOPIC_ARN}:sub-1`]);
    expect(inputsOf(mocks.iot, DeleteTopicRuleCommand)[0]!.ruleName).toBe(made.rule);
    expect(inputsOf(mocks.lambda, DeleteFunctionCommand)[0]!.FunctionName).toBe(made.fn);
    expect(inputsOf(mocks.logs, DeleteLogGroupCommand)[0]!.logGroupName).toBe(made.logGroup);
    expect(inputsOf(mocks.iam, DeleteRolePolicyCommand)[0]!).toEqual({
      RoleName: made.role,
      PolicyName: 'isolate-things',
    });
    expect(inputsOf(mocks.iam, DeleteRoleCommand)[0]!.RoleName).toBe(made.role);
    expect(d.text()).toContain('thing group defender-quarantine and its members stay');
  });

  it('disable after a half-done enable skips what is not there; --keep-logs keeps the log group', async () => {
    mocks.sns.on(ListSubscriptionsCommand).resolves({ Subscriptions: [] });
    mocks.iot.on(DeleteTopicRuleCommand).resolves({});
    mocks.lambda.on(DeleteFunctionCommand).rejects(notFound('Function not found'));
    mocks.iam.on(DeleteRolePolicyCommand).rejects(awsError('NoSuchEntityException', 'no such policy', 404));
    mocks.iam.on(DeleteRoleCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'disable', '--keep-logs'], h.deps)).toBe(0);
    expect(h.text()).toContain('function defender-quarantine-isolate: not there');
    expect(mocks.logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
  });

  it('status shows the function, the rule and the subscriptions', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves({
      Configuration: {
        State: 'Active',
        LastUpdateStatus: 'Successful',
        Runtime: 'nodejs24.x',
        Environment: {
          Variables: { QUARANTINE_GROUP: 'defender-quarantine', QUARANTINE_SHADOW: 'defender-quarantine', QUARANTINE_BEHAVIORS: '*' },
        },
      },
    });
    mocks.iot.on(GetTopicRuleCommand).resolves({ rule: { ruleName: 'defender_quarantine_isolate', sql: 'SELECT 1', ruleDisabled: false } });
    mocks.sns.on(ListSubscriptionsCommand).resolves({
      Subscriptions: [{ SubscriptionArn: 's', Protocol: 'lambda', Endpoint: FUNCTION_ARN, TopicArn: TOPIC_ARN }],
    });
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'status'], h.deps)).toBe(0);
    expect(h.text()).toContain(
      'function defender-quarantine-isolate: Active (last update Successful), nodejs24.x, group defender-quarantine',
    );
    expect(h.text()).toContain('topic rule defender_quarantine_isolate: enabled, SELECT 1');
    expect(h.text()).toContain(`subscribed to: ${TOPIC_ARN}`);
    expect(h.text()).toContain('automatic isolation: on');
  });

  it('status says off when the function is not there', async () => {
    mocks.lambda.on(GetFunctionCommand).rejects(notFound('Function not found'));
    mocks.iot.on(GetTopicRuleCommand).rejects(awsError('UnauthorizedException', 'no rule', 401));
    mocks.sns.on(ListSubscriptionsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'auto', 'status'], h.deps)).toBe(0);
    expect(h.text()).toContain('automatic isolation: off');
  });
});

describe('quarantine release and status --thing', () => {
  it('release also clears the shadow and notes the release time where the device cannot write', async () => {
    mocks.iot.on(RemoveThingFromThingGroupCommand).resolves({});
    mocks.iot.on(UpdateThingCommand).resolves({});
    mocks.iotData.on(UpdateThingShadowCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'release', '--thing', 'core-1'], h.deps)).toBe(0);
    const releasedAt = Date.parse('2025-01-01T00:00:00Z');
    expect(inputsOf(mocks.iot, UpdateThingCommand)[0]!).toEqual({
      thingName: 'core-1',
      attributePayload: { attributes: { defenderQuarantineReleasedAt: String(releasedAt) }, merge: true },
    });
    const update = inputsOf(mocks.iotData, UpdateThingShadowCommand)[0]!;
    expect(update.shadowName).toBe('defender-quarantine');
    const reported = JSON.parse(Buffer.from(update.payload as Uint8Array).toString('utf8')).state.reported;
    expect(reported).toMatchObject({ quarantined: false, behavior: null, violationId: null, violationEventTime: null, releasedAt });
  });

  it('status --thing shows membership, the shadow and the alarm that caused it', async () => {
    mocks.iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [{ groupName: 'defender-quarantine' }] });
    const record = {
      quarantined: true,
      quarantineGroup: 'defender-quarantine',
      behavior: 'only-ssh-and-mqtt',
      violationId: '0b6f3c1e-8d2a-4f4b-9b7e-5a1c2d3e4f50',
      securityProfileName: 'defender-agent-edge',
      violationEventTime: Date.parse('2026-12-01T10:00:00Z'),
      source: 'edge-alarm-rule',
      isolatedAt: Date.parse('2026-12-01T10:00:02Z'),
    };
    // The SDK hands the payload over as bytes; the mock's type wants its blob adapter.
    mocks.iotData
      .on(GetThingShadowCommand)
      .resolves({ payload: Buffer.from(JSON.stringify({ state: { reported: record }, version: 1 })) as never });
    mocks.iot.on(DescribeThingCommand).resolves({ attributes: {} });
    const h = harness(makeProject());
    expect(await run(['quarantine', 'status', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(h.lines).toContain('core-1: IN quarantine group defender-quarantine');
    expect(h.lines).toContain(
      '  shadow defender-quarantine: isolated 2026-12-01T10:00:02.000Z for behavior only-ssh-and-mqtt, violation 0b6f3c1e-8d2a-4f4b-9b7e-5a1c2d3e4f50 at 2026-12-01T10:00:00.000Z (profile defender-agent-edge), from edge-alarm-rule',
    );
  });

  it('status --thing of a thing never isolated', async () => {
    mocks.iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [] });
    mocks.iotData.on(GetThingShadowCommand).rejects(notFound('No shadow exists'));
    mocks.iot.on(DescribeThingCommand).resolves({ attributes: { defenderQuarantineReleasedAt: '1733011200000' } });
    const h = harness(makeProject());
    expect(await run(['quarantine', 'status', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(h.lines).toContain('core-1: not in defender-quarantine');
    expect(h.lines).toContain('  shadow defender-quarantine: no quarantine record');
    expect(h.lines).toContain('  last released 2024-12-01T00:00:00.000Z');
  });
});

describe('what the shadow says is shown, never obeyed', () => {
  it('a shadow value with a line break or an escape sequence prints as inert text on one line', async () => {
    mocks.iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [] });
    const record = {
      quarantined: true,
      quarantineGroup: 'defender-quarantine',
      behavior: 'x\nshadow defender-quarantine: no quarantine record\u001b]52;c;ZWNobw==\u0007',
      violationId: 'v-1',
      violationEventTime: 1,
      source: 'edge-alarm-rule',
      isolatedAt: 2,
    };
    mocks.iotData.on(GetThingShadowCommand).resolves({ payload: Buffer.from(JSON.stringify({ state: { reported: record } })) as never });
    mocks.iot.on(DescribeThingCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'status', '--thing', 'core-1'], h.deps)).toBe(0);
    const shadowLines = h.lines.filter((line) => line.includes('shadow defender-quarantine'));
    expect(shadowLines).toHaveLength(1);
    expect(shadowLines[0]).toContain('for behavior x\\x0ashadow defender-quarantine: no quarantine record\\x1b]52;c;ZWNobw==\\x07');
  });
});
