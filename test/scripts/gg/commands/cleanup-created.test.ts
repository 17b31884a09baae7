/**
 * cleanup --edge / --quarantine / --sns-topic (issue 21): what setup-edge, quarantine setup and --create-sns created
 * goes, and only that. The account is a stateful fake that refuses what AWS refuses (a role with policies, a policy
 * still attached), so the order of the requests is checked as well as their shape.
 */
import { ListDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteMitigationActionCommand,
  DeletePolicyCommand,
  DeleteThingGroupCommand,
  DeleteTopicRuleCommand,
  DescribeSecurityProfileCommand,
  DetachPolicyCommand,
  ListTagsForResourceCommand as ListIotTagsCommand,
  ListTargetsForPolicyCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { DeleteTopicCommand, ListTagsForResourceCommand as ListSnsTagsCommand } from '@aws-sdk/client-sns';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, awsError, CREATED_BY, harness, makeProject, mocks, notFound, totalCalls } from '../helpers';

type Tags = { Key: string; Value: string }[];
const BY_HAND: Tags = [];
const OTHER_COMPONENT: Tags = [{ Key: 'gg-created-by', Value: 'com.example.Other' }];

const IOT = `arn:aws:iot:eu-west-1:${ACCOUNT}`;
const GROUP_ARN = `${IOT}:thinggroup/defender-quarantine`;
const EDGE_ROLE = 'com.example.TestAgent-edge-rules-eu-west-1';
const MITIGATION_ROLE = 'defender-quarantine-mitigation-eu-west-1';
const ALERTS_ROLE = 'defender-alarms-alerts-eu-west-1';
const topicArn = (name: string) => `arn:aws:sns:eu-west-1:${ACCOUNT}:${name}`;

interface Role {
  tags: Tags;
  inline: string[];
  managed: string[];
}

/** An account as setup-edge, quarantine setup and setup-defender --create-sns leave it (tags as given). */
class FakeAccount {
  rules = new Map<string, Tags>();
  actions = new Map<string, Tags>();
  groups = new Map<string, { tags: Tags; members: string[] }>();
  policies = new Map<string, { tags: Tags; targets: string[] }>();
  roles = new Map<string, Role>();
  topics = new Map<string, Tags>();
  /** How many more DeletePolicy calls answer as AWS does within five minutes of a detach. */
  policyDeleteDelays = 0;

  constructor(tags: Tags) {
    this.rules.set('com_example_TestAgent_alarms', tags);
    this.rules.set('com_example_TestAgent_metrics', tags);
    this.actions.set('defender-quarantine-add-thing', tags);
    this.groups.set('defender-quarantine', { tags, members: [] });
    this.policies.set('defender-quarantine-deny-all', { tags, targets: [GROUP_ARN] });
    this.roles.set(EDGE_ROLE, { tags, inline: ['edge-rule-actions'], managed: [] });
    this.roles.set(MITIGATION_ROLE, {
      tags,
      inline: [],
      managed: ['arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction'],
    });
    this.roles.set(ALERTS_ROLE, { tags, inline: ['publish-defender-alerts'], managed: [] });
    this.topics.set(topicArn('defender-alarms'), tags);
    this.topics.set(topicArn('edge-alarms'), tags);
  }

  empty(): boolean {
    return [this.rules, this.actions, this.groups, this.policies, this.roles, this.topics].every((map) => map.size === 0);
  }

  install(): void {
    const iotTagsOf = (arn: string): Tags | undefined => {
      const [, kind, name] = /^arn:aws:iot:eu-west-1:\d{12}:(rule|mitigationaction|thinggroup|policy)\/(.+)$/.exec(arn) ?? [];
      if (kind === 'rule') return this.rules.get(name!);
      if (kind === 'mitigationaction') return this.actions.get(name!);
      if (kind === 'thinggroup') return this.groups.get(name!)?.tags;
      if (kind === 'policy') return this.policies.get(name!)?.tags;
      return undefined;
    };
    mocks.iot.on(ListIotTagsCommand).callsFake(({ resourceArn }: { resourceArn: string }) => {
      const tags = iotTagsOf(resourceArn);
      if (!tags) throw notFound();
      return { tags };
    });
    mocks.iot.on(DeleteTopicRuleCommand).callsFake(({ ruleName }: { ruleName: string }) => {
      this.rules.delete(ruleName);
      return {};
    });
    mocks.iot.on(DeleteMitigationActionCommand).callsFake(({ actionName }: { actionName: string }) => {
      this.actions.delete(actionName);
      return {};
    });
    mocks.iot.on(ListThingsInThingGroupCommand).callsFake(({ thingGroupName }: { thingGroupName: string }) => {
      const group = this.groups.get(thingGroupName);
      if (!group) throw notFound();
      return { things: group.members };
    });
    mocks.iot.on(ListTargetsForPolicyCommand).callsFake(({ policyName }: { policyName: string }) => {
      const policy = this.policies.get(policyName);
      if (!policy) throw notFound();
      return { targets: policy.targets };
    });
    mocks.iot.on(DetachPolicyCommand).callsFake(({ policyName, target }: { policyName: string; target: string }) => {
      const policy = this.policies.get(policyName);
      if (policy) policy.targets = policy.targets.filter((t) => t !== target);
      return {};
    });
    mocks.iot.on(DeleteThingGroupCommand).callsFake(({ thingGroupName }: { thingGroupName: string }) => {
      this.groups.delete(thingGroupName);
      return {};
    });
    mocks.iot.on(DeletePolicyCommand).callsFake(({ policyName }: { policyName: string }) => {
      const policy = this.policies.get(policyName);
      if (!policy) throw notFound();
      if (policy.targets.length > 0) throw awsError('DeleteConflictException', `${policyName} is attached to ${policy.targets[0]}`, 409);
      if (this.policyDeleteDelays > 0) {
        this.policyDeleteDelays -= 1;
        throw awsError('DeleteConflictException', 'The policy cannot be deleted as the policy is attached to one or more principals', 409);
      }
      this.policies.delete(policyName);
      return {};
    });

    const noSuchRole = (name: string) => awsError('NoSuchEntityException', `The role with name ${name} cannot be found.`, 404);
    const role = (name: string): Role => {
      const found = this.roles.get(name);
      if (!found) throw noSuchRole(name);
      return found;
    };
    mocks.iam
      .on(ListRoleTagsCommand)
      .callsFake(({ RoleName }: { RoleName: string }) => ({ Tags: role(RoleName).tags, IsTruncated: false }));
    mocks.iam.on(ListRolePoliciesCommand).callsFake(({ RoleName }: { RoleName: string }) => ({
      PolicyNames: role(RoleName).inline,
      IsTruncated: false,
    }));
    mocks.iam.on(ListAttachedRolePoliciesCommand).callsFake(({ RoleName }: { RoleName: string }) => ({
      AttachedPolicies: role(RoleName).managed.map((arn) => ({ PolicyArn: arn, PolicyName: arn.split('/').at(-1) })),
      IsTruncated: false,
    }));
    mocks.iam.on(DeleteRolePolicyCommand).callsFake(({ RoleName, PolicyName }: { RoleName: string; PolicyName: string }) => {
      const found = role(RoleName);
      found.inline = found.inline.filter((name) => name !== PolicyName);
      return {};
    });
    mocks.iam.on(DetachRolePolicyCommand).callsFake(({ RoleName, PolicyArn }: { RoleName: string; PolicyArn: string }) => {
      const found = role(RoleName);
      found.managed = found.managed.filter((arn) => arn !== PolicyArn);
      return {};
    });
    mocks.iam.on(DeleteRoleCommand).callsFake(({ RoleName }: { RoleName: string }) => {
      const found = role(RoleName);
      if (found.inline.length || found.managed.length) {
        throw awsError('DeleteConflictException', 'Cannot delete entity, must delete policies first.', 409);
      }
      this.roles.delete(RoleName);
      return {};
    });

    mocks.sns.on(ListSnsTagsCommand).callsFake(({ ResourceArn }: { ResourceArn: string }) => {
      const tags = this.topics.get(ResourceArn);
      if (!tags) throw notFound('Resource does not exist');
      return { Tags: tags };
    });
    mocks.sns.on(DeleteTopicCommand).callsFake(({ TopicArn }: { TopicArn: string }) => {
      this.topics.delete(TopicArn);
      return {};
    });

    // The target has no deployment and no security profile left: only what this file is about remains.
    mocks.greengrass.on(ListDeploymentsCommand).resolves({ deployments: [] });
    mocks.iot.on(DescribeSecurityProfileCommand).rejects(notFound());
  }
}

const EVERYTHING = [
  'cleanup',
  '--group',
  'fleet',
  '--force',
  '--edge',
  '--quarantine',
  '--sns-topic',
  'defender-alarms',
  '--sns-topic',
  'edge-alarms',
];

function deletions(): string[] {
  return [mocks.iot, mocks.iam, mocks.sns].flatMap((mock) =>
    mock
      .calls()
      .map((call) => call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> })
      .filter((command) => /^(Delete|Detach)/.test(command.constructor.name))
      .map((command) => `${command.constructor.name.replace(/Command$/, '')} ${Object.values(command.input).join(' ')}`),
  );
}

describe('cleanup of what the tool created', () => {
  it('removes the tagged rules, quarantine group, policy, action, roles and topics, each in the order AWS requires', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.install();
    const h = harness(makeProject());
    expect(await run(EVERYTHING, h.deps)).toBe(0);
    expect(account.empty()).toBe(true);
    expect(h.errors).toEqual([]);
    // Users of a role first; a role's policies before the role; the policy detached before the group, deleted after it.
    expect(deletions()).toEqual([
      'DeleteTopicRule com_example_TestAgent_alarms',
      'DeleteTopicRule com_example_TestAgent_metrics',
      'DeleteMitigationAction defender-quarantine-add-thing',
      `DetachPolicy defender-quarantine-deny-all ${GROUP_ARN}`,
      'DeleteThingGroup defender-quarantine',
      'DeletePolicy defender-quarantine-deny-all',
      `DeleteRolePolicy ${EDGE_ROLE} edge-rule-actions`,
      `DeleteRole ${EDGE_ROLE}`,
      `DetachRolePolicy ${MITIGATION_ROLE} arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction`,
      `DeleteRole ${MITIGATION_ROLE}`,
      `DeleteRolePolicy ${ALERTS_ROLE} publish-defender-alerts`,
      `DeleteRole ${ALERTS_ROLE}`,
      `DeleteTopic ${topicArn('defender-alarms')}`,
      `DeleteTopic ${topicArn('edge-alarms')}`,
    ]);
    expect(h.lines).toContain(`deleted IAM role ${EDGE_ROLE} (after its inline policy edge-rule-actions)`);
    expect(h.lines).toContain('deleted thing group defender-quarantine');
  });

  it('is idempotent: a second run finds nothing, deletes nothing and succeeds', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.install();
    expect(await run(EVERYTHING, harness(makeProject()).deps)).toBe(0);
    const deletedFirst = deletions().length;
    const again = harness(makeProject());
    expect(await run(EVERYTHING, again.deps)).toBe(0);
    expect(deletions()).toHaveLength(deletedFirst);
    expect(again.lines).toEqual(
      expect.arrayContaining([
        'topic rule com_example_TestAgent_alarms: not there',
        'thing group defender-quarantine: not there',
        `IAM role ${MITIGATION_ROLE}: not there`,
        `SNS topic ${topicArn('edge-alarms')}: not there`,
      ]),
    );
    expect(again.errors).toEqual([]);
  });

  it.each([
    ['made by hand (no tag)', BY_HAND],
    ["another component's tool", OTHER_COMPONENT],
  ])('keeps every resource of those names %s', async (_, tags) => {
    const account = new FakeAccount(tags);
    account.install();
    const h = harness(makeProject());
    expect(await run(EVERYTHING, h.deps)).toBe(0);
    expect(deletions()).toEqual([]);
    expect(account.roles.size).toBe(3);
    expect(account.topics.size).toBe(2);
    expect(h.lines).toContain(
      `kept IAM role ${EDGE_ROLE}: it has no tag gg-created-by=com.example.TestAgent, so this tool did not create it ` +
        '(made by hand, or by a gg from before the tag): delete it yourself if nothing uses it',
    );
    expect(h.lines.filter((line) => line.startsWith('kept '))).toHaveLength(10);
  });

  it('keeps a tagged policy that something else is attached to, and deletes the group it was attached to', async () => {
    const account = new FakeAccount(CREATED_BY);
    const certificate = `${IOT}:cert/abc123`;
    account.policies.get('defender-quarantine-deny-all')!.targets.push(certificate);
    account.install();
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force', '--quarantine'], h.deps)).toBe(0);
    expect(account.groups.size).toBe(0);
    expect(account.policies.get('defender-quarantine-deny-all')!.targets).toEqual([certificate]);
    expect(h.lines).toContain(`kept IoT policy defender-quarantine-deny-all: still attached to ${certificate}`);
  });

  it('never releases quarantined things: a group with members and its policy stay, the rest goes, and it says how to finish', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.groups.get('defender-quarantine')!.members.push('core-1', 'core-2', 'core-3', 'core-4', 'core-5', 'core-6', 'core-7');
    account.install();
    const h = harness(makeProject());
    expect(await run(EVERYTHING, h.deps)).toBe(1);
    expect(account.groups.has('defender-quarantine')).toBe(true);
    expect(account.policies.get('defender-quarantine-deny-all')!.targets).toEqual([GROUP_ARN]);
    expect(account.actions.size).toBe(0);
    expect(account.roles.size).toBe(0);
    expect(account.topics.size).toBe(0);
    expect(h.errors).toEqual([
      'left: thing group defender-quarantine and IoT policy defender-quarantine-deny-all: 7 thing(s) are quarantined in it ' +
        '(core-1, core-2, core-3, core-4, core-5 and 2 more); deleting it would release them. ' +
        'Release each first (npm run gg -- quarantine release --thing T)',
      'next: fix what is named above, then run the same cleanup again: it skips what is already gone',
    ]);

    account.groups.get('defender-quarantine')!.members.length = 0;
    const again = harness(makeProject());
    expect(await run(EVERYTHING, again.deps)).toBe(0);
    expect(account.empty()).toBe(true);
  });

  it('a policy AWS is not ready to delete after the detach is reported as left; the re-run finishes it', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.policyDeleteDelays = 1;
    account.install();
    const h = harness(makeProject());
    expect(await run(EVERYTHING, h.deps)).toBe(1);
    expect([...account.policies.keys()]).toEqual(['defender-quarantine-deny-all']);
    expect(account.groups.size).toBe(0);
    expect(account.roles.size).toBe(0);
    expect(h.errors[0]).toBe(
      'left: IoT policy defender-quarantine-deny-all: The policy cannot be deleted as the policy is attached to one or more ' +
        'principals (AWS IoT can take up to five minutes after a detach before a policy can be deleted)',
    );

    const again = harness(makeProject());
    expect(await run(EVERYTHING, again.deps)).toBe(0);
    expect(account.empty()).toBe(true);
    expect(again.lines).toContain('deleted IoT policy defender-quarantine-deny-all');
  });

  it('a request that fails leaves that resource, names it with the reason, and the others still go', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.install();
    mocks.iam
      .on(DeleteRoleCommand, { RoleName: MITIGATION_ROLE })
      .rejects(awsError('ServiceFailureException', 'Request processing has failed because of an unknown error', 500));
    const h = harness(makeProject());
    expect(await run(EVERYTHING, h.deps)).toBe(1);
    expect([...account.roles.keys()]).toEqual([MITIGATION_ROLE]);
    expect(account.topics.size).toBe(0);
    expect(h.errors).toEqual([
      `left: IAM role ${MITIGATION_ROLE}: Request processing has failed because of an unknown error`,
      'next: fix what is named above, then run the same cleanup again: it skips what is already gone',
    ]);
  });

  it('asks first, listing what it would delete and the tag it goes by; a no sends nothing', async () => {
    const questions: string[] = [];
    const h = harness(makeProject(), {
      confirm: async (question) => {
        questions.push(question);
        return false;
      },
    });
    expect(
      await run(
        EVERYTHING.filter((arg) => arg !== '--force'),
        h.deps,
      ),
    ).toBe(1);
    expect(questions).toEqual(['Proceed? [y/N] ']);
    expect(h.lines).toEqual(
      expect.arrayContaining([
        `  - delete what setup-edge created in eu-west-1: topic rules com_example_TestAgent_alarms, com_example_TestAgent_metrics and IAM role ${EDGE_ROLE}`,
        '  - delete what quarantine setup created in eu-west-1: mitigation action defender-quarantine-add-thing, IoT policy ' +
          'defender-quarantine-deny-all, thing group defender-quarantine (kept while it has members: they would leave quarantine) ' +
          `and IAM role ${MITIGATION_ROLE}`,
        '  - delete SNS topics defender-alarms, edge-alarms in eu-west-1 (every subscription goes with a topic) and their alert roles ' +
          `${ALERTS_ROLE}, edge-alarms-alerts-eu-west-1`,
        '  - of those, only what carries the tag gg-created-by=com.example.TestAgent: a resource made by hand is kept',
        'nothing changed',
      ]),
    );
    expect(totalCalls()).toBe(0);
  });

  it('refuses without a terminal and without --force, touching nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--quarantine'], h.deps)).toBe(1);
    expect(h.errors[0]).toBe('error: cleanup deletes resources and there is no terminal to confirm on');
    expect(totalCalls()).toBe(0);
  });

  it('--rule-name and --role-name name what setup-edge was given', async () => {
    const account = new FakeAccount(CREATED_BY);
    account.rules.set('edge', CREATED_BY);
    account.rules.set('edge_metrics', CREATED_BY);
    account.roles.set('edge-role', { tags: CREATED_BY, inline: ['edge-rule-actions'], managed: [] });
    account.install();
    const h = harness(makeProject());
    expect(
      await run(['cleanup', '--thing', 'core-1', '--force', '--edge', '--rule-name', 'edge', '--role-name', 'edge-role'], h.deps),
    ).toBe(0);
    expect(deletions()).toEqual([
      'DeleteTopicRule edge',
      'DeleteTopicRule edge_metrics',
      'DeleteRolePolicy edge-role edge-rule-actions',
      'DeleteRole edge-role',
    ]);
    expect(account.rules.has('com_example_TestAgent_alarms')).toBe(true);
  });

  it('--quarantine-group names the group quarantine setup was given, its derived names checked before any request', async () => {
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force', '--quarantine', '--quarantine-group', 'iso:lated'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('--group-name gives names AWS would refuse');
    expect(totalCalls()).toBe(0);
  });

  it.each([
    [['--rule-name', 'r'], '--rule-name and --role-name only apply with --edge'],
    [['--role-name', 'r'], '--rule-name and --role-name only apply with --edge'],
    [['--quarantine-group', 'g'], '--quarantine-group only applies with --quarantine'],
    [['--sns-topic', 'a.b'], '--sns-topic "a.b" must be 1-40 characters of a-z A-Z 0-9 _ -'],
  ])('refuses %j before any request', async (flags, message) => {
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force', ...flags], h.deps)).toBe(2);
    expect(h.errors[0]).toBe(`error: ${message}`);
    expect(totalCalls()).toBe(0);
  });
});
