import fs from 'node:fs';
import path from 'node:path';
import { parseNetDevTotals } from '../../src/collect/netdev';
import { netDevText } from '../fixtures/proc/generate';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proc');

describe('parseNetDevTotals', () => {
  const text = netDevText([
    { name: 'lo', rx: [5000n, 50n], tx: [6000n, 60n] },
    { name: 'eth0', rx: [2n ** 63n, 2n ** 53n + 1n], tx: [9007199254740993n, 3n] },
    { name: 'wlan0', rx: [15n, 1n], tx: [25n, 2n] },
  ]);

  it('sums all interfaces except lo, exactly above 2^53', () => {
    expect(parseNetDevTotals(text, false)).toEqual({
      bytesIn: 2n ** 63n + 15n,
      packetsIn: 2n ** 53n + 2n,
      bytesOut: 9007199254740993n + 25n,
      packetsOut: 5n,
    });
  });

  it('adds lo when asked to', () => {
    expect(parseNetDevTotals(text, true)).toEqual({
      bytesIn: 2n ** 63n + 5015n,
      packetsIn: 2n ** 53n + 52n,
      bytesOut: 9007199254740993n + 6025n,
      packetsOut: 65n,
    });
  });

  it('reads counters that run into the colon', () => {
    const joined = text.replace('  eth0: ', 'eth0:');
    expect(joined).toContain('eth0:9223372036854775808');
    expect(parseNetDevTotals(joined, false)).toEqual(parseNetDevTotals(text, false));
  });

  it('reads the captured file', () => {
    const captured = fs.readFileSync(path.join(FIXTURES, 'captured/net/dev'), 'latin1');
    const withLoopback = parseNetDevTotals(captured, true);
    const without = parseNetDevTotals(captured, false);
    expect(without.bytesIn).toBeGreaterThan(0n);
    expect(withLoopback.bytesIn).toBeGreaterThan(without.bytesIn);
  });

  it('refuses a truncated file or a malformed row', () => {
    expect(() => parseNetDevTotals('', false)).toThrow(/header/);
    expect(() => parseNetDevTotals(text.slice(0, -40), false)).toThrow(/line 5/);
    expect(() => parseNetDevTotals(text.replace('    50 ', '   -50 '), false)).toThrow(/line 3 .*lo:/);
  });
});
