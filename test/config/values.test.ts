import {
  absolutePath,
  autoOrInteger,
  boolean,
  integer,
  jsonObject,
  lowerCaseFields,
  lowMemorySetting,
  oneOf,
  thingName,
} from '../../src/config/values';
import { refusal } from '../support/refusal';

/** `levels` objects nested in one another, the innermost holding a number. */
function nested(levels: number): Record<string, unknown> {
  let document: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < levels; level++) document = { a: document };
  return document;
}

describe('integer', () => {
  it('takes both ends of its range and refuses one past either', () => {
    const parse = integer(1, 10);
    expect([parse(1), parse(10), parse('1'), parse('10')]).toEqual([1, 10, 1, 10]);
    expect(refusal(parse, 0)).toBe('must be a whole number from 1 to 10 (got 0)');
    expect(refusal(parse, 11)).toBe('must be a whole number from 1 to 10 (got 11)');
    expect(refusal(parse, true)).toBe('must be a whole number from 1 to 10 (got true)');
  });
});

describe('autoOrInteger', () => {
  it('takes auto in any case and with spaces, a native number, or a numeric string', () => {
    const parse = autoOrInteger(1, 10);
    expect([parse(' AUTO '), parse('auto'), parse(5), parse('7')]).toEqual(['auto', 'auto', 5, 7]);
    expect(refusal(parse, 11)).toBe('must be auto or a whole number from 1 to 10 (got 11)');
    expect(refusal(parse, null)).toBe('must be auto or a whole number from 1 to 10 (got null)');
  });
});

describe('boolean and lowMemorySetting', () => {
  it('take a native JSON boolean or its text', () => {
    expect([boolean(true), boolean('true'), boolean(false), boolean('false')]).toEqual([true, true, false, false]);
    expect([
      lowMemorySetting('auto'),
      lowMemorySetting(true),
      lowMemorySetting('true'),
      lowMemorySetting(false),
      lowMemorySetting('false'),
    ]).toEqual(['auto', 'true', 'true', 'false', 'false']);
    expect(refusal(lowMemorySetting, 'True')).toBe('must be auto, true or false (got "True")');
  });
});

describe('oneOf', () => {
  it('takes an allowed word in any case and refuses anything else, a non-string included, as invalid', () => {
    const parse = oneOf(['json', 'cbor']);
    expect([parse('JSON'), parse('cbor')]).toEqual(['json', 'cbor']);
    expect(refusal(parse, 5)).toBe('must be one of json, cbor (got 5)');
    expect(refusal(parse, null)).toBe('must be one of json, cbor (got null)');
  });
});

describe('thingName', () => {
  it('takes a thing name or empty, and refuses a number even though its text would be a valid name', () => {
    expect([thingName('Core-1'), thingName('')]).toEqual(['Core-1', '']);
    expect(refusal(thingName, 5)).toBe('must be a string (got 5)');
    expect(refusal(thingName, 'a/b')).toMatch(/^"a\/b" is not valid: a thing name is 1-128 characters/);
  });
});

describe('absolutePath', () => {
  it('drops every trailing slash, keeping the root', () => {
    expect([
      absolutePath('/proc'),
      absolutePath('/host/proc/'),
      absolutePath('/host/proc///'),
      absolutePath('/'),
      absolutePath('///'),
    ]).toEqual(['/proc', '/host/proc', '/host/proc', '/', '/']);
  });

  it('refuses a relative path, a NUL and a value that is not a string', () => {
    for (const value of ['proc', 'C:\\proc', '/pr\0oc', 5, null]) {
      expect([value, refusal(absolutePath, value)]).toEqual([value, expect.stringMatching(/^must be an absolute path \(got /)]);
    }
  });
});

describe('jsonObject', () => {
  it('takes an object, or a string holding one (spaces around it allowed)', () => {
    expect(jsonObject({ a: 1 }, 'shape')).toEqual({ a: 1 });
    expect(jsonObject('{"a": 1}', 'shape')).toEqual({ a: 1 });
    expect(jsonObject('  {"a": {"b": [1]}}  ', 'shape')).toEqual({ a: { b: [1] } });
    expect(jsonObject('{"a": null, "b": [null]}', 'shape')).toEqual({ a: null, b: [null] });
  });

  it('refuses a string that is not JSON, and what is not an object: null, a number, a list, other text', () => {
    expect(refusal((v) => jsonObject(v, 'shape'), '{"a": ')).toBe('is a string that is not valid JSON');
    for (const value of [null, 5, [], '[1]', 'text', true]) {
      expect([value, refusal((v) => jsonObject(v, '{ "x": N }'), value)]).toEqual([value, 'must be an object of { "x": N }']);
    }
  });

  it('takes 32 levels of nesting and refuses 33, counting objects and lists, not the values in them', () => {
    expect(jsonObject(nested(32), 'shape')).toEqual(nested(32));
    expect(refusal((v) => jsonObject(v, 'shape'), nested(33))).toBe('nests deeper than 32 levels');
    let listed: unknown = [1];
    for (let level = 2; level < 32; level++) listed = [listed];
    expect(jsonObject({ listed }, 'shape')).toEqual({ listed });
    expect(refusal((v) => jsonObject(v, 'shape'), { listed: [listed] })).toBe('nests deeper than 32 levels');
  });

  it('stops walking at the bound: a document that holds itself is refused, not walked forever', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(refusal((v) => jsonObject(v, 'shape'), cyclic)).toBe('nests deeper than 32 levels');
  });
});

describe('lowerCaseFields', () => {
  it('lower-cases field names, keeps __proto__ as a plain key, and has no fields for what is not an object', () => {
    const fields = lowerCaseFields(JSON.parse('{"Kind": 1, "__proto__": 2}'));
    expect([...fields]).toEqual([
      ['kind', 1],
      ['__proto__', 2],
    ]);
    expect(lowerCaseFields([1]).size).toBe(0);
    expect(lowerCaseFields('ab').size).toBe(0);
    expect(lowerCaseFields(null).size).toBe(0);
  });
});
