import { ListActiveViolationsCommand } from '@aws-sdk/client-iot';
import { run } from '../../../scripts/gg/cli';
import { harness, makeProject, mocks, totalCalls } from './helpers';

describe('region resolution', () => {
  it('follows the SDK chain, not gdk-config.json, outside publish, and says which region it uses', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [] });
    // gdk-config.json says us-east-1; the harness's SDK chain (as AWS_REGION would) says eu-west-1.
    const h = harness(makeProject({ region: 'us-east-1' }));
    const asked: (string | undefined)[] = [];
    const createClients = h.deps.createClients;
    h.deps.createClients = (region) => {
      asked.push(region);
      return createClients(region);
    };
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(asked).toEqual([undefined]);
    expect(h.lines[0]).toBe('region: eu-west-1 (from AWS_REGION / profile)');
  });

  it('--region wins and is named as the source', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [] });
    const h = harness(makeProject({ region: 'us-east-1' }));
    expect(await run(['violations', '--thing', 'core-1', '--region', 'ap-south-1'], h.deps)).toBe(0);
    expect(h.lines[0]).toBe('region: ap-south-1 (from --region)');
  });

  it('publish follows gdk-config.json publish.region as gdk does', async () => {
    const h = harness(makeProject({ region: 'us-east-1' }));
    await run(['publish', '--dry-run'], h.deps);
    expect(h.lines[0]).toBe('region: us-east-1 (from gdk-config.json publish.region)');
  });

  it('refuses a malformed region name before any AWS call', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--region', 'eu-west'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('is not an AWS region name');
    expect(totalCalls()).toBe(0);
  });
});

describe('--dry-run --account', () => {
  it('prints every request as an AWS CLI command for that account', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--dry-run', '--account', '111122223333'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const create = h.lines.find((line) => line.startsWith('aws iot create-security-profile '))!;
    expect(create).toMatch(/^aws iot create-security-profile --region eu-west-1 --cli-input-json '\{.*\}'$/);
    const json = JSON.parse(create.slice(create.indexOf("'") + 1, -1));
    expect(json.securityProfileName).toBe('com-example-TestAgent-metrics');
    expect(h.lines).toContain(
      `aws iot attach-security-profile --region eu-west-1 --cli-input-json '${JSON.stringify({
        securityProfileName: 'com-example-TestAgent-metrics',
        securityProfileTargetArn: 'arn:aws:iot:eu-west-1:111122223333:thinggroup/fleet',
      })}'`,
    );
  });

  it('refuses --account without --dry-run, before any AWS call', async () => {
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--account', '111122223333'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('--account only applies with --dry-run');
    expect(totalCalls()).toBe(0);
  });

  it('refuses an account id that is not 12 digits', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--dry-run', '--account', '1234'], h.deps)).toBe(2);
    expect(h.errors[0]).toContain('--account "1234" must be a 12-digit AWS account id');
  });
});
