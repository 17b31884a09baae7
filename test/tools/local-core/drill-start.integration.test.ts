/**
 * `npm start -- --drill listening-port --reports 3 --interval 5` through the built bundle, offline, against the local
 * core: the drill trips its behavior, the alarm is raised, the drill ends, the alarm clears, and the run exits 0.
 */
import path from 'node:path';
import { buildFolder, sharedBuild } from '../../support/built-component';
import { runToExit } from '../../support/run-to-exit';

const PROJECT = path.join(__dirname, '..', '..', '..');

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return runToExit(process.execPath, [path.join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), 'tools/local-core/main.ts', ...args], {
    cwd: PROJECT,
  });
}

describe('npm start -- --drill listening-port', () => {
  it('raises the alarm, clears it after the drill, and exits 0', async () => {
    const componentDir = buildFolder(await sharedBuild());
    const { code, output } = await run(['--drill', 'listening-port', '--reports', '3', '--interval', '5', '--component-dir', componentDir]);
    const lines = output.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const started = at(/WARN {2}DRILL listening-port started: a TCP listener on 127\.0\.0\.1:\d+/);
    const raised = at(/WARN {2}ALARM in-alarm: behavior drill-no-listener/);
    const published = at(/\[alarm\] +in-alarm drill-no-listener on defender-agent\/LocalCoreThing\/alarms/);
    const ended = at(/WARN {2}DRILL listening-port ended: its time is up/);
    const cleared = at(/INFO {2}ALARM alarm-cleared: behavior drill-no-listener/);
    const clearPublished = at(/\[alarm\] +alarm-cleared drill-no-listener on defender-agent\/LocalCoreThing\/alarms/);
    expect(code).toBe(0);
    const found = { started, raised, published, ended, cleared, clearPublished };
    expect(Object.entries(found).filter(([, index]) => index < 0)).toEqual([]);
    expect(started).toBeLessThan(raised);
    expect(raised).toBeLessThan(ended);
    expect(ended).toBeLessThan(cleared);
    expect(lines.some((line) => /\[alarm\] +in-alarm drill-no-listener on local topic defender-agent\/alarms/.test(line))).toBe(true);
    expect(lines.some((line) => /\[denied\]/.test(line))).toBe(false);
  }, 180_000);
});
