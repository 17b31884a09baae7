import { Arns } from '../../../scripts/gg/aws';
import {
  describeFeaturePermissions,
  featureAccessControlFor,
  iotPublishStatement,
  staleAccessControlReset,
  withFeatureAccessControl,
} from '../../../scripts/gg/edge-permissions';
import { accessControlFor } from '../../../src/component/definition';

const OURS = 'com.example.TestAgent';
const ARNS = new Arns('eu-west-1', '123456789012');
const ALARM = {
  name: 'ports',
  metric: 'aws:num-listening-tcp-ports',
  criteria: { comparisonOperator: 'greater-than', value: { count: 5 } },
};
const RETAIN_ONLY = { name: 'keep-ports', metric: 'aws:listening-tcp-ports' };

const alarmsToIotCore = (topic: string) => ({
  [`${OURS}:mqttproxy:publish-alarms`]: {
    policyDescription: 'Publish Device Defender agent alarms',
    operations: ['aws.greengrass#PublishToIoTCore'],
    resources: [topic],
  },
});
const alarmsLocal = {
  'aws.greengrass.ipc.pubsub': {
    [`${OURS}:pubsub:publish-alarms`]: {
      policyDescription: 'Publish Device Defender agent alarms on local publish/subscribe',
      operations: ['aws.greengrass#PublishToTopic'],
      resources: ['defender-agent/alarms'],
    },
  },
};

describe('featureAccessControlFor', () => {
  it('grants nothing beyond the recipe when no feature is on, default topics notwithstanding', () => {
    expect(featureAccessControlFor(OURS, {}, 'core-1')).toEqual({});
    expect(featureAccessControlFor(OURS, { behaviors: [RETAIN_ONLY] }, 'core-1')).toEqual({});
  });

  it('grants the default alarm topics, for this thing, once a behavior can alarm', () => {
    expect(featureAccessControlFor(OURS, { behaviors: [ALARM] }, 'core-1')).toEqual({
      'aws.greengrass.ipc.mqttproxy': alarmsToIotCore('defender-agent/core-1/alarms'),
      ...alarmsLocal,
    });
  });

  it('follows the configured topics: none to IoT Core when alarmTopic is empty, the sink when set', () => {
    const features = featureAccessControlFor(
      OURS,
      { behaviors: [ALARM], alarmTopic: '', metricsSinkTopic: 'fleet/{iot:thingName}/metrics' },
      'core-1',
    );
    expect(features['aws.greengrass.ipc.mqttproxy']).toEqual({
      [`${OURS}:mqttproxy:publish-metrics-sink`]: {
        policyDescription: 'Publish Device Defender agent metrics sink',
        operations: ['aws.greengrass#PublishToIoTCore'],
        resources: ['fleet/core-1/metrics'],
      },
    });
    expect(features['aws.greengrass.ipc.pubsub']).toEqual(alarmsLocal['aws.greengrass.ipc.pubsub']);
  });

  it('keeps {iot:thingName} for a group, for the nucleus to interpolate', () => {
    expect(featureAccessControlFor(OURS, { behaviors: [ALARM] }, '{iot:thingName}')['aws.greengrass.ipc.mqttproxy']).toEqual(
      alarmsToIotCore('defender-agent/{iot:thingName}/alarms'),
    );
  });
});

describe('withFeatureAccessControl', () => {
  it("adds the features' policies beside the report policies of the same service", () => {
    const base = accessControlFor(OURS, 'core-1');
    const merged = withFeatureAccessControl(base, featureAccessControlFor(OURS, { behaviors: [ALARM] }, 'core-1'));
    expect(merged).toEqual({
      'aws.greengrass.ipc.mqttproxy': { ...base['aws.greengrass.ipc.mqttproxy'], ...alarmsToIotCore('defender-agent/core-1/alarms') },
      ...alarmsLocal,
    });
    expect(withFeatureAccessControl(base, {})).toEqual(base);
  });
});

describe('what deploy says', () => {
  it('names each extra permission and the iot:Publish statement the certificate needs', () => {
    const features = featureAccessControlFor(OURS, { behaviors: [ALARM] }, 'core-1');
    expect(describeFeaturePermissions(features)).toEqual([
      'merging accessControl aws.greengrass.ipc.mqttproxy: aws.greengrass#PublishToIoTCore on defender-agent/core-1/alarms',
      'merging accessControl aws.greengrass.ipc.pubsub: aws.greengrass#PublishToTopic on defender-agent/alarms',
    ]);
    expect(JSON.parse(iotPublishStatement(ARNS, features)!)).toEqual({
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: ['arn:aws:iot:eu-west-1:123456789012:topic/defender-agent/core-1/alarms'],
    });
  });

  it("writes a group's thing as the IoT policy variable, and needs no statement for local topics alone", () => {
    const group = featureAccessControlFor(OURS, { behaviors: [ALARM] }, '{iot:thingName}');
    expect(JSON.parse(iotPublishStatement(ARNS, group)!).Resource).toEqual([
      'arn:aws:iot:eu-west-1:123456789012:topic/defender-agent/${iot:Connection.Thing.ThingName}/alarms',
    ]);
    expect(iotPublishStatement(ARNS, featureAccessControlFor(OURS, { behaviors: [ALARM], alarmTopic: '' }, 'core-1'))).toBeUndefined();
  });
});

describe('staleAccessControlReset', () => {
  const merge = (access: object) => JSON.stringify({ accessControl: access });
  const base = accessControlFor(OURS, 'core-1');
  const withAlarms = withFeatureAccessControl(base, featureAccessControlFor(OURS, { behaviors: [ALARM] }, 'core-1'));

  it('resets accessControl when a policy of the previous revision is gone', () => {
    expect(staleAccessControlReset(merge(withAlarms), merge(base))).toEqual(['/accessControl']);
  });

  it('leaves it alone when nothing is dropped, or there was no previous revision', () => {
    expect(staleAccessControlReset(merge(base), merge(withAlarms))).toEqual([]);
    expect(staleAccessControlReset(merge(withAlarms), merge(withAlarms))).toEqual([]);
    expect(staleAccessControlReset(undefined, merge(base))).toEqual([]);
    expect(staleAccessControlReset('not json', merge(base))).toEqual([]);
  });
});
