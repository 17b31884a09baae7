import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeReport } from '../../../src/report/encode';
import { DefenderFake } from '../../../tools/local-core/defender-fake';
import { FileThrottle, THROTTLE_FILE } from '../../../tools/local-core/throttle-memory';

const TOPIC = '$aws/things/T1/defender/metrics/json';
const report = encodeReport({ header: { report_id: 1700000000, version: '1.0' }, metrics: {} }, 'json');

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'throttle-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function defender(now: { value: number }): DefenderFake {
  return new DefenderFake({ minIntervalMs: 300_000, now: () => now.value, throttle: new FileThrottle(root) });
}

describe('FileThrottle', () => {
  it('lets a new fake over the same directory remember the last accepted report, so a too-soon one is still caught', () => {
    const now = { value: 1_000_000 };
    expect(defender(now).handle(TOPIC, report)!.status).toBe('ACCEPTED');
    now.value += 60_000;
    const afterRestart = defender(now).handle(TOPIC, report)!;
    expect(afterRestart).toMatchObject({ status: 'REJECTED', tooSoon: true });
    now.value += 240_000;
    expect(defender(now).handle(TOPIC, report)!.status).toBe('ACCEPTED');
  });

  it('starts empty without a file and writes only whole files', () => {
    const throttle = new FileThrottle(root);
    expect(throttle.lastAcceptedAt('T1')).toBeUndefined();
    throttle.remember('T1', 5);
    throttle.remember('T2', 7);
    expect(JSON.parse(fs.readFileSync(path.join(root, THROTTLE_FILE), 'utf8'))).toEqual({ T1: 5, T2: 7 });
    expect(fs.readdirSync(root)).toEqual([THROTTLE_FILE]);
  });

  it('refuses a damaged file instead of forgetting what it held', () => {
    fs.writeFileSync(path.join(root, THROTTLE_FILE), '{"T1":');
    expect(() => new FileThrottle(root)).toThrow();
    fs.writeFileSync(path.join(root, THROTTLE_FILE), '{"T1":"soon"}');
    expect(() => new FileThrottle(root)).toThrow(/T1 has no valid time/);
  });
});
