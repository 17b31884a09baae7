import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecurityProfileCommand, IoTClient } from '@aws-sdk/client-iot';
import { describeEdgeBehaviors, readBehaviorsFile } from '../../../scripts/gg/behaviors-file';
import { parseBehaviors } from '../../../src/config/behaviors';

/** The body the AWS SDK v3 writes for CreateSecurityProfile, captured before anything would be sent. */
async function serializedBody(behaviors: unknown[]): Promise<string> {
  let body = '';
  const client = new IoTClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        body = Buffer.from(request.body as Uint8Array).toString('utf8');
        throw new Error('captured, not sent');
      },
    },
  });
  await expect(client.send(new CreateSecurityProfileCommand({ securityProfileName: 'p', behaviors: behaviors as never }))).rejects.toThrow(
    'captured, not sent',
  );
  client.destroy();
  return body;
}

const PROFILE = join(__dirname, 'fixtures', 'behaviors-profile.json');
let dir: string;

function file(content: string): string {
  const path = join(dir, 'profile.json');
  writeFileSync(path, content);
  return path;
}

const PORTS = {
  name: 'ports',
  metric: 'aws:num-listening-tcp-ports',
  criteria: { comparisonOperator: 'greater-than', value: { count: 5 } },
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'behaviors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readBehaviorsFile', () => {
  it('keeps every behavior for the cloud and the static ones for the device, naming what only the cloud evaluates', () => {
    const read = readBehaviorsFile(PROFILE);
    expect(read.cloud.map((b) => b.name)).toEqual(['listening-ports', 'unexpected-port', 'bytes-out-p99', 'ml-bytes-out']);
    expect(read.edge.map((b) => (b as { name: string }).name)).toEqual(['listening-ports', 'unexpected-port']);
    expect(read.cloudOnly).toEqual(['bytes-out-p99 (statisticalThreshold)', 'ml-bytes-out (mlDetectionConfig)']);
    expect(describeEdgeBehaviors(read)).toBe(
      'behaviors evaluated on the device: listening-ports, unexpected-port; left out, evaluated in the cloud only (they compare against the fleet or watch what AWS IoT measures): bytes-out-p99 (statisticalThreshold), ml-bytes-out (mlDetectionConfig)',
    );
  });

  it('takes a bare list as well and passes it on as written', () => {
    expect(readBehaviorsFile(file(JSON.stringify([PORTS])))).toEqual({ cloud: [PORTS], edge: [PORTS], cloudOnly: [] });
  });

  it("refuses what the agent's parser refuses, with its reason", () => {
    const wrongOperator = { ...PORTS, criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } };
    expect(() => readBehaviorsFile(file(JSON.stringify([wrongOperator])))).toThrow(/the device would refuse these behaviors: behaviors: /);
    expect(() => readBehaviorsFile(file(JSON.stringify([PORTS, PORTS])))).toThrow(/used twice/);
  });

  it.each([
    ['{not json', /is not valid JSON/],
    ['{"behaviors": {}}', /must hold a JSON list of behaviors/],
    ['[{"metric": "aws:num-listening-tcp-ports"}]', /behavior #1 must be an object with a "name"/],
  ])('refuses %j', (content, message) => {
    expect(() => readBehaviorsFile(file(content))).toThrow(message);
  });

  it('keeps a count up to 2^63-1 exact: in the request the AWS SDK writes, and in the device copy as digits', async () => {
    const big = (count: string) =>
      `[{"name":"out","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"greater-than","value":{"count":${count}}}}]`;
    for (const written of ['9223372036854775807', '"9223372036854775807"']) {
      const read = readBehaviorsFile(file(big(written)));
      expect(await serializedBody(read.cloud)).toContain('"value":{"count":9223372036854775807}');
      expect(JSON.stringify(read.edge)).toContain('"value":{"count":"9223372036854775807"}');
      // The device reads that copy back to the same count.
      expect(parseBehaviors(JSON.parse(JSON.stringify(read.edge)))[0]?.criteria?.value.count).toBe(9_223_372_036_854_775_807n);
    }
    const small = readBehaviorsFile(file(big('5')));
    expect(small.cloud[0]?.criteria?.value?.count).toBe(5);
    expect(await serializedBody(small.cloud)).toContain('"value":{"count":5}');
  });

  it('refuses a count it cannot send exactly, saying what it takes', () => {
    const big = (count: string) =>
      `[{"name":"out","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"greater-than","value":{"count":${count}}}}]`;
    expect(() => readBehaviorsFile(file(big('9223372036854775808')))).toThrow(
      /behavior #1\.criteria\.value\.count must be a whole number from 0 to 9223372036854775807, written as digits .*\(got 9223372036854775808\)/,
    );
    expect(() => readBehaviorsFile(file(big('1e19')))).toThrow(/count must be a whole number from 0 to 9223372036854775807/);
  });

  it('says which file it cannot read', () => {
    expect(() => readBehaviorsFile(join(dir, 'missing.json'))).toThrow(/--behaviors-file .*missing.json cannot be read/);
  });
});
