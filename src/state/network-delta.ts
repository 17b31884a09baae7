/**
 * network_stats deltas from the kernel's cumulative per-interface counters (defender-spec.md 3.1).
 *
 * A report carries the traffic since the baseline, never a cumulative total (a restart would look like a traffic
 * spike: the false positives PY PR #26 fixed) and never a negative value (the spec requires >= 0). The delta is taken
 * per interface, never of the sum over interfaces, because interfaces come and go with their own counters:
 * - an interface seen for the first time starts from its first reading (a container's veth moved into the namespace
 *   arrives with gigabytes it did not carry here);
 * - one that vanished contributes nothing further (subtracting its counters from the others would hide their traffic);
 * - a counter that went down on one interface is a 64-bit wrap when the wrapped difference is small, else a reset
 *   (the interface was re-created): that interface alone restarts from its current reading, with a note saying so.
 * The function is pure: the caller decides when the current reading becomes the next baseline (only once a report that
 * carries the delta went out), so a delta from an older baseline must be, and is, the whole traffic since then.
 */
import { sameBoot } from '../collect/boot';
import type { NetworkDelta, NetworkTotals } from '../metrics/types';

/** The counters of one interface, as /proc/net/dev prints them. */
export type InterfaceCounters = NetworkTotals;

export interface NetworkBaseline {
  /** /proc/sys/kernel/random/boot_id, or on Windows the boot time (src/collect/boot.ts): counters restart from zero on every boot. */
  bootId: string;
  /** Counters by interface name; a null-prototype map (an interface may be called `__proto__`). */
  interfaces: Record<string, InterfaceCounters>;
}

/** The baseline as the state file stores it: JSON has no bigint, so counters are decimal strings. */
export interface PersistedNetworkBaseline {
  bootId: string;
  interfaces: Record<string, Record<keyof NetworkTotals, string>>;
}

export interface NetworkDeltaResult {
  delta?: NetworkDelta;
  /** Why there is no delta. */
  reason?: string;
  /** What happened to single interfaces (appeared, vanished, wrapped, reset): worth a log line, the delta stands. */
  notes: string[];
}

const COUNTERS: ReadonlyArray<[keyof NetworkTotals, string]> = [
  ['bytesIn', 'bytes_in'],
  ['bytesOut', 'bytes_out'],
  ['packetsIn', 'packets_in'],
  ['packetsOut', 'packets_out'],
];

const COUNTER_LIMIT = 2n ** 64n;
export const MAX_COUNTER = COUNTER_LIMIT - 1n;
/**
 * A counter that went down is taken as a 64-bit wrap only if the wrapped difference is below this (2^48 bytes is
 * 256 TiB, far beyond any interval); a larger one means the counter restarted.
 */
const PLAUSIBLE_WRAP = 2n ** 48n;
/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1), without whitespace, `/` or `:`. */
const INTERFACE_NAME = /^[^\s/:]{1,15}$/;
/** More interfaces than any device has: a bound on what a damaged state file can make us hold. */
const MAX_INTERFACES = 4096;

function emptyCounters(): InterfaceCounters {
  return { bytesIn: 0n, bytesOut: 0n, packetsIn: 0n, packetsOut: 0n };
}

export function isInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name);
}

/**
 * A name a stored baseline may hold: a Linux interface name, or a Windows interface Alias (a friendly name such as
 * `Ethernet 2`, spaces included, at most IF_MAX_STRING_SIZE = 256 characters), never a control character.
 */
const STORED_INTERFACE_NAME = /^\P{Cc}{1,256}$/u;

export function computeNetworkDelta(baseline: NetworkBaseline | undefined, current: NetworkBaseline): NetworkDeltaResult {
  if (!baseline) return { reason: 'first sample: no baseline yet', notes: [] };
  if (!sameBoot(baseline.bootId, current.bootId)) {
    return {
      reason: 'the device rebooted since the previous sample (new boot id): counters restarted from zero',
      notes: [],
    };
  }
  const delta = emptyCounters();
  const notes: string[] = [];
  for (const name of Object.keys(current.interfaces)) {
    const now = current.interfaces[name] as InterfaceCounters;
    const before = Object.hasOwn(baseline.interfaces, name) ? baseline.interfaces[name] : undefined;
    if (before === undefined) {
      notes.push(`interface ${name} appeared: it counts from its first reading (${now.bytesIn} bytes in, ${now.bytesOut} out so far)`);
      continue;
    }
    const own = emptyCounters();
    let reset: string | undefined;
    for (const [counter, reportName] of COUNTERS) {
      const difference = now[counter] - before[counter];
      if (difference >= 0n) {
        own[counter] = difference;
        continue;
      }
      const wrapped = difference + COUNTER_LIMIT;
      if (wrapped < PLAUSIBLE_WRAP) {
        own[counter] = wrapped;
        notes.push(
          `interface ${name} ${reportName} wrapped around its 64-bit limit (${before[counter]} -> ${now[counter]}): counted ${wrapped}`,
        );
      } else {
        reset ??= `${reportName} went down (${before[counter]} -> ${now[counter]})`;
      }
    }
    if (reset !== undefined) {
      notes.push(
        `interface ${name} ${reset}: its counters were reset (the interface was re-created or its driver reset them); ` +
          'it counts from this reading, the rest of the report is unaffected',
      );
      continue;
    }
    for (const [counter] of COUNTERS) delta[counter] += own[counter];
  }
  for (const name of Object.keys(baseline.interfaces)) {
    if (!Object.hasOwn(current.interfaces, name)) notes.push(`interface ${name} is gone: it contributes nothing further`);
  }
  return { delta, notes };
}

/** Sum of a reading over its interfaces: the cumulative totals, for display. */
export function sumCounters(interfaces: Record<string, InterfaceCounters>): NetworkTotals {
  const sum = emptyCounters();
  for (const name of Object.keys(interfaces)) {
    const counters = interfaces[name] as InterfaceCounters;
    for (const [counter] of COUNTERS) sum[counter] += counters[counter];
  }
  return sum;
}

export function persistBaseline(baseline: NetworkBaseline): PersistedNetworkBaseline {
  const interfaces: PersistedNetworkBaseline['interfaces'] = Object.create(null);
  for (const name of Object.keys(baseline.interfaces)) {
    const { bytesIn, bytesOut, packetsIn, packetsOut } = baseline.interfaces[name] as InterfaceCounters;
    interfaces[name] = {
      bytesIn: bytesIn.toString(),
      bytesOut: bytesOut.toString(),
      packetsIn: packetsIn.toString(),
      packetsOut: packetsOut.toString(),
    };
  }
  return { bootId: baseline.bootId, interfaces };
}

/** The baseline read back from the state file, or why it cannot be used. */
export function restoreBaseline(persisted: unknown): { baseline?: NetworkBaseline; problem?: string } {
  if (typeof persisted !== 'object' || persisted === null) return { problem: 'network baseline is not an object' };
  const { bootId, interfaces } = persisted as Partial<Record<'bootId' | 'interfaces', unknown>>;
  if (typeof bootId !== 'string' || bootId === '') return { problem: 'network baseline has no boot id' };
  if (typeof interfaces !== 'object' || interfaces === null || Array.isArray(interfaces)) {
    return { problem: 'network baseline has no per-interface counters (an older state file keeps only totals)' };
  }
  const names = Object.keys(interfaces);
  if (names.length > MAX_INTERFACES) return { problem: `network baseline has ${names.length} interfaces, more than ${MAX_INTERFACES}` };
  const restored: Record<string, InterfaceCounters> = Object.create(null);
  for (const name of names) {
    const quoted = JSON.stringify(name.slice(0, 20));
    if (!STORED_INTERFACE_NAME.test(name)) return { problem: `network baseline has an invalid interface name ${quoted}` };
    const entry = (interfaces as Record<string, unknown>)[name];
    if (typeof entry !== 'object' || entry === null) return { problem: `network baseline interface ${quoted} has no counters` };
    const counters = emptyCounters();
    for (const [counter] of COUNTERS) {
      const value = (entry as Record<string, unknown>)[counter];
      if (typeof value !== 'string' || !/^(0|[1-9]\d{0,19})$/.test(value)) {
        return { problem: `network baseline ${quoted} ${counter} is not a decimal counter` };
      }
      const parsed = BigInt(value);
      if (parsed > MAX_COUNTER) return { problem: `network baseline ${quoted} ${counter} is above 2^64-1: the state file is corrupt` };
      counters[counter] = parsed;
    }
    restored[name] = counters;
  }
  return { baseline: { bootId, interfaces: restored } };
}
