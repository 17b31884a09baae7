import { CONFIG_KEYS, recipeDefaultConfiguration } from '../../src/config/definition';
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
      maxListedPorts: 200,
      maxListedConnections: 500,
      maxReportBytes: 64000,
      networkStatsIncludeLoopback: false,
      procfsRoot: '/proc',
      logLevel: 'info',
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

  it('refuses an interval under 300 s unless development mode allows it', () => {
    const production = parseConfig({ intervalSeconds: '60' });
    expect(production.errors).toEqual([{ key: 'intervalSeconds', message: expect.stringContaining('below 300') }]);
    expect(production.config.intervalSeconds).toBe(300);

    const development = parseConfig({ intervalSeconds: '10', allowFastIntervalForDevelopment: 'true' });
    expect(development.errors).toEqual([]);
    expect(development.config.intervalSeconds).toBe(10);

    expect(parseConfig({ intervalSeconds: '1', allowFastIntervalForDevelopment: true }).errors[0]?.key).toBe('intervalSeconds');
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
    [{ 'aws:cpu': { source: 'cpuUsage' } }, 'not start with aws:'],
    [{ cpu: { source: 'gpu' } }, 'source must be one of'],
    [{ disk: { source: 'diskUsed', mountPoint: 'data' } }, 'mountPoint must be an absolute path'],
    [['cpu'], 'must be an object'],
  ])('rejects custom metrics %j', (customMetrics, message) => {
    const { errors } = parseConfig({ customMetrics });
    expect(errors).toEqual([{ key: 'customMetrics', message: expect.stringContaining(message) }]);
  });

  it('rejects a configuration that is not an object', () => {
    expect(parseConfig('nonsense').errors).toEqual([{ key: '(root)', message: 'configuration must be an object' }]);
  });

  it('documents every AgentConfig key exactly once', () => {
    const keys = CONFIG_KEYS.map((d) => d.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(Object.keys(defaultConfig()).sort());
  });
});
