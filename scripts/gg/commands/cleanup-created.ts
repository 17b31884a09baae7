/**
 * `cleanup --edge / --quarantine / --sns-topic`: removes what setup-edge, quarantine setup and --create-sns created,
 * and only that. A resource is looked up by the name the tool gives it and deleted only when it carries the tool's
 * tag (created-by.ts) with this component's name; one made by hand under the same name has no such tag and is kept.
 * Each resource goes on its own: a failure is reported with what is left, the rest still goes, and a re-run skips
 * what is already gone.
 */
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
  DetachPolicyCommand,
  ListTagsForResourceCommand as ListIotTagsCommand,
  ListTargetsForPolicyCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { DeleteTopicCommand, ListTagsForResourceCommand as ListSnsTagsCommand } from '@aws-sdk/client-sns';
import { type Arns, errorName, isNotFound } from '../aws';
import { createdByLabel, isCreatedBy, type Tag } from '../created-by';
import { ruleArn } from '../isolation-plan';
import { allPages } from '../paginate';
import { alertRoleName } from '../sns-alerts';
import { outcome, type Session } from '../session';
import type { QuarantineNames } from './quarantine';
import { describeError } from '../../../src/util/describe-error';

export interface CreatedResources {
  /** setup-edge: its topic rules and the role they use. */
  edge?: { ruleNames: string[]; roleName: string } | undefined;
  /** quarantine setup: the group, its deny-all policy, the mitigation action and its role. */
  quarantine?: QuarantineNames | undefined;
  /** --create-sns topics (setup-defender's also have an alerts role per region). */
  snsTopics: string[];
}

/** What could not be removed, why, and what lets a re-run finish. */
export interface Leftover {
  what: string;
  why: string;
}

const MEMBERS_SHOWN = 5;

export function createdResourcesPlan(resources: CreatedResources, componentName: string, region: string): string[] {
  const { edge, quarantine, snsTopics } = resources;
  const lines: string[] = [];
  if (edge)
    lines.push(`delete what setup-edge created in ${region}: topic rules ${edge.ruleNames.join(', ')} and IAM role ${edge.roleName}`);
  if (quarantine) {
    lines.push(
      `delete what quarantine setup created in ${region}: mitigation action ${quarantine.action}, IoT policy ${quarantine.policy}, ` +
        `thing group ${quarantine.group} (kept while it has members: they would leave quarantine) and IAM role ${quarantine.role}`,
    );
  }
  if (snsTopics.length) {
    lines.push(
      `delete SNS topics ${snsTopics.join(', ')} in ${region} (every subscription goes with a topic) and their alert roles ` +
        snsTopics.map((topic) => alertRoleName(topic, region)).join(', '),
    );
  }
  if (lines.length) lines.push(`of those, only what carries the tag ${createdByLabel(componentName)}: a resource made by hand is kept`);
  return lines;
}

const isMissing = (error: unknown): boolean =>
  isNotFound(error) || ['NoSuchEntityException', 'NoSuchEntity', 'NotFoundException'].includes(errorName(error));

type Ownership = 'ours' | 'missing' | 'not ours';

/** Whether the tool created the resource; in --dry-run nothing is looked up, so every line says "if it is tagged". */
async function ownership(session: Session, what: string, listTags: () => Promise<Tag[]>): Promise<Ownership> {
  if (session.aws.dryRun) return 'ours';
  let tags: Tag[];
  try {
    tags = await listTags();
  } catch (error) {
    if (!isMissing(error)) throw error;
    session.out.info(`${what}: not there`);
    return 'missing';
  }
  if (isCreatedBy(tags, session.identity.name)) return 'ours';
  session.out.info(
    `kept ${what}: it has no tag ${createdByLabel(session.identity.name)}, so this tool did not create it (made by hand, or by a gg ` +
      'from before the tag): delete it yourself if nothing uses it',
  );
  return 'not ours';
}

function deleted(session: Session, what: string): string {
  return outcome(session, `deleted ${what}`, `delete ${what} if it is tagged ${createdByLabel(session.identity.name)}`);
}

function iotTags(session: Session, resourceArn: string): Promise<Tag[]> {
  return allPages(
    (nextToken) => session.aws.iot(new ListIotTagsCommand({ resourceArn, nextToken })),
    (page) => page.tags,
  );
}

async function removeTopicRule(session: Session, arns: Arns, ruleName: string): Promise<void> {
  const what = `topic rule ${ruleName}`;
  if ((await ownership(session, what, () => iotTags(session, ruleArn(arns, ruleName)))) !== 'ours') return;
  await session.aws.iot(new DeleteTopicRuleCommand({ ruleName }));
  session.out.info(deleted(session, what));
}

async function removeMitigationAction(session: Session, arns: Arns, actionName: string): Promise<void> {
  const what = `mitigation action ${actionName}`;
  if ((await ownership(session, what, () => iotTags(session, arns.mitigationAction(actionName)))) !== 'ours') return;
  await session.aws.iot(new DeleteMitigationActionCommand({ actionName }));
  session.out.info(deleted(session, what));
}

/** IAM deletes a role only once its inline policies are deleted and its managed policies detached. */
async function removeRole(session: Session, roleName: string): Promise<void> {
  const { aws, out } = session;
  const what = `IAM role ${roleName}`;
  const iamPages = <P extends { IsTruncated?: boolean | undefined; Marker?: string | undefined }>(page: P) => ({
    ...page,
    nextToken: page.IsTruncated ? page.Marker : undefined,
  });
  const listTags = () =>
    allPages(
      (marker) => aws.iam(new ListRoleTagsCommand({ RoleName: roleName, Marker: marker })).then(iamPages),
      (page) => page.Tags,
    );
  if ((await ownership(session, what, listTags)) !== 'ours') return;
  const inline = await allPages(
    (marker) => aws.iam(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker })).then(iamPages),
    (page) => page.PolicyNames,
  );
  for (const policyName of inline) await aws.iam(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
  const managed = await allPages(
    (marker) => aws.iam(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker })).then(iamPages),
    (page) => page.AttachedPolicies,
  );
  for (const policy of managed) {
    if (policy.PolicyArn) await aws.iam(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn }));
  }
  await aws.iam(new DeleteRoleCommand({ RoleName: roleName }));
  const detachedNote = [
    ...inline.map((name) => `inline policy ${name}`),
    ...managed.map((p) => `managed policy ${p.PolicyName ?? p.PolicyArn}`),
  ];
  out.info(`${deleted(session, what)}${detachedNote.length ? ` (after its ${detachedNote.join(', ')})` : ''}`);
}

async function removeSnsTopic(session: Session, arns: Arns, topicName: string): Promise<void> {
  const topicArn = arns.snsTopic(topicName);
  const what = `SNS topic ${topicArn}`;
  const listTags = async () => (await session.aws.sns(new ListSnsTagsCommand({ ResourceArn: topicArn }))).Tags ?? [];
  if ((await ownership(session, what, listTags)) !== 'ours') return;
  await session.aws.sns(new DeleteTopicCommand({ TopicArn: topicArn }));
  session.out.info(deleted(session, what));
}

async function policyTargets(session: Session, policyName: string): Promise<string[]> {
  return allPages(
    (marker) =>
      session.aws.iot(new ListTargetsForPolicyCommand({ policyName, marker })).then((page) => ({ ...page, nextToken: page.nextMarker })),
    (page) => page.targets,
  );
}

/**
 * The quarantine group goes only when empty: its deny-all policy is what isolates its members, so neither the group nor
 * the policy is removed while a thing is in it. The policy is detached from the group before the group goes, and
 * deleted last, once nothing else is attached to it.
 */
async function removeQuarantineGroup(session: Session, arns: Arns, names: QuarantineNames, left: Leftover[]): Promise<void> {
  const { aws, out } = session;
  const groupWhat = `thing group ${names.group}`;
  const policyWhat = `IoT policy ${names.policy}`;
  const groupArn = arns.thingGroup(names.group);
  const group = await ownership(session, groupWhat, () => iotTags(session, groupArn));
  if (group === 'ours') {
    const members = await allPages(
      (nextToken) => aws.iot(new ListThingsInThingGroupCommand({ thingGroupName: names.group, nextToken })),
      (page) => page.things,
    );
    if (members.length > 0) {
      const shown = members.slice(0, MEMBERS_SHOWN).join(', ');
      const more = members.length > MEMBERS_SHOWN ? ` and ${members.length - MEMBERS_SHOWN} more` : '';
      left.push({
        what: `${groupWhat} and ${policyWhat}`,
        why:
          `${members.length} thing(s) are quarantined in it (${shown}${more}); deleting it would release them. ` +
          'Release each first (npm run gg -- quarantine release --thing T)',
      });
      return;
    }
  }
  const policy = await ownership(session, policyWhat, () => iotTags(session, arns.iotPolicy(names.policy)));
  let otherTargets: string[] = [];
  if (policy === 'ours' && group === 'ours') {
    const targets = await policyTargets(session, names.policy);
    if (targets.includes(groupArn) || aws.dryRun) {
      await aws.iot(new DetachPolicyCommand({ policyName: names.policy, target: groupArn }));
      out.info(outcome(session, `detached ${names.policy} from ${groupWhat}`, `detach ${names.policy} from ${groupWhat}`));
    }
    otherTargets = targets.filter((target) => target !== groupArn);
  } else if (policy === 'ours') {
    otherTargets = await policyTargets(session, names.policy);
  }
  if (group === 'ours') {
    await aws.iot(new DeleteThingGroupCommand({ thingGroupName: names.group }));
    out.info(deleted(session, groupWhat));
  }
  if (policy !== 'ours') return;
  if (otherTargets.length > 0) {
    out.info(`kept ${policyWhat}: still attached to ${otherTargets.join(', ')}`);
    return;
  }
  try {
    await aws.iot(new DeletePolicyCommand({ policyName: names.policy }));
    out.info(deleted(session, policyWhat));
  } catch (error) {
    if (errorName(error) !== 'DeleteConflictException') throw error;
    // AWS IoT documents up to five minutes between detaching a policy and being able to delete it.
    left.push({
      what: policyWhat,
      why: `${describeError(error)} (AWS IoT can take up to five minutes after a detach before a policy can be deleted)`,
    });
  }
}

/** Removes each resource on its own; returns what is left. */
export async function removeCreated(session: Session, arns: Arns, resources: CreatedResources): Promise<Leftover[]> {
  const left: Leftover[] = [];
  const step = async (what: string, remove: () => Promise<void>) => {
    try {
      await remove();
    } catch (error) {
      left.push({ what, why: describeError(error) });
    }
  };
  const { edge, quarantine, snsTopics } = resources;
  // Users of a role or topic first (rules, the mitigation action), then the roles, then the topics they publish to.
  for (const ruleName of edge?.ruleNames ?? []) await step(`topic rule ${ruleName}`, () => removeTopicRule(session, arns, ruleName));
  if (quarantine) {
    await step(`mitigation action ${quarantine.action}`, () => removeMitigationAction(session, arns, quarantine.action));
    await step(`thing group ${quarantine.group} and IoT policy ${quarantine.policy}`, () =>
      removeQuarantineGroup(session, arns, quarantine, left),
    );
  }
  const roles = [
    ...(edge ? [edge.roleName] : []),
    ...(quarantine ? [quarantine.role] : []),
    ...snsTopics.map((topic) => alertRoleName(topic, arns.region)),
  ];
  for (const roleName of roles) await step(`IAM role ${roleName}`, () => removeRole(session, roleName));
  for (const topic of snsTopics) await step(`SNS topic ${topic}`, () => removeSnsTopic(session, arns, topic));
  return left;
}
