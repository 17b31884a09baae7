import type { NetworkTotals } from '../metrics/types';
import { isInterfaceName, MAX_COUNTER } from '../state/network-delta';

const LOOPBACK_DEVICE = 'lo';

const DIGITS = /^\d{1,20}$/;
/** Receive bytes and packets are the first two of 8 receive columns; transmit bytes and packets follow them. */
const RX_BYTES = 0;
const RX_PACKETS = 1;
const TX_BYTES = 8;
const TX_PACKETS = 9;
const COLUMNS = 16;

export interface NetDevReading {
  /** Counters by interface name (null-prototype map), `lo` only when asked for. */
  interfaces: Record<string, NetworkTotals>;
  /** Rows that were not an interface row (or repeated a name): left out, so that one bad row costs only itself. */
  dropped: number;
}

/**
 * The counters of /proc/net/dev per interface. The counters are 64-bit, so BigInt. Throws only if the header is
 * missing (then nothing in the file can be trusted); a malformed row is dropped and counted. A dropped interface is
 * then new to the next delta, which counts it from its first reading: no spike, at worst one interval unreported.
 */
export function parseNetDev(text: string, includeLoopback: boolean): NetDevReading {
  const lines = text.split('\n');
  if (!isNetDev(text)) throw new Error('the two header lines are missing (empty or truncated file)');
  const interfaces: Record<string, NetworkTotals> = Object.create(null);
  let dropped = 0;
  for (let index = 2; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const name = nameOf(line, colon);
    const columns = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (colon < 0 || !isInterfaceName(name) || columns.length !== COLUMNS || !columns.every((c) => DIGITS.test(c)) || name in interfaces) {
      dropped++;
      continue;
    }
    if (name === LOOPBACK_DEVICE && !includeLoopback) continue;
    const counter = (column: number) => BigInt(columns[column] as string);
    const counters = {
      bytesIn: counter(RX_BYTES),
      packetsIn: counter(RX_PACKETS),
      bytesOut: counter(TX_BYTES),
      packetsOut: counter(TX_PACKETS),
    };
    if (
      counters.bytesIn > MAX_COUNTER ||
      counters.packetsIn > MAX_COUNTER ||
      counters.bytesOut > MAX_COUNTER ||
      counters.packetsOut > MAX_COUNTER
    ) {
      dropped++;
      continue;
    }
    interfaces[name] = counters;
  }
  return { interfaces, dropped };
}

/** Whether the text starts with /proc/net/dev's two header lines: without them nothing in it can be trusted. */
export function isNetDev(text: string): boolean {
  return (text.split('\n', 2)[1] ?? '').includes('|bytes');
}

/** A row's interface name: counters can run into the name's colon ("eth0:198080753"), so split at the colon. */
function nameOf(line: string, colon: number): string {
  return line.slice(0, Math.max(colon, 0)).trim();
}

/**
 * Every interface /proc/net/dev names, `lo` and rows whose counters are malformed included: the interfaces of the
 * socket tables' namespace, which one bad counter does not make any less present.
 */
export function netDevInterfaceNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    const name = nameOf(line, colon);
    if (colon >= 0 && isInterfaceName(name)) names.add(name);
  }
  return names;
}
