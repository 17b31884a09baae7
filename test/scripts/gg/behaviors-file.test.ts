import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEdgeBehaviors, readBehaviorsFile } from '../../../scripts/gg/behaviors-file';

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

  it('says which file it cannot read', () => {
    expect(() => readBehaviorsFile(join(dir, 'missing.json'))).toThrow(/--behaviors-file .*missing.json cannot be read/);
  });
});
