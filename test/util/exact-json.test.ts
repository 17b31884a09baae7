import { parseExactJson, stringifyExactJson } from '../../src/util/exact-json';

describe('parseExactJson', () => {
  it('reads integers beyond 2^53 (either sign) as exact bigints, and everything else as JSON.parse does', () => {
    expect(parseExactJson('{"a":9223372036854775807,"b":[-9007199254740993,9007199254740991,1.5e300,1e400],"c":0}')).toEqual({
      a: 9_223_372_036_854_775_807n,
      b: [-9_007_199_254_740_993n, 9_007_199_254_740_991, 1.5e300, Number.POSITIVE_INFINITY],
      c: 0,
    });
  });

  it('leaves digits inside strings alone, escaped quotes included', () => {
    expect(parseExactJson('["9223372036854775807","\\"12345678901234567890\\"",12345678901234567890]')).toEqual([
      '9223372036854775807',
      '"12345678901234567890"',
      12_345_678_901_234_567_890n,
    ]);
  });

  it('a string that looks like its internal mark stays a string', () => {
    expect(parseExactJson('["\\u00001:12345678901234567890", 12345678901234567890]')).toEqual([
      '\u00001:12345678901234567890',
      12_345_678_901_234_567_890n,
    ]);
  });

  it('refuses what JSON.parse refuses, with its message: leading zeros, a number as a key, truncation', () => {
    for (const text of ['[012345678901234567890]', '{12345678901234567890:1}', '[12345678901234567890', '[1234567890123456789 0]']) {
      expect(() => parseExactJson(text)).toThrow(SyntaxError);
      expect(() => parseExactJson(text)).not.toThrow('\u0000');
    }
  });
});

describe('stringifyExactJson', () => {
  it('writes bigints as exact integers, compact or indented, and is JSON.stringify without them', () => {
    const value = { a: 2n ** 64n + 1n, b: [-(2n ** 63n)], c: 'x "1" \u0000', d: undefined };
    expect(stringifyExactJson(value)).toBe('{"a":18446744073709551617,"b":[-9223372036854775808],"c":"x \\"1\\" \\u0000"}');
    expect(stringifyExactJson({ a: 1n }, 2)).toBe('{\n  "a": 1\n}');
    expect(stringifyExactJson({ a: [1, 'b'] })).toBe(JSON.stringify({ a: [1, 'b'] }));
    expect(parseExactJson(stringifyExactJson(value))).toEqual({ a: 2n ** 64n + 1n, b: [-(2n ** 63n)], c: 'x "1" \u0000' });
  });
});
