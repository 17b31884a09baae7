/** `setup-defender --create-sns NAME`: the SNS topic alarms go to and the role Device Defender assumes to publish there. */
import { CreateTopicCommand, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { type Arns, errorName, isNotFound } from './aws';
import { createdByTags } from './created-by';
import { ensureIotServiceRole } from './iot-service-role';
import type { Session } from './session';

/** Topic names allow 256 characters; 40 leaves room for the role name's suffix and region within IAM's 64. */
export const SNS_NAME = /^[A-Za-z0-9_-]{1,40}$/;

/** One role per region: it trusts that region's AWS IoT and publishes to that region's topic (IAM itself is global). */
export function alertRoleName(topicName: string, region: string): string {
  return `${topicName}-alerts-${region}`;
}

/**
 * The topic of that name, created (and tagged as the tool's) only when it does not exist yet: a topic made by hand is
 * reused as it is, so cleanup never deletes it.
 */
export async function ensureSnsTopic(session: Session, arns: Arns, topicName: string): Promise<string> {
  const topicArn = arns.snsTopic(topicName);
  try {
    await session.aws.sns(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    session.out.info(`SNS topic ${topicArn} exists; used as it is (not created by this tool, so cleanup keeps it)`);
    return topicArn;
  } catch (error) {
    if (!isNotFound(error) && errorName(error) !== 'NotFoundException') throw error;
  }
  const created = await session.aws.sns(new CreateTopicCommand({ Name: topicName, Tags: createdByTags(session.identity.name) }));
  return created.TopicArn ?? topicArn;
}

export async function createSnsAlerts(session: Session, arns: Arns, topicName: string): Promise<{ topicArn: string; roleArn: string }> {
  const topicArn = await ensureSnsTopic(session, arns, topicName);
  session.out.info(
    `SNS topic ${topicArn} (subscribe to it: aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint <you>)`,
  );
  const roleArn = await ensureIotServiceRole(session, arns, {
    roleName: alertRoleName(topicName, session.aws.region),
    description: `Lets AWS IoT Device Defender publish alarms to SNS topic ${topicName}`,
    inlinePolicy: {
      name: 'publish-defender-alerts',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn }] },
    },
  });
  return { topicArn, roleArn };
}
