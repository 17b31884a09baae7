import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachSecurityProfileCommand, CreateSecurityProfileCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { readBehaviorsFile } from '../../../../scripts/gg/behaviors-file';
import { accountWithoutDefenderSetup } from '../accounts';
import { harness, inputsOf, makeProject, mocks, totalCalls } from '../helpers';

const PROFILE_FILE = join(__dirname, '..', 'fixtures', 'behaviors-profile.json');
const PROFILE = 'com-example-TestAgent-metrics';

beforeEach(accountWithoutDefenderSetup);

describe('setup-defender --behaviors-file', () => {
  it("makes the file's behaviors the profile, the ML one in the ML profile, the same file deploy takes", async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', PROFILE_FILE], h.deps)).toBe(0);

    const created = inputsOf(mocks.iot, CreateSecurityProfileCommand);
    expect(created.map((p) => p.securityProfileName)).toEqual([PROFILE, `${PROFILE}-ml`]);
    const written = readBehaviorsFile(PROFILE_FILE).cloud;
    expect(created[0]!.behaviors).toEqual(written.filter((b) => b.name !== 'ml-bytes-out'));
    expect(created[1]!.behaviors).toEqual(written.filter((b) => b.name === 'ml-bytes-out'));
    expect(mocks.iot.commandCalls(AttachSecurityProfileCommand)).toHaveLength(2);
  });

  it('sends the behaviors in the model\'s field names and types: "Criteria" and numbers written as text are normalized', async () => {
    const root = makeProject();
    const path = join(root, 'loose.json');
    const loose = {
      name: 'ports',
      metric: 'aws:num-listening-tcp-ports',
      suppressAlerts: 'false',
      Criteria: { ComparisonOperator: 'greater-than', value: { count: '5' }, consecutiveDatapointsToAlarm: '2' },
    };
    writeFileSync(path, JSON.stringify([loose]));
    const h = harness(root);
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path], h.deps)).toBe(0);
    const sent = inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!.behaviors;
    const expected = {
      name: 'ports',
      metric: 'aws:num-listening-tcp-ports',
      suppressAlerts: false,
      criteria: { comparisonOperator: 'greater-than', value: { count: 5 }, consecutiveDatapointsToAlarm: 2 },
    };
    expect(sent).toEqual([expected]);
    // The device gets the same behavior, so both evaluate it alike.
    expect(readBehaviorsFile(path).edge).toEqual([expected]);
  });

  it('sends a count beyond 2^53 as a bigint (exact in the SDK request, valid for the model), and prints it exactly in a dry run', async () => {
    const root = makeProject();
    const path = join(root, 'big.json');
    writeFileSync(
      path,
      '[{"name":"out","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"greater-than","value":{"count":9223372036854775807}}}]',
    );
    const h = harness(root);
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path], h.deps)).toBe(0);
    const sent = inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!.behaviors;
    expect(sent?.[0]?.criteria?.value?.count).toBe(9_223_372_036_854_775_807n);

    const dry = harness(root);
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path, '--dry-run'], dry.deps)).toBe(0);
    expect(dry.lines.join('\n')).toContain('"count": 9223372036854775807');
    const cli = harness(root);
    expect(
      await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path, '--dry-run', '--account', '123456789012'], cli.deps),
    ).toBe(0);
    expect(cli.lines.find((l) => l.startsWith('aws iot create-security-profile'))).toContain('"value":{"count":9223372036854775807}');
  });

  it('refuses a value that is neither of the type AWS takes nor text of it, before calling AWS', async () => {
    const root = makeProject();
    const path = join(root, 'bad.json');
    const bad = {
      name: 'ports',
      metric: 'aws:num-listening-tcp-ports',
      criteria: { comparisonOperator: 'greater-than', value: { count: 'five' } },
    };
    writeFileSync(path, JSON.stringify([bad]));
    const h = harness(root);
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path], h.deps)).toBe(2);
    expect(h.errors[0]).toContain(
      'behavior #1.criteria.value.count must be a whole number from 0 to 9223372036854775807, written as digits (a number in exponent form is not exact beyond 2^53) (got "five")',
    );
    expect(totalCalls()).toBe(0);
  });

  it('splits a file with cloud-side metrics: the profile gets every behavior, the device only what it measures', async () => {
    const root = makeProject();
    const path = join(root, 'mixed.json');
    const device = {
      name: 'ports',
      metric: 'aws:num-listening-tcp-ports',
      criteria: { comparisonOperator: 'greater-than', value: { count: 5 } },
    };
    const cloud = {
      name: 'auth-failures',
      metric: 'aws:num-authorization-failures',
      criteria: { comparisonOperator: 'greater-than', value: { count: 5 }, durationSeconds: 300 },
    };
    writeFileSync(path, JSON.stringify({ behaviors: [device, cloud] }));
    const h = harness(root);
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', path], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, CreateSecurityProfileCommand)[0]!.behaviors).toEqual([device, cloud]);
    const read = readBehaviorsFile(path);
    expect(read.edge).toEqual([device]);
    expect(read.cloudOnly).toEqual(['auth-failures (cloud-side metric)']);
  });

  it('refuses threshold flags the file would silently override, before calling AWS', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', PROFILE_FILE, '--bytes-out', '5'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: --bytes-out does not apply with --behaviors-file: the file defines the behaviors');
    expect(totalCalls()).toBe(0);
  });

  it('names custom metrics the file watches that it was not told to register', async () => {
    const h = harness(makeProject());
    const file = join(makeProject(), 'profile.json');
    writeFileSync(
      file,
      JSON.stringify([{ name: 'cpu-high', metric: 'cpu', criteria: { comparisonOperator: 'greater-than', value: { number: 90 } } }]),
    );
    expect(await run(['setup-defender', '--all-things', '--behaviors-file', file], h.deps)).toBe(0);
    expect(h.text()).toContain('the behaviors file watches custom metrics not given here: cpu; they must be registered already');
    expect(mocks.iot.commandCalls(CreateSecurityProfileCommand)).toHaveLength(1);
  });
});
