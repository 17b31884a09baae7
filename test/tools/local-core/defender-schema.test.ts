/**
 * The fake Defender's schema against the public specification: it must accept the specification's own examples and
 * refuse what the specification rules out. Payloads are built here with a generic CBOR encoder, not the agent's.
 */
import Ajv from 'ajv';
import { Encoder } from 'cbor-x';
import { decodePayload, reportProblems } from '../../../tools/local-core/defender-schema';
import schema from '../../../tools/local-core/defender-report.schema.json';

// Example report of detect-device-side-metrics.html (long names), with its custom metrics section.
const SPEC_LONG_EXAMPLE = {
  header: { report_id: 1530304554, version: '1.0' },
  metrics: {
    listening_tcp_ports: {
      ports: [
        { interface: 'eth0', port: 24800 },
        { interface: 'eth0', port: 22 },
        { interface: 'eth0', port: 53 },
      ],
      total: 3,
    },
    listening_udp_ports: {
      ports: [
        { interface: 'eth0', port: 5353 },
        { interface: 'eth0', port: 67 },
      ],
      total: 2,
    },
    network_stats: { bytes_in: 29358693495, bytes_out: 26485035, packets_in: 10013573555, packets_out: 11382615 },
    tcp_connections: {
      established_connections: { connections: [{ local_interface: 'eth0', local_port: 80, remote_addr: '192.168.0.1:8000' }], total: 1 },
    },
  },
  custom_metrics: {
    MyMetricOfType_Number: [{ number: 1 }],
    MyMetricOfType_NumberList: [{ number_list: [1, 2, 3] }],
    MyMetricOfType_StringList: [{ string_list: ['value_1', 'value_2'] }],
    MyMetricOfType_IpList: [{ ip_list: ['172.0.0.0', '172.0.0.10'] }],
  },
};

// The same report with the specification's short names; custom metric names are not shortened.
const SPEC_SHORT_EXAMPLE = {
  hed: { rid: 1530305554, v: '1.0' },
  met: {
    tp: {
      pts: [
        { if: 'eth0', pt: 24800 },
        { if: 'eth0', pt: 22 },
        { if: 'eth0', pt: 53 },
      ],
      t: 3,
    },
    up: {
      pts: [
        { if: 'eth0', pt: 5353 },
        { if: 'eth0', pt: 67 },
      ],
      t: 2,
    },
    ns: { bi: 29359307173, bo: 26490711, pi: 10014614051, po: 11387620 },
    tc: { ec: { cs: [{ li: 'eth0', lp: 80, rad: '192.168.0.1:8000' }], t: 1 } },
  },
  cmet: { MyMetricOfType_Number: [{ number: 1 }], MyMetricOfType_IpList: [{ ip_list: ['172.0.0.0', '172.0.0.10'] }] },
};

const cbor = new Encoder({ useRecords: false });

function clone<T>(value: T): T {
  return structuredClone(value);
}

function long(mutate: (report: Record<string, any>) => void): Record<string, any> {
  const report = clone(SPEC_LONG_EXAMPLE) as Record<string, any>;
  mutate(report);
  return report;
}

describe('defender-report.schema.json', () => {
  it('is a valid JSON Schema that ajv compiles in strict mode, and its oneOf takes both examples', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false });
    ajv.addFormat('ip-address', () => true);
    ajv.addFormat('ip-and-port', () => true);
    const validate = ajv.compile(schema);
    expect(validate(SPEC_LONG_EXAMPLE)).toBe(true);
    expect(validate(SPEC_SHORT_EXAMPLE)).toBe(true);
  });

  it.each([
    ['long names', SPEC_LONG_EXAMPLE],
    ['short names', SPEC_SHORT_EXAMPLE],
  ])('accepts the specification example with %s, in JSON and in CBOR', (_name, example) => {
    expect(reportProblems(decodePayload(Buffer.from(JSON.stringify(example)), 'json'))).toEqual([]);
    expect(reportProblems(decodePayload(Buffer.from(cbor.encode(example)), 'cbor'))).toEqual([]);
  });

  it('accepts a report with only custom metrics, only metrics, empty lists, and IPv6 addresses', () => {
    expect(reportProblems({ header: { report_id: 1, version: '1.0' }, custom_metrics: { cpu_usage: [{ number: -3.5 }] } })).toEqual([]);
    expect(reportProblems({ hed: { rid: 2, v: '1.0' }, met: {} })).toEqual([]);
    expect(
      reportProblems(
        long((r) => {
          r.metrics.listening_tcp_ports = { ports: [], total: 0 };
          r.metrics.tcp_connections.established_connections.connections[0].remote_addr = '[2001:db8::1]:443';
          r.custom_metrics.MyMetricOfType_IpList = [{ ip_list: ['::1', 'fe80::1'] }];
        }),
      ),
    ).toEqual([]);
  });

  it('reads 64-bit CBOR integers', () => {
    const payload = cbor.encode({
      header: { report_id: 1700000000000, version: '1.0' },
      metrics: { network_stats: { bytes_in: 2n ** 63n } },
    });
    expect(reportProblems(decodePayload(Buffer.from(payload), 'cbor'))).toEqual([]);
  });

  const forbidden: Array<[string, Record<string, any>, RegExp]> = [
    ['no header', long((r) => delete r.header), /report must have required property 'header'/],
    ['neither metrics nor custom_metrics', { header: { report_id: 1, version: '1.0' } }, /must have required property 'metrics'/],
    ['a report_id of 0', long((r) => (r.header.report_id = 0)), /header\.report_id must be >= 1/],
    ['a fractional report_id', long((r) => (r.header.report_id = 1.5)), /header\.report_id must be integer/],
    ['a report_id as text', long((r) => (r.header.report_id = '1530304554')), /header\.report_id must be integer/],
    ['a version that is not Major.Minor', long((r) => (r.header.version = '1')), /header\.version must match pattern/],
    ['no version', long((r) => delete r.header.version), /header must have required property 'version'/],
    ['port 0', long((r) => (r.metrics.listening_tcp_ports.ports[0].port = 0)), /listening_tcp_ports\.ports\.0\.port must be >= 1/],
    ['a negative total', long((r) => (r.metrics.listening_udp_ports.total = -1)), /listening_udp_ports\.total must be >= 0/],
    ['a negative delta', long((r) => (r.metrics.network_stats.bytes_in = -50)), /network_stats\.bytes_in must be >= 0/],
    [
      'a negative local port',
      long((r) => (r.metrics.tcp_connections.established_connections.connections[0].local_port = -1)),
      /local_port must be >= 0/,
    ],
    [
      'a connection without remote_addr',
      long((r) => delete r.metrics.tcp_connections.established_connections.connections[0].remote_addr),
      /must have required property 'remote_addr'/,
    ],
    [
      'a remote_addr without a port',
      long((r) => (r.metrics.tcp_connections.established_connections.connections[0].remote_addr = '192.168.0.1')),
      /remote_addr must match format "ip-and-port"/,
    ],
    [
      'an unbracketed IPv6 remote_addr',
      long((r) => (r.metrics.tcp_connections.established_connections.connections[0].remote_addr = '2001:db8::1:443')),
      /remote_addr must match format "ip-and-port"/,
    ],
    [
      'a custom number not wrapped in an array (troubleshooting guide)',
      long((r) => (r.custom_metrics.MyMetricOfType_Number = { number: 0 })),
      /must be array/,
    ],
    [
      'a custom value array of two',
      long((r) => r.custom_metrics.MyMetricOfType_Number.push({ number: 2 })),
      /must NOT have more than 1 items/,
    ],
    ['an empty custom value array', long((r) => (r.custom_metrics.MyMetricOfType_Number = [])), /must NOT have fewer than 1 items/],
    [
      'a custom value of an unknown type',
      long((r) => (r.custom_metrics.MyMetricOfType_Number = [{ numbers: 1 }])),
      /must match exactly one schema/,
    ],
    [
      'a custom metric name starting with aws:',
      long((r) => (r.custom_metrics['aws:cpu'] = [{ number: 1 }])),
      /property name must be valid/,
    ],
    [
      'a custom metric name of 129 characters',
      long((r) => (r.custom_metrics['m'.repeat(129)] = [{ number: 1 }])),
      /property name must be valid/,
    ],
    ['a custom metric name with a space', long((r) => (r.custom_metrics['cpu usage'] = [{ number: 1 }])), /property name must be valid/],
    [
      'an invalid address in ip_list',
      long((r) => (r.custom_metrics.MyMetricOfType_IpList = [{ ip_list: ['300.1.1.1'] }])),
      /must match format "ip-address"/,
    ],
    [
      'a string in number_list',
      long((r) => (r.custom_metrics.MyMetricOfType_NumberList = [{ number_list: ['1'] }])),
      /must match exactly one schema/,
    ],
    ['an unknown metrics key', long((r) => (r.metrics.bytes_In = 1)), /metrics must NOT have additional properties \(bytes_In\)/],
    ['long and short names mixed', { hed: { rid: 1, v: '1.0' }, metrics: {} }, /report must NOT have additional properties \(metrics\)/],
    [
      'a short report using a long key inside',
      { hed: { rid: 1, v: '1.0' }, met: { tp: { pts: [{ port: 22 }] } } },
      /met\.tp\.pts\.0 must NOT have additional properties \(port\)/,
    ],
    ['a document that is not an object', [1] as unknown as Record<string, any>, /report must be object/],
  ];

  it.each(forbidden)('rejects %s', (_name, report, message) => {
    const problems = reportProblems(report);
    expect(problems.join('; ')).toMatch(message);
  });

  it('refuses payloads that do not decode', () => {
    expect(() => decodePayload(Buffer.from('{"header":'), 'json')).toThrow();
    expect(() => decodePayload(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), 'json')).toThrow();
    expect(() => decodePayload(Buffer.from([0xff, 0x00]), 'cbor')).toThrow();
  });
});
