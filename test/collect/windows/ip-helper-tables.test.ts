import { parseNetDev } from '../../../src/collect/netdev';
import { type SocketRow, SocketAddressCache, TCP_ESTABLISHED, TCP_LISTEN, UDP_UNCONNECTED } from '../../../src/collect/sockets';
import {
  decodeIfTable2,
  decodeTcpTable,
  decodeUdpTable,
  IF_ROW2,
  IF_TYPE_SOFTWARE_LOOPBACK,
  TCP_ROW,
  TCP6_ROW,
  UDP_ROW,
  UDP6_ROW,
} from '../../../src/collect/windows/ip-helper-tables';
import { ifTable2, parseSs, recorded, recordedText, tcp4Table } from '../../fixtures/windows/tables';

interface Decoded {
  rows: Array<{ state: number; local: string; localPort: number; remote: string; remotePort: number }>;
  result: { error?: string; dropped: number };
}

function decode(decoder: typeof decodeTcpTable, buffer: Buffer, family: 4 | 6): Decoded {
  const rows: Decoded['rows'] = [];
  const result = decoder(buffer, family, new SocketAddressCache(), (row: SocketRow) =>
    rows.push({ state: row.state, local: row.localAddress, localPort: row.localPort, remote: row.remote.text, remotePort: row.remotePort }),
  );
  return { rows, result };
}

const ss = parseSs(recordedText('ss.txt'));
const STATES: Record<string, number> = { LISTEN: TCP_LISTEN, ESTAB: TCP_ESTABLISHED, UNCONN: UDP_UNCONNECTED };
/** What `ss` saw in the namespace of the recording, as the decoders' rows (UDP rows have no peer). */
function ssRows(protocol: 'tcp' | 'udp', family: 4 | 6): Decoded['rows'] {
  return ss
    .filter((s) => s.protocol === protocol && s.family === family)
    .map((s) => ({
      state: STATES[s.state] as number,
      local: s.local.address,
      localPort: s.local.port,
      remote: protocol === 'udp' ? '' : s.peer.address,
      remotePort: s.peer.port,
    }));
}

const sortRows = (rows: Decoded['rows']) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('the layouts', () => {
  it('are the sizes of the Windows SDK structs', () => {
    expect([TCP_ROW.size, TCP6_ROW.size, UDP_ROW.size, UDP6_ROW.size, IF_ROW2.size]).toEqual([20, 52, 8, 24, 1352]);
    expect(IF_ROW2.inOctets).toBe(1208);
  });
});

describe('decoders on buffers recorded under Wine (test/fixtures/windows/README.md)', () => {
  it.each([
    ['tcp4', 'tcp', 4],
    ['tcp6', 'tcp', 6],
    ['udp4', 'udp', 4],
    ['udp6', 'udp', 6],
  ] as const)('%s holds exactly the sockets ss listed', (table, protocol, family) => {
    const { rows, result } = decode(protocol === 'tcp' ? decodeTcpTable : decodeUdpTable, recorded(table), family);
    expect(result).toEqual({ dropped: 0 });
    const expected = ssRows(protocol, family);
    expect(expected.length).toBeGreaterThan(1);
    expect(sortRows(rows)).toEqual(sortRows(expected));
  });

  it('reads an IPv4-mapped peer of the IPv6 table as its IPv4 address', () => {
    const { rows } = decode(decodeTcpTable, recorded('tcp6'), 6);
    expect(rows).toContainEqual({
      state: TCP_ESTABLISHED,
      local: '127.0.0.1',
      localPort: 7007,
      remote: '127.0.0.1',
      remotePort: expect.any(Number),
    });
  });

  it('GetIfTable2 holds the counters of /proc/net/dev, lo only when asked for', () => {
    const proc = recordedText('proc-net-dev.txt');
    expect(decodeIfTable2(recorded('if-table2'), true)).toEqual({ ...parseNetDev(proc, true), dropped: 0 });
    const withoutLoopback = decodeIfTable2(recorded('if-table2'), false);
    expect(Object.keys(withoutLoopback.interfaces).sort()).toEqual(['v0', 'v1']);
    expect(withoutLoopback).toEqual({ ...parseNetDev(proc, false), dropped: 0 });
  });
});

describe('hostile and short buffers', () => {
  const tables = [
    ['tcp4', decodeTcpTable, 4],
    ['tcp6', decodeTcpTable, 6],
    ['udp4', decodeUdpTable, 4],
    ['udp6', decodeUdpTable, 6],
  ] as const;

  it.each(tables)('%s cut anywhere inside its rows is refused whole, never thrown', (table, decoder, family) => {
    const full = recorded(table);
    const count = full.readUInt32LE(0);
    const rowSize = { tcp4: 20, tcp6: 52, udp4: 8, udp6: 24 }[table];
    for (let length = 0; length < 4 + count * rowSize; length++) {
      const { rows, result } = decode(decoder, full.subarray(0, length), family);
      expect(rows).toEqual([]);
      expect(result.error).toMatch(length < 4 ? /shorter than its entry count/ : /announces \d+ rows but holds \d+ .*truncated/);
    }
    expect(decode(decoder, full.subarray(0, 4 + count * rowSize), family).result).toEqual({ dropped: 0 });
  });

  it.each(tables)('%s with a count far beyond its bytes hands over no row', (table, decoder, family) => {
    const forged = Buffer.from(recorded(table));
    forged.writeUInt32LE(0xffffffff, 0);
    const { rows, result } = decode(decoder, forged, family);
    expect(rows).toEqual([]);
    expect(result.error).toMatch(/announces 4294967295 rows/);
  });

  it('drops and counts a TCP row whose state is no MIB_TCP_STATE, keeps the others, skips states the report does not carry', () => {
    const table = tcp4Table([
      [2, '0.0.0.0', 22, '0.0.0.0', 0],
      [0, '10.0.0.1', 1, '10.0.0.2', 2],
      [13, '10.0.0.1', 1, '10.0.0.2', 2],
      [0xffffffff, '10.0.0.1', 1, '10.0.0.2', 2],
      [11, '10.0.0.1', 40000, '10.0.0.9', 443],
      [5, '10.0.0.1', 40001, '10.0.0.9', 443],
    ]);
    const { rows, result } = decode(decodeTcpTable, table, 4);
    expect(result).toEqual({ dropped: 3 });
    expect(rows).toEqual([
      { state: TCP_LISTEN, local: '0.0.0.0', localPort: 22, remote: '0.0.0.0', remotePort: 0 },
      { state: TCP_ESTABLISHED, local: '10.0.0.1', localPort: 40001, remote: '10.0.0.9', remotePort: 443 },
    ]);
  });

  it('reads a port from the low 16 bits in network order, whatever the upper half holds', () => {
    const { rows } = decode(decodeTcpTable, tcp4Table([[5, '192.168.1.2', 0xc350, '8.8.8.8', 53]]), 4);
    expect(rows[0]).toMatchObject({ localPort: 50000, remotePort: 53 });
  });

  it('MIB_IF_TABLE2 cut short or with a forged count is refused, never thrown', () => {
    const full = recorded('if-table2');
    for (const length of [0, 3, 4, 7, 8, 100, 1359, 1360, full.length - 1]) {
      const decoded = decodeIfTable2(full.subarray(0, length), true);
      expect(decoded.interfaces).toEqual({});
      expect(decoded.error).toMatch(/MIB_IF_TABLE2: /);
    }
    const forged = Buffer.from(full);
    forged.writeUInt32LE(4, 0);
    expect(decodeIfTable2(forged, true).error).toMatch(/announces 4 rows but holds 3/);
  });

  it('drops and counts rows without a usable Alias, and a repeated one', () => {
    const unterminated = Buffer.alloc(514, 0x41);
    const decoded = decodeIfTable2(
      ifTable2([
        { alias: 'Ethernet 2', counters: { inOctets: 10n } },
        { alias: '' },
        { alias: unterminated },
        { alias: 'evil\nINFO forged log line' },
        { alias: Buffer.from([0x00, 0xd8, 0x00, 0x00]) },
        { alias: 'Ethernet 2', counters: { inOctets: 99n } },
      ]),
      true,
    );
    expect(decoded.dropped).toBe(5);
    expect(Object.keys(decoded.interfaces)).toEqual(['Ethernet 2']);
    expect(decoded.interfaces['Ethernet 2']?.bytesIn).toBe(10n);
  });

  it('leaves out NDIS filter interfaces, which repeat their adapter traffic, and loopback unless asked for', () => {
    const table = ifTable2([
      { alias: 'Ethernet', counters: { inOctets: 1000n, inUcast: 8n, inNUcast: 2n, outOctets: 500n, outUcast: 4n, outNUcast: 1n } },
      { alias: 'Ethernet-WFP Native MAC Layer LightWeight Filter-0000', flags: 0x02, counters: { inOctets: 1000n } },
      { alias: 'Loopback Pseudo-Interface 1', type: IF_TYPE_SOFTWARE_LOOPBACK, flags: 0x00, counters: { inOctets: 7n } },
    ]);
    expect(decodeIfTable2(table, false)).toEqual({
      interfaces: { Ethernet: { bytesIn: 1000n, packetsIn: 10n, bytesOut: 500n, packetsOut: 5n } },
      dropped: 0,
    });
    expect(Object.keys(decodeIfTable2(table, true).interfaces)).toEqual(['Ethernet', 'Loopback Pseudo-Interface 1']);
  });

  it('keeps packet sums 64-bit counters, exact above 2^53', () => {
    const max = 2n ** 64n - 1n;
    const decoded = decodeIfTable2(
      ifTable2([{ alias: 'e', counters: { inOctets: max, inUcast: max, inNUcast: 2n, outUcast: 2n ** 53n + 1n } }]),
      false,
    );
    expect(decoded.interfaces.e).toEqual({ bytesIn: max, packetsIn: 1n, bytesOut: 0n, packetsOut: 2n ** 53n + 1n });
  });
});
