import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachSecurityProfileCommand,
  CreateCustomMetricCommand,
  CreateSecurityProfileCommand,
  DescribeCustomMetricCommand,
  DescribeSecurityProfileCommand,
} from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { readBehaviorsFile } from '../../../../scripts/gg/behaviors-file';
import { awsError, harness, makeProject, mocks, removeProjects, resetMocks, totalCalls } from '../helpers';

const PROFILE_FILE = join(__dirname, '..', 'fixtures', 'behaviors-profile.json');
const PROFILE = 'com-example-TestAgent-metrics';

beforeEach(() => {
  resetMocks();
  const notFound = awsError('ResourceNotFoundException', 'not found', 404);
  mocks.iot.on(DescribeCustomMetricCommand).rejects(notFound);
  mocks.iot.on(DescribeSecurityProfileCommand).rejects(notFound);
  mocks.iot.on(CreateCustomMetricCommand).resolves({});
  mocks.iot.on(CreateSecurityProfileCommand).resolves({});
  mocks.iot.on(AttachSecurityProfileCommand).resolves({});
});
afterEach(removeProjects);

describe('setup-defender --behaviors-file', () => {
  it("makes the file's behaviors the profile, the ML one in the ML profile, the same file deploy takes", async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--behaviors-file', PROFILE_FILE], h.deps)).toBe(0);

    const created = mocks.iot.commandCalls(CreateSecurityProfileCommand).map((c) => c.args[0].input);
    expect(created.map((p) => p.securityProfileName)).toEqual([PROFILE, `${PROFILE}-ml`]);
    const written = readBehaviorsFile(PROFILE_FILE).cloud;
    expect(created[0]!.behaviors).toEqual(written.filter((b) => b.name !== 'ml-bytes-out'));
    expect(created[1]!.behaviors).toEqual(written.filter((b) => b.name === 'ml-bytes-out'));
    expect(mocks.iot.commandCalls(AttachSecurityProfileCommand)).toHaveLength(2);
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
