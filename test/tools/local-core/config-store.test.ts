import {
  changedPaths,
  configurationValue,
  isWithin,
  JsonPointerError,
  lookup,
  mergeConfiguration,
  parseJsonPointer,
  resetConfiguration,
} from '../../../tools/local-core/config-store';

const config = { intervalSeconds: '300', Nested: { Level: 'x', list: [1, 2] }, empty: {} };

describe('lookup / configurationValue', () => {
  it('finds keys case-insensitively and reports the stored spelling', () => {
    expect(lookup(config, ['nested', 'LEVEL'])).toEqual({ found: true, path: ['Nested', 'Level'], value: 'x' });
    expect(lookup(config, ['nested', 'missing'])).toEqual({ found: false });
    expect(lookup(config, ['intervalSeconds', 'deeper'])).toEqual({ found: false });
  });

  it('wraps a leaf as {name: value} and returns an object node as itself (the nucleus quirk)', () => {
    expect(configurationValue(config, ['INTERVALSECONDS'])).toEqual({ intervalSeconds: '300' });
    expect(configurationValue(config, ['Nested', 'list'])).toEqual({ list: [1, 2] });
    expect(configurationValue(config, ['nested'])).toEqual({ Level: 'x', list: [1, 2] });
    expect(configurationValue(config, [])).toBe(config);
    expect(configurationValue(config, ['nope'])).toBeUndefined();
  });
});

describe('mergeConfiguration / resetConfiguration', () => {
  it('merges objects deeply, keeps the stored key spelling and replaces arrays whole', () => {
    expect(mergeConfiguration(config, { nested: { level: 'y', list: [3] }, added: 1 })).toEqual({
      intervalSeconds: '300',
      Nested: { Level: 'y', list: [3] },
      empty: {},
      added: 1,
    });
  });

  it('resets a pointer to its default, or removes it when the default has none', () => {
    const defaults = { intervalSeconds: '300', Nested: { Level: 'x' } };
    const changed = { intervalSeconds: '600', Nested: { Level: 'z', extra: true } };
    expect(resetConfiguration(changed, defaults, '/intervalSeconds')).toEqual({
      intervalSeconds: '300',
      Nested: { Level: 'z', extra: true },
    });
    expect(resetConfiguration(changed, defaults, '/Nested/extra')).toEqual({ intervalSeconds: '600', Nested: { Level: 'z' } });
    expect(resetConfiguration(changed, defaults, '')).toEqual(defaults);
  });

  it('parses RFC 6901 pointers', () => {
    expect(parseJsonPointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
    expect(() => parseJsonPointer('a')).toThrow(JsonPointerError);
  });
});

describe('changedPaths', () => {
  it('lists changed and added leaves and removed nodes, but not an added empty object', () => {
    const before = { a: 1, keep: 'same', gone: { x: 1 }, n: { b: 2 } };
    const after = { A: 2, keep: 'same', n: { b: 2, c: { d: 3 } }, fresh: {}, list: [1] };
    expect(changedPaths(before, after)).toEqual([['a'], ['gone'], ['n', 'c', 'd'], ['list']]);
  });

  it('sees no change in an identical tree', () => {
    expect(changedPaths(config, structuredClone(config))).toEqual([]);
  });

  it('matches a subscriber path as a case-insensitive prefix', () => {
    expect(isWithin(['Nested', 'Level'], ['nested'])).toBe(true);
    expect(isWithin(['Nested', 'Level'], [])).toBe(true);
    expect(isWithin(['Nested'], ['Nested', 'Level'])).toBe(false);
    expect(isWithin(['other'], ['Nested'])).toBe(false);
  });
});
