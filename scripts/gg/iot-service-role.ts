/**
 * The IAM roles AWS IoT assumes for Device Defender (to publish alerts to SNS, to run mitigation actions): trusted
 * by iot.amazonaws.com for this account only, as https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-mitigation-actions.html
 * and device-defender-detect-permissions.html show.
 */
import { AttachRolePolicyCommand, CreateRoleCommand, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { type Arns, errorName } from './aws';
import { createdByTags } from './created-by';
import type { Session } from './session';

export interface IotServiceRole {
  roleName: string;
  description: string;
  /** An inline policy (name and document), or an AWS managed policy ARN, or both. */
  inlinePolicy?: { name: string; document: object };
  managedPolicyArn?: string;
}

function iotTrustPolicy(arns: Arns): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': arns.account }, ArnLike: { 'aws:SourceArn': arns.anyIot() } },
      },
    ],
  };
}

/** Creates the role (or reuses one of that name) and puts its permissions; returns its ARN. */
export async function ensureIotServiceRole(session: Session, arns: Arns, role: IotServiceRole): Promise<string> {
  const { aws, out } = session;
  const trust = JSON.stringify(iotTrustPolicy(arns));
  try {
    await aws.iam(
      new CreateRoleCommand({
        RoleName: role.roleName,
        AssumeRolePolicyDocument: trust,
        Description: role.description,
        Tags: createdByTags(session.identity.name),
      }),
    );
    out.info(`${aws.dryRun ? '[dry-run] would create' : 'created'} IAM role ${role.roleName}`);
  } catch (error) {
    if (!['EntityAlreadyExistsException', 'EntityAlreadyExists'].includes(errorName(error))) throw error;
    // A re-run puts the trust back too: an older role (or an edited one) trusts what this region's setup needs.
    await aws.iam(new UpdateAssumeRolePolicyCommand({ RoleName: role.roleName, PolicyDocument: trust }));
    out.info(`IAM role ${role.roleName} exists; updated its trust (AWS IoT in ${arns.region}) and permissions`);
  }
  if (role.inlinePolicy) {
    await aws.iam(
      new PutRolePolicyCommand({
        RoleName: role.roleName,
        PolicyName: role.inlinePolicy.name,
        PolicyDocument: JSON.stringify(role.inlinePolicy.document),
      }),
    );
  }
  if (role.managedPolicyArn) await aws.iam(new AttachRolePolicyCommand({ RoleName: role.roleName, PolicyArn: role.managedPolicyArn }));
  return arns.role(role.roleName);
}
