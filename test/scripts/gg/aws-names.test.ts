import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NAME_SHAPES, nameProblem } from '../../../scripts/gg/aws-names';
import { run } from '../../../scripts/gg/cli';
import { harness, makeProject, totalCalls } from './helpers';

const MODELS = join(__dirname, '..', '..', 'support', 'aws-models');

function modelShape(service: string, shape: string): { pattern?: string; min?: number; max?: number } {
  const dir = join(MODELS, service);
  const version = readdirSync(dir).find((entry) => /^\d{4}-\d{2}-\d{2}$/.test(entry))!;
  const model = JSON.parse(gunzipSync(readFileSync(join(dir, version, 'service-2.json.gz'))).toString('utf8')) as {
    shapes: Record<string, { pattern?: string; min?: number; max?: number }>;
  };
  return model.shapes[shape]!;
}

describe('the derived-name table', () => {
  it.each(Object.entries(NAME_SHAPES))('%s copies its shape in the vendored AWS model', (_key, shape) => {
    const [service, name] = shape.model.split(' ') as [string, string];
    const model = modelShape(service, name);
    // The models' patterns are unanchored Java regexes that must match the whole value.
    expect(shape.pattern.source).toBe(`^${model.pattern!.replace(/^\^/, '').replace(/\$$/, '')}$`);
    expect(shape.max).toBe(model.max);
    expect(shape.min).toBe(model.min ?? 1);
  });

  it('names what is wrong', () => {
    expect(nameProblem(NAME_SHAPES.iamRole, 'a'.repeat(65))).toBe('1-64 characters (it has 65)');
    expect(nameProblem(NAME_SHAPES.mitigationAction, 'iso:lated-add-thing')).toBe('only a-z A-Z 0-9 _ -');
    expect(nameProblem(NAME_SHAPES.thingGroup, 'iso:lated')).toBeUndefined();
  });
});

describe('quarantine --group-name: every derived name is checked before the first request', () => {
  it.each([
    [
      'a colon, valid in a thing group name only',
      'iso:lated',
      /the IoT policy name "iso:lated-deny-all" needs only a-z .*the mitigation action name "iso:lated-add-thing" needs only/,
    ],
    [
      '54 characters: the role name passes 64',
      'q'.repeat(54),
      /the IAM role name "q{54}-mitigation-eu-west-1" needs 1-64 characters \(it has 75\)/,
    ],
  ])('%s', async (_what, group, message) => {
    for (const argv of [
      ['quarantine', 'setup', '--group-name', group, '--dry-run'],
      ['quarantine', 'setup', '--group-name', group],
      ['quarantine', 'apply', '--group-name', group, '--thing', 'core-1'],
    ]) {
      const h = harness(makeProject());
      expect(await run(argv, h.deps)).toBe(2);
      expect(h.errors[0]).toMatch(message);
      expect(h.lines.filter((line) => line.startsWith('[dry-run]'))).toEqual([]);
      expect(totalCalls()).toBe(0);
    }
  });

  it('a name whose every derived name fits is accepted', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', 'setup', '--group-name', 'q'.repeat(30), '--dry-run'], h.deps)).toBe(0);
  });
});
