import { accessControlFor, THING_NAME_VARIABLE } from '../../../src/component/definition';
import {
  buildConfigurationMerge,
  customMetricsFromFlags,
  parseCustomMetricFlag,
  settingsFromConfigJson,
  settingsFromMerge,
} from '../../../scripts/gg/agent-config';
import { UsageError } from '../../../scripts/gg/errors';

describe('configuration merge document', () => {
  it("carries the given keys in recipe form and the thing's own topics", () => {
    const merge = buildConfigurationMerge('c.Agent', { intervalSeconds: 600, shortNames: true, format: 'cbor' }, 'core-1');
    expect(JSON.parse(merge)).toEqual({
      intervalSeconds: '600',
      shortNames: 'true',
      format: 'cbor',
      accessControl: accessControlFor('c.Agent', 'core-1'),
    });
  });

  it('uses the {iot:thingName} policy for a thing group', () => {
    const merge = JSON.parse(buildConfigurationMerge('c.Agent', {}, undefined));
    expect(merge).toEqual({ accessControl: accessControlFor('c.Agent', THING_NAME_VARIABLE) });
    expect(JSON.stringify(merge)).toContain('$aws/things/{iot:thingName}/defender/metrics/json');
  });

  it('allows the topics of the thing the reports are attributed to', () => {
    const merge = JSON.parse(buildConfigurationMerge('c.Agent', { thingName: 'other' }, 'core-1'));
    expect(merge.accessControl).toEqual(accessControlFor('c.Agent', 'other'));
  });

  it('reads agent keys back and ignores the rest', () => {
    expect(settingsFromMerge('{"intervalSeconds":"900","accessControl":{},"junk":1}')).toEqual({ intervalSeconds: '900' });
    expect(settingsFromMerge('not json')).toEqual({});
  });
});

describe('--config-json', () => {
  it('accepts known keys in any case and spells them as CONFIG_KEYS does', () => {
    expect(settingsFromConfigJson('{"IntervalSeconds":"600","customMetrics":{"cpu":{"source":"cpuUsage"}}}')).toEqual({
      intervalSeconds: '600',
      customMetrics: { cpu: { source: 'cpuUsage' } },
    });
  });

  it.each([
    ['{"intervalSecs":1}', /unknown key "intervalSecs"; known keys: intervalSeconds/],
    ['{"accessControl":{}}', /must not set accessControl/],
    ['[1]', /must be a JSON object/],
    ['{', /not valid JSON/],
    ['{"format":"xml"}', /device would refuse this configuration: format: must be one of json, cbor/],
    ['{"customMetrics":{"cpu":{"source":"gpu"}}}', /source must be one of cpuUsage/],
    ['{"customMetrics":{"aws:cpu":{"source":"cpuUsage"}}}', /"aws:cpu" is not valid: names starting with "aws:" are reserved/],
    ['{"maxReportBytes":999999}', /maxReportBytes: must be auto or a whole number from 4096 to 120000/],
    ['{"logLevel":"loud"}', /logLevel: must be one of debug, info, warn, error/],
    ['{"intervalSeconds":"0x12c"}', /intervalSeconds: must be a whole number/],
    ['{"intervalSeconds":60}', /below 300/],
  ])('rejects %s', (json, message) => {
    expect(() => settingsFromConfigJson(json)).toThrow(UsageError);
    expect(() => settingsFromConfigJson(json)).toThrow(message);
  });
});

describe('--custom-metric', () => {
  it('parses name=source and name=diskUsed:/mount', () => {
    expect(parseCustomMetricFlag('cpu=cpuUsage')).toEqual(['cpu', { source: 'cpuUsage' }]);
    expect(parseCustomMetricFlag('rootfs=diskUsed:/data')).toEqual(['rootfs', { source: 'diskUsed', mountPoint: '/data' }]);
  });

  it('rejects a mount point on other sources and a missing source', () => {
    expect(() => parseCustomMetricFlag('cpu=cpuUsage:/')).toThrow(/mountPoint is only for diskUsed/);
    expect(() => parseCustomMetricFlag('cpu')).toThrow(/must look like name=source/);
  });

  it('lets flags win over --config-json', () => {
    expect(customMetricsFromFlags('{"customMetrics":{"a":{"source":"uptime"},"b":{"source":"cpuUsage"}}}', ['b=memoryUsed'])).toEqual({
      a: { source: 'uptime' },
      b: { source: 'memoryUsed' },
    });
  });
});
