import type { NetworkTotals } from '../metrics/types';

const LOOPBACK_DEVICE = 'lo';

const DIGITS = /^\d+$/;
/** Receive bytes and packets are the first two of 8 receive columns; transmit bytes and packets follow them. */
const RX_BYTES = 0;
const RX_PACKETS = 1;
const TX_BYTES = 8;
const TX_PACKETS = 9;
const COLUMNS = 16;

/**
 * Sums the counters of /proc/net/dev over all interfaces, `lo` only when asked to. The counters are 64-bit, so BigInt.
 * Throws with the offending line if the file does not have the expected layout.
 */
export function parseNetDevTotals(text: string, includeLoopback: boolean): NetworkTotals {
  const lines = text.split('\n');
  if (!(lines[1] ?? '').includes('|bytes')) throw new Error('the two header lines are missing (empty or truncated file)');
  const totals: NetworkTotals = { bytesIn: 0n, bytesOut: 0n, packetsIn: 0n, packetsOut: 0n };
  lines.slice(2).forEach((line, index) => {
    if (line.trim() === '') return;
    // Counters can run into the name's colon ("eth0:198080753"), so split at the colon, not at whitespace.
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    const columns = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (colon < 0 || name === '' || columns.length !== COLUMNS || !columns.every((c) => DIGITS.test(c))) {
      throw new Error(`line ${index + 3} is not an interface row: "${line.trim().slice(0, 100)}"`);
    }
    if (name === LOOPBACK_DEVICE && !includeLoopback) return;
    const counter = (column: number) => BigInt(columns[column] ?? '0');
    totals.bytesIn += counter(RX_BYTES);
    totals.packetsIn += counter(RX_PACKETS);
    totals.bytesOut += counter(TX_BYTES);
    totals.packetsOut += counter(TX_PACKETS);
  });
  return totals;
}
