/**
 * The `doctor` check for detection at the edge: when the deployed configuration turns on alarms to AWS IoT Core or
 * the metrics sink, the core's certificate must be allowed to publish on those topics too (the nucleus publishes for
 * the component with the core's own connection), or every alarm is dropped by AWS IoT Core.
 */
import { ListThingPrincipalsCommand, TestAuthorizationCommand } from '@aws-sdk/client-iot';
import { type AgentSettings, policyThingName } from './agent-config';
import type { Arns } from './aws';
import { featureAccessControlFor, iotPublishStatement } from './edge-permissions';
import { allPages } from './paginate';
import type { Session } from './session';

export interface EdgePublishCheck {
  name: string;
  ok: boolean;
  detail: string;
  remedy?: string;
}

/** Undefined when no feature publishes to AWS IoT Core (or no certificate is attached: the report check says so). */
export async function checkEdgePublish(
  session: Session,
  arns: Arns,
  thingName: string,
  settings: AgentSettings,
): Promise<EdgePublishCheck | undefined> {
  const features = featureAccessControlFor(session.identity.name, settings, policyThingName(settings, thingName));
  const topics = Object.values(features['aws.greengrass.ipc.mqttproxy'] ?? {}).flatMap((policy) => policy.resources);
  if (topics.length === 0) return undefined;
  const principals = await allPages(
    (nextToken) => session.aws.iot(new ListThingPrincipalsCommand({ thingName, nextToken })),
    (page) => page.principals,
  );
  const certificate = principals.find((p) => p.includes(':cert/')) ?? (session.aws.dryRun ? '<certificate-arn>' : undefined);
  if (!certificate) return undefined;
  const tested = await session.aws.iot(
    new TestAuthorizationCommand({
      principal: certificate,
      clientId: thingName,
      authInfos: [{ actionType: 'PUBLISH', resources: topics.map((topic) => arns.topic(topic)) }],
    }),
  );
  const name = 'certificate may publish alarms and the metrics sink';
  const denied = (tested.authResults ?? []).filter((r) => r.authDecision !== 'ALLOWED');
  if (denied.length > 0) {
    return {
      name,
      ok: false,
      detail: `denied: PUBLISH ${denied.flatMap((r) => r.authInfo?.resources ?? []).join(', ')} (${denied.map((r) => r.authDecision).join(', ')})`,
      remedy: `add to the AWS IoT policy attached to the core's certificate: ${iotPublishStatement(arns, features)}`,
    };
  }
  return { name, ok: true, detail: `publish ${topics.join(', ')}` };
}
