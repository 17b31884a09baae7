import type { EstablishedConnection, ListeningPort, MetricsSample } from '../../src/metrics/types';
import { buildReport, type ReportOptions } from '../../src/report/build';
import * as encode from '../../src/report/encode';
import { encodedSize } from '../../src/report/encode';
import { decodeReport } from '../support/report-decoder';
import { LONG_TO_SHORT } from '../../src/report/names';
import { validateReport } from '../../src/report/validate';
import { assertPlainCbor } from './plain-cbor';

const realEncodedSize = encode.encodedSize;

const OPTIONS: ReportOptions = {
  reportId: 1700000000,
  shortNames: false,
  format: 'json',
  maxListedPorts: 200,
  maxListedConnections: 500,
  maxReportBytes: 64000,
};

const FULL_SAMPLE: MetricsSample = {
  listeningTcpPorts: [{ port: 443, interface: 'eth0' }, { port: 22 }],
  listeningUdpPorts: [{ port: 5353, interface: 'wlan0' }],
  establishedConnections: [
    { remoteAddr: '192.168.0.1:8000', localPort: 80, localInterface: 'eth0' },
    { remoteAddr: '[2001:db8::1]:443', localPort: 51000 },
  ],
  networkStats: { bytesIn: 2n ** 60n + 1n, bytesOut: 300n, packetsIn: 4n, packetsOut: 5n },
  customMetrics: {
    cpu_usage: { type: 'number', value: 12.5 },
    load: { type: 'number-list', value: [0.5, 0.25, 0.125] },
    interfaces: { type: 'string-list', value: ['eth0', 'wlan0'] },
    addresses: { type: 'ip-address-list', value: ['10.0.0.2', 'fe80::2'] },
  },
};

const EXPECTED_CUSTOM = {
  cpu_usage: [{ number: 12.5 }],
  load: [{ number_list: [0.5, 0.25, 0.125] }],
  interfaces: [{ string_list: ['eth0', 'wlan0'] }],
  addresses: [{ ip_list: ['10.0.0.2', 'fe80::2'] }],
};

/** What a decoder gives back: integers that fit a JS number come back as numbers. */
function asDecoded(value: unknown, format: 'json' | 'cbor'): unknown {
  const limit = format === 'json' ? BigInt(Number.MAX_SAFE_INTEGER) : 0xffffffffn;
  if (typeof value === 'bigint') return value <= limit ? Number(value) : value;
  if (Array.isArray(value)) return value.map((item) => asDecoded(item, format));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asDecoded(v, format)]));
  return value;
}

/** Every key of a short-name report that is not a custom metric name or value key. */
function reportKeys(value: unknown, insideCustom = false): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => reportKeys(item, insideCustom));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, member]) => {
    const custom = insideCustom || key === 'cmet' || key === 'custom_metrics';
    return [...(insideCustom ? [] : [key]), ...reportKeys(member, custom)];
  });
}

function connections(count: number, distinctRemotes = count): EstablishedConnection[] {
  return Array.from({ length: count }, (_, i) => {
    const remote = i % distinctRemotes;
    return {
      remoteAddr:
        remote % 4 === 0
          ? `[2001:db8::${remote.toString(16)}]:443`
          : `10.${(remote >> 16) & 255}.${(remote >> 8) & 255}.${remote & 255}:${1024 + (i % 60000)}`,
      localPort: 1 + (i % 65535),
      localInterface: i % 2 ? 'eth0' : 'wlan0',
    };
  });
}

describe('buildReport', () => {
  it('sends the true socket count as the connections total when it exceeds the entries', () => {
    const built = buildReport({ ...FULL_SAMPLE, establishedConnectionsTotal: 26 }, OPTIONS);
    expect(
      (built.document.metrics as { tcp_connections: { established_connections: { total: number } } }).tcp_connections
        .established_connections.total,
    ).toBe(26);
    expect(built.counts.connections).toEqual({ listed: 2, total: 26 });
  });

  it('builds the long-name report: header, the blocks present, true totals, wrapped custom metrics', () => {
    const built = buildReport(FULL_SAMPLE, OPTIONS);
    expect(built.document).toEqual({
      header: { report_id: 1700000000, version: '1.0' },
      metrics: {
        listening_tcp_ports: { ports: [{ port: 22 }, { port: 443, interface: 'eth0' }], total: 2 },
        listening_udp_ports: { ports: [{ port: 5353, interface: 'wlan0' }], total: 1 },
        tcp_connections: {
          established_connections: {
            connections: [
              { remote_addr: '192.168.0.1:8000', local_port: 80, local_interface: 'eth0' },
              { remote_addr: '[2001:db8::1]:443', local_port: 51000 },
            ],
            total: 2,
          },
        },
        network_stats: { bytes_in: 2n ** 60n + 1n, bytes_out: 300n, packets_in: 4n, packets_out: 5n },
      },
      custom_metrics: EXPECTED_CUSTOM,
    });
    expect(built.counts).toEqual({
      tcpPorts: { listed: 2, total: 2 },
      udpPorts: { listed: 1, total: 1 },
      connections: { listed: 2, total: 2 },
      customMetrics: 4,
    });
    expect(built.trimmed).toBe(false);
    expect(built.problems).toEqual([]);
    expect(validateReport(built.document)).toEqual([]);
  });

  it('builds the short-name report with only short keys; custom metric names and value keys stay as they are', () => {
    const built = buildReport(FULL_SAMPLE, { ...OPTIONS, shortNames: true });
    expect(built.document).toEqual({
      hed: { rid: 1700000000, v: '1.0' },
      met: {
        tp: { pts: [{ pt: 22 }, { pt: 443, if: 'eth0' }], t: 2 },
        up: { pts: [{ pt: 5353, if: 'wlan0' }], t: 1 },
        tc: {
          ec: {
            cs: [
              { rad: '192.168.0.1:8000', lp: 80, li: 'eth0' },
              { rad: '[2001:db8::1]:443', lp: 51000 },
            ],
            t: 2,
          },
        },
        ns: { bi: 2n ** 60n + 1n, bo: 300n, pi: 4n, po: 5n },
      },
      cmet: EXPECTED_CUSTOM,
    });
    const shortNames = new Set<string>(Object.values(LONG_TO_SHORT));
    expect(reportKeys(built.document).filter((key) => !shortNames.has(key))).toEqual([]);
    expect(validateReport(built.document)).toEqual([]);
  });

  it.each([
    ['json', false],
    ['json', true],
    ['cbor', false],
    ['cbor', true],
  ] as const)('round-trips through %s (short names: %s) to the same document, with the exact byte count', (format, shortNames) => {
    const built = buildReport(FULL_SAMPLE, { ...OPTIONS, format, shortNames });
    expect(built.bytes).toBe(built.payload.length);
    expect(built.bytes).toBe(encodedSize(built.document, format));
    const decoded = decodeReport(built.payload, format);
    expect(decoded).toEqual(asDecoded(built.document, format));
    expect(validateReport(decoded)).toEqual([]);
    if (format === 'cbor') assertPlainCbor(built.payload);
    else expect(built.payload.toString('utf8')).toContain(`:${2n ** 60n + 1n},`);
  });

  it('leaves out blocks the sample does not have', () => {
    const built = buildReport({ listeningUdpPorts: [], customMetrics: {} }, OPTIONS);
    expect(built.document).toEqual({
      header: { report_id: 1700000000, version: '1.0' },
      metrics: { listening_udp_ports: { ports: [], total: 0 } },
    });
    expect(built.counts).toEqual({ udpPorts: { listed: 0, total: 0 }, customMetrics: 0 });
  });

  it('sends an empty metrics block when nothing was collected, and no metrics block when only custom metrics were', () => {
    const empty = buildReport({ customMetrics: {} }, OPTIONS);
    expect(empty.document).toEqual({ header: { report_id: 1700000000, version: '1.0' }, metrics: {} });
    expect(validateReport(empty.document)).toEqual([]);
    const customOnly = buildReport({ customMetrics: { up: { type: 'number', value: 5 } } }, { ...OPTIONS, shortNames: true });
    expect(customOnly.document).toEqual({ hed: { rid: 1700000000, v: '1.0' }, cmet: { up: [{ number: 5 }] } });
    expect(validateReport(customOnly.document)).toEqual([]);
  });

  it('leaves out invalid custom values with a problem and sends the rest', () => {
    const built = buildReport(
      {
        customMetrics: {
          good: { type: 'number', value: 33.333333333333336 },
          broken: { type: 'number', value: Number.NaN },
          'aws:reserved': { type: 'number', value: 1 },
          names: { type: 'string-list', value: ['eth0', 'not valid'] },
        },
      },
      OPTIONS,
    );
    expect(built.document.custom_metrics).toEqual({ good: [{ number: 33.3333333333333 }], names: [{ string_list: ['eth0'] }] });
    expect(built.counts.customMetrics).toBe(2);
    expect(built.problems.map((problem) => problem.subject)).toEqual([
      'custom_metrics.broken',
      'custom_metrics.aws:reserved',
      'custom_metrics.names',
    ]);
    expect(validateReport(built.document)).toEqual([]);
  });

  it('caps ports: ascending, each port number once before a second interface on the same port; total stays true', () => {
    const ports: ListeningPort[] = [
      { port: 8080, interface: 'eth0' },
      { port: 22, interface: 'wlan0' },
      { port: 22, interface: 'eth0' },
      { port: 443 },
      { port: 80, interface: 'eth0' },
      { port: 53, interface: 'lo' },
    ];
    const built = buildReport({ listeningTcpPorts: ports, customMetrics: {} }, { ...OPTIONS, maxListedPorts: 4 });
    expect(built.document.metrics).toEqual({
      listening_tcp_ports: {
        ports: [{ port: 22, interface: 'eth0' }, { port: 53, interface: 'lo' }, { port: 80, interface: 'eth0' }, { port: 443 }],
        total: 6,
      },
    });
    expect(built.counts.tcpPorts).toEqual({ listed: 4, total: 6 });
    expect(built.trimmed).toBe(false);
  });

  it('orders interfaces on one port by code unit, the same under every locale (capitals first, _ after digits)', () => {
    const ports: ListeningPort[] = ['veth_a', 'eth0', 'veth0', 'Eth0'].map((name) => ({ port: 22, interface: name }));
    const built = buildReport({ listeningTcpPorts: ports, customMetrics: {} }, OPTIONS);
    const listed = (built.document.metrics as { listening_tcp_ports: { ports: { interface: string }[] } }).listening_tcp_ports.ports;
    expect(listed.map((port) => port.interface)).toEqual(['Eth0', 'eth0', 'veth0', 'veth_a']);
  });

  it('puts the listener on every interface of a port before one on a named interface (Windows aliases such as Ethernet too)', () => {
    const ports: ListeningPort[] = [{ port: 22, interface: 'Ethernet' }, { port: 22 }, { port: 80, interface: 'Ethernet' }];
    const listed = (sample: ListeningPort[], maxListedPorts: number) =>
      (buildReport({ listeningTcpPorts: sample, customMetrics: {} }, { ...OPTIONS, maxListedPorts }).document.metrics as any)
        .listening_tcp_ports.ports;
    for (const order of [ports, [...ports].reverse()]) {
      expect(listed(order, 10)).toEqual([{ port: 22 }, { port: 80, interface: 'Ethernet' }, { port: 22, interface: 'Ethernet' }]);
      expect(listed(order, 2)).toEqual([{ port: 22 }, { port: 80, interface: 'Ethernet' }]);
    }
  });

  it('has no interface key at all for a listener on every interface or a connection without one (CBOR would send undefined)', () => {
    const built = buildReport(
      {
        listeningTcpPorts: [{ port: 22 }],
        establishedConnections: [{ remoteAddr: '10.0.0.1:443', localPort: 40000 }],
        customMetrics: {},
      },
      OPTIONS,
    );
    const metrics = built.document.metrics as any;
    expect(Object.keys(metrics.listening_tcp_ports.ports[0])).toEqual(['port']);
    expect(Object.keys(metrics.tcp_connections.established_connections.connections[0])).toEqual(['remote_addr', 'local_port']);
  });

  it('lists every connection when the cap allows, peers seen once among peers seen several times', () => {
    const sample: EstablishedConnection[] = [
      { remoteAddr: '10.0.0.1:443', localPort: 40000 },
      { remoteAddr: '10.0.0.2:443', localPort: 40001 },
      { remoteAddr: '10.0.0.2:444', localPort: 40002 },
      { remoteAddr: '10.0.0.3:443', localPort: 40003 },
    ];
    const built = buildReport({ establishedConnections: sample, customMetrics: {} }, { ...OPTIONS, maxListedConnections: 10 });
    const listed = (built.document.metrics as any).tcp_connections.established_connections.connections;
    expect(listed.map((c: { remote_addr: string }) => c.remote_addr)).toEqual([
      '10.0.0.1:443',
      '10.0.0.2:443',
      '10.0.0.3:443',
      '10.0.0.2:444',
    ]);
  });

  it('caps connections: one per remote IP first, in collected order, so a busy peer cannot hide the others', () => {
    const busy = Array.from({ length: 50 }, (_, i): EstablishedConnection => ({ remoteAddr: `10.0.0.1:${2000 + i}`, localPort: 8883 }));
    const rare: EstablishedConnection[] = [
      { remoteAddr: '203.0.113.9:443', localPort: 40000 },
      { remoteAddr: '[2001:db8::9]:443', localPort: 40001 },
      { remoteAddr: '[2001:db8::9]:444', localPort: 40002 },
    ];
    const built = buildReport({ establishedConnections: [...busy, ...rare], customMetrics: {} }, { ...OPTIONS, maxListedConnections: 4 });
    const listed = (built.document.metrics as Record<string, Record<string, Record<string, unknown>>>).tcp_connections!
      .established_connections as {
      connections: { remote_addr: string }[];
      total: number;
    };
    expect(listed.connections.map((c) => c.remote_addr)).toEqual([
      '10.0.0.1:2000',
      '203.0.113.9:443',
      '[2001:db8::9]:443',
      '10.0.0.1:2001',
    ]);
    expect(listed.total).toBe(53);
    expect(built.counts.connections).toEqual({ listed: 4, total: 53 });
  });

  it('with a cap of zero lists nothing but still reports the totals', () => {
    const built = buildReport(
      { listeningTcpPorts: [{ port: 22 }], establishedConnections: connections(3), customMetrics: {} },
      { ...OPTIONS, maxListedPorts: 0, maxListedConnections: 0 },
    );
    expect(built.document.metrics).toEqual({
      listening_tcp_ports: { ports: [], total: 1 },
      tcp_connections: { established_connections: { connections: [], total: 3 } },
    });
  });

  describe('byte budget at 10,000 connections', () => {
    const sample: MetricsSample = {
      listeningTcpPorts: Array.from({ length: 40 }, (_, i) => ({ port: 1000 + i, interface: 'eth0' })),
      listeningUdpPorts: Array.from({ length: 5 }, (_, i) => ({ port: 5000 + i })),
      establishedConnections: connections(10_000),
      networkStats: { bytesIn: 2n ** 62n, bytesOut: 1n, packetsIn: 2n, packetsOut: 3n },
      customMetrics: { cpu_usage: { type: 'number', value: 3.5 }, interfaces: { type: 'string-list', value: ['eth0', 'wlan0'] } },
    };

    it.each([
      ['json', false, 64_000],
      ['json', true, 64_000],
      ['cbor', false, 64_000],
      ['json', false, 8_000],
      ['json', true, 8_000],
      ['cbor', true, 8_000],
    ] as const)(
      '%s (short names: %s) fits %d bytes, uses the budget, stays valid, keeps totals, stats and custom metrics',
      (format, shortNames, budget) => {
        const built = buildReport(sample, { ...OPTIONS, format, shortNames, maxListedConnections: 10_000, maxReportBytes: budget });
        expect(built.bytes).toBeLessThanOrEqual(budget);
        // Nearly full: one more entry (well under 100 bytes each) would not have fitted.
        expect(built.bytes).toBeGreaterThan(budget - 100);
        expect(built.trimmed).toBe(true);
        expect(built.problems).toEqual([]);
        const decoded = decodeReport(built.payload, format);
        expect(validateReport(decoded)).toEqual([]);
        expect(decoded).toEqual(asDecoded(built.document, format));
        expect(built.counts.connections?.total).toBe(10_000);
        expect(built.counts.connections!.listed).toBeLessThan(budget / 20);
        expect(built.counts.customMetrics).toBe(2);
        const metrics = (decoded as any)[shortNames ? 'met' : 'metrics'];
        expect(metrics[shortNames ? 'ns' : 'network_stats'][shortNames ? 'bi' : 'bytes_in']).toBe(2n ** 62n);
        expect(
          metrics[shortNames ? 'tc' : 'tcp_connections'][shortNames ? 'ec' : 'established_connections'][shortNames ? 't' : 'total'],
        ).toBe(10_000);
      },
    );

    it('keeps the short port lists whole and cuts the long connection list', () => {
      const built = buildReport(sample, { ...OPTIONS, maxListedConnections: 10_000, maxReportBytes: 8_000 });
      expect(built.counts.tcpPorts).toEqual({ listed: 40, total: 40 });
      expect(built.counts.udpPorts).toEqual({ listed: 5, total: 5 });
    });

    it('shares a tight budget evenly between long lists', () => {
      const ports = Array.from({ length: 3000 }, (_, i) => ({ port: 1 + i }));
      const built = buildReport(
        { listeningTcpPorts: ports, listeningUdpPorts: ports, establishedConnections: connections(3000), customMetrics: {} },
        {
          ...OPTIONS,
          maxListedPorts: 3000,
          maxListedConnections: 3000,
          maxReportBytes: 8_000,
        },
      );
      const listed = [built.counts.tcpPorts!.listed, built.counts.udpPorts!.listed, built.counts.connections!.listed];
      expect(built.bytes).toBeLessThanOrEqual(8_000);
      expect(Math.min(...listed)).toBeGreaterThan(50);
      expect(Math.max(...listed) - Math.min(...listed)).toBeLessThanOrEqual(5);
    });

    it('drops custom metrics only as a last resort, largest first, with a problem', () => {
      const big = Array.from({ length: 900 }, (_, i) => `iface${i}`);
      const built = buildReport(
        { ...sample, customMetrics: { small: { type: 'number', value: 1 }, big: { type: 'string-list', value: big } } },
        { ...OPTIONS, maxListedConnections: 10_000, maxReportBytes: 4_096 },
      );
      expect(built.bytes).toBeLessThanOrEqual(4_096);
      expect(built.document.custom_metrics).toEqual({ small: [{ number: 1 }] });
      expect(built.problems).toEqual([
        {
          subject: 'custom_metrics.big',
          message: 'left out: the report does not fit maxReportBytes (4096) even with empty port and connection lists',
        },
      ]);
      expect(built.counts.connections!.listed).toBeGreaterThan(0);
      expect(validateReport(built.document)).toEqual([]);
    });

    it('is not trimmed at a budget of exactly its size, and is one byte below', () => {
      for (const format of ['json', 'cbor'] as const) {
        const full = buildReport(FULL_SAMPLE, { ...OPTIONS, format });
        const exact = buildReport(FULL_SAMPLE, { ...OPTIONS, format, maxReportBytes: full.bytes });
        expect([format, exact.trimmed, exact.bytes, exact.problems]).toEqual([format, false, full.bytes, []]);
        expect(buildReport(FULL_SAMPLE, { ...OPTIONS, format, maxReportBytes: full.bytes - 1 }).trimmed).toBe(true);
      }
    });

    it('drops no more custom metrics than it must: the report without the largest one fits to the byte', () => {
      const big = { type: 'string-list', value: Array.from({ length: 50 }, (_, i) => `iface${i}`) } as const;
      const small = { type: 'number', value: 1 } as const;
      for (const format of ['json', 'cbor'] as const) {
        // A budget of exactly the report without `big`: leaving `big` out (with its `:` and `,` in JSON) is just enough.
        const budget = buildReport({ customMetrics: { small } }, { ...OPTIONS, format }).bytes;
        const built = buildReport({ customMetrics: { big, small } }, { ...OPTIONS, format, maxReportBytes: budget });
        expect([format, built.bytes, built.counts.customMetrics]).toEqual([format, budget, 1]);
        expect(built.document.custom_metrics).toEqual({ small: [{ number: 1 }] });
        expect(built.problems.map((problem) => problem.subject)).toEqual(['custom_metrics.big']);
      }
    });

    it('trims 4,000 custom metrics to the budget measuring the report a bounded number of times, not once per metric', () => {
      const many: MetricsSample['customMetrics'] = {};
      for (let i = 0; i < 4_000; i++) many[`metric_${i}`] = { type: 'number-list', value: [i, i + 0.5, i + 0.25] };
      const full = buildReport({ customMetrics: many }, { ...OPTIONS, maxReportBytes: 10_000_000 });
      let measured = 0;
      const spy = jest.spyOn(encode, 'encodedSize').mockImplementation((value, format) => {
        const size = realEncodedSize(value, format);
        measured += size;
        return size;
      });
      try {
        const built = buildReport({ customMetrics: many }, { ...OPTIONS, maxReportBytes: full.bytes / 2 });
        expect(built.bytes).toBeLessThanOrEqual(full.bytes / 2);
        expect(built.counts.customMetrics).toBeGreaterThan(1_500);
        expect(validateReport(built.document)).toEqual([]);
      } finally {
        spy.mockRestore();
      }
      // Once per metric (the fixed defect) is ~2,000 measures of a ~100 KB report: hundreds of megabytes.
      expect(measured).toBeLessThan(10 * full.bytes);
    });

    it('says so when even an empty report does not fit', () => {
      const built = buildReport(sample, { ...OPTIONS, maxReportBytes: 100 });
      expect(built.problems).toContainEqual({
        subject: 'report',
        message: `${built.bytes} bytes, above maxReportBytes (100) even with empty lists and no custom metrics`,
      });
      expect(built.counts.connections).toEqual({ listed: 0, total: 10_000 });
      expect(built.document.custom_metrics).toBeUndefined();
    });
  });
});

describe('buildReport fills the byte budget: the largest lists that fit', () => {
  /** The list blocks of a long-name document, by kind. */
  const listsOf = (document: Record<string, unknown>): Record<'tcp' | 'udp' | 'connections', unknown[] | undefined> => {
    const metrics = document.metrics as any;
    return {
      tcp: metrics?.listening_tcp_ports?.ports,
      udp: metrics?.listening_udp_ports?.ports,
      connections: metrics?.tcp_connections?.established_connections?.connections,
    };
  };
  const ports = (count: number, from: number, named: boolean): ListeningPort[] =>
    Array.from({ length: count }, (_, i) => (named && i % 3 === 0 ? { port: from + i, interface: `veth${i}` } : { port: from + i }));

  // Lists of unequal lengths and entry sizes: the equal cut leaves budget over that the longer lists, in order, take.
  const samples: Array<[string, MetricsSample]> = [
    [
      'three long lists',
      {
        listeningTcpPorts: ports(400, 1, true),
        listeningUdpPorts: ports(300, 1000, false),
        establishedConnections: connections(2_000),
        customMetrics: {},
      },
    ],
    [
      'a short port list and a long connection list',
      { listeningTcpPorts: ports(7, 20, true), establishedConnections: connections(3_000, 40), customMetrics: {} },
    ],
    [
      'two long port lists of different entry sizes',
      { listeningTcpPorts: ports(500, 1, true), listeningUdpPorts: ports(500, 30_000, false), customMetrics: {} },
    ],
  ];
  const budgets = [4_096, 4_500, 5_003, 6_151, 7_777, 9_001, 12_345];
  const cases = samples.flatMap(([name, sample]) =>
    (['json', 'cbor'] as const).flatMap((format) => budgets.map((budget) => [name, format, budget, sample] as const)),
  );

  it.each(cases)('%s, %s, %d bytes: fits, and no list that was cut could take its next entry', (_name, format, budget, sample) => {
    const options = { ...OPTIONS, format, maxListedPorts: 10_000, maxListedConnections: 10_000 };
    const whole = listsOf(buildReport(sample, { ...options, maxReportBytes: 10_000_000 }).document);
    const built = buildReport(sample, { ...options, maxReportBytes: budget });
    expect(built.bytes).toBeLessThanOrEqual(budget);
    expect(built.bytes).toBe(encode.encodeReport(built.document, format).length);
    const kept = listsOf(built.document);
    for (const kind of ['tcp', 'udp', 'connections'] as const) {
      const all = whole[kind];
      const listed = kept[kind];
      if (all === undefined) continue;
      // What is kept is the head of the whole list, in its order.
      expect(listed).toEqual(all.slice(0, listed?.length));
      if (listed === undefined || listed.length === all.length) continue;
      // The document itself with one more entry (a copy could encode to another size: cbor-x sizes some maps by shape).
      listed.push(all[listed.length]);
      const longer = encode.encodeReport(built.document, format).length;
      listed.pop();
      expect([kind, longer > budget]).toEqual([kind, true]);
    }
  });

  it('gives every list the same length when the budget is exactly that many entries each', () => {
    const sample: MetricsSample = {
      listeningTcpPorts: ports(300, 10_000, false),
      listeningUdpPorts: ports(300, 20_000, false),
      customMetrics: {},
    };
    const options = { ...OPTIONS, maxListedPorts: 10_000 };
    const budget = buildReport(sample, { ...options, maxListedPorts: 50 }).bytes;
    const built = buildReport(sample, { ...options, maxReportBytes: budget });
    expect([built.counts.tcpPorts?.listed, built.counts.udpPorts?.listed, built.bytes]).toEqual([50, 50, budget]);
  });

  it('measures only the entries the budget can reach, not all 10,000 connections', () => {
    let measured = 0;
    const spy = jest.spyOn(encode, 'encodedSize').mockImplementation((value, format) => {
      measured += 1;
      return realEncodedSize(value, format);
    });
    try {
      const built = buildReport(
        { establishedConnections: connections(10_000), customMetrics: {} },
        {
          ...OPTIONS,
          maxListedConnections: 10_000,
          maxReportBytes: 8_000,
        },
      );
      expect(built.counts.connections?.listed).toBeGreaterThan(50);
    } finally {
      spy.mockRestore();
    }
    expect(measured).toBeLessThan(1_000);
  });

  it('gives what is left after the equal cut to the longer lists in order: ports before connections', () => {
    const sample = samples[0]?.[1] as MetricsSample;
    const counts = budgets.map(
      (budget) => buildReport(sample, { ...OPTIONS, maxListedPorts: 10_000, maxListedConnections: 10_000, maxReportBytes: budget }).counts,
    );
    for (const c of counts) {
      expect(c.tcpPorts!.listed).toBeGreaterThanOrEqual(c.udpPorts!.listed);
      expect(c.udpPorts!.listed).toBeGreaterThanOrEqual(c.connections!.listed);
    }
    // The second phase does give entries: for some budget a list keeps more than the shortest cut one.
    expect(counts.some((c) => c.tcpPorts!.listed > c.connections!.listed)).toBe(true);
  });
});
