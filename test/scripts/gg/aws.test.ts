import { CreateDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { AccessDeniedError, Arns, AwsGateway, describeRequest, iamAction, partitionFor } from '../../../scripts/gg/aws';
import type { CliError } from '../../../scripts/gg/errors';
import { awsError, createTestClients, mocks, modelViolations, resetMocks, totalCalls } from './helpers';

function gateway(lines: string[] = [], dryRun = false): AwsGateway {
  return new AwsGateway(createTestClients('eu-west-1'), 'eu-west-1', {
    dryRun,
    out: { info: (l) => lines.push(l), error: (l) => lines.push(l) },
  });
}

describe('model validation of every mocked request', () => {
  it('sees a request that breaks the greengrassv2 model, whichever client sent it', async () => {
    mocks.greengrass.on(CreateDeploymentCommand).resolves({ deploymentId: 'd' });
    await gateway().greengrass(new CreateDeploymentCommand({ targetArn: 'arn:aws:iot:eu-west-1:123456789012:thing/t', tags: {} }));
    expect(modelViolations()).toEqual(['greengrass CreateDeployment.tags: entry count 0 is under the minimum 1']);
    resetMocks(); // the shared afterEach would fail this test for the request it deliberately sent
    expect(modelViolations()).toEqual([]);
  });

  it('sees a dry-run request that breaks the model, though no client received it', async () => {
    await gateway([], true).greengrass(new CreateDeploymentCommand({ targetArn: 'arn:aws:iot:eu-west-1:<account-id>:thing/t', tags: {} }));
    expect(totalCalls()).toBe(0);
    expect(modelViolations()).toEqual(['greengrass (dry run) CreateDeployment.tags: entry count 0 is under the minimum 1']);
    resetMocks();
  });
});

describe('AwsGateway', () => {
  it.each(['ThrottlingException', 'TooManyRequestsException'])(
    'sends a call %s once: the SDK already retried it (one retry layer, not 5 x 5 attempts)',
    async (name) => {
      mocks.greengrass.on(ListDeploymentsCommand).rejects(awsError(name));
      const lines: string[] = [];
      await expect(gateway(lines).greengrass(new ListDeploymentsCommand({}))).rejects.toThrow(
        /ListDeployments is still throttled by AWS after the SDK's retries/,
      );
      expect(mocks.greengrass.commandCalls(ListDeploymentsCommand)).toHaveLength(1);
      expect(lines).toEqual([]);
    },
  );

  it('names the IAM action when AWS denies a call, without retrying', async () => {
    mocks.greengrass.on(CreateDeploymentCommand).rejects(awsError('AccessDeniedException', 'User is not authorized', 403));
    const error = await gateway()
      .greengrass(new CreateDeploymentCommand({ targetArn: 'arn:aws:iot:eu-west-1:123456789012:thing/core-1' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).action).toBe('greengrass:CreateDeployment');
    expect((error as CliError).nextStep).toContain('grant the IAM action greengrass:CreateDeployment');
    expect(mocks.greengrass.calls()).toHaveLength(1);
  });

  it('passes other errors through untouched', async () => {
    mocks.greengrass.on(ListDeploymentsCommand).rejects(awsError('ValidationException', 'bad arn'));
    await expect(gateway().greengrass(new ListDeploymentsCommand({}))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('prints instead of sending in dry-run and assumes lookups find nothing', async () => {
    const lines: string[] = [];
    const aws = gateway(lines, true);
    await expect(aws.greengrass(new ListDeploymentsCommand({ targetArn: 'arn:aws:iot:eu-west-1:123456789012:thing/t' }))).resolves.toEqual(
      {},
    );
    await expect(aws.s3(new (await import('@aws-sdk/client-s3')).HeadBucketCommand({ Bucket: 'b' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(lines[0]).toBe('[dry-run] greengrass ListDeployments {\n  "targetArn": "arn:aws:iot:eu-west-1:123456789012:thing/t"\n}');
    expect(mocks.greengrass.calls()).toHaveLength(0);
    expect(mocks.s3.calls()).toHaveLength(0);
  });
});

describe('request description', () => {
  it('shows an inline recipe as text and other bytes by size', () => {
    const lines = describeRequest('greengrass', 'CreateComponentVersion', { inlineRecipe: Buffer.from('ComponentName: x\n') });
    expect(lines[0]).toContain('"inlineRecipe": "<17 bytes>"');
    expect(lines.slice(1)).toEqual(['[dry-run] inlineRecipe as text:', 'ComponentName: x\n']);
  });

  it('maps operations whose IAM action has another name', () => {
    expect(iamAction('s3', 'HeadBucket')).toBe('s3:ListBucket');
    expect(iamAction('iot', 'TestAuthorization')).toBe('iot:TestAuthorization');
  });
});

describe('ARNs', () => {
  it('uses the partition of the region', () => {
    expect(partitionFor('eu-west-1')).toBe('aws');
    expect(partitionFor('cn-north-1')).toBe('aws-cn');
    expect(partitionFor('us-gov-west-1')).toBe('aws-us-gov');
    expect(new Arns('cn-north-1', '1').thing('T')).toBe('arn:aws-cn:iot:cn-north-1:1:thing/T');
  });

  it('names things, groups, all things, topics and component versions', () => {
    const arns = new Arns('eu-west-1', '123');
    expect(arns.thing('T')).toBe('arn:aws:iot:eu-west-1:123:thing/T');
    expect(arns.thingGroup('G')).toBe('arn:aws:iot:eu-west-1:123:thinggroup/G');
    expect(arns.allRegisteredThings()).toBe('arn:aws:iot:eu-west-1:123:all/registered-things');
    expect(arns.topic('$aws/things/T/x')).toBe('arn:aws:iot:eu-west-1:123:topic/$aws/things/T/x');
    expect(arns.topicFilter('$aws/things/T/x')).toBe('arn:aws:iot:eu-west-1:123:topicfilter/$aws/things/T/x');
    expect(arns.componentVersion('c.N', '1.0.0')).toBe('arn:aws:greengrass:eu-west-1:123:components:c.N:versions:1.0.0');
  });
});
