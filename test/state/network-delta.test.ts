import { bootTimeId } from '../../src/collect/boot';
import type { NetworkTotals } from '../../src/metrics/types';
import {
  computeNetworkDelta,
  isInterfaceName,
  persistBaseline,
  restoreBaseline,
  sumCounters,
  type NetworkBaseline,
} from '../../src/state/network-delta';

const totals = (bytesIn: bigint, bytesOut: bigint, packetsIn: bigint, packetsOut: bigint): NetworkTotals => ({
  bytesIn,
  bytesOut,
  packetsIn,
  packetsOut,
});
const BOOT = '6b1a1c52-0d3c-4f5e-9a4e-2f1d3c4b5a69';
const reading = (interfaces: Record<string, NetworkTotals>, bootId = BOOT): NetworkBaseline => ({ bootId, interfaces });

describe('computeNetworkDelta', () => {
  it('has no delta on the first sample', () => {
    expect(computeNetworkDelta(undefined, reading({ eth0: totals(10n, 10n, 1n, 1n) }))).toEqual({
      reason: 'first sample: no baseline yet',
      notes: [],
    });
  });

  it('is the sum of the per-interface differences since the baseline, zero included', () => {
    const baseline = reading({ eth0: totals(1000n, 500n, 10n, 5n), wlan0: totals(7n, 7n, 7n, 7n) });
    expect(computeNetworkDelta(baseline, reading({ eth0: totals(1600n, 500n, 16n, 7n), wlan0: totals(8n, 9n, 7n, 8n) }))).toEqual({
      delta: totals(601n, 2n, 6n, 3n),
      notes: [],
    });
  });

  it('after an agent restart, from the persisted baseline, is the small difference, not the cumulative total', () => {
    const beforeRestart = reading({ eth0: totals(80_000_000_000n, 9_000_000n, 70_000_000n, 60_000n) });
    const restored = restoreBaseline(JSON.parse(JSON.stringify(persistBaseline(beforeRestart))));
    const result = computeNetworkDelta(restored.baseline, reading({ eth0: totals(80_000_001_000n, 9_000_500n, 70_000_010n, 60_005n) }));
    expect(result).toEqual({ delta: totals(1000n, 500n, 10n, 5n), notes: [] });
  });

  it('from an older baseline (reports skipped since), is the whole traffic since then', () => {
    const old = reading({ eth0: totals(100n, 100n, 1n, 1n) });
    const skipped = reading({ eth0: totals(5_000_100n, 4_000_100n, 51n, 41n) });
    const now = reading({ eth0: totals(12_000_100n, 9_000_100n, 121n, 91n) });
    expect(computeNetworkDelta(old, skipped).delta).toEqual(totals(5_000_000n, 4_000_000n, 50n, 40n));
    expect(computeNetworkDelta(old, now).delta).toEqual(totals(12_000_000n, 9_000_000n, 120n, 90n));
  });

  it('counts an interface that appears with existing counters from its first reading: no spike', () => {
    const baseline = reading({ eth0: totals(1000n, 1000n, 10n, 10n) });
    const veth = totals(5_000_000_000n, 5_000_000_000n, 4_000_000n, 4_000_000n);
    const result = computeNetworkDelta(baseline, reading({ eth0: totals(1100n, 1200n, 11n, 12n), veth0: veth }));
    expect(result.delta).toEqual(totals(100n, 200n, 1n, 2n));
    expect(result.notes).toEqual([expect.stringMatching(/^interface veth0 appeared: it counts from its first reading/)]);
    // The next delta, from the reading that included it, counts its traffic.
    const next = computeNetworkDelta(
      reading({ eth0: totals(1100n, 1200n, 11n, 12n), veth0: veth }),
      reading({ eth0: totals(1100n, 1200n, 11n, 12n), veth0: totals(5_000_000_300n, 5_000_000_000n, 4_000_003n, 4_000_000n) }),
    );
    expect(next).toEqual({ delta: totals(300n, 0n, 3n, 0n), notes: [] });
  });

  it('does not subtract an interface that vanished from the others', () => {
    const baseline = reading({ eth0: totals(0n, 1_000_000n, 0n, 100n), veth0: totals(0n, 521_628n, 0n, 50n) });
    const result = computeNetworkDelta(baseline, reading({ eth0: totals(0n, 2_042_042n, 0n, 200n) }));
    expect(result.delta).toEqual(totals(0n, 1_042_042n, 0n, 100n));
    expect(result.notes).toEqual(['interface veth0 is gone: it contributes nothing further']);
  });

  it('handles a counter reset on one interface alone, and says so', () => {
    const baseline = reading({ eth0: totals(1000n, 1000n, 10n, 10n), eth1: totals(9_000_000n, 9_000_000n, 900n, 900n) });
    const result = computeNetworkDelta(baseline, reading({ eth0: totals(1500n, 1100n, 15n, 11n), eth1: totals(20n, 30n, 2n, 3n) }));
    expect(result.delta).toEqual(totals(500n, 100n, 5n, 1n));
    expect(result.notes).toEqual([
      'interface eth1 bytes_in went down (9000000 -> 20): its counters were reset (the interface was re-created or its driver ' +
        'reset them); it counts from this reading, the rest of the report is unaffected',
    ]);
  });

  it('takes a wrapped difference below 2^48 as a wrap, and one of 2^48 or more as a reset', () => {
    const limit = 2n ** 48n;
    const max = 2n ** 64n - 1n;
    // bytes_out 1000 short of the limit, then `wrapped` - 1000 past it: a wrapped difference of exactly `wrapped`.
    const baseline = reading({ eth0: totals(1000n, max + 1n - 1000n, 10n, 10n) });
    const wrappedBy = (wrapped: bigint) => reading({ eth0: totals(1000n, wrapped - 1000n, 10n, 10n) });
    const below = computeNetworkDelta(baseline, wrappedBy(limit - 1n));
    expect(below.delta).toEqual(totals(0n, limit - 1n, 0n, 0n));
    expect(below.notes).toEqual([expect.stringMatching(/^interface eth0 bytes_out wrapped around its 64-bit limit/)]);
    const at = computeNetworkDelta(baseline, wrappedBy(limit));
    expect(at.delta).toEqual(totals(0n, 0n, 0n, 0n));
    expect(at.notes).toEqual([expect.stringMatching(/^interface eth0 bytes_out went down .*: its counters were reset/)]);
  });

  it('counts a 64-bit wrap on one counter as the wrapped difference, and names it a 64-bit wrap', () => {
    const max = 2n ** 64n - 1n;
    const baseline = reading({ eth0: totals(max - 99n, 1000n, 10n, 10n), eth1: totals(5n, 5n, 5n, 5n) });
    const result = computeNetworkDelta(baseline, reading({ eth0: totals(400n, 1010n, 11n, 12n), eth1: totals(6n, 6n, 6n, 6n) }));
    expect(result.delta).toEqual(totals(500n + 1n, 11n, 2n, 3n));
    expect(result.notes).toEqual([expect.stringMatching(/^interface eth0 bytes_in wrapped around its 64-bit limit .*counted 500$/)]);
  });

  it('has no delta after a reboot (new boot id)', () => {
    const result = computeNetworkDelta(
      reading({ eth0: totals(1000n, 1000n, 10n, 10n) }),
      reading({ eth0: totals(5000n, 5000n, 50n, 50n) }, 'another-boot'),
    );
    expect(result).toEqual({ reason: expect.stringMatching(/rebooted/), notes: [] });
  });

  it('takes a Windows boot time that jittered for the same boot, and one that moved on for a reboot', () => {
    const before = reading({ eth0: totals(1000n, 1000n, 10n, 10n) }, bootTimeId(1_765_000_000_000, 600));
    const jittered = reading({ eth0: totals(1500n, 1200n, 15n, 12n) }, bootTimeId(1_765_000_300_900, 900));
    expect(computeNetworkDelta(before, jittered).delta).toEqual(totals(500n, 200n, 5n, 2n));
    const rebooted = reading({ eth0: totals(1500n, 1200n, 15n, 12n) }, bootTimeId(1_765_000_300_000, 60));
    const afterReboot = computeNetworkDelta(before, rebooted);
    expect(afterReboot.delta).toBeUndefined();
    expect(afterReboot.reason).toMatch(/rebooted/);
  });

  it('stays exact above 2^53', () => {
    const base = 2n ** 63n;
    const result = computeNetworkDelta(
      reading({ eth0: totals(base, base, base, base) }),
      reading({ eth0: totals(base + 3n, base + 2n ** 54n + 1n, base, base + 1n) }),
    );
    expect(result).toEqual({ delta: totals(3n, 2n ** 54n + 1n, 0n, 1n), notes: [] });
  });

  it('treats an interface named like an Object property as any other', () => {
    const interfaces = (entries: Array<[string, NetworkTotals]>) => Object.assign(Object.create(null), Object.fromEntries(entries));
    const baseline = reading(interfaces([['constructor', totals(1n, 1n, 1n, 1n)]]));
    const result = computeNetworkDelta(
      baseline,
      reading(
        interfaces([
          ['constructor', totals(3n, 3n, 3n, 3n)],
          ['__proto__', totals(9n, 9n, 9n, 9n)],
          ['toString', totals(1n, 1n, 1n, 1n)],
        ]),
      ),
    );
    expect(result.delta).toEqual(totals(2n, 2n, 2n, 2n));
    expect(result.notes).toHaveLength(2);
  });
});

describe('persistBaseline / restoreBaseline', () => {
  it('round-trips 64-bit counters per interface as decimal strings', () => {
    const baseline = reading({ eth0: totals(2n ** 64n - 1n, 0n, 9007199254740993n, 42n), wlan0: totals(1n, 2n, 3n, 4n) });
    const persisted = persistBaseline(baseline);
    expect(JSON.parse(JSON.stringify(persisted))).toEqual({
      bootId: BOOT,
      interfaces: {
        eth0: { bytesIn: '18446744073709551615', bytesOut: '0', packetsIn: '9007199254740993', packetsOut: '42' },
        wlan0: { bytesIn: '1', bytesOut: '2', packetsIn: '3', packetsOut: '4' },
      },
    });
    expect(restoreBaseline(JSON.parse(JSON.stringify(persisted)))).toEqual({ baseline });
  });

  it('explains what is wrong with a damaged baseline', () => {
    expect(restoreBaseline('x')).toEqual({ problem: 'network baseline is not an object' });
    expect(restoreBaseline({ interfaces: {} })).toEqual({ problem: 'network baseline has no boot id' });
    expect(restoreBaseline({ bootId: BOOT, totals: {} })).toEqual({
      problem: 'network baseline has no per-interface counters (an older state file keeps only totals)',
    });
    const good = persistBaseline(reading({ eth0: totals(1n, 2n, 3n, 4n) }));
    for (const bad of ['-1', '1.5', '', 'abc', 7, '1e3', '007', '123456789012345678901']) {
      expect(restoreBaseline({ ...good, interfaces: { eth0: { ...good.interfaces.eth0, packetsOut: bad } } })).toEqual({
        problem: 'network baseline "eth0" packetsOut is not a decimal counter',
      });
    }
    expect(restoreBaseline({ ...good, interfaces: { 'bad\nname': good.interfaces.eth0 } }).problem).toMatch(/invalid interface name/);
    expect(restoreBaseline({ ...good, interfaces: { ['x'.repeat(257)]: good.interfaces.eth0 } }).problem).toMatch(/invalid interface name/);
  });

  it('refuses each damaged shape with its own reason, names cut to 20 characters', () => {
    const good = persistBaseline(reading({ eth0: totals(1n, 2n, 3n, 4n) }));
    const cases: Array<[unknown, string]> = [
      [null, 'network baseline is not an object'],
      [{ ...good, bootId: '' }, 'network baseline has no boot id'],
      [{ ...good, bootId: 7 }, 'network baseline has no boot id'],
      [{ ...good, interfaces: null }, 'network baseline has no per-interface counters (an older state file keeps only totals)'],
      [
        { ...good, interfaces: [good.interfaces.eth0] },
        'network baseline has no per-interface counters (an older state file keeps only totals)',
      ],
      [{ ...good, interfaces: { eth0: null } }, 'network baseline interface "eth0" has no counters'],
      [{ ...good, interfaces: { eth0: '1 2 3 4' } }, 'network baseline interface "eth0" has no counters'],
      [{ ...good, interfaces: { ['e'.repeat(30)]: null } }, `network baseline interface "${'e'.repeat(20)}" has no counters`],
    ];
    for (const [persisted, problem] of cases) expect([persisted, restoreBaseline(persisted)]).toEqual([persisted, { problem }]);
  });

  it('restores up to 4096 interfaces and refuses more', () => {
    const counters = persistBaseline(reading({ eth0: totals(1n, 2n, 3n, 4n) })).interfaces.eth0;
    const withInterfaces = (count: number) => ({
      bootId: BOOT,
      interfaces: Object.fromEntries(Array.from({ length: count }, (_, index) => [`if${index}`, counters])),
    });
    expect(Object.keys(restoreBaseline(withInterfaces(4096)).baseline?.interfaces ?? {})).toHaveLength(4096);
    expect(restoreBaseline(withInterfaces(4097))).toEqual({ problem: 'network baseline has 4097 interfaces, more than 4096' });
  });

  it('restores a Windows interface Alias, spaces included', () => {
    const stored = persistBaseline(reading({ 'Ethernet 2': totals(1n, 2n, 3n, 4n), 'Local Area Connection* 1': totals(5n, 6n, 7n, 8n) }));
    expect(restoreBaseline(JSON.parse(JSON.stringify(stored))).baseline?.interfaces).toEqual({
      'Ethernet 2': totals(1n, 2n, 3n, 4n),
      'Local Area Connection* 1': totals(5n, 6n, 7n, 8n),
    });
  });

  it('treats a counter above 2^64-1 as a corrupt state file', () => {
    const good = persistBaseline(reading({ eth0: totals(1n, 2n, 3n, 4n) }));
    expect(
      restoreBaseline({ ...good, interfaces: { eth0: { ...good.interfaces.eth0, bytesIn: '18446744073709551615' } } }).baseline,
    ).toBeDefined();
    expect(restoreBaseline({ ...good, interfaces: { eth0: { ...good.interfaces.eth0, bytesIn: '18446744073709551616' } } })).toEqual({
      problem: 'network baseline "eth0" bytesIn is above 2^64-1: the state file is corrupt',
    });
  });
});

describe('sumCounters', () => {
  it('adds each counter over the interfaces, beyond 2^64 when they do', () => {
    expect(sumCounters({})).toEqual(totals(0n, 0n, 0n, 0n));
    expect(sumCounters({ eth0: totals(1n, 2n, 3n, 4n), wlan0: totals(10n, 20n, 30n, 2n ** 64n - 1n) })).toEqual(
      totals(11n, 22n, 33n, 2n ** 64n + 3n),
    );
  });
});

describe('isInterfaceName', () => {
  it('takes what the Linux kernel allows: 1 to 15 characters, no whitespace, slash or colon', () => {
    for (const name of ['eth0', 'wlan0', 'x'.repeat(15), 'br-1a2b', 'enp0s3.100'])
      expect([name, isInterfaceName(name)]).toEqual([name, true]);
    for (const name of ['', 'x'.repeat(16), 'eth 0', 'a/b', 'eth0:1', 'tab\there'])
      expect([name, isInterfaceName(name)]).toEqual([name, false]);
  });
});
