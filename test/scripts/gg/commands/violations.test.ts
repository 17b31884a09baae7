import { ListActiveViolationsCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { harness, makeProject, mocks, removeProjects, resetMocks, totalCalls } from '../helpers';

beforeEach(resetMocks);
afterEach(removeProjects);

describe('violations', () => {
  it("lists every page of a thing's active violations readably", async () => {
    mocks.iot
      .on(ListActiveViolationsCommand)
      .resolvesOnce({
        activeViolations: [
          {
            thingName: 'core-1',
            securityProfileName: 'rules',
            behavior: { name: 'listening-tcp-ports', metric: 'aws:num-listening-tcp-ports' },
            lastViolationValue: { count: 40 },
            violationStartTime: new Date('2025-01-01T00:00:00Z'),
            lastViolationTime: new Date('2025-01-01T00:05:00Z'),
          },
        ],
        nextToken: 'page-2',
      })
      .resolves({
        activeViolations: [
          {
            thingName: 'core-1',
            securityProfileName: 'rules-ml',
            behavior: { name: 'ml-bytes-out', metric: 'aws:all-bytes-out' },
            lastViolationValue: { count: 123 },
            violationEventAdditionalInfo: { confidenceLevel: 'HIGH' },
            verificationState: 'UNKNOWN',
          },
        ],
      });
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(mocks.iot.commandCalls(ListActiveViolationsCommand).map((c) => c.args[0].input)).toEqual([
      { thingName: 'core-1', nextToken: undefined },
      { thingName: 'core-1', nextToken: 'page-2' },
    ]);
    expect(h.lines).toEqual([
      'region: eu-west-1 (from AWS_REGION / profile)',
      '2 active violation(s):',
      '  core-1: rules / listening-tcp-ports (aws:num-listening-tcp-ports), value 40, since 2025-01-01T00:00:00.000Z, last 2025-01-01T00:05:00.000Z',
      '  core-1: rules-ml / ml-bytes-out (aws:all-bytes-out), value 123, since ?, last ?, ML confidence HIGH, verification UNKNOWN',
    ]);
  });

  it('says so when a profile has none', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [] });
    const h = harness(makeProject());
    expect(await run(['violations', '--profile', 'rules'], h.deps)).toBe(0);
    expect(mocks.iot.commandCalls(ListActiveViolationsCommand)[0]!.args[0].input).toEqual({
      securityProfileName: 'rules',
      nextToken: undefined,
    });
    expect(h.lines).toEqual(['region: eu-west-1 (from AWS_REGION / profile)', 'no active violations for profile rules']);
  });

  it('needs exactly one of --thing and --profile', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'a', '--profile', 'b'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: violations needs exactly one of --thing or --profile');
    expect(totalCalls()).toBe(0);
  });
});
