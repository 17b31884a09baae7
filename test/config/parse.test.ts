import { CONFIG_KEYS, MAX_CUSTOM_METRICS, recipeDefaultConfiguration } from '../../src/config/definition';
import { defaultConfig, describeConfigErrors, parseConfig } from '../../src/config/parse';

describe('parseConfig', () => {
  it('turns the recipe defaults into typed values', () => {
    const { config, errors } = parseConfig(recipeDefaultConfiguration());
    expect(errors).toEqual([]);
    expect(config).toEqual({
      intervalSeconds: 300,
      allowFastIntervalForDevelopment: false,
      format: 'json',
      shortNames: false,
      thingName: '',
      customMetrics: {},
      behaviors: [],
      securityProfileName: 'defender-agent-edge',
      alarmTopic: 'defender-agent/{iot:thingName}/alarms',
      localAlarmTopic: 'defender-agent/alarms',
      metricsSinkTopic: '',
      metricsSinkMode: 'also',
      drill: undefined,
      maxListedPorts: 200,
      maxListedConnections: 500,
      maxReportBytes: 'auto',
      networkStatsIncludeLoopback: false,
      procfsRoot: '/proc',
      logLevel: 'info',
      ipcClient: 'auto',
      lowMemory: 'auto',
    });
  });

  it('accepts numbers and booleans as strings or native values, and keys in any case', () => {
    const { config, errors } = parseConfig({
      IntervalSeconds: 600.0,
      SHORTNAMES: 'true',
      format: 'CBOR',
      maxReportBytes: '9000',
      accessControl: {},
    });
    expect(errors).toEqual([]);
    expect(config.intervalSeconds).toBe(600);
    expect(config.shortNames).toBe(true);
    expect(config.format).toBe('cbor');
    expect(config.maxReportBytes).toBe(9000);
  });

  it.each(['shortNames', 'networkStatsIncludeLoopback', 'allowFastIntervalForDevelopment'] as const)(
    'takes %s as a native JSON boolean or its text, and nothing else',
    (key) => {
      for (const [given, taken] of [
        [true, true],
        ['true', true],
        [false, false],
        ['false', false],
      ] as const) {
        const { config, errors } = parseConfig({ [key]: given });
        expect([given, errors, config[key]]).toEqual([given, [], taken]);
      }
      for (const wrong of ['TRUE', 'yes', 1, 0, null, 'on']) {
        expect([wrong, parseConfig({ [key]: wrong }).errors]).toEqual([
          wrong,
          [{ key, message: expect.stringMatching(/^must be true or false/) }],
        ]);
      }
    },
  );

  it('takes lowMemory as auto, true or false exactly as the Run script matches it, booleans included', () => {
    expect(parseConfig({ lowMemory: true }).config.lowMemory).toBe('true');
    expect(parseConfig({ lowMemory: false }).config.lowMemory).toBe('false');
    expect(parseConfig({ lowMemory: 'false' }).config.lowMemory).toBe('false');
    expect(parseConfig({ lowMemory: 'auto' }).config.lowMemory).toBe('auto');
    // The script would read "False" as not false: refused rather than taken in two ways.
    for (const value of ['False', 'AUTO', 'yes', 1]) {
      expect(parseConfig({ lowMemory: value }).errors).toEqual([
        { key: 'lowMemory', message: expect.stringMatching(/^must be auto, true or false/) },
      ]);
    }
  });

  it('refuses an interval under 300 s unless development mode allows it', () => {
    const production = parseConfig({ intervalSeconds: '60' });
    expect(production.errors).toEqual([{ key: 'intervalSeconds', message: expect.stringContaining('below 300') }]);
    expect(production.config.intervalSeconds).toBe(300);

    const development = parseConfig({ intervalSeconds: '10', allowFastIntervalForDevelopment: 'true' });
    expect(development.errors).toEqual([]);
    expect(development.config.intervalSeconds).toBe(10);

    expect(parseConfig({ intervalSeconds: '1', allowFastIntervalForDevelopment: true }).errors[0]?.key).toBe('intervalSeconds');
  });

  it('says why an interval under 300 s is refused, and falls back to 300 s even from a development interval', () => {
    const development = parseConfig({ intervalSeconds: '10', allowFastIntervalForDevelopment: true }).config;
    const { config, errors } = parseConfig({ intervalSeconds: 60 }, development);
    expect(errors).toEqual([
      {
        key: 'intervalSeconds',
        message:
          '60 is below 300: Device Defender throttles a thing to one report every 300 s (set allowFastIntervalForDevelopment ' +
          'only on a local development core)',
      },
    ]);
    expect(config.intervalSeconds).toBe(300);
    expect(parseConfig({ intervalSeconds: 60 }, { ...development, intervalSeconds: 900 }).config.intervalSeconds).toBe(900);
  });

  it('names each bad key, says why, and keeps the fallback value for it', () => {
    const fallback = { ...defaultConfig(), format: 'cbor' as const, maxListedPorts: 42 };
    const { config, errors } = parseConfig(
      {
        format: 'xml',
        maxListedPorts: 'many',
        shortNames: 'yes',
        thingName: 'bad/name',
        procfsRoot: 'proc',
        logLevel: 'loud',
        intervalSecond: '300',
      },
      fallback,
    );
    expect(errors.map((e) => e.key).sort()).toEqual([
      'format',
      'intervalSecond',
      'logLevel',
      'maxListedPorts',
      'procfsRoot',
      'shortNames',
      'thingName',
    ]);
    expect(config.format).toBe('cbor');
    expect(config.maxListedPorts).toBe(42);
    const text = describeConfigErrors(errors);
    expect(text).toContain('format: must be one of json, cbor (got "xml")');
    expect(text).toContain('intervalSecond: unknown key');
  });

  it('keeps the byte budget under the AWS IoT Core message limit', () => {
    expect(parseConfig({ maxReportBytes: '200000' }).errors[0]?.key).toBe('maxReportBytes');
    expect(parseConfig({ maxReportBytes: '100' }).errors[0]?.key).toBe('maxReportBytes');
    expect(parseConfig({ maxReportBytes: 'Auto' }).config.maxReportBytes).toBe('auto');
    expect(parseConfig({ maxReportBytes: 'some' }).errors[0]?.message).toMatch(/must be auto or a whole number from 4096 to 120000/);
  });

  it('reads custom metrics keyed by their registered name', () => {
    const { config, errors } = parseConfig({
      customMetrics: {
        cpu_usage: { source: 'cpuUsage' },
        disk_data: { Source: 'diskused', MountPoint: '/data' },
        disk_root: { source: 'diskUsed' },
      },
    });
    expect(errors).toEqual([]);
    expect(config.customMetrics).toEqual({
      cpu_usage: { source: 'cpuUsage' },
      disk_data: { source: 'diskUsed', mountPoint: '/data' },
      disk_root: { source: 'diskUsed', mountPoint: '/' },
    });
  });

  it.each([
    [{ 'bad name!': { source: 'cpuUsage' } }, 'metric name "bad name!"'],
    [{ 'aws:cpu': { source: 'cpuUsage' } }, 'reserved for AWS metrics'],
    [{ cpu: { source: 'gpu' } }, 'source must be one of'],
    [{ disk: { source: 'diskUsed', mountPoint: 'data' } }, 'mountPoint must be an absolute path'],
    [['cpu'], 'must be an object'],
    [{ 'AWS:cpu': { source: 'cpuUsage' } }, 'reserved for AWS metrics'],
    [{ cpu: { source: 'cpuUsage', mountPoint: '/' } }, 'mountPoint is only for diskUsed'],
  ])('rejects custom metrics %j', (customMetrics, message) => {
    const { errors } = parseConfig({ customMetrics });
    expect(errors).toEqual([{ key: 'customMetrics', message: expect.stringContaining(message) }]);
  });

  describe("on the core's platform", () => {
    it('refuses load average on Windows with the reason, keeping the last good metrics', () => {
      const previous = parseConfig({ customMetrics: { up: { source: 'uptime' } } }).config;
      const { config, errors } = parseConfig({ customMetrics: { load: { source: 'loadAverage' } } }, previous, { platform: 'win32' });
      expect(errors).toEqual([
        {
          key: 'customMetrics',
          message:
            'metric "load": source loadAverage does not exist on Windows: Windows has no load average (os.loadavg() is always 0, 0, 0 there)',
        },
      ]);
      expect(config.customMetrics).toEqual({ up: { source: 'uptime' } });
      expect(parseConfig({ customMetrics: { load: { source: 'loadAverage' } } }, undefined, { platform: 'linux' }).errors).toEqual([]);
    });

    it('reads a disk on Windows by its drive, C:\\ unless given, and refuses a POSIX path there', () => {
      const windows = { platform: 'win32' } as const;
      expect(
        parseConfig(
          { customMetrics: { c: { source: 'diskUsed' }, d: { source: 'diskUsed', mountPoint: 'D:\\data' } } },
          undefined,
          windows,
        ),
      ).toEqual({
        config: expect.objectContaining({
          customMetrics: { c: { source: 'diskUsed', mountPoint: 'C:\\' }, d: { source: 'diskUsed', mountPoint: 'D:\\data' } },
        }),
        errors: [],
      });
      expect(parseConfig({ customMetrics: { root: { source: 'diskUsed', mountPoint: '/' } } }, undefined, windows).errors).toEqual([
        { key: 'customMetrics', message: 'metric "root": mountPoint must be a drive path on Windows, such as C:\\ (got "/")' },
      ]);
    });

    it('refuses a drive path on Linux, and takes either where the platform is not known (the operator tool)', () => {
      const drive = { customMetrics: { c: { source: 'diskUsed', mountPoint: 'C:\\' } } };
      expect(parseConfig(drive, undefined, { platform: 'linux' }).errors).toEqual([
        { key: 'customMetrics', message: 'metric "c": mountPoint must be an absolute path (got "C:\\\\")' },
      ]);
      expect(parseConfig(drive).errors).toEqual([]);
      expect(parseConfig({ customMetrics: { r: { source: 'diskUsed', mountPoint: '/data' } } }).errors).toEqual([]);
    });
  });

  it('rejects a configuration that is not an object, null and a list included, keeping the whole fallback', () => {
    const fallback = { ...defaultConfig(), format: 'cbor' as const, maxListedPorts: 42 };
    for (const raw of ['nonsense', null, [], 5]) {
      expect([raw, parseConfig(raw, fallback)]).toEqual([
        raw,
        { config: fallback, errors: [{ key: '(root)', message: 'configuration must be an object' }] },
      ]);
    }
  });

  it('names every known key when it refuses an unknown one, and joins the errors it describes with "; "', () => {
    const { errors } = parseConfig({ intervalSecond: 300, format: 'xml' });
    expect(errors).toEqual([
      { key: 'intervalSecond', message: `unknown key (known keys: ${CONFIG_KEYS.map((d) => d.key).join(', ')})` },
      { key: 'format', message: 'must be one of json, cbor (got "xml")' },
    ]);
    expect(describeConfigErrors(errors)).toBe(`intervalSecond: ${errors[0]?.message}; format: ${errors[1]?.message}`);
    expect(CONFIG_KEYS.map((d) => d.key)).toContain('intervalSeconds');
  });

  it('lets an error that is not an InvalidValue (a defect in a parser) through, instead of calling it a bad value', () => {
    const doc = CONFIG_KEYS.find((d) => d.key === 'logLevel') as { parse: unknown };
    const parse = doc.parse;
    doc.parse = () => {
      throw new TypeError('defect');
    };
    try {
      expect(() => parseConfig({ logLevel: 'info' })).toThrow(TypeError);
    } finally {
      doc.parse = parse;
    }
  });

  it('documents every AgentConfig key exactly once', () => {
    const keys = CONFIG_KEYS.map((d) => d.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(Object.keys(defaultConfig()).sort());
  });

  it.each(['0x12c', '3e2', '300.5', ' ', '', '1_000', 'Infinity'])('refuses %j as a whole number (decimal digits only)', (text) => {
    const { config, errors } = parseConfig({ maxListedPorts: text });
    expect(errors).toEqual([{ key: 'maxListedPorts', message: expect.stringContaining('must be a whole number') }]);
    expect(config.maxListedPorts).toBe(200);
  });

  it('takes decimal integers as the nucleus stores them (strings, doubles, a trailing .0)', () => {
    expect(parseConfig({ maxListedPorts: ' 42 ' }).config.maxListedPorts).toBe(42);
    expect(parseConfig({ maxListedPorts: '42.0' }).config.maxListedPorts).toBe(42);
    expect(parseConfig({ maxListedPorts: 42.0 }).config.maxListedPorts).toBe(42);
  });

  it('keeps metric names such as __proto__ and constructor as plain names', () => {
    const raw = JSON.parse('{"customMetrics": {"__proto__": {"source": "uptime"}, "constructor": {"source": "cpuUsage"}}}');
    const { config, errors } = parseConfig(raw);
    expect(errors).toEqual([]);
    expect(Object.keys(config.customMetrics).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.entries(config.customMetrics)).toContainEqual(['__proto__', { source: 'uptime' }]);
  });

  it('quotes bad values escaped and at most about 80 characters long, so a value cannot forge or flood a log line', () => {
    const forged = parseConfig({ thingName: 'core\n2026-12-01T00:00:00.000Z INFO  report ACCEPTED' });
    expect(forged.errors[0]!.message).not.toContain('\n');
    expect(forged.errors[0]!.message).toContain('\\n');
    const huge = parseConfig({ logLevel: 'x'.repeat(1_000_000) });
    expect(huge.errors[0]!.message.length).toBeLessThan(200);
    expect(huge.errors[0]!.message).toContain('1000002 characters');
    const unknown = parseConfig({ 'evil\nkey': 1 });
    expect(unknown.errors[0]!.key).toBe('"evil\\nkey"');
  });

  it('answers a deeply nested document with an error, not an exception', () => {
    let nested: unknown = { source: 'uptime' };
    for (let i = 0; i < 10_000; i += 1) nested = { a: nested };
    const { errors } = parseConfig({ customMetrics: nested });
    expect(errors).toEqual([{ key: 'customMetrics', message: expect.stringContaining('nests deeper than') }]);
  });

  it(`refuses more than ${MAX_CUSTOM_METRICS} custom metrics, naming the limit`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_CUSTOM_METRICS + 1 }, (_, i) => [`m${i}`, { source: 'uptime' }]));
    const { errors } = parseConfig({ customMetrics: many });
    expect(errors).toEqual([{ key: 'customMetrics', message: expect.stringContaining(`at most ${MAX_CUSTOM_METRICS}`) }]);
    expect(
      Object.keys(parseConfig({ customMetrics: Object.fromEntries(Object.entries(many).slice(1)) }).config.customMetrics),
    ).toHaveLength(MAX_CUSTOM_METRICS);
  });

  it('refuses behaviors on custom metrics that are not collected, or not with the type their operator takes', () => {
    const fallback = defaultConfig();
    const { config, errors } = parseConfig(
      {
        customMetrics: { ifs: { source: 'interfaceNames' }, cpu: { source: 'cpuUsage' } },
        behaviors: [
          { name: 'a', metric: 'missing', criteria: { comparisonOperator: 'less-than', value: { number: 1 } } },
          { name: 'b', metric: 'ifs', criteria: { comparisonOperator: 'less-than', value: { number: 1 } } },
          { name: 'c', metric: 'cpu', criteria: { comparisonOperator: 'greater-than', value: { number: 90 } } },
        ],
      },
      fallback,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.key).toBe('behaviors');
    expect(errors[0]!.message).toContain('behavior "a" watches custom metric "missing", which is not in customMetrics');
    expect(errors[0]!.message).toContain('custom metric "ifs" is a string-list, but less-than takes a number');
    expect(errors[0]!.message).not.toContain('"c"');
    expect(config.behaviors).toEqual(fallback.behaviors);

    const good = parseConfig({
      customMetrics: { cpu: { source: 'cpuUsage' } },
      behaviors: [{ name: 'c', metric: 'cpu', criteria: { comparisonOperator: 'greater-than', value: { number: 90 } } }],
    });
    expect(good.errors).toEqual([]);
    expect(good.config.behaviors).toHaveLength(1);
  });

  it('names each unmatched custom-metric behavior, joined with "; "', () => {
    const { errors } = parseConfig({
      behaviors: [
        { name: 'a', metric: 'missing', criteria: { comparisonOperator: 'less-than', value: { number: 1 } } },
        { name: 'b', metric: 'gone', criteria: { comparisonOperator: 'less-than', value: { number: 1 } } },
      ],
    });
    expect(errors).toEqual([
      {
        key: 'behaviors',
        message:
          'behavior "a" watches custom metric "missing", which is not in customMetrics; ' +
          'behavior "b" watches custom metric "gone", which is not in customMetrics',
      },
    ]);
  });

  it('checks only behaviors on custom metrics with criteria: a device metric, or one without criteria, needs no customMetrics entry', () => {
    const { config, errors } = parseConfig({
      behaviors: [
        { name: 'ports', metric: 'aws:num-listening-tcp-ports', criteria: { comparisonOperator: 'greater-than', value: { count: 10 } } },
        { name: 'watched', metric: 'not-collected' },
      ],
    });
    expect(errors).toEqual([]);
    expect(config.behaviors.map((b) => b.name)).toEqual(['ports', 'watched']);
  });
});
