import fs from 'node:fs';
import path from 'node:path';
import { netDevInterfaceNames, parseNetDev } from '../../src/collect/netdev';
import { netDevText } from '../fixtures/proc/generate';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proc');

describe('parseNetDev', () => {
  const text = netDevText([
    { name: 'lo', rx: [5000n, 50n], tx: [6000n, 60n] },
    { name: 'eth0', rx: [2n ** 63n, 2n ** 53n + 1n], tx: [9007199254740993n, 3n] },
    { name: 'wlan0', rx: [15n, 1n], tx: [25n, 2n] },
  ]);
  const eth0 = { bytesIn: 2n ** 63n, packetsIn: 2n ** 53n + 1n, bytesOut: 9007199254740993n, packetsOut: 3n };
  const wlan0 = { bytesIn: 15n, packetsIn: 1n, bytesOut: 25n, packetsOut: 2n };
  const lo = { bytesIn: 5000n, packetsIn: 50n, bytesOut: 6000n, packetsOut: 60n };

  it('reads each interface except lo, exactly above 2^53', () => {
    expect(parseNetDev(text, false)).toEqual({ interfaces: { eth0, wlan0 }, dropped: 0 });
  });

  it('adds lo when asked to', () => {
    expect(parseNetDev(text, true)).toEqual({ interfaces: { lo, eth0, wlan0 }, dropped: 0 });
  });

  it('reads counters that run into the colon', () => {
    const joined = text.replace('  eth0: ', 'eth0:');
    expect(joined).toContain('eth0:9223372036854775808');
    expect(parseNetDev(joined, false)).toEqual(parseNetDev(text, false));
  });

  it('reads the captured file', () => {
    const captured = fs.readFileSync(path.join(FIXTURES, 'captured/net/dev'), 'latin1');
    const withLoopback = parseNetDev(captured, true);
    const without = parseNetDev(captured, false);
    expect(Object.keys(without.interfaces).length).toBeGreaterThan(0);
    expect(withLoopback.interfaces.lo).toBeDefined();
    expect(without.interfaces.lo).toBeUndefined();
  });

  it('refuses a file without its header', () => {
    expect(() => parseNetDev('', false)).toThrow(/header/);
  });

  it('drops a malformed row and counts it, keeping the others', () => {
    expect(parseNetDev(text.slice(0, -40), false)).toEqual({ interfaces: { eth0 }, dropped: 1 });
    expect(parseNetDev(text.replace('    50 ', '   -50 '), true)).toEqual({ interfaces: { eth0, wlan0 }, dropped: 1 });
  });

  it('drops a counter above 2^64-1, a repeated name and an impossible name', () => {
    const over = netDevText([
      { name: 'eth0', rx: [2n ** 64n, 1n], tx: [1n, 1n] },
      { name: 'wlan0', rx: [15n, 1n], tx: [25n, 2n] },
      { name: 'wlan0', rx: [99n, 1n], tx: [99n, 2n] },
      { name: 'a-name-far-too-long', rx: [1n, 1n], tx: [1n, 1n] },
    ]);
    expect(parseNetDev(over, false)).toEqual({ interfaces: { wlan0 }, dropped: 3 });
  });

  it('skips blank and whitespace-only lines without counting them as dropped', () => {
    expect(parseNetDev(`${text}\n   \n\t\n`, false)).toEqual({ interfaces: { eth0, wlan0 }, dropped: 0 });
  });

  it('keeps an interface named __proto__ as data', () => {
    const reading = parseNetDev(netDevText([{ name: '__proto__', rx: [1n, 2n], tx: [3n, 4n] }]), false);
    expect(Object.keys(reading.interfaces)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(reading.interfaces)).toBeNull();
  });

  const fields: Array<[string, (value: bigint) => { rx: [bigint, bigint]; tx: [bigint, bigint] }]> = [
    ['receive bytes', (v) => ({ rx: [v, 1n], tx: [1n, 1n] })],
    ['receive packets', (v) => ({ rx: [1n, v], tx: [1n, 1n] })],
    ['transmit bytes', (v) => ({ rx: [1n, 1n], tx: [v, 1n] })],
    ['transmit packets', (v) => ({ rx: [1n, 1n], tx: [1n, v] })],
  ];

  it.each(fields)('refuses %s above 2^64-1 (its row only, counted) and keeps exactly 2^64-1', (_field, row) => {
    const wlan0 = { name: 'wlan0', rx: [15n, 1n] as [bigint, bigint], tx: [25n, 2n] as [bigint, bigint] };
    const over = parseNetDev(netDevText([{ name: 'eth0', ...row(2n ** 64n) }, wlan0]), false);
    expect(over).toEqual({ interfaces: { wlan0: { bytesIn: 15n, packetsIn: 1n, bytesOut: 25n, packetsOut: 2n } }, dropped: 1 });
    const max = parseNetDev(netDevText([{ name: 'eth0', ...row(2n ** 64n - 1n) }]), false);
    expect(Object.values(max.interfaces.eth0 ?? {})).toContain(2n ** 64n - 1n);
    expect(max.dropped).toBe(0);
  });

  it.each(fields)('reads %s from its own column', (_field, row) => {
    const reading = parseNetDev(netDevText([{ name: 'eth0', ...row(777n) }]), false);
    const { rx, tx } = row(777n);
    expect(reading.interfaces.eth0).toEqual({ bytesIn: rx[0], packetsIn: rx[1], bytesOut: tx[0], packetsOut: tx[1] });
  });

  it.each(fields)('one malformed %s counter drops its row only', (_field, row) => {
    const text = netDevText([
      { name: 'eth0', ...row(424242n) },
      { name: 'wlan0', rx: [15n, 1n], tx: [25n, 2n] },
    ]);
    for (const bad of ['-424242', '4242x2', '42.4242', '0x4242']) {
      expect([bad, parseNetDev(text.replace('424242', bad), false)]).toEqual([
        bad,
        { interfaces: { wlan0: expect.any(Object) }, dropped: 1 },
      ]);
    }
  });

  it('drops a row with a column too few or too many, or without its colon', () => {
    const text = netDevText([
      { name: 'eth0', rx: [1n, 1n], tx: [1n, 1n] },
      { name: 'wlan0', rx: [15n, 1n], tx: [25n, 2n] },
    ]);
    const [header1, header2, eth0, wlan0] = text.split('\n');
    expect(parseNetDev([header1, header2, `${eth0} 0`, wlan0].join('\n'), false).dropped).toBe(1);
    expect(parseNetDev([header1, header2, eth0?.replace(/ 0$/, ''), wlan0].join('\n'), false).dropped).toBe(1);
    expect(parseNetDev([header1, header2, eth0?.replace(':', ' '), wlan0].join('\n'), false)).toEqual({
      interfaces: { wlan0: { bytesIn: 15n, packetsIn: 1n, bytesOut: 25n, packetsOut: 2n } },
      dropped: 1,
    });
  });
});

describe('netDevInterfaceNames', () => {
  it('names every interface row, lo and rows with malformed or oversized counters included, and nothing else', () => {
    const text = netDevText([
      { name: 'lo', rx: [1n, 1n], tx: [1n, 1n] },
      { name: 'eth0', rx: [2n ** 64n, 1n], tx: [1n, 1n] },
      { name: 'wlan0', rx: [4242n, 1n], tx: [1n, 1n] },
      { name: 'a-name-far-too-long', rx: [1n, 1n], tx: [1n, 1n] },
    ]).replace('4242', '42x2');
    expect([...netDevInterfaceNames(`${text}garbage without a colon\n\n`)]).toEqual(['lo', 'eth0', 'wlan0']);
  });

  it('reads no name from the header lines', () => {
    expect([...netDevInterfaceNames(netDevText([]))]).toEqual([]);
  });
});
