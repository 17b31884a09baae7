/**
 * Read-modify-write of a target's deployment. A new CreateDeployment replaces the target's previous
 * revision and uninstalls every component it leaves out, so each change starts from the latest one.
 */
import {
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  type ComponentDeploymentSpecification,
  type CreateDeploymentRequest,
  type DeploymentIoTJobConfiguration,
  type DeploymentPolicies,
} from '@aws-sdk/client-greengrassv2';
import { allPages } from './paginate';
import type { Session } from './session';

export interface CurrentDeployment {
  deploymentId: string;
  deploymentName: string | undefined;
  components: Record<string, ComponentDeploymentSpecification>;
  deploymentPolicies: DeploymentPolicies | undefined;
  iotJobConfiguration: DeploymentIoTJobConfiguration | undefined;
  tags: Record<string, string> | undefined;
}

export async function readCurrentDeployment(session: Session, targetArn: string): Promise<CurrentDeployment | undefined> {
  const listed = await allPages(
    (nextToken) => session.aws.greengrass(new ListDeploymentsCommand({ targetArn, historyFilter: 'LATEST_ONLY', nextToken })),
    (page) => page.deployments,
  );
  const deployments = listed.filter((d) => d.targetArn === undefined || d.targetArn === targetArn);
  const latest = deployments.find((d) => d.isLatestForTarget) ?? deployments[0];
  if (!latest?.deploymentId) return undefined;
  const current = await session.aws.greengrass(new GetDeploymentCommand({ deploymentId: latest.deploymentId }));
  return {
    deploymentId: latest.deploymentId,
    deploymentName: current.deploymentName,
    components: current.components ?? {},
    deploymentPolicies: current.deploymentPolicies,
    iotJobConfiguration: current.iotJobConfiguration,
    tags: current.tags,
  };
}

export function describeKept(current: CurrentDeployment | undefined, ownComponent: string): string {
  if (!current) return 'no current deployment on this target: starting a new one';
  const others = Object.entries(current.components)
    .filter(([name]) => name !== ownComponent)
    .map(([name, spec]) => `${name} ${spec.componentVersion ?? ''}`.trim());
  return `revising deployment ${current.deploymentId}; keeping ${others.length ? others.join(', ') : 'no other components'}`;
}

function isEmpty(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && Object.keys(value).length === 0;
}

/**
 * GetDeployment answers `tags: {}` (and empty job settings) for a target that has none, but CreateDeployment
 * bounds tags to 1-200 entries: copying the empty map back fails with a ValidationException. Empty optional
 * members are omitted; `components` is always sent because an empty map is how the last component is removed.
 */
function withoutEmptyMembers(request: CreateDeploymentRequest): CreateDeploymentRequest {
  return Object.fromEntries(
    Object.entries(request).filter(([name, value]) => (name === 'components' ? value !== undefined : !isEmpty(value))),
  ) as CreateDeploymentRequest;
}

export async function createRevision(session: Session, request: CreateDeploymentRequest): Promise<string> {
  const created = await session.aws.greengrass(new CreateDeploymentCommand(withoutEmptyMembers(request)));
  if (!created.deploymentId) throw new Error('CreateDeployment returned no deploymentId');
  return created.deploymentId;
}
