/**
 * The detection state file read back after damage: anything that cannot be trusted is refused with a reason and
 * detection starts fresh, never with a half-valid state.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDetectionStateFile, type DetectionState } from '../../src/detect/state-file';

const BOOT = '0f0e0d0c-0b0a-0908-0706-050403020100';
const good = { fingerprint: '["m",{}]', inAlarm: true, violationId: 'abc-1', violating: 2, conforming: 0 };

describe('detection state file', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'detect-state-'));
    path = join(dir, 'detect.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (file: unknown) => {
    writeFileSync(path, typeof file === 'string' ? file : JSON.stringify(file));
    return createDetectionStateFile(path).load();
  };

  it('saves and loads every part of the state as it was', async () => {
    const state: DetectionState = {
      behaviors: {
        b: { ...good, trafficSum: '18446744073709551615', trafficCoveredMs: 300_000 },
        c: { fingerprint: 'x', inAlarm: false, violating: 0, conforming: 3 },
      },
      network: {
        baseline: { bootId: BOOT, interfaces: { eth0: { bytesIn: 2n ** 64n - 1n, bytesOut: 1n, packetsIn: 2n, packetsOut: 3n } } },
        atMs: 1234,
      },
      outbox: [
        {
          event: {
            violationId: 'v',
            thingName: 'Core1',
            securityProfileName: 'p',
            behavior: { name: 'b', metric: 'm' },
            metricValue: { number: 1 },
            violationEventType: 'in-alarm',
            violationEventTime: 1,
          },
          cloudTopic: 'a/b',
          localTopic: 'c',
        },
      ],
      drill: { fingerprint: 'f', endsAtMs: 99 },
    };
    await createDetectionStateFile(path).save(state);
    const loaded = await createDetectionStateFile(path).load();
    expect(loaded.problem).toBeUndefined();
    expect(loaded.state).toEqual(state);
  });

  it('keeps counts beyond 2^53 of an undelivered alarm exact, in the file and read back', async () => {
    const event = {
      violationId: 'v',
      thingName: 'Core1',
      securityProfileName: 'p',
      behavior: {
        name: 'b',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'greater-than' as const, value: { count: 2n ** 53n + 1n } },
      },
      metricValue: { count: 2n ** 64n + 1n },
      violationEventType: 'in-alarm' as const,
      violationEventTime: 1,
    };
    await createDetectionStateFile(path).save({ behaviors: {}, outbox: [{ event, cloudTopic: 'a/b' }] });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"value":{"count":9007199254740993}');
    expect(text).toContain('"metricValue":{"count":18446744073709551617}');
    const loaded = await createDetectionStateFile(path).load();
    expect(loaded.problem).toBeUndefined();
    expect(loaded.state?.outbox[0]?.event).toEqual(event);
  });

  describe('within what load reads (16 MiB)', () => {
    const CAP = 16 * 1024 * 1024;
    /** An undelivered alarm of about 1 MiB: its behavior carries a set of 1,000 strings of 1,000 characters. */
    const entry = (n: number) => ({
      event: {
        violationId: `v-${n}`,
        thingName: 'Core1',
        securityProfileName: 'p',
        behavior: {
          name: 'names',
          metric: 'names',
          criteria: {
            comparisonOperator: 'in-set' as const,
            value: { strings: Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(1000, 'x')) },
          },
        },
        metricValue: { strings: ['y'] },
        violationEventType: 'in-alarm' as const,
        violationEventTime: n,
      },
      cloudTopic: 'a/b',
    });

    it('leaves the oldest undelivered alarms out, says how many, and the file reads back', async () => {
      const outbox = Array.from({ length: 20 }, (_, n) => entry(n));
      const leftOut = await createDetectionStateFile(path).save({ behaviors: { b: good }, outbox });
      expect(leftOut).toBeGreaterThan(3);
      expect(statSync(path).size).toBeLessThanOrEqual(CAP);
      expect(statSync(path).size).toBeGreaterThan(CAP - 1_100_000);
      const loaded = await createDetectionStateFile(path).load();
      expect(loaded.problem).toBeUndefined();
      expect(loaded.state?.outbox.map((e) => e.event.violationId)).toEqual(outbox.slice(leftOut).map((e) => e.event.violationId));
      expect(loaded.state?.behaviors).toEqual({ b: good });
      // The caller drops them too: the same state then fits whole.
      expect(await createDetectionStateFile(path).save({ behaviors: { b: good }, outbox: outbox.slice(leftOut) })).toBe(0);
    });

    it('writes nothing, and says why, when the state does not fit even without its outbox', async () => {
      writeFileSync(path, '{"version":1,"behaviors":{}}\n');
      const huge = { ...good, fingerprint: 'f'.repeat(CAP) };
      await expect(createDetectionStateFile(path).save({ behaviors: { b: huge }, outbox: [entry(1)] })).rejects.toThrow(
        /the detection state is \d+ bytes without undelivered alarms, more than the 16777216 .*detect\.json may hold/,
      );
      expect(readFileSync(path, 'utf8')).toBe('{"version":1,"behaviors":{}}\n');
    });
  });

  it('a missing file is no problem: detection starts fresh quietly', async () => {
    expect(await createDetectionStateFile(path).load()).toEqual({});
  });

  it('an unreadable file is a problem that names it', async () => {
    mkdirSync(path);
    const loaded = await createDetectionStateFile(path).load();
    expect(loaded.state).toBeUndefined();
    expect(loaded.problem).toMatch(/^cannot read .*detect\.json: /);
  });

  const damaged: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{"version":1,', /not a valid detection state file \(.*JSON/],
    ['a JSON list', [], /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['another version', { version: 2, behaviors: {} }, /unsupported version 2/],
    ['no version', { behaviors: {} }, /unsupported version undefined/],
    ['a version beyond 2^53', '{"version":12345678901234567890,"behaviors":{}}', /unsupported version 12345678901234567890\)/],
    ['no behaviors', { version: 1 }, /no behaviors/],
    ['behaviors as a list', { version: 1, behaviors: [] }, /no behaviors/],
    ['behaviors null', { version: 1, behaviors: null }, /no behaviors/],
    ['a behavior state that is not an object', { version: 1, behaviors: { b: 'x' } }, /behavior "b" has an invalid state/],
    ['a behavior state null', { version: 1, behaviors: { b: null } }, /behavior "b"/],
    ['no fingerprint', { version: 1, behaviors: { b: { ...good, fingerprint: 1 } } }, /behavior "b"/],
    ['inAlarm not a boolean', { version: 1, behaviors: { b: { ...good, inAlarm: 'yes' } } }, /behavior "b"/],
    ['a negative streak', { version: 1, behaviors: { b: { ...good, violating: -1 } } }, /behavior "b"/],
    ['a fractional streak', { version: 1, behaviors: { b: { ...good, conforming: 0.5 } } }, /behavior "b"/],
    ['a streak beyond 2^53', { version: 1, behaviors: { b: { ...good, violating: 2 ** 53 } } }, /behavior "b"/],
    ['a streak as text', { version: 1, behaviors: { b: { ...good, conforming: '1' } } }, /behavior "b"/],
    ['a violation id with a quote', { version: 1, behaviors: { b: { ...good, violationId: 'a"b' } } }, /behavior "b"/],
    ['an empty violation id', { version: 1, behaviors: { b: { ...good, violationId: '' } } }, /behavior "b"/],
    ['a violation id of 129 characters', { version: 1, behaviors: { b: { ...good, violationId: 'a'.repeat(129) } } }, /behavior "b"/],
    ['a violation id that is a number', { version: 1, behaviors: { b: { ...good, violationId: 5 } } }, /behavior "b"/],
    [
      'a traffic sum that is not decimal',
      { version: 1, behaviors: { b: { ...good, trafficSum: '1e3', trafficCoveredMs: 1 } } },
      /behavior "b"/,
    ],
    [
      'a traffic sum of 21 digits',
      { version: 1, behaviors: { b: { ...good, trafficSum: '1'.repeat(21), trafficCoveredMs: 1 } } },
      /behavior "b"/,
    ],
    ['a traffic sum as a number', { version: 1, behaviors: { b: { ...good, trafficSum: 5, trafficCoveredMs: 1 } } }, /behavior "b"/],
    ['a traffic sum without its time', { version: 1, behaviors: { b: { ...good, trafficSum: '5' } } }, /behavior "b"/],
    ['a traffic time without its sum', { version: 1, behaviors: { b: { ...good, trafficCoveredMs: 5 } } }, /behavior "b"/],
    ['a negative traffic time', { version: 1, behaviors: { b: { ...good, trafficSum: '5', trafficCoveredMs: -5 } } }, /behavior "b"/],
    ['a silence start that is negative', { version: 1, behaviors: { b: { ...good, silentSinceMs: -1 } } }, /behavior "b"/],
    ['a silence start as text', { version: 1, behaviors: { b: { ...good, silentSinceMs: '5' } } }, /behavior "b"/],
  ];
  it.each(damaged)('%s: refused with a reason, and nothing of it is used', async (_what, file, reason) => {
    const loaded = await load(file);
    expect(loaded.state).toBeUndefined();
    expect(loaded.problem).toMatch(reason);
    expect(loaded.problem).toMatch(/alarm state starts fresh$/);
  });

  it('a violation id of 128 letters, digits and dashes is kept', async () => {
    const id = `${'a-9Z'.repeat(32)}`;
    const loaded = await load({ version: 1, behaviors: { b: { ...good, violationId: id } } });
    expect(loaded.state?.behaviors.b?.violationId).toBe(id);
  });

  it('keeps the silence start of a raised alarm and a traffic sum of 20 digits', async () => {
    const b = { ...good, silentSinceMs: 1_700_000_000_000, trafficSum: '1'.repeat(20), trafficCoveredMs: 0 };
    const loaded = await load({ version: 1, behaviors: { b } });
    expect(loaded.problem).toBeUndefined();
    expect(loaded.state?.behaviors.b).toEqual(b);
  });

  it('names a damaged behavior by at most 40 characters of its name', async () => {
    const loaded = await load({ version: 1, behaviors: { ['n'.repeat(100)]: { inAlarm: 1 } } });
    expect(loaded.problem).toContain(`behavior "${'n'.repeat(40)}" has`);
  });

  it('keeps the usable part of the outbox and of the rest, drops what is damaged', async () => {
    const event = (violationId: unknown, violationEventType: unknown) => ({ violationId, violationEventType });
    const loaded = await load({
      version: 1,
      behaviors: {},
      outbox: [
        { event: event('ok-1', 'in-alarm'), cloudTopic: 'a' },
        { event: event('ok-2', 'alarm-cleared'), localTopic: 'b' },
        { event: event(3, 'in-alarm') },
        { event: event('x', 'raised') },
        { event: null },
        { event: event('x', 'in-alarm'), cloudTopic: 5 },
        { event: event('x', 'in-alarm'), localTopic: false },
        null,
        'entry',
      ],
      network: {
        baseline: {
          bootId: BOOT,
          interfaces: { eth0: { bytesIn: '18446744073709551616', bytesOut: '0', packetsIn: '0', packetsOut: '0' } },
        },
        atMs: 5,
      },
      drill: { fingerprint: 7, endsAtMs: 1 },
    });
    expect(loaded.problem).toBeUndefined();
    expect(loaded.state?.outbox.map((e) => e.event.violationId)).toEqual(['ok-1', 'ok-2']);
    expect(loaded.state?.network).toBeUndefined();
    expect(loaded.state?.drill).toBeUndefined();
  });

  it('a network reading without a finite time, and a drill without its end, are dropped', async () => {
    const baseline = { bootId: BOOT, interfaces: { eth0: { bytesIn: '1', bytesOut: '2', packetsIn: '3', packetsOut: '4' } } };
    for (const atMs of ['5', null, undefined]) {
      const loaded = await load({ version: 1, behaviors: {}, network: { baseline, atMs }, drill: { fingerprint: 'f', endsAtMs: '9' } });
      expect([atMs, loaded.state?.network, loaded.state?.drill]).toEqual([atMs, undefined, undefined]);
    }
    const kept = await load({ version: 1, behaviors: {}, network: { baseline, atMs: 5 }, drill: { fingerprint: 'f', endsAtMs: 9 } });
    expect(kept.state?.network?.atMs).toBe(5);
    expect(kept.state?.network?.baseline.interfaces.eth0?.packetsOut).toBe(4n);
    expect(kept.state?.drill).toEqual({ fingerprint: 'f', endsAtMs: 9 });
  });

  it('keeps at most the last 1,000 outbox entries', async () => {
    const outbox = Array.from({ length: 1_005 }, (_, i) => ({
      event: { violationId: `v${i}`, violationEventType: 'in-alarm' },
      cloudTopic: 't',
    }));
    const loaded = await load({ version: 1, behaviors: {}, outbox });
    expect(loaded.state?.outbox).toHaveLength(1_000);
    expect(loaded.state?.outbox[0]?.event.violationId).toBe('v5');
  });
});
