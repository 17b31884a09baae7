/**
 * The roles AWS IoT assumes are global in IAM but serve one region: setting up a second region must leave the first
 * region's alarms flowing. A stateful fake IAM keeps each role's trust and policies across two runs.
 */
import {
  AttachRolePolicyCommand,
  type AttachRolePolicyCommandInput,
  CreateRoleCommand,
  type CreateRoleCommandInput,
  PutRolePolicyCommand,
  type PutRolePolicyCommandInput,
  UpdateAssumeRolePolicyCommand,
  type UpdateAssumeRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import {
  AttachPolicyCommand,
  CreateMitigationActionCommand,
  type CreateMitigationActionCommandInput,
  CreatePolicyCommand,
  CreateThingGroupCommand,
  CreateTopicRuleCommand,
} from '@aws-sdk/client-iot';
import { CreateTopicCommand, type CreateTopicCommandInput } from '@aws-sdk/client-sns';
import { run } from '../../../scripts/gg/cli';
import { ACCOUNT, awsError, harness, makeProject, mocks } from './helpers';

interface FakeRole {
  trust: { Statement: { Condition: { ArnLike: { 'aws:SourceArn': string } } }[] };
  inline: Map<string, { Statement: { Action: string; Resource: string }[] }>;
  managed: Set<string>;
}

function fakeIam(): Map<string, FakeRole> {
  const roles = new Map<string, FakeRole>();
  mocks.iam.on(CreateRoleCommand).callsFake((input: CreateRoleCommandInput) => {
    if (roles.has(input.RoleName!)) throw awsError('EntityAlreadyExistsException', 'exists', 409);
    roles.set(input.RoleName!, { trust: JSON.parse(input.AssumeRolePolicyDocument!), inline: new Map(), managed: new Set() });
    return {};
  });
  mocks.iam.on(UpdateAssumeRolePolicyCommand).callsFake((input: UpdateAssumeRolePolicyCommandInput) => {
    roles.get(input.RoleName!)!.trust = JSON.parse(input.PolicyDocument!);
    return {};
  });
  mocks.iam.on(PutRolePolicyCommand).callsFake((input: PutRolePolicyCommandInput) => {
    roles.get(input.RoleName!)!.inline.set(input.PolicyName!, JSON.parse(input.PolicyDocument!));
    return {};
  });
  mocks.iam.on(AttachRolePolicyCommand).callsFake((input: AttachRolePolicyCommandInput) => {
    roles.get(input.RoleName!)!.managed.add(input.PolicyArn!);
    return {};
  });
  return roles;
}

function roleOf(roles: Map<string, FakeRole>, roleArn: string): FakeRole {
  const role = roles.get(roleArn.replace(/^arn:aws:iam::\d{12}:role\//, ''));
  expect(role).toBeDefined();
  return role!;
}

function trustedSource(role: FakeRole): string[] {
  return role.trust.Statement.map((s) => s.Condition.ArnLike['aws:SourceArn']);
}

describe('roles AWS IoT assumes, set up in two regions', () => {
  it('setup-edge --create-sns: each region keeps a role trusted by its AWS IoT that may publish to its topic', async () => {
    const roles = fakeIam();
    mocks.sns.on(CreateTopicCommand).callsFake((input: CreateTopicCommandInput) => ({
      TopicArn: `arn:aws:sns:${region}:${ACCOUNT}:${input.Name}`,
    }));
    mocks.iot.on(CreateTopicRuleCommand).resolves({});
    let region = 'eu-west-1';
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms', '--region', region], harness(makeProject()).deps)).toBe(0);
    region = 'us-east-1';
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms', '--region', region], harness(makeProject()).deps)).toBe(0);

    const [euRule, usRule] = mocks.iot.commandCalls(CreateTopicRuleCommand).map((c) => c.args[0].input.topicRulePayload!.actions![0]!.sns!);
    for (const [rule, where] of [
      [euRule!, 'eu-west-1'],
      [usRule!, 'us-east-1'],
    ] as const) {
      const role = roleOf(roles, rule.roleArn!);
      expect(trustedSource(role)).toEqual([`arn:aws:iot:${where}:${ACCOUNT}:*`]);
      const publish = [...role.inline.values()].flatMap((p) => p.Statement).filter((s) => s.Action === 'sns:Publish');
      expect(publish.map((s) => s.Resource)).toEqual([`arn:aws:sns:${where}:${ACCOUNT}:edge-alarms`]);
      expect(rule.targetArn).toBe(`arn:aws:sns:${where}:${ACCOUNT}:edge-alarms`);
    }
  });

  it('quarantine setup: the mitigation action of each region uses a role its AWS IoT may assume', async () => {
    const roles = fakeIam();
    mocks.iot.on(CreateThingGroupCommand).resolves({});
    mocks.iot.on(CreatePolicyCommand).resolves({});
    mocks.iot.on(AttachPolicyCommand).resolves({});
    mocks.iot.on(CreateMitigationActionCommand).resolves({});
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      expect(await run(['quarantine', 'setup', '--region', region], harness(makeProject()).deps)).toBe(0);
    }
    const actions = mocks.iot.commandCalls(CreateMitigationActionCommand).map((c) => c.args[0].input as CreateMitigationActionCommandInput);
    expect(trustedSource(roleOf(roles, actions[0]!.roleArn!))).toEqual([`arn:aws:iot:eu-west-1:${ACCOUNT}:*`]);
    expect(trustedSource(roleOf(roles, actions[1]!.roleArn!))).toEqual([`arn:aws:iot:ap-southeast-2:${ACCOUNT}:*`]);
  });

  it("a re-run puts a role's trust back when it no longer trusts this region's AWS IoT", async () => {
    const roles = fakeIam();
    mocks.sns.on(CreateTopicCommand).resolves({ TopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:edge-alarms` });
    mocks.iot.on(CreateTopicRuleCommand).resolves({});
    const deps = harness(makeProject()).deps;
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms', '--region', 'eu-west-1'], deps)).toBe(0);
    const role = [...roles.values()][0]!;
    role.trust.Statement[0]!.Condition.ArnLike['aws:SourceArn'] = `arn:aws:iot:us-east-1:${ACCOUNT}:*`;
    expect(await run(['setup-edge', '--create-sns', 'edge-alarms', '--region', 'eu-west-1'], deps)).toBe(0);
    expect(trustedSource(role)).toEqual([`arn:aws:iot:eu-west-1:${ACCOUNT}:*`]);
  });
});
