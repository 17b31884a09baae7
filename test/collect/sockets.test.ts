import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SeenSockets,
  SocketSummary,
  SocketTableParser,
  SocketAddressCache,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  UDP_UNCONNECTED,
  createInterfaceAttribution,
  parsedAddress,
  type InterfaceOf,
  type ParsedAddress,
  type SocketRow,
} from '../../src/collect/sockets';
import { dottedIpv4 } from '../../src/collect/ip';
import { ipWords } from '../../src/metrics/networks';
import type { InterfaceAddress } from '../../src/procfs/interfaces';
import {
  GENERATED_INTERFACES,
  TCP_HEADER,
  TCP6_HEADER,
  generatedLocal,
  generatedRemote,
  procHexIpv6,
  socketRow,
  writeGeneratedProc,
} from '../fixtures/proc/generate';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proc');
const TCP_STATES = [TCP_LISTEN, TCP_ESTABLISHED];

/** A parsed row with its remote address as plain values. */
interface RowView extends Omit<SocketRow, 'remote'> {
  remoteAddress: string;
  remoteWords: readonly number[];
}

/** Feeds `text` to the parser in pieces of `chunkLength` bytes, as the file would be read. */
function parse(
  text: string,
  family: 4 | 6,
  states: readonly number[] = TCP_STATES,
  chunkLength = 4096,
  addresses = new SocketAddressCache(),
): { rows: SocketRow[]; dropped: number } | { error: string } {
  const rows: SocketRow[] = [];
  // The parser hands out one reused row object: keep copies.
  const parser = new SocketTableParser(family, states, (row) => rows.push({ ...row }), addresses);
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += chunkLength) parser.push(bytes.subarray(at, at + chunkLength));
  parser.end();
  return parser.error === undefined ? { rows, dropped: parser.dropped } : { error: parser.error };
}

function socketRowsOf(text: string, family: 4 | 6, addresses?: SocketAddressCache): SocketRow[] {
  const table = parse(text, family, TCP_STATES, 4096, addresses);
  if (!('rows' in table)) throw new Error(table.error);
  return table.rows;
}

function rowsOf(text: string, family: 4 | 6, states: readonly number[] = TCP_STATES, chunkLength?: number): RowView[] {
  const table = parse(text, family, states, chunkLength);
  if (!('rows' in table)) throw new Error(table.error);
  return table.rows.map(({ remote, ...row }) => ({ ...row, remoteAddress: remote.text, remoteWords: remote.words }));
}

/** An address as the parser gives it in numbers: one word for IPv4, four for IPv6. */
function wordsOf(address: string): number[] {
  const words = ipWords(address);
  if (!words) throw new Error(`not an address: ${address}`);
  return address.includes(':') ? words : [words[3]];
}

/** One object per address, as the collector's SocketAddressCache gives them. */
const peers = new Map<string, ParsedAddress>();
function peer(text: string): ParsedAddress {
  let address = peers.get(text);
  if (address === undefined) {
    address = parsedAddress(text, wordsOf(text));
    peers.set(text, address);
  }
  return address;
}

/** One summary fed the tables in order, as the collector does. */
function summarise(tables: SocketRow[][], listenState: number, interfaceOf: InterfaceOf): SocketSummary {
  const summary = new SocketSummary(interfaceOf, listenState);
  for (const rows of tables) rows.forEach(summary.add);
  return summary;
}

describe('SocketTableParser', () => {
  it('reads the captured tables: listeners, established rows, and skips TIME_WAIT', () => {
    const tcp = rowsOf(fs.readFileSync(path.join(FIXTURES, 'captured/net/tcp'), 'latin1'), 4);
    expect(tcp).toContainEqual({
      state: TCP_LISTEN,
      localAddress: '0.0.0.0',
      localPort: 2024,
      remoteAddress: '0.0.0.0',
      remoteWords: [0],
      remotePort: 0,
    });
    expect(tcp.filter((r) => r.state === TCP_ESTABLISHED)).toHaveLength(5);
    expect(tcp.some((r) => r.localPort === 0xd824)).toBe(false); // the TIME_WAIT row
    const tcp6 = rowsOf(fs.readFileSync(path.join(FIXTURES, 'captured/net/tcp6'), 'latin1'), 6);
    expect(tcp6).toContainEqual({
      state: TCP_ESTABLISHED,
      localAddress: '127.0.0.1',
      localPort: 0x900f,
      remoteAddress: '127.0.0.1',
      // The IPv4-mapped peer as its IPv4 address, in network order.
      remoteWords: [0x7f000001],
      remotePort: 0xcd7a,
    });
    expect(tcp6).toContainEqual({
      state: TCP_LISTEN,
      localAddress: 'fd00::2',
      localPort: 0xb077,
      remoteAddress: '::',
      remoteWords: [0, 0, 0, 0],
      remotePort: 0,
    });
  });

  it('keeps only the states asked for: UDP 07 listeners, not connected UDP clients (01)', () => {
    const udp = rowsOf(fs.readFileSync(path.join(FIXTURES, 'captured/net/udp'), 'latin1'), 4, [UDP_UNCONNECTED]);
    expect(udp.map((r) => r.localPort).sort()).toEqual([0x8a82, 0xb9fb]);
  });

  it('gives the same rows however the file is cut into chunks', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'captured/net/tcp6'), 'latin1');
    const whole = rowsOf(text, 6, TCP_STATES, text.length);
    expect(whole).toHaveLength(9);
    for (const chunkLength of [1, 7, 150, 151, 1000]) expect(rowsOf(text, 6, TCP_STATES, chunkLength)).toEqual(whole);
  });

  it('reads a last row without a newline', () => {
    expect(rowsOf(`${TCP_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a)}`, 4)).toHaveLength(1);
  });

  it('reads rows whose slot number is wider than four digits', () => {
    const rows = rowsOf([TCP_HEADER, socketRow(123456, '10.0.0.1', 80, '10.0.0.2', 5000, 0x01)].join('\n'), 4);
    expect(rows).toEqual([
      { state: 1, localAddress: '10.0.0.1', localPort: 80, remoteAddress: '10.0.0.2', remoteWords: [0x0a000002], remotePort: 5000 },
    ]);
  });

  it('gives each remote address as numbers in network order, IPv6 as four words', () => {
    const rows = rowsOf(
      [
        TCP6_HEADER,
        socketRow(0, '2001:db8::2', 443, '2001:db8:1:2:3:4:5:6', 5000, 0x01, 6),
        socketRow(1, '::1', 80, '::ffff:203.0.113.9', 1, 0x01, 6),
      ].join('\n'),
      6,
    );
    expect(rows.map((r) => [r.remoteAddress, r.remoteWords])).toEqual([
      ['2001:db8:1:2:3:4:5:6', [0x20010db8, 0x00010002, 0x00030004, 0x00050006]],
      ['203.0.113.9', [0xcb007109]],
    ]);
  });

  it('accepts a header-only table (no sockets)', () => {
    expect(rowsOf(`${TCP6_HEADER}\n`, 6)).toEqual([]);
  });

  it.each([
    ['an empty file', ''],
    ['a missing header', `${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a)}\n`],
  ])('turns %s into an error', (_name, text) => {
    expect(parse(text, 4)).toEqual({ error: expect.stringMatching(/header/) });
  });

  it.each([
    ['a truncated last row', `${TCP_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a)}\n   1: 0100007F:1F90 0000`],
    ['a row that is not a socket', `${TCP_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a)}\ngarbage here\n`],
    ['a non-hex state', `${TCP_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a).replace(' 0A ', ' 0Z ')}\n`],
    [
      'a non-hex address in a kept row',
      `${TCP_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a).replace('0100000A', '010000XA')}\n`,
    ],
    ['an IPv4 row in the IPv6 table', `${TCP6_HEADER}\n${socketRow(0, '10.0.0.1', 80, '0.0.0.0', 0, 0x0a)}\n`],
  ])('drops %s, counts it, and keeps the good rows', (_name, text) => {
    const family = text.startsWith(TCP6_HEADER) ? 6 : 4;
    const good = socketRow(1, '10.0.0.3', 443, '10.0.0.4', 5000, 0x01);
    const table = parse(`${text.endsWith('\n') ? text : `${text}\n`}${good}\n`.replace(TCP6_HEADER, TCP_HEADER), 4);
    expect(family === 6 || 'rows' in table).toBe(true);
    if (family === 4) {
      expect(table).toEqual({ rows: expect.arrayContaining([expect.objectContaining({ localPort: 443, remotePort: 5000 })]), dropped: 1 });
    } else {
      expect(parse(text, 6)).toEqual({ rows: [], dropped: 1 });
    }
  });
});

describe('SocketTableParser: what a row must be', () => {
  const good = socketRow(1, '10.0.0.3', 443, '10.0.0.4', 5000, TCP_ESTABLISHED);
  const row = socketRow(0, '10.0.0.1', 80, '10.0.0.2', 5000, TCP_ESTABLISHED);
  const at = (text: string, index: number, c: string) => `${text.slice(0, index)}${c}${text.slice(index + 1)}`;
  const table = (...rows: string[]) => [TCP_HEADER, ...rows, ''].join('\n');
  const keptGood = { rows: [expect.objectContaining({ localAddress: '10.0.0.3', localPort: 443, remotePort: 5000 })], dropped: 1 };

  // `   0: 0100000A:0050 0200000A:1388 01 ...`: the columns are read by their offsets from the slot's colon.
  it.each([
    ['the colon after the slot number', 4],
    ['the space after it', 5],
    ['the colon between local address and port', 14],
    ['the space before the remote address', 19],
    ['the colon between remote address and port', 28],
    ['the space before the state', 33],
    ['the space after the state', 36],
  ])('drops a row with anything else in place of %s, counts it, and keeps the next row', (_name, index) => {
    expect(parse(table(at(row, index, '_'), good), 4)).toEqual(keptGood);
    expect(parse(table(at(row, index, '_'), good), 4, [UDP_UNCONNECTED])).toEqual({ rows: [], dropped: 1 });
  });

  it.each([0, 1, 2, 3])('drops a row whose slot number has a stray character at %i', (index) => {
    for (const stray of ['x', '-', '/']) expect([stray, parse(table(at(row, index, stray), good), 4)]).toEqual([stray, keptGood]);
  });

  it('drops a row without a slot number', () => {
    expect(parse(table(row.slice(4), good), 4)).toEqual(keptGood);
  });

  it('reads a row by the columns it uses: cut after its state it still gives its socket, cut inside the state it is dropped', () => {
    expect(parse(table(row.slice(0, 37), good), 4)).toEqual({
      rows: [expect.objectContaining({ localPort: 80 }), expect.anything()],
      dropped: 0,
    });
    expect(parse(table(row.slice(0, 36), good), 4)).toEqual(keptGood);
  });

  it('drops a row whose remote address or port is not hex, also after a good row (whose address it keeps for the next)', () => {
    const badRemote = row.replace('0200000A', '02000G0A');
    const badPort = row.replace(':1388', ':13X8');
    const badLocalPort = row.replace(':0050', ':0X50');
    expect(parse(table(good, badRemote, good), 4)).toEqual({ rows: [expect.anything(), expect.anything()], dropped: 1 });
    expect(parse(table(good, badPort), 4)).toEqual({ rows: [expect.anything()], dropped: 1 });
    expect(parse(table(good, badLocalPort), 4)).toEqual({ rows: [expect.anything()], dropped: 1 });
    const v6 = socketRow(0, '2001:db8::2', 22, '2001:db8::99', 5000, TCP_ESTABLISHED, 6);
    const v6BadRemote = v6.replace(/ ([0-9A-F]{32}):/g, (match, hex: string, offset: number) =>
      offset > 10 ? ` ${hex.slice(0, 31)}Z:` : match,
    );
    expect(v6BadRemote).not.toBe(v6);
    expect(parse([TCP6_HEADER, v6BadRemote, v6, ''].join('\n'), 6)).toEqual({
      rows: [expect.objectContaining({ localPort: 22 })],
      dropped: 1,
    });
  });

  it('reads any address in the first row, 1.0.0.0 included', () => {
    const rows = rowsOf(table(socketRow(0, '1.0.0.0', 22, '1.0.0.0', 5000, TCP_ESTABLISHED)), 4);
    expect(rows.map((r) => [r.localAddress, r.remoteAddress])).toEqual([['1.0.0.0', '1.0.0.0']]);
  });

  it('hands on a row with port 0 and skips rows in states not asked for (00 included): the summary decides, nothing is dropped', () => {
    const listener = socketRow(0, '0.0.0.0', 0, '0.0.0.0', 0, TCP_LISTEN);
    const unknown = socketRow(1, '10.0.0.1', 80, '10.0.0.2', 5000, 0x00);
    expect(parse(table(listener, unknown), 4)).toEqual({
      rows: [expect.objectContaining({ state: TCP_LISTEN, localPort: 0 })],
      dropped: 0,
    });
  });

  it('gives no row at all from a table without its header, however it is cut', () => {
    for (const chunkLength of [10, 4096]) {
      const rows: SocketRow[] = [];
      const parser = new SocketTableParser(4, TCP_STATES, (r) => rows.push({ ...r }));
      const bytes = Buffer.from(table(row, good).split('\n').slice(1).join('\n'), 'latin1');
      for (let start = 0; start < bytes.length; start += chunkLength) parser.push(bytes.subarray(start, start + chunkLength));
      parser.end();
      expect([chunkLength, parser.error, rows]).toEqual([chunkLength, expect.stringMatching(/header/), []]);
    }
  });

  it('a garbage line costs only itself, whatever it ends with, and a blank line too, however the file is cut', () => {
    const text = table(good, '', 'junk:ab', row, 'more garbage', good.replace('   1:', '   2:'));
    const whole = parse(text, 4, TCP_STATES, text.length);
    expect(whole).toEqual({ rows: [expect.anything(), expect.objectContaining({ localPort: 80 }), expect.anything()], dropped: 3 });
    for (const chunkLength of [1, 2, 7, 150, 151, 152, 300])
      expect([chunkLength, parse(text, 4, TCP_STATES, chunkLength)]).toEqual([chunkLength, whole]);
  });

  it('quotes the first dropped row, trimmed, with its line number, for the log: at most 100 characters of it', () => {
    const quote = (text: string) => {
      const parser = new SocketTableParser(4, TCP_STATES, () => undefined);
      parser.push(Buffer.from(text, 'latin1'));
      parser.end();
      return parser.firstDropped;
    };
    expect(quote(table(good, '  garbage here  ', 'other garbage'))).toBe('line 3: "garbage here"');
    const long = `x${'y'.repeat(150)}`;
    expect(quote(table(long, 'other garbage'))).toBe(`line 2: "${long.slice(0, 100)}"`);
    expect(quote(table(good))).toBeUndefined();
  });
});

describe('SocketAddressCache', () => {
  const v4Row = (remote: string) => socketRow(0, '192.0.2.2', 22, remote, 5000, TCP_ESTABLISHED);
  const v6Row = (remote: string) => socketRow(0, '2001:db8::2', 22, remote, 5000, TCP_ESTABLISHED, 6);
  const remotesOf = (rows: string[], family: 4 | 6, addresses: SocketAddressCache) =>
    socketRowsOf([family === 4 ? TCP_HEADER : TCP6_HEADER, ...rows].join('\n'), family, addresses).map((row) => row.remote);

  it('gives one object per address across tables and samples, the IPv4-mapped form being the IPv4 one', () => {
    const addresses = new SocketAddressCache();
    const [a, b] = remotesOf([v4Row('203.0.113.7'), v4Row('203.0.113.7')], 4, addresses);
    const [mapped, v6, v6again] = remotesOf([v6Row('::ffff:203.0.113.7'), v6Row('2001:db8::99'), v6Row('2001:db8::99')], 6, addresses);
    expect(b).toBe(a);
    expect(mapped).toBe(a);
    expect(v6again).toBe(v6);
    expect(v6).toMatchObject({ text: '2001:db8::99', words: [0x20010db8, 0, 0, 0x99] });
    addresses.startSample();
    expect(remotesOf([v4Row('203.0.113.7')], 4, addresses)[0]).toBe(a);
  });

  it('drops the addresses the last sample did not meet once they outnumber it twice, keeping the ones it met', () => {
    const addresses = new SocketAddressCache();
    const many = Array.from({ length: 3_000 }, (_, i) => v4Row(dottedIpv4(0x0a000000 + i)));
    const [kept] = remotesOf(many, 4, addresses);
    // The local address 192.0.2.2 is held too.
    expect(addresses.size).toBe(3_001);
    addresses.startSample();
    remotesOf([many[0] as string, v4Row('198.51.100.1')], 4, addresses);
    expect(addresses.size).toBe(3_002);
    addresses.startSample();
    expect(addresses.size).toBe(3);
    expect(remotesOf([many[0] as string], 4, addresses)[0]).toBe(kept);
  });

  it('keeps a small cache whole: a device with few addresses (1,024 at most) never sweeps it', () => {
    const addresses = new SocketAddressCache();
    remotesOf(
      Array.from({ length: 1_023 }, (_, i) => v4Row(dottedIpv4(0x0a000000 + i))),
      4,
      addresses,
    );
    addresses.startSample();
    addresses.startSample();
    expect(addresses.size).toBe(1_024);
  });

  it('keeps every address while the last sample met at least half of them, counting each address it met once', () => {
    const addresses = new SocketAddressCache();
    const fill = () => {
      for (let i = 0; i < 3_000; i++) addresses.ipv4Address(0x0a000000 + i);
    };
    fill();
    addresses.startSample();
    for (let i = 0; i < 1_500; i++) addresses.ipv4Address(0x0a000000 + i);
    addresses.startSample();
    expect(addresses.size).toBe(3_000);
    for (let i = 0; i < 1_499; i++) addresses.ipv4Address(0x0a000000 + i);
    addresses.startSample();
    expect(addresses.size).toBe(1_499);
    fill();
    addresses.startSample();
    // One address met 3,000 times is one address met.
    for (let i = 0; i < 3_000; i++) addresses.ipv4Address(0x0a000000);
    addresses.startSample();
    expect(addresses.size).toBe(1);
  });

  it('counts the addresses a sample met for the first time as met', () => {
    const addresses = new SocketAddressCache();
    for (let i = 0; i < 1_000; i++) addresses.ipv4Address(0x0a000000 + i);
    addresses.startSample();
    for (let i = 0; i < 2_000; i++) addresses.ipv4Address(0x0b000000 + i);
    addresses.startSample();
    // 3,000 held, 2,000 met by the last sample: kept.
    expect(addresses.size).toBe(3_000);
  });

  it('sweeps IPv6 addresses too, read from /proc text or from IP Helper bytes, and keeps the ones met', () => {
    const text = new SocketAddressCache();
    const hex = (i: number) => Buffer.from(procHexIpv6(`2001:db8::${i.toString(16)}`), 'latin1');
    const kept = text.ipv6Address(hex(0), 0);
    // Text that is not an address is cached as such, and swept like the rest.
    expect(text.ipv6Address(Buffer.from('Z'.repeat(32), 'latin1'), 0)).toBeUndefined();
    for (let i = 1; i < 3_000; i++) text.ipv6Address(hex(i), 0);
    expect(text.size).toBe(3_001);
    text.startSample();
    expect(text.ipv6Address(hex(0), 0)).toBe(kept);
    text.startSample();
    expect(text.size).toBe(1);
    expect(text.ipv6Address(hex(0), 0)).toBe(kept);

    const bytes = new SocketAddressCache();
    const raw = (i: number) => Buffer.from(`20010db8000000000000000000${i.toString(16).padStart(6, '0')}`, 'hex');
    const first = bytes.ipv6AddressFromBytes(raw(0), 0);
    expect(first).toMatchObject({ text: '2001:db8::', words: [0x20010db8, 0, 0, 0] });
    expect(bytes.ipv6AddressFromBytes(raw(0), 0)).toBe(first);
    for (let i = 1; i < 3_000; i++) bytes.ipv6AddressFromBytes(raw(i), 0);
    expect(bytes.size).toBe(3_000);
    bytes.startSample();
    bytes.ipv6AddressFromBytes(raw(0), 0);
    bytes.startSample();
    expect(bytes.size).toBe(1);
    expect(bytes.ipv6AddressFromBytes(raw(0), 0)).toBe(first);
  });
});

describe('createInterfaceAttribution', () => {
  const interfaces: InterfaceAddress[] = [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'lo', address: '::1', family: 6, internal: true },
    { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
    { name: 'eth0', address: 'fe80::1%eth0', family: 6, internal: false },
    { name: 'wlan0', address: 'fe80::1%wlan0', family: 6, internal: false },
    { name: 'wlan0', address: '2001:DB8::2', family: 6, internal: false },
  ];
  // Built in each test (not once for the block): a mutant is judged only by the tests during which its code runs.

  it('names the interface that holds the address', () => {
    const interfaceOf = createInterfaceAttribution(interfaces);
    expect(interfaceOf('192.0.2.2')).toBe('eth0');
    expect(interfaceOf('2001:db8::2')).toBe('wlan0');
  });

  it('gives all of 127.0.0.0/8 and ::1 to the loopback interface', () => {
    const interfaceOf = createInterfaceAttribution(interfaces);
    expect(interfaceOf('127.0.0.2')).toBe('lo');
    expect(interfaceOf('127.255.0.1')).toBe('lo');
    expect(interfaceOf('::1')).toBe('lo');
  });

  it('names no interface for wildcard, unknown or ambiguous addresses', () => {
    const interfaceOf = createInterfaceAttribution(interfaces);
    expect(interfaceOf('0.0.0.0')).toBeUndefined();
    expect(interfaceOf('::')).toBeUndefined();
    expect(interfaceOf('10.9.9.9')).toBeUndefined();
    expect(interfaceOf('fe80::1')).toBeUndefined();
  });

  it('names no interface for a wildcard address even where an interface lists it (an adapter without an address)', () => {
    const interfaceOf = createInterfaceAttribution([
      { name: 'eth1', address: '0.0.0.0', family: 4, internal: false },
      { name: 'eth1', address: '::', family: 6, internal: false },
    ]);
    expect([interfaceOf('0.0.0.0'), interfaceOf('::')]).toEqual([undefined, undefined]);
  });

  it('names no loopback interface when none is up', () => {
    expect(createInterfaceAttribution(interfaces.filter((i) => !i.internal))('127.0.0.1')).toBeUndefined();
  });

  it('still names an interface that lists the same address twice (with and without its zone)', () => {
    const interfaceOf = createInterfaceAttribution([...interfaces, { name: 'eth0', address: '192.0.2.2', family: 4, internal: false }]);
    expect(interfaceOf('192.0.2.2')).toBe('eth0');
    const zoned = createInterfaceAttribution([
      { name: 'eth0', address: 'fe80::7%eth0', family: 6, internal: false },
      { name: 'eth0', address: 'fe80::7', family: 6, internal: false },
    ]);
    expect(zoned('fe80::7')).toBe('eth0');
  });

  it('names loopback addresses by the loopback interface only, not by another interface holding one', () => {
    const interfaceOf = createInterfaceAttribution([
      { name: 'dummy0', address: '127.0.1.1', family: 4, internal: false },
      { name: 'eth0', address: '192.0.2.2', family: 4, internal: true },
      ...interfaces,
    ]);
    expect(interfaceOf('127.0.0.5')).toBe('lo');
    expect(interfaceOf('::1')).toBe('lo');
  });

  it('skips an entry whose address is not an IP address, even one marked internal', () => {
    const interfaceOf = createInterfaceAttribution([{ name: 'odd0', address: 'not-an-address', family: 4, internal: true }, ...interfaces]);
    expect(interfaceOf('127.0.0.1')).toBe('lo');
    expect(interfaceOf('192.0.2.2')).toBe('eth0');
  });
});

describe('SocketSummary', () => {
  // A function, so that the attribution is built inside each test (a mutant is judged by the tests during which it runs).
  const interfaceOf: InterfaceOf = (localAddress) => createInterfaceAttribution(GENERATED_INTERFACES)(localAddress);
  const listen = (localAddress: string, localPort: number): SocketRow => ({
    state: TCP_LISTEN,
    localAddress,
    localPort,
    remote: peer('0.0.0.0'),
    remotePort: 0,
  });

  it('reports a wildcard port once, without an interface, whatever the address family', () => {
    const ports = summarise(
      [[listen('0.0.0.0', 22)], [listen('::', 22), listen('::1', 22), listen('127.0.0.1', 22)]],
      TCP_LISTEN,
      interfaceOf,
    ).listeningPorts();
    // Strictly: a wildcard entry has no interface key at all (not one set to undefined, which CBOR would carry).
    expect(ports).toStrictEqual([{ port: 22 }, { port: 22, interface: 'lo' }]);
  });

  it('lists a port once per interface, sorted by port then interface name, the wildcard entry first, in whatever order they came', () => {
    const names: Record<string, string> = { '192.0.2.2': 'eth0', '192.0.2.3': 'Ethernet', '198.51.100.2': 'wlan0' };
    const rows = [
      listen('198.51.100.2', 22),
      listen('192.0.2.3', 22),
      listen('0.0.0.0', 22),
      listen('192.0.2.2', 22),
      listen('192.0.2.2', 21),
    ];
    for (let first = 0; first < rows.length; first++) {
      for (const order of [rows, [...rows].reverse()]) {
        const rotated = [...order.slice(first), ...order.slice(0, first), listen('192.0.2.2', 22)];
        const ports = summarise([rotated], TCP_LISTEN, (address) => names[address]).listeningPorts();
        expect(ports).toStrictEqual([
          { port: 21, interface: 'eth0' },
          { port: 22 },
          { port: 22, interface: 'Ethernet' },
          { port: 22, interface: 'eth0' },
          { port: 22, interface: 'wlan0' },
        ]);
      }
    }
  });

  it('takes only listeners and established connections: a row in another state counts nowhere', () => {
    const summary = summarise(
      [
        [
          { ...listen('192.0.2.2', 22), state: UDP_UNCONNECTED },
          { state: 0x06, localAddress: '192.0.2.2', localPort: 22, remote: peer('203.0.113.7'), remotePort: 5000 },
        ],
      ],
      TCP_LISTEN,
      interfaceOf,
    );
    expect([summary.listeningPorts(), summary.establishedConnections(), summary.establishedTotal(), summary.dropped]).toEqual([
      [],
      [],
      0,
      0,
    ]);
  });

  it('sorts ports and skips port 0', () => {
    const ports = summarise(
      [[listen('192.0.2.2', 8080), listen('0.0.0.0', 0), listen('192.0.2.2', 443)]],
      TCP_LISTEN,
      interfaceOf,
    ).listeningPorts();
    expect(ports).toEqual([
      { port: 443, interface: 'eth0' },
      { port: 8080, interface: 'eth0' },
    ]);
  });

  it('merges the same connection seen as IPv4 and as IPv4-mapped IPv6, brackets IPv6 peers', () => {
    const row = (localAddress: string, remoteAddress: string, remotePort: number): SocketRow => ({
      state: TCP_ESTABLISHED,
      localAddress,
      localPort: 22,
      remote: peer(remoteAddress),
      remotePort,
    });
    const connections = summarise(
      [
        [row('192.0.2.2', '203.0.113.7', 51000), listen('0.0.0.0', 22)],
        [row('192.0.2.2', '203.0.113.7', 51000), row('2001:db8::2', '2001:db8::99', 60000), row('10.9.9.9', '10.0.0.1', 1)],
      ],
      TCP_LISTEN,
      interfaceOf,
    ).establishedConnections();
    expect(connections).toStrictEqual([
      { remoteAddr: '203.0.113.7:51000', localPort: 22, localInterface: 'eth0' },
      { remoteAddr: '[2001:db8::99]:60000', localPort: 22, localInterface: 'eth0' },
      { remoteAddr: '10.0.0.1:1', localPort: 22 },
    ]);
  });

  it('groups the peers of each summary afresh, though the address objects are the same from sample to sample', () => {
    const row = (remoteAddress: string, localPort: number): SocketRow => ({
      state: TCP_ESTABLISHED,
      localAddress: '192.0.2.2',
      localPort,
      remote: peer(remoteAddress),
      remotePort: 443,
    });
    const first = summarise([[row('203.0.113.1', 1), row('203.0.113.2', 2)]], TCP_LISTEN, interfaceOf);
    const second = summarise([[row('203.0.113.2', 3), row('203.0.113.1', 4), row('203.0.113.2', 5)]], TCP_LISTEN, interfaceOf);
    expect(first.establishedConnections().map((c) => `${c.remoteAddr}/${c.localPort}`)).toEqual(['203.0.113.1:443/1', '203.0.113.2:443/2']);
    expect(second.establishedConnections().map((c) => `${c.remoteAddr}/${c.localPort}`)).toEqual([
      '203.0.113.2:443/3',
      '203.0.113.1:443/4',
      '203.0.113.2:443/5',
    ]);
    const texts = (summary: SocketSummary) =>
      Array.from({ length: summary.destinations().count }, (_, i) => summary.destinations().text(i));
    expect(texts(second)).toEqual(['203.0.113.2', '203.0.113.1']);
  });

  it('keeps every distinct destination as numbers, however few connections are listed', () => {
    const row = (remoteAddress: string, remotePort: number): SocketRow => ({
      state: TCP_ESTABLISHED,
      localAddress: '192.0.2.2',
      localPort: 22,
      remote: peer(remoteAddress),
      remotePort,
    });
    const summary = summarise(
      [[row('203.0.113.7', 1), listen('0.0.0.0', 22), row('203.0.113.7', 2), row('10.0.0.1', 1)], [row('2001:db8::99', 3)]],
      TCP_LISTEN,
      interfaceOf,
    );
    expect(summary.establishedConnections(1)).toHaveLength(1);
    const table = summary.destinations();
    const listed = Array.from({ length: table.count }, (_, i) =>
      table.family[i] === 4 ? [table.text(i), table.v4[i]] : [table.text(i), Array.from(table.v6.subarray(i * 4, i * 4 + 4))],
    );
    expect(listed).toEqual([
      ['203.0.113.7', 0xcb007107],
      ['10.0.0.1', 0x0a000001],
      ['2001:db8::99', [0x20010db8, 0, 0, 0x99]],
    ]);
  });
});

describe('SocketSummary de-duplication', () => {
  const interfaceOf: InterfaceOf = (localAddress) =>
    createInterfaceAttribution([
      { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
      { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
      { name: 'eth1', address: '198.51.100.2', family: 4, internal: false },
    ])(localAddress);
  const row = (localAddress: string, localPort: number, remotePort: number): SocketRow => ({
    state: TCP_ESTABLISHED,
    localAddress,
    localPort,
    remote: peer('203.0.113.9'),
    remotePort,
  });

  it('keeps connections that share a remote endpoint but not the local port or interface, once each', () => {
    const connections = summarise(
      [
        [
          row('192.0.2.2', 5000, 443),
          row('198.51.100.2', 5000, 443),
          row('192.0.2.2', 5001, 443),
          row('198.51.100.2', 5000, 443),
          row('192.0.2.2', 5000, 443),
        ],
      ],
      TCP_LISTEN,
      interfaceOf,
    ).establishedConnections();
    expect(connections).toEqual([
      { remoteAddr: '203.0.113.9:443', localPort: 5000, localInterface: 'eth0' },
      { remoteAddr: '203.0.113.9:443', localPort: 5000, localInterface: 'eth1' },
      { remoteAddr: '203.0.113.9:443', localPort: 5001, localInterface: 'eth0' },
    ]);
  });

  it('makes one entry of two sockets whose local addresses are on the same interface, but counts two sockets', () => {
    const summary = summarise([[row('127.0.0.1', 5000, 443)], [row('127.0.0.2', 5000, 443)]], TCP_LISTEN, interfaceOf);
    expect(summary.establishedConnections()).toEqual([{ remoteAddr: '203.0.113.9:443', localPort: 5000, localInterface: 'lo' }]);
    expect(summary.establishedTotal()).toBe(2);
  });

  it('counts 26 sockets as 26 when two differ only in their local address, and a socket listed twice once', () => {
    const rows = Array.from({ length: 25 }, (_, i) => row('192.0.2.2', 6000 + i, 443));
    rows.push(row('127.0.0.1', 6000, 443));
    const summary = summarise([rows, [row('192.0.2.2', 6000, 443)]], TCP_LISTEN, () => 'eth0');
    expect(summary.establishedConnections()).toHaveLength(25);
    expect(summary.establishedTotal()).toBe(26);
  });

  it('drops and counts what the report cannot carry: a connection to remote port 0, a listener on port 0', () => {
    const summary = summarise(
      [[row('192.0.2.2', 5000, 0), row('192.0.2.2', 5000, 443), { ...row('0.0.0.0', 0, 0), state: TCP_LISTEN }]],
      TCP_LISTEN,
      interfaceOf,
    );
    expect(summary.establishedConnections()).toEqual([{ remoteAddr: '203.0.113.9:443', localPort: 5000, localInterface: 'eth0' }]);
    expect(summary.establishedTotal()).toBe(1);
    expect(summary.listeningPorts()).toEqual([]);
    expect(summary.dropped).toBe(2);
  });

  it('builds only as many entries as asked for, one per remote address first, and still counts every socket', () => {
    const to = (remoteAddress: string, localPort: number): SocketRow => ({
      ...row('192.0.2.2', localPort, 443),
      remote: peer(remoteAddress),
    });
    const summary = summarise(
      [
        [
          to('203.0.113.1', 1),
          to('203.0.113.1', 2),
          to('203.0.113.1', 3),
          to('198.51.100.1', 4),
          to('2001:db8::1', 5),
          to('198.51.100.1', 6),
        ],
      ],
      TCP_LISTEN,
      interfaceOf,
    );
    expect(summary.establishedConnections(4).map((c) => `${c.remoteAddr}/${c.localPort}`)).toEqual([
      '203.0.113.1:443/1',
      '198.51.100.1:443/4',
      '[2001:db8::1]:443/5',
      '203.0.113.1:443/2',
    ]);
    expect(summary.establishedConnections()).toHaveLength(6);
    expect(summary.establishedTotal()).toBe(6);
  });

  it('keeps every socket apart as its table grows, and a table lent to the next sample starts empty', () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ ...row('192.0.2.2', 1 + (i % 60_000), 443 + (i >> 8)) }));
    const table = new SeenSockets();
    const summary = new SocketSummary(interfaceOf, TCP_LISTEN, table);
    for (const r of [...rows, ...rows]) summary.add(r);
    expect(summary.establishedTotal()).toBe(5_000);
    expect(summary.establishedConnections()).toHaveLength(5_000);
    const next = new SocketSummary(interfaceOf, TCP_LISTEN, table);
    for (const r of rows.slice(0, 10)) next.add(r);
    expect(next.establishedTotal()).toBe(10);
  });

  it('tells 100,000 sockets apart although their 16-bit fingerprints collide, and finds each one again', () => {
    const table = new SeenSockets();
    const key = (i: number) => [i % 7, ((i * 2654435761) >>> 0) % 4294967296] as const;
    for (let i = 0; i < 100_000; i++) expect(table.add(...key(i), `10.0.0.${i % 5}`, 'eth0')).toBe('new');
    for (let i = 0; i < 100_000; i += 997) {
      expect(table.add(...key(i), `10.0.0.${i % 5}`, 'eth0')).toBe('before');
      expect(table.add(...key(i), '10.0.0.9', 'eth0')).toBe('entry');
      expect(table.add(...key(i), '10.0.1.9', 'eth1')).toBe('new');
    }
    table.clear();
    expect(table.add(...key(3), '10.0.0.3', 'eth0')).toBe('new');
  });

  it('tells a socket seen before from another local address on the same or another interface, whatever came between', () => {
    const table = new SeenSockets();
    expect(table.add(1, 443, '192.0.2.2', 'eth0')).toBe('new');
    expect(table.add(1, 443, '198.51.100.2', 'eth1')).toBe('new');
    expect(table.add(1, 443, '192.0.2.3', 'eth0')).toBe('entry');
    expect(table.add(1, 443, '198.51.100.3', 'eth1')).toBe('entry');
    expect(table.add(1, 443, '198.51.100.2', 'eth1')).toBe('before');
    expect(table.add(1, 443, '192.0.2.3', 'eth0')).toBe('before');
    expect(table.add(1, 443, '203.0.113.1', undefined)).toBe('new');
    expect(table.add(1, 443, '203.0.113.2', undefined)).toBe('entry');
    expect(table.add(2, 443, '192.0.2.2', 'eth0')).toBe('new');
    expect(table.add(1, 444, '192.0.2.2', 'eth0')).toBe('new');
  });

  it('makes its slots at the first socket: a table that never holds one (a UDP block) has none', () => {
    const table = new SeenSockets();
    table.clear();
    expect(table.capacity).toBe(0);
    expect(table.add(1, 443, '192.0.2.2', 'eth0')).toBe('new');
    expect(table.capacity).toBe(1024);
    expect(table.add(1, 443, '192.0.2.2', 'eth0')).toBe('before');
  });

  it('gives back the memory of a burst: a table far larger than the last sample needed shrinks at the next clear', () => {
    const table = new SeenSockets();
    for (let i = 0; i < 100_000; i++) table.add(0, i, '192.0.2.2', 'eth0');
    const burst = table.capacity;
    expect(burst).toBeGreaterThanOrEqual(200_000);
    table.clear();
    expect(table.capacity).toBe(burst);
    for (let i = 0; i < 50; i++) table.add(1, i, '192.0.2.2', 'eth0');
    table.clear();
    expect(table.capacity).toBe(1024);
    for (let i = 0; i < 50; i++) expect(table.add(1, i, '192.0.2.3', 'eth0')).toBe('new');
    expect(table.add(1, 7, '192.0.2.3', 'eth0')).toBe('before');
  });

  it('shrinks a burst table to what the last sample needed: four slots per socket, a power of two', () => {
    const table = new SeenSockets();
    for (let i = 0; i < 100_000; i++) table.add(0, i, '192.0.2.2', 'eth0');
    table.clear();
    for (let i = 0; i < 1_024; i++) table.add(1, i, '192.0.2.2', 'eth0');
    table.clear();
    expect(table.capacity).toBe(4_096);
    for (let i = 0; i < 1_024; i++) table.add(1, i, '192.0.2.2', 'eth0');
    for (let i = 0; i < 200; i++) table.add(1, i + 100_000, '192.0.2.2', 'eth0');
    table.clear();
    expect(table.capacity).toBe(4_096);
    for (let i = 0; i < 1_025; i++) expect(table.add(2, i, '192.0.2.2', 'eth0')).toBe('new');
    expect(table.add(2, 1_024, '192.0.2.2', 'eth0')).toBe('before');
  });

  it('keeps at most the list limit of entries, and counts every socket', () => {
    const summary = new SocketSummary(interfaceOf, TCP_LISTEN, new SeenSockets(), 3);
    for (let port = 1; port <= 50; port++) summary.add(row('192.0.2.2', port, 443));
    expect(summary.establishedTotal()).toBe(50);
    expect(summary.establishedConnections().map((c) => c.localPort)).toEqual([1, 2, 3]);
    expect(summary.establishedConnections(2)).toHaveLength(2);
    expect(summary.keptEntries).toBe(3);
  });

  it('keeps only the first entry of each peer once those fill the list limit', () => {
    const summary = new SocketSummary(interfaceOf, TCP_LISTEN, new SeenSockets(), 3);
    for (let port = 1; port <= 30; port++) summary.add({ ...row('192.0.2.2', port, 443), remote: peer(`203.0.113.${1 + (port % 3)}`) });
    expect(summary.keptEntries).toBe(3);
    expect(summary.establishedConnections().map((c) => `${c.remoteAddr}/${c.localPort}`)).toEqual([
      '203.0.113.2:443/1',
      '203.0.113.3:443/2',
      '203.0.113.1:443/3',
    ]);
    expect(summary.establishedTotal()).toBe(30);
  });

  it('lists nothing when asked for no entry', () => {
    const summary = summarise([[row('192.0.2.2', 5000, 443), row('192.0.2.2', 5001, 443)]], TCP_LISTEN, interfaceOf);
    expect(summary.establishedConnections(0)).toEqual([]);
    expect(summary.establishedTotal()).toBe(2);
  });

  it('keeps only the entries that can be listed, and lists what a summary keeping them all would', () => {
    // Seeded, so that a failure repeats. Skewed: a few peers hold most sockets, many hold one.
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const [peerCount, sockets, limit, skewed] of [
      [250, 20_000, 500, false],
      [250, 20_000, 500, true],
      [1, 2_000, 500, false],
      [3, 50, 7, true],
      [600, 2_000, 500, true],
      [2, 2_000, 500, true],
    ] as const) {
      const rows = Array.from({ length: sockets }, (_, i) => ({
        ...row(random(2) ? '192.0.2.2' : '198.51.100.2', 1 + (i % 60_000), 1 + random(3)),
        remote: peer(dottedIpv4(0xcb000000 + (skewed ? random(1 + random(peerCount)) : random(peerCount)))),
      }));
      const limited = new SocketSummary(interfaceOf, TCP_LISTEN, new SeenSockets(), limit);
      const all = new SocketSummary(interfaceOf, TCP_LISTEN, new SeenSockets());
      rows.forEach(limited.add);
      rows.forEach(all.add);
      for (const wanted of [limit, Math.floor(limit / 2), 1]) {
        expect(limited.establishedConnections(wanted)).toEqual(all.establishedConnections(wanted));
      }
      expect(limited.establishedTotal()).toBe(all.establishedTotal());
      // Uniform peers: two rounds hold the 500 listed, so a peer keeps a few entries (more while few peers are known), not 80.
      if (!skewed && peerCount === 250) expect(limited.keptEntries).toBeLessThanOrEqual(4 * 250);
    }
  });

  it('tells ports apart whose packed pair could collide if packed carelessly', () => {
    const connections = summarise(
      [[row('192.0.2.2', 1, 65535), row('192.0.2.2', 65535, 1), row('192.0.2.2', 0x8000, 0x8000)]],
      TCP_LISTEN,
      interfaceOf,
    ).establishedConnections();
    expect(connections.map((c) => `${c.remoteAddr}/${c.localPort}`)).toEqual([
      '203.0.113.9:65535/1',
      '203.0.113.9:1/65535',
      '203.0.113.9:32768/32768',
    ]);
  });
});

describe('at 10,000 connections (generated table)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddproc-'));
    writeGeneratedProc(dir, { established: 10_000, listeners: 50, mappedDuplicates: 1_000, timeWait: 2_000 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('counts, de-duplicates and attributes every row', () => {
    const addresses = new SocketAddressCache();
    const tcp = socketRowsOf(fs.readFileSync(path.join(dir, 'net/tcp'), 'latin1'), 4, addresses);
    const tcp6 = socketRowsOf(fs.readFileSync(path.join(dir, 'net/tcp6'), 'latin1'), 6, addresses);
    expect(tcp).toHaveLength(10_050);
    expect(tcp6).toHaveLength(1_050);
    const interfaceOf = createInterfaceAttribution(GENERATED_INTERFACES);

    const summary = summarise([tcp, tcp6], TCP_LISTEN, interfaceOf);
    const ports = summary.listeningPorts();
    expect(ports).toHaveLength(50);
    expect(ports.every((p) => p.interface === undefined)).toBe(true);

    const connections = summary.establishedConnections();
    expect(connections).toHaveLength(10_000);
    for (const i of [0, 1, 4_999, 9_999]) {
      const local = generatedLocal(i);
      const remote = generatedRemote(i);
      expect(connections[i]).toEqual({
        remoteAddr: `${remote.address}:${remote.port}`,
        localPort: local.port,
        localInterface: local.interface,
      });
    }
    expect(connections.filter((c) => c.localInterface === 'lo')).toHaveLength(5_000);
    expect(summary.establishedTotal()).toBe(10_000);
  });
});
