/** Arrange and read-back for the deploy tests: a published version, the target's latest deployment, what was sent. */
import {
  type CreateDeploymentCommandInput,
  CreateDeploymentCommand,
  DescribeComponentCommand,
  type GetDeploymentCommandOutput,
  GetDeploymentCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { COMPONENT, inputsOf, mocks } from './helpers';

/** The component version is DEPLOYABLE and CreateDeployment answers with `deploymentId`. */
export function published(deploymentId = 'new-dep'): void {
  mocks.greengrass.on(DescribeComponentCommand).resolves({ status: { componentState: 'DEPLOYABLE' } });
  mocks.greengrass.on(CreateDeploymentCommand).resolves({ deploymentId });
}

/** The target's latest deployment, which the next revision starts from. */
export function latestDeployment(targetArn: string, deployment: Partial<GetDeploymentCommandOutput>, deploymentId = 'old-dep'): void {
  mocks.greengrass.on(ListDeploymentsCommand).resolves({ deployments: [{ deploymentId, targetArn, isLatestForTarget: true }] });
  mocks.greengrass.on(GetDeploymentCommand, { deploymentId }).resolves(deployment);
}

/** The one CreateDeployment request of the run (the test fails unless exactly one was sent). */
export function sentDeployment(): CreateDeploymentCommandInput {
  const sent = inputsOf(mocks.greengrass, CreateDeploymentCommand);
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

/** The configuration merge the deployment sent for this component, parsed. */
export function sentMerge(): Record<string, unknown> {
  return JSON.parse(sentDeployment().components![COMPONENT]!.configurationUpdate!.merge!);
}
