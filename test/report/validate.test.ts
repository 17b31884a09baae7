import { validateReport } from '../../src/report/validate';

/** The long-name example of AWS's device-side metrics page (docs/device-defender-report.md). */
const CANONICAL_LONG = {
  header: { report_id: 1530304554, version: '1.0' },
  metrics: {
    listening_tcp_ports: {
      ports: [
        { interface: 'eth0', port: 24800 },
        { interface: 'eth0', port: 22 },
      ],
      total: 2,
    },
    listening_udp_ports: { ports: [{ interface: 'eth0', port: 5353 }], total: 1 },
    network_stats: { bytes_in: 29358693495, bytes_out: 26485035, packets_in: 10013573555, packets_out: 11382615 },
    tcp_connections: {
      established_connections: { connections: [{ local_interface: 'eth0', local_port: 80, remote_addr: '192.168.0.1:8000' }], total: 1 },
    },
  },
  custom_metrics: { MyMetricOfType_Number: [{ number: 1 }], MyMetricOfType_IpList: [{ ip_list: ['172.0.0.10'] }] },
};

/** The spec's short-name equivalent, with its elided values filled in. */
const CANONICAL_SHORT = {
  hed: { rid: 1530304554, v: '1.0' },
  met: {
    tp: { pts: [{ if: 'eth0', pt: 22 }], t: 1 },
    up: { pts: [{ if: 'eth0', pt: 5353 }], t: 1 },
    ns: { bi: 29358693495, bo: 26485035, pi: 10013573555, po: 11382615 },
    tc: { ec: { cs: [{ li: 'eth0', lp: 80, rad: '192.168.0.1:8000' }], t: 1 } },
  },
  cmet: { MyMetricOfType_Number: [{ number: 1 }], MyMetricOfType_IpList: [{ ip_list: ['172.0.0.10'] }] },
};

/** A deep copy of the long canonical example with one change applied. */
function longWith(change: (report: any) => void): unknown {
  const report = structuredClone(CANONICAL_LONG);
  change(report);
  return report;
}

function shortWith(change: (report: any) => void): unknown {
  const report = structuredClone(CANONICAL_SHORT);
  change(report);
  return report;
}

describe('validateReport', () => {
  it("accepts the spec's canonical examples, long and short", () => {
    expect(validateReport(CANONICAL_LONG)).toEqual([]);
    expect(validateReport(CANONICAL_SHORT)).toEqual([]);
  });

  it('accepts bigint counters and ids (decoders return bigint above 2^53), every custom value type, and IPv6 remote addresses', () => {
    const report = longWith((r) => {
      r.header.report_id = 1530304554n;
      r.metrics.network_stats.bytes_in = 2n ** 63n;
      r.metrics.tcp_connections.established_connections.connections.push({ remote_addr: '[2001:db8::1]:443', local_port: 0 });
      r.metrics.tcp_connections.established_connections.total = 5;
      r.custom_metrics = {
        n: [{ number: -12.5 }],
        nl: [{ number_list: [1, 2.5, -3] }],
        sl: [{ string_list: ['eth0', 'a/b.c:d_e-f'] }],
        ip: [{ ip_list: ['10.0.0.1', '2001:db8::2'] }],
        'with:colon_and-dash': [{ number: 100000000000000000000n }],
      };
    });
    expect(validateReport(report)).toEqual([]);
  });

  it('accepts a report with only custom_metrics and one with an empty metrics block', () => {
    expect(validateReport({ header: { report_id: 1, version: '1.0' }, custom_metrics: { x: [{ number: 0 }] } })).toEqual([]);
    expect(validateReport({ hed: { rid: 1, v: '1.0' }, met: {} })).toEqual([]);
  });

  it('rejects what is not an object', () => {
    expect(validateReport(null)).toEqual(['report: must be an object']);
    expect(validateReport([CANONICAL_LONG])).toEqual(['report: must be an object']);
  });

  it('requires the header with a positive integer report_id and a Major.Minor version', () => {
    expect(validateReport(longWith((r) => delete r.header))).toEqual(['header: required']);
    expect(validateReport(shortWith((r) => delete r.hed))).toEqual(['hed: required']);
    for (const bad of [0, -5, 1.5, '1530304554', null]) {
      expect(validateReport(longWith((r) => (r.header.report_id = bad)))).toEqual(['header.report_id: must be a positive integer']);
    }
    expect(validateReport(longWith((r) => delete r.header.report_id))).toEqual(['header.report_id: must be a positive integer']);
    for (const bad of ['1', '1.0.0', 'v1.0', 1.0]) {
      expect(validateReport(longWith((r) => (r.header.version = bad)))).toEqual([
        'header.version: must be a "Major.Minor" string such as "1.0"',
      ]);
    }
    expect(validateReport(shortWith((r) => (r.hed.v = '2')))).toEqual(['hed.v: must be a "Major.Minor" string such as "1.0"']);
  });

  it('requires metrics or custom_metrics', () => {
    expect(validateReport({ header: { report_id: 1, version: '1.0' } })).toEqual(['report: needs a "metrics" or a "custom_metrics" block']);
    expect(validateReport({ hed: { rid: 1, v: '1.0' } })).toEqual(['report: needs a "met" or a "cmet" block']);
  });

  it('rejects mixed naming modes, naming the key and the path', () => {
    expect(validateReport({ ...CANONICAL_LONG, hed: { rid: 1, v: '1.0' } })).toEqual([
      'report: has both "header" and "hed": a report uses long or short names, not both',
    ]);
    expect(validateReport(shortWith((r) => (r.met.tp.pts[0] = { port: 22, interface: 'eth0' })))).toEqual([
      'met.tp.pts[0].port: long name in a short-name report (use "pt"): do not mix naming modes',
      'met.tp.pts[0].interface: long name in a short-name report (use "if"): do not mix naming modes',
      'met.tp.pts[0].pt: must be an integer 1..65535',
    ]);
    expect(validateReport(longWith((r) => (r.metrics.ns = r.metrics.network_stats)))).toEqual([
      'metrics.ns: short name in a long-name report (use "network_stats"): do not mix naming modes',
    ]);
    expect(validateReport(shortWith((r) => (r.met.ns.bytes_in = 5)))).toEqual([
      'met.ns.bytes_in: long name in a short-name report (use "bi"): do not mix naming modes',
    ]);
  });

  it('rejects unknown keys', () => {
    expect(validateReport(longWith((r) => (r.metrics.cpu = 5)))).toEqual(['metrics.cpu: unknown key']);
    expect(validateReport(longWith((r) => (r.extra = {})))).toEqual(['extra: unknown key']);
    expect(validateReport(longWith((r) => (r.metrics.network_stats.bytes_total = 1)))).toEqual([
      'metrics.network_stats.bytes_total: unknown key',
    ]);
  });

  it('rejects blocks of the wrong type', () => {
    expect(validateReport(longWith((r) => (r.metrics = [])))).toEqual(['metrics: must be an object']);
    expect(validateReport(longWith((r) => (r.metrics.listening_tcp_ports.ports = { port: 22 })))).toEqual([
      'metrics.listening_tcp_ports.ports: must be a list',
    ]);
    expect(validateReport(longWith((r) => (r.metrics.listening_udp_ports.ports = [22])))).toEqual([
      'metrics.listening_udp_ports.ports[0]: must be an object',
    ]);
  });

  it('rejects ports outside 1..65535 and local ports outside 0..65535', () => {
    for (const bad of [0, 65536, -1, 22.5, '22']) {
      const report = longWith((r) => {
        r.metrics.listening_tcp_ports.ports.push({ port: 1 }, { port: 2 }, { port: bad });
        r.metrics.listening_tcp_ports.total = 5;
      });
      expect(validateReport(report)).toEqual(['metrics.listening_tcp_ports.ports[4].port: must be an integer 1..65535']);
    }
    expect(validateReport(longWith((r) => delete r.metrics.listening_udp_ports.ports[0].port))).toEqual([
      'metrics.listening_udp_ports.ports[0].port: must be an integer 1..65535',
    ]);
    expect(validateReport(longWith((r) => (r.metrics.tcp_connections.established_connections.connections[0].local_port = -1)))).toEqual([
      'metrics.tcp_connections.established_connections.connections[0].local_port: must be an integer 0..65535',
    ]);
  });

  it('rejects interface names that are not strings (PY sends null)', () => {
    expect(
      validateReport(longWith((r) => (r.metrics.tcp_connections.established_connections.connections[0].local_interface = null))),
    ).toEqual(['metrics.tcp_connections.established_connections.connections[0].local_interface: must be a string']);
    expect(validateReport(longWith((r) => (r.metrics.listening_tcp_ports.ports[0].interface = 3)))).toEqual([
      'metrics.listening_tcp_ports.ports[0].interface: must be a string',
    ]);
  });

  it('rejects remote addresses that are not ip:port with IPv6 in brackets', () => {
    for (const bad of [
      '192.168.0.1',
      '2001:db8::1:443',
      '[192.168.0.1]:80',
      '[2001:db8::1]',
      '192.168.0.1:0',
      '192.168.0.1:65536',
      'example.com:80',
      '999.1.1.1:80',
      8000,
    ]) {
      expect(validateReport(longWith((r) => (r.metrics.tcp_connections.established_connections.connections[0].remote_addr = bad)))).toEqual(
        [
          'metrics.tcp_connections.established_connections.connections[0].remote_addr: must be "ip:port" with a port 1..65535, IPv6 in brackets ("[2001:db8::1]:443")',
        ],
      );
    }
    expect(
      validateReport(longWith((r) => delete r.metrics.tcp_connections.established_connections.connections[0].remote_addr)),
    ).toHaveLength(1);
  });

  it('rejects negative or fractional network_stats deltas', () => {
    expect(validateReport(longWith((r) => (r.metrics.network_stats.bytes_in = -1)))).toEqual([
      'metrics.network_stats.bytes_in: must be a non-negative integer (a delta)',
    ]);
    expect(validateReport(shortWith((r) => (r.met.ns.po = -1n)))).toEqual(['met.ns.po: must be a non-negative integer (a delta)']);
    expect(validateReport(longWith((r) => (r.metrics.network_stats.packets_in = 1.5)))).toEqual([
      'metrics.network_stats.packets_in: must be a non-negative integer (a delta)',
    ]);
  });

  it('rejects a total below the number of listed entries, or not a count', () => {
    expect(validateReport(longWith((r) => (r.metrics.listening_tcp_ports.total = 1)))).toEqual([
      'metrics.listening_tcp_ports.total: is 1, less than the 2 entries listed',
    ]);
    expect(validateReport(shortWith((r) => (r.met.tc.ec.t = 0)))).toEqual(['met.tc.ec.t: is 0, less than the 1 entries listed']);
    expect(validateReport(longWith((r) => (r.metrics.listening_udp_ports.total = -1)))).toEqual([
      'metrics.listening_udp_ports.total: must be a non-negative integer',
    ]);
  });

  it('rejects custom metrics that are not wrapped in a one-element list with one known value key', () => {
    const shape = 'must be a one-element list holding one of {"number": ...}, {"number_list": ...}, {"string_list": ...}, {"ip_list": ...}';
    for (const bad of [{ number: 0 }, [], [{ number: 1 }, { number: 2 }], [{ integer: 1 }], [{ number: 1, number_list: [1] }], [7], 'x']) {
      expect(validateReport(longWith((r) => (r.custom_metrics.MyMetricOfType_Number = bad)))).toEqual([
        `custom_metrics.MyMetricOfType_Number: ${shape}`,
      ]);
    }
  });

  it('rejects custom values Device Defender would drop, and bad metric names', () => {
    const withCustom = (value: unknown, name = 'm') => validateReport({ hed: { rid: 1, v: '1.0' }, cmet: { [name]: value } });
    expect(withCustom([{ number: 33.333333333333336 }])).toEqual([
      'cmet.m[0].number: 33.333333333333336 has more than 15 significant digits',
    ]);
    expect(withCustom([{ number: '5' }])).toEqual(['cmet.m[0].number: "5" is not a finite number']);
    expect(withCustom([{ number: 1234567890123456789n }])).toEqual([
      'cmet.m[0].number: 1234567890123456789 has more than 15 significant digits',
    ]);
    expect(withCustom([{ number_list: [1, Number.NaN] }])).toEqual(['cmet.m[0].number_list[1]: NaN is not a finite number']);
    expect(withCustom([{ number_list: 5 }])).toEqual(['cmet.m[0].number_list: must be a list']);
    expect(withCustom([{ string_list: ['ok', 'not ok', ''] }])).toEqual([
      'cmet.m[0].string_list[1]: "not ok" is not a non-empty string of letters, digits, ":", "_", "-", "/" or "."',
      'cmet.m[0].string_list[2]: "" is not a non-empty string of letters, digits, ":", "_", "-", "/" or "."',
    ]);
    expect(withCustom([{ ip_list: ['10.0.0.1', '10.0.0.256', 'fe80::1%eth0'] }])).toEqual([
      'cmet.m[0].ip_list[1]: "10.0.0.256" is not an IPv4 or IPv6 address',
      'cmet.m[0].ip_list[2]: "fe80::1%eth0" is not an IPv4 or IPv6 address',
    ]);
    expect(withCustom([{ number: 1 }], 'aws:cpu')).toEqual(['cmet.aws:cpu: names starting with "aws:" are reserved for AWS metrics']);
    expect(withCustom([{ number: 1 }], 'cpu usage')).toEqual([
      'cmet.cpu usage: a metric name is 1-128 characters of letters, digits, ":", "_" or "-"',
    ]);
    expect(withCustom([{ number: 1 }], 'x'.repeat(129))).toHaveLength(1);
  });
});
