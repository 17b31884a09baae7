import { decodeReport, parseJsonExact } from './report-decoder';

describe('parseJsonExact', () => {
  it('parses like JSON.parse', () => {
    const texts = [
      '{"a":[1,-2.5,3e2,-0,1E-7,0.1],"b":{"c":"\\u00e9\\n\\"x\\"\\\\\\/"},"d":[true,false,null],"e":[],"f":{}}',
      ' [ 1 , "two" , { "three" : 3 } ] ',
      '"just a string"',
      '9007199254740991',
      '{"emoji":"😀","eacute":"é"}',
    ];
    for (const text of texts) expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });

  it('keeps integers beyond 2^53 exact as bigint, negative ones too, and leaves floats as numbers', () => {
    expect(parseJsonExact('[9007199254740992, -9007199254740993, 1.5e300, 12345678901234567890.5]')).toEqual([
      9007199254740992n,
      -9007199254740993n,
      1.5e300,
      Number('12345678901234567890.5'),
    ]);
  });

  it('keeps a "__proto__" key as an ordinary member', () => {
    const parsed = parseJsonExact('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it.each(['', '{', '{"a":1,}', '[1,]', "{'a':1}", '01', '1.', '"tab\there"', '{"a":1} x', 'nul', '{"a" 1}', '[1 2]', '-'])(
    'rejects %j',
    (text) => {
      expect(() => parseJsonExact(text)).toThrow(SyntaxError);
    },
  );
});

describe('decodeReport, CBOR', () => {
  it('reports a damaged payload as invalid CBOR', () => {
    expect(() => decodeReport(Buffer.from('a2616101', 'hex'), 'cbor')).toThrow(/invalid CBOR/);
  });
});
