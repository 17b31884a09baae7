import { Arns } from '../../../scripts/gg/aws';
import {
  componentLogGroup,
  daysBetween,
  logManagerMerge,
  logManagerSpecification,
  parseLogUploadFlags,
  thingLogStream,
  thingOfStream,
  tokenExchangeRoleStatement,
} from '../../../scripts/gg/log-manager';

const OURS = 'com.example.TestAgent';
const NONE = { periodSeconds: undefined, minimumLevel: undefined };

describe('logManagerMerge', () => {
  it('starts a configuration with this component in the map form, a one-minute period and INFO', () => {
    expect(JSON.parse(logManagerMerge(undefined, OURS, NONE))).toEqual({
      logsUploaderConfiguration: { componentLogsConfigurationMap: { [OURS]: { minimumLogLevel: 'INFO' } } },
      periodicUploadIntervalSec: '60',
    });
  });

  it('keeps system logs, other components, their settings and unknown keys; adds ours', () => {
    const current = {
      logsUploaderConfiguration: {
        systemLogsConfiguration: { uploadToCloudWatch: 'true', minimumLogLevel: 'WARN' },
        componentLogsConfigurationMap: {
          'com.example.Other': { minimumLogLevel: 'DEBUG', diskSpaceLimit: '10', diskSpaceLimitUnit: 'MB' },
        },
      },
      periodicUploadIntervalSec: '300',
      deprecatedButKept: true,
    };
    expect(JSON.parse(logManagerMerge(JSON.stringify(current), OURS, { periodSeconds: undefined, minimumLevel: 'WARN' }))).toEqual({
      logsUploaderConfiguration: {
        systemLogsConfiguration: { uploadToCloudWatch: 'true', minimumLogLevel: 'WARN' },
        componentLogsConfigurationMap: {
          'com.example.Other': { minimumLogLevel: 'DEBUG', diskSpaceLimit: '10', diskSpaceLimitUnit: 'MB' },
          [OURS]: { minimumLogLevel: 'WARN' },
        },
      },
      periodicUploadIntervalSec: '300',
      deprecatedButKept: true,
    });
  });

  it('updates our entry in place: given flags win, the deployed level and our other settings stay otherwise', () => {
    const current = JSON.stringify({
      logsUploaderConfiguration: {
        componentLogsConfigurationMap: { [OURS]: { minimumLogLevel: 'ERROR', deleteLogFileAfterCloudUpload: 'false' } },
      },
      periodicUploadIntervalSec: 120,
    });
    expect(JSON.parse(logManagerMerge(current, OURS, NONE))).toEqual({
      logsUploaderConfiguration: {
        componentLogsConfigurationMap: { [OURS]: { minimumLogLevel: 'ERROR', deleteLogFileAfterCloudUpload: 'false' } },
      },
      periodicUploadIntervalSec: '120',
    });
    expect(JSON.parse(logManagerMerge(current, OURS, { periodSeconds: 30, minimumLevel: 'DEBUG' }))).toEqual({
      logsUploaderConfiguration: {
        componentLogsConfigurationMap: { [OURS]: { minimumLogLevel: 'DEBUG', deleteLogFileAfterCloudUpload: 'false' } },
      },
      periodicUploadIntervalSec: '30',
    });
  });

  it('keeps the older list form when the deployment uses it, never mixing the two', () => {
    const other = { componentName: 'com.example.Other', minimumLogLevel: 'INFO' };
    const list = JSON.stringify({ logsUploaderConfiguration: { componentLogsConfiguration: [other] } });
    const added = JSON.parse(logManagerMerge(list, OURS, NONE));
    expect(added.logsUploaderConfiguration).toEqual({
      componentLogsConfiguration: [other, { componentName: OURS, minimumLogLevel: 'INFO' }],
    });
    const again = JSON.parse(logManagerMerge(JSON.stringify(added), OURS, { periodSeconds: undefined, minimumLevel: 'WARN' }));
    expect(again.logsUploaderConfiguration).toEqual({
      componentLogsConfiguration: [other, { componentName: OURS, minimumLogLevel: 'WARN' }],
    });
  });

  it('refuses to rewrite a merge it cannot read', () => {
    expect(() => logManagerMerge('{not json', OURS, NONE)).toThrow(/aws.greengrass.LogManager configuration merge is not JSON/);
    expect(() => logManagerMerge('[1]', OURS, NONE)).toThrow(/not a JSON object/);
  });
});

describe('logManagerSpecification', () => {
  it('keeps the deployed version, reset paths and runWith; a new entry takes the given version', () => {
    const current = { componentVersion: '2.3.1', configurationUpdate: { reset: ['/x'], merge: '{}' }, runWith: { posixUser: 'a' } };
    const kept = logManagerSpecification(current, '9.9.9', OURS, NONE);
    expect(kept.componentVersion).toBe('2.3.1');
    expect(kept.configurationUpdate?.reset).toEqual(['/x']);
    expect(kept.runWith).toEqual({ posixUser: 'a' });
    expect(logManagerSpecification(undefined, '2.3.7', OURS, NONE).componentVersion).toBe('2.3.7');
  });
});

describe('names the log manager writes', () => {
  it('puts user components under UserComponent/<region>/<component>', () => {
    expect(componentLogGroup('eu-west-1', OURS)).toBe(`/aws/greengrass/UserComponent/eu-west-1/${OURS}`);
  });

  it('names streams by UTC day and thing, with ":" as "+", and reads the thing back', () => {
    expect(thingLogStream(new Date('2026-01-02T23:59:59.999Z'), 'core-1')).toBe('/2026/01/02/thing/core-1');
    expect(thingLogStream(new Date('2026-01-03T00:00:00Z'), 'site:core')).toBe('/2026/01/03/thing/site+core');
    expect(thingOfStream('/2026/01/03/thing/site+core')).toBe('site:core');
    expect(thingOfStream('/2026/01/03/thinggroup/x')).toBeUndefined();
  });

  it('lists every UTC day a window touches', () => {
    const days = (from: string, to: string) => daysBetween(Date.parse(from), Date.parse(to)).map((d) => d.toISOString().slice(0, 10));
    expect(days('2026-01-02T23:00:00Z', '2026-01-03T00:00:00Z')).toEqual(['2026-01-02', '2026-01-03']);
    expect(days('2026-01-02T01:00:00Z', '2026-01-02T02:00:00Z')).toEqual(['2026-01-02']);
    expect(days('2025-12-31T12:00:00Z', '2026-01-02T00:30:00Z')).toEqual(['2025-12-31', '2026-01-01', '2026-01-02']);
  });

  it("scopes the token exchange role's statement to this component's log group", () => {
    const statement = JSON.parse(tokenExchangeRoleStatement(new Arns('cn-north-1', '123456789012'), OURS));
    const group = `arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws/greengrass/UserComponent/cn-north-1/${OURS}`;
    expect(statement).toEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      Resource: [group, `${group}:*`],
    });
  });
});

describe('parseLogUploadFlags', () => {
  it('is undefined without --upload-logs and refuses its flags alone', () => {
    expect(parseLogUploadFlags({})).toBeUndefined();
    expect(() => parseLogUploadFlags({ 'log-upload-seconds': '30' })).toThrow('--log-upload-seconds only applies with --upload-logs');
  });

  it('reads the period, the level in any case, and a fixed version', () => {
    expect(
      parseLogUploadFlags({ 'upload-logs': true, 'log-upload-seconds': '30', 'log-upload-level': 'warn', 'log-manager-version': '2.3.7' }),
    ).toEqual({ periodSeconds: 30, minimumLevel: 'WARN', version: '2.3.7' });
    expect(() => parseLogUploadFlags({ 'upload-logs': true, 'log-upload-level': 'loud' })).toThrow(/--log-upload-level must be one of/);
    expect(() => parseLogUploadFlags({ 'upload-logs': true, 'log-manager-version': 'latest' })).toThrow(/--log-manager-version/);
    expect(() => parseLogUploadFlags({ 'upload-logs': true, 'log-upload-seconds': '0' })).toThrow(/--log-upload-seconds/);
  });
});
