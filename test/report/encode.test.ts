import { decode as cborXDecode, Encoder } from 'cbor-x';
import { encodedSize, encodeReport, listFramingSize } from '../../src/report/encode';
import { decodeReport } from '../support/report-decoder';
import { assertPlainCbor } from './plain-cbor';

describe('encodeReport / decodeReport, JSON', () => {
  it('prints bigints as exact plain integers, even above 2^53, and reads them back exactly', () => {
    const document = { network_stats: { bytes_in: 2n ** 64n - 1n, bytes_out: 9007199254740993n, packets_in: 5n }, port: 22 };
    const text = encodeReport(document, 'json').toString('utf8');
    expect(text).toBe('{"network_stats":{"bytes_in":18446744073709551615,"bytes_out":9007199254740993,"packets_in":5},"port":22}');
    expect(decodeReport(Buffer.from(text), 'json')).toEqual({
      network_stats: { bytes_in: 18446744073709551615n, bytes_out: 9007199254740993n, packets_in: 5 },
      port: 22,
    });
  });

  it('writes what JSON.stringify writes when there is no bigint, leaving undefined members out', () => {
    const document = { a: 'é "quoted" \\ \n', b: [1.5, -0, 1e21, null, true], c: { d: undefined, e: {} } };
    expect(encodeReport(document, 'json').toString('utf8')).toBe(JSON.stringify(document));
    expect(encodeReport({ a: [1n, { b: 'x', c: undefined }] }, 'json').toString('utf8')).toBe('{"a":[1,{"b":"x"}]}');
  });
});

describe('encodeReport / decodeReport, CBOR', () => {
  it('writes a plain CBOR map (no cbor-x records or tags) that a generic decoder reads', () => {
    const document = {
      hed: { rid: 1530304554, v: '1.0' },
      met: {
        tp: {
          pts: [
            { pt: 22, if: 'eth0' },
            { pt: 80, if: 'eth0' },
          ],
          t: 2,
        },
      },
    };
    const payload = encodeReport(document, 'cbor');
    assertPlainCbor(payload);
    expect(cborXDecode(payload)).toEqual(document);
    expect(decodeReport(payload, 'cbor')).toEqual(document);
  });

  it('is checked by a walker that does notice cbor-x records', () => {
    const withRecords = new Encoder({ useRecords: true }).encode({ hed: { rid: 1, v: '1.0' } });
    expect(() => assertPlainCbor(withRecords)).toThrow(/not a plain map|not a map/);
  });

  it('writes integers in their shortest CBOR form: small bigints as small ints, large numbers as uint64, never as floats', () => {
    expect(encodeReport({ a: 5n } as Record<string, unknown>, 'cbor').toString('hex')).toBe('a1616105');
    // 2^40 as a JS number: cbor-x alone would write a float64 (fb...); it must be major type 0, uint64.
    expect(encodeReport({ a: 2 ** 40 }, 'cbor').toString('hex')).toBe('a161611b0000010000000000');
    expect(encodeReport({ a: 2n ** 64n - 1n }, 'cbor').toString('hex')).toBe('a161611bffffffffffffffff');
    expect(encodeReport({ a: -(2 ** 40) }, 'cbor').toString('hex')).toBe('a161613b000000ffffffffff');
    expect(encodeReport({ a: 1.5 }, 'cbor').toString('hex')).toBe('a16161fb3ff8000000000000');
  });

  it('reads 64-bit integers back exactly', () => {
    const decoded = decodeReport(encodeReport({ bi: 2n ** 60n + 1n, bo: 7n, big: 2 ** 40 }, 'cbor'), 'cbor');
    expect(decoded).toEqual({ bi: 2n ** 60n + 1n, bo: 7, big: 2n ** 40n });
  });
});

describe('encodedSize', () => {
  const strings = [
    '',
    'a',
    'x'.repeat(23),
    'x'.repeat(24),
    'x'.repeat(255),
    'x'.repeat(256),
    'x'.repeat(65536),
    'é',
    'eth0\u{1F600}',
    'quote " and \\ and \n',
    '\u0001',
  ];
  const integers = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -24, -25, -(2 ** 32), -(2 ** 32) - 1];
  const bigints = [0n, 23n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 32n), -(2n ** 32n) - 1n];
  const others = [1.5, -0, 0.1, 1e21, 1e300, true, false, null];
  const lists = [
    [],
    Array.from({ length: 23 }, (_, i) => i),
    Array.from({ length: 24 }, (_, i) => i),
    Array.from({ length: 300 }, () => 'ab'),
  ];
  const objects = [{}, { a: 1, b: undefined, c: 'x' }, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))];

  it.each(['json', 'cbor'] as const)('is the exact encoded length of every kind of %s value', (format) => {
    for (const value of [...strings, ...integers, ...bigints, ...others, ...lists, ...objects]) {
      const document = { value, nested: [value, { value }] };
      expect({ value, size: encodedSize(document, format) }).toEqual({ value, size: encodeReport(document, format).length });
    }
  });

  it.each(['json', 'cbor'] as const)('gives list framing sizes that add up with the entries (%s)', (format) => {
    for (const count of [0, 1, 23, 24, 300]) {
      const list = Array.from({ length: count }, (_, i) => ({ pt: i }));
      const entries = list.reduce((sum, entry) => sum + encodedSize(entry, format), 0);
      expect(encodedSize(list, format)).toBe(listFramingSize(count, format) + entries);
    }
  });
});
