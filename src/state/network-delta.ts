/**
 * network_stats deltas from the kernel's cumulative counters (defender-spec.md 3.1).
 *
 * A report carries the traffic since the previous sample, never a cumulative total (a restart would
 * look like a traffic spike: the false positives PY PR #26 fixed) and never a negative value (the
 * spec requires >= 0). When no honest delta exists, network_stats is left out of that report and
 * the reason is logged. The agent keeps the current totals as the next baseline every cycle and
 * persists them, so an agent restart without a reboot still yields a small, true delta.
 */
import type { NetworkDelta, NetworkTotals } from '../metrics/types';

export interface NetworkBaseline {
  /** /proc/sys/kernel/random/boot_id: counters restart from zero on every boot. */
  bootId: string;
  totals: NetworkTotals;
}

/** The baseline as the state file stores it: JSON has no bigint, so counters are decimal strings. */
export interface PersistedNetworkBaseline {
  bootId: string;
  totals: Record<keyof NetworkTotals, string>;
}

export interface NetworkDeltaResult {
  delta?: NetworkDelta;
  /** Why there is no delta. */
  reason?: string;
}

const COUNTERS: ReadonlyArray<[keyof NetworkTotals, string]> = [
  ['bytesIn', 'bytes_in'],
  ['bytesOut', 'bytes_out'],
  ['packetsIn', 'packets_in'],
  ['packetsOut', 'packets_out'],
];

export function computeNetworkDelta(baseline: NetworkBaseline | undefined, current: NetworkBaseline): NetworkDeltaResult {
  if (!baseline) return { reason: 'first sample: no baseline yet' };
  if (baseline.bootId !== current.bootId)
    return { reason: 'the device rebooted since the previous sample (new boot id): counters restarted from zero' };
  for (const [counter, reportName] of COUNTERS) {
    if (current.totals[counter] < baseline.totals[counter]) {
      return {
        reason:
          `${reportName} went down (${baseline.totals[counter]} -> ${current.totals[counter]}): ` +
          'an interface was removed or re-created, or a 32-bit counter wrapped',
      };
    }
  }
  return {
    delta: {
      bytesIn: current.totals.bytesIn - baseline.totals.bytesIn,
      bytesOut: current.totals.bytesOut - baseline.totals.bytesOut,
      packetsIn: current.totals.packetsIn - baseline.totals.packetsIn,
      packetsOut: current.totals.packetsOut - baseline.totals.packetsOut,
    },
  };
}

export function persistBaseline(baseline: NetworkBaseline): PersistedNetworkBaseline {
  const { bytesIn, bytesOut, packetsIn, packetsOut } = baseline.totals;
  return {
    bootId: baseline.bootId,
    totals: {
      bytesIn: bytesIn.toString(),
      bytesOut: bytesOut.toString(),
      packetsIn: packetsIn.toString(),
      packetsOut: packetsOut.toString(),
    },
  };
}

/** The baseline read back from the state file, or why it cannot be used. */
export function restoreBaseline(persisted: unknown): { baseline?: NetworkBaseline; problem?: string } {
  if (typeof persisted !== 'object' || persisted === null) return { problem: 'network baseline is not an object' };
  const { bootId, totals } = persisted as Partial<Record<'bootId' | 'totals', unknown>>;
  if (typeof bootId !== 'string' || bootId === '') return { problem: 'network baseline has no boot id' };
  if (typeof totals !== 'object' || totals === null) return { problem: 'network baseline has no totals' };
  const restored: Partial<NetworkTotals> = {};
  for (const [counter] of COUNTERS) {
    const value = (totals as Record<string, unknown>)[counter];
    if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) return { problem: `network baseline ${counter} is not a decimal counter` };
    restored[counter] = BigInt(value);
  }
  return { baseline: { bootId, totals: restored as NetworkTotals } };
}
