import { CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import {
  allModelPatterns,
  assertValidLogsRequest,
  assertValidRequest,
  type ModelService,
  modelPattern,
  operationOf,
  validateRequest,
} from './aws-model-validator';

const THING_ARN = 'arn:aws:iot:eu-west-1:123456789012:thing/core-1';

describe('validateRequest against the vendored AWS models', () => {
  it('accepts a well-formed CreateDeployment', () => {
    expect(
      validateRequest('greengrassv2', 'CreateDeployment', {
        targetArn: THING_ARN,
        components: { 'com.example.Agent': { componentVersion: '1.0.0', configurationUpdate: { merge: '{}', reset: ['/a'] } } },
        deploymentPolicies: { failureHandlingPolicy: 'ROLLBACK', componentUpdatePolicy: { timeoutInSeconds: 60 } },
        tags: { team: 'iot' },
      }),
    ).toEqual([]);
  });

  it('rejects an empty tags map (the model bounds it to 1-200 entries)', () => {
    expect(validateRequest('greengrassv2', 'CreateDeployment', { targetArn: THING_ARN, tags: {} })).toEqual([
      'CreateDeployment.tags: entry count 0 is under the minimum 1',
    ]);
  });

  it('rejects unknown members, missing required members and wrong types', () => {
    const problems = validateRequest('iot', 'CreateSecurityProfile', {
      securityProfileDescription: 42,
      behaviours: [],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('unknown member "behaviours"'),
        'CreateSecurityProfile: required member "securityProfileName" is missing',
        'CreateSecurityProfile.securityProfileDescription: expected a string, got number',
      ]),
    );
  });

  it('rejects enum, pattern, length and range violations deep in the request', () => {
    const problems = validateRequest('iot', 'CreateSecurityProfile', {
      securityProfileName: 'bad name',
      behaviors: [
        {
          name: 'x'.repeat(129),
          metric: 'aws:all-bytes-out',
          criteria: { comparisonOperator: 'bigger-than', consecutiveDatapointsToAlarm: 11, value: { count: 1.5 } },
        },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CreateSecurityProfile\.securityProfileName: "bad name" does not match the pattern/),
        'CreateSecurityProfile.behaviors[0].name: length 129 is over the maximum 128',
        expect.stringMatching(/^CreateSecurityProfile\.behaviors\[0\]\.criteria\.comparisonOperator: "bigger-than" is not one of/),
        'CreateSecurityProfile.behaviors[0].criteria.consecutiveDatapointsToAlarm: value 11 is over the maximum 10',
        'CreateSecurityProfile.behaviors[0].criteria.value.count: expected an integer the SDK sends exactly (a number up to 2^53-1 or a bigint), got number',
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('checks timestamps, blobs and lists by their model types', () => {
    expect(validateRequest('iot', 'ListViolationEvents', { startTime: '2025-01-01', endTime: new Date(), maxResults: 251 })).toEqual([
      'ListViolationEvents.startTime: expected a valid Date, got "2025-01-01"',
      'ListViolationEvents.maxResults: value 251 is over the maximum 250',
    ]);
    expect(validateRequest('greengrassv2', 'CreateComponentVersion', { inlineRecipe: 'text' })).toEqual([
      'CreateComponentVersion.inlineRecipe: expected bytes (Uint8Array), got "text"',
    ]);
    expect(validateRequest('s3', 'PutObject', { Bucket: 'b', Key: 'k', Body: 'streamed text is fine' })).toEqual([]);
    expect(validateRequest('sns', 'CreateTopic', { Name: 'alerts', Tags: 'no' })).toEqual(['CreateTopic.Tags: expected a list, got "no"']);
  });

  it('leaves idempotency tokens to the SDK and rejects input to operations that take none', () => {
    expect(
      validateRequest('iot', 'StartDetectMitigationActionsTask', {
        taskId: 'quarantine-1',
        target: { violationIds: ['v-1'] },
        actions: ['quarantine'],
      }),
    ).toEqual([]);
    expect(validateRequest('sts', 'GetCallerIdentity', {})).toEqual([]);
    expect(validateRequest('iot', 'NoSuchOperation', {})).toEqual(['iot has no operation NoSuchOperation']);
  });

  it('throws with the violations listed, also for CloudWatch Logs requests', () => {
    expect(() => assertValidRequest('iot', 'DescribeThing', {})).toThrow(/required member "thingName" is missing/);
    expect(() => assertValidLogsRequest('GetLogEvents', { logGroupName: 'g', logStreamName: 's', limit: 0 })).toThrow(
      /GetLogEvents.limit: value 0 is under the minimum 1/,
    );
    expect(() => assertValidLogsRequest('GetLogEvents', { logGroupName: '/aws/greengrass/x', logStreamName: 's' })).not.toThrow();
  });

  it('bounds integer members to 32 bits', () => {
    const input = (timeoutInSeconds: number) => ({
      targetArn: THING_ARN,
      deploymentPolicies: { componentUpdatePolicy: { timeoutInSeconds } },
    });
    expect(validateRequest('greengrassv2', 'CreateDeployment', input(2 ** 31 - 1))).toEqual([]);
    expect(validateRequest('greengrassv2', 'CreateDeployment', input(2 ** 31))).toEqual([
      'CreateDeployment.deploymentPolicies.componentUpdatePolicy.timeoutInSeconds: 2147483648 does not fit a 32-bit integer',
    ]);
  });

  it('names the operation of an SDK command', () => {
    expect(operationOf(new CreateDeploymentCommand({ targetArn: THING_ARN }))).toBe('CreateDeployment');
  });
});

describe('modelPattern (Java patterns of the models in JavaScript)', () => {
  const services: ModelService[] = ['greengrassv2', 'iot', 's3', 'sts', 'sns', 'iam', 'logs', 'lambda', 'iot-data', 'cloudwatch'];
  it.each(services)('compiles every pattern of the %s model', (service) => {
    for (const pattern of allModelPatterns(service)) expect(() => modelPattern(pattern)).not.toThrow();
  });

  it('matches whole values and translates Java classes', () => {
    expect(modelPattern('[a-zA-Z0-9:_-]+').test('core-1')).toBe(true);
    expect(modelPattern('[a-zA-Z0-9:_-]+').test('core 1')).toBe(false);
    expect(modelPattern('[\\p{Graph}\\x20]*').test('a b~')).toBe(true);
    expect(modelPattern('[\\p{Graph}\\x20]*').test('tab\there')).toBe(false);
    expect(modelPattern('[^\\p{C}]+').test('Zürich')).toBe(true);
    expect(modelPattern('[\\w+=,.@\\:-]*').test('a:b')).toBe(true);
  });
});
