import type { NetworkTotals } from '../../src/metrics/types';
import { computeNetworkDelta, persistBaseline, restoreBaseline, type NetworkBaseline } from '../../src/state/network-delta';

const totals = (bytesIn: bigint, bytesOut: bigint, packetsIn: bigint, packetsOut: bigint): NetworkTotals => ({
  bytesIn,
  bytesOut,
  packetsIn,
  packetsOut,
});
const BOOT = '6b1a1c52-0d3c-4f5e-9a4e-2f1d3c4b5a69';

describe('computeNetworkDelta', () => {
  it('has no delta on the first sample', () => {
    expect(computeNetworkDelta(undefined, { bootId: BOOT, totals: totals(10n, 10n, 1n, 1n) })).toEqual({
      reason: 'first sample: no baseline yet',
    });
  });

  it('is the difference since the baseline, zero included', () => {
    const baseline = { bootId: BOOT, totals: totals(1000n, 500n, 10n, 5n) };
    expect(computeNetworkDelta(baseline, { bootId: BOOT, totals: totals(1600n, 500n, 16n, 7n) })).toEqual({
      delta: totals(600n, 0n, 6n, 2n),
    });
  });

  it('after an agent restart, from the persisted baseline, is the small difference, not the cumulative total', () => {
    const beforeRestart: NetworkBaseline = { bootId: BOOT, totals: totals(80_000_000_000n, 9_000_000n, 70_000_000n, 60_000n) };
    const restored = restoreBaseline(JSON.parse(JSON.stringify(persistBaseline(beforeRestart))));
    const result = computeNetworkDelta(restored.baseline, {
      bootId: BOOT,
      totals: totals(80_000_001_000n, 9_000_500n, 70_000_010n, 60_005n),
    });
    expect(result).toEqual({ delta: totals(1000n, 500n, 10n, 5n) });
  });

  it('has no delta after a reboot (new boot id)', () => {
    const result = computeNetworkDelta(
      { bootId: BOOT, totals: totals(1000n, 1000n, 10n, 10n) },
      { bootId: 'another-boot', totals: totals(5000n, 5000n, 50n, 50n) },
    );
    expect(result.delta).toBeUndefined();
    expect(result.reason).toMatch(/rebooted/);
  });

  it.each([
    ['bytes_in', totals(999n, 1000n, 10n, 10n)],
    ['bytes_out', totals(1000n, 0n, 10n, 10n)],
    ['packets_in', totals(1000n, 1000n, 9n, 10n)],
    ['packets_out', totals(2000n, 2000n, 20n, 3n)],
  ])('has no delta when %s went down, and names it', (counter, current) => {
    const result = computeNetworkDelta({ bootId: BOOT, totals: totals(1000n, 1000n, 10n, 10n) }, { bootId: BOOT, totals: current });
    expect(result.delta).toBeUndefined();
    expect(result.reason).toMatch(
      new RegExp(`^${counter} went down \\(\\d+ -> \\d+\\): an interface was removed or re-created, or a 32-bit counter wrapped$`),
    );
  });

  it('stays exact above 2^53', () => {
    const base = 2n ** 63n;
    const result = computeNetworkDelta(
      { bootId: BOOT, totals: totals(base, base, base, base) },
      { bootId: BOOT, totals: totals(base + 3n, base + 2n ** 54n + 1n, base, base + 1n) },
    );
    expect(result).toEqual({ delta: totals(3n, 2n ** 54n + 1n, 0n, 1n) });
  });
});

describe('persistBaseline / restoreBaseline', () => {
  it('round-trips 64-bit counters as decimal strings', () => {
    const baseline: NetworkBaseline = { bootId: BOOT, totals: totals(2n ** 64n - 1n, 0n, 9007199254740993n, 42n) };
    const persisted = persistBaseline(baseline);
    expect(persisted).toEqual({
      bootId: BOOT,
      totals: { bytesIn: '18446744073709551615', bytesOut: '0', packetsIn: '9007199254740993', packetsOut: '42' },
    });
    expect(restoreBaseline(JSON.parse(JSON.stringify(persisted)))).toEqual({ baseline });
  });

  it('explains what is wrong with a damaged baseline', () => {
    expect(restoreBaseline('x')).toEqual({ problem: 'network baseline is not an object' });
    expect(restoreBaseline({ totals: {} })).toEqual({ problem: 'network baseline has no boot id' });
    expect(restoreBaseline({ bootId: BOOT })).toEqual({ problem: 'network baseline has no totals' });
    const good = persistBaseline({ bootId: BOOT, totals: totals(1n, 2n, 3n, 4n) });
    for (const bad of ['-1', '1.5', '', 'abc', 7, '1e3']) {
      expect(restoreBaseline({ ...good, totals: { ...good.totals, packetsOut: bad } })).toEqual({
        problem: 'network baseline packetsOut is not a decimal counter',
      });
    }
  });
});
