/**
 * The function's entry point with the real SDK clients (their send mocked): every request is checked against the
 * vendored iot and iot-data models, an AWS failure is thrown (Lambda retries it, a bounded number of times) and a
 * message that cannot be acted on is not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AddThingToThingGroupCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { mockClient } from 'aws-sdk-client-mock';
import { settingsFromEnv } from '../../../cloud/isolation/settings';
import { operationOf, validateRequest } from '../../support/aws-model-validator';

const iot = mockClient(IoTClient);
const iotData = mockClient(IoTDataPlaneClient);
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
const notFound = () => Object.assign(new Error('not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });

type Handler = (event: unknown) => Promise<{ decisions: string[] }>;

const SETTINGS = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  QUARANTINE_GROUP: 'defender-quarantine',
};
const saved = { ...process.env };
let handler: Handler;

beforeAll(() => {
  // As Lambda starts it: the environment is there before the module loads, and stays.
  Object.assign(process.env, SETTINGS);
  handler = (require('../../../cloud/isolation/handler') as { handler: Handler }).handler;
});
afterAll(() => {
  process.env = saved;
});

function modelViolations(): string[] {
  const problems: string[] = [];
  for (const [service, mock] of [
    ['iot', iot],
    ['iot-data', iotData],
  ] as const) {
    for (const call of mock.calls()) {
      const command = call.args[0] as unknown as { input: unknown };
      problems.push(...validateRequest(service, operationOf(command as never), command.input));
    }
  }
  return problems;
}

let logs: string[];
beforeEach(() => {
  iot.reset();
  iotData.reset();
  logs = [];
  const record = (...line: unknown[]): void => {
    logs.push(line.map(String).join(' '));
  };
  jest.spyOn(console, 'log').mockImplementation(record);
  jest.spyOn(console, 'warn').mockImplementation(record);
  jest.spyOn(console, 'error').mockImplementation(record);
});
afterEach(() => {
  jest.restoreAllMocks();
  expect(modelViolations()).toEqual([]);
});

describe('the isolation function handler', () => {
  it('isolates on an SNS alert with requests the AWS models accept, and logs one line', async () => {
    iot.on(DescribeThingCommand).resolves({ thingName: 'gw-0042', attributes: {} });
    iot.on(AddThingToThingGroupCommand).resolves({});
    iotData.on(GetThingShadowCommand).rejects(notFound());
    iotData.on(UpdateThingShadowCommand).resolves({});
    expect(await handler(fixture('sns-in-alarm.json'))).toEqual({ decisions: ['isolated'] });
    expect(iot.commandCalls(AddThingToThingGroupCommand)[0]!.args[0].input).toEqual({
      thingName: 'gw-0042',
      thingGroupName: 'defender-quarantine',
      overrideDynamicGroups: true,
    });
    const update = iotData.commandCalls(UpdateThingShadowCommand)[0]!.args[0].input;
    expect(update.shadowName).toBe('defender-quarantine');
    expect(JSON.parse(Buffer.from(update.payload as Uint8Array).toString('utf8')).state.reported.violationId).toBe(
      '9f1c2e7a5b3d4c6e8f0a1b2c3d4e5f60',
    );
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^ISOLATED in-alarm of behavior MaxBytesOut on thing gw-0042/);
  });

  it('throws when AWS fails, so Lambda retries the event (a bounded number of times)', async () => {
    iot.on(DescribeThingCommand).resolves({ attributes: {} });
    iot.on(AddThingToThingGroupCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler(fixture('iot-rule-in-alarm.json'))).rejects.toThrow('Rate exceeded');
    expect(logs.some((line) => line.startsWith('FAILED violation 0b6f3c1e-8d2a-4f4b-9b7e-5a1c2d3e4f50 of thing Core1'))).toBe(true);
  });

  it('returns normally on what it must not act on: no retry for an unknown thing or a message that does not parse', async () => {
    iot.on(DescribeThingCommand).rejects(notFound());
    expect(await handler(fixture('iot-rule-in-alarm.json'))).toEqual({ decisions: ['refused'] });
    expect(await handler({ Records: [{ EventSource: 'aws:sns', Sns: { Message: '<html>' } }] })).toEqual({ decisions: ['refused'] });
    expect(await handler(fixture('sns-alarm-cleared.json'))).toEqual({ decisions: ['ignored'] });
    expect(iot.commandCalls(AddThingToThingGroupCommand)).toHaveLength(0);
    expect(iotData.calls()).toHaveLength(0);
  });

  it('refuses to start with a setting it cannot use, naming the variable', () => {
    expect(() => settingsFromEnv({ QUARANTINE_GROUP: '' })).toThrow(/QUARANTINE_GROUP must be a thing group name/);
    expect(() => settingsFromEnv({ QUARANTINE_GROUP: 'g', QUARANTINE_BEHAVIORS: 'a, b c' })).toThrow(/QUARANTINE_BEHAVIORS holds "b c"/);
    expect(settingsFromEnv({ QUARANTINE_GROUP: 'g', QUARANTINE_BEHAVIORS: 'a, b' }).behaviors).toEqual(new Set(['a', 'b']));
  });
});
