import { accessControlFor } from '../../src/component/definition';
import { defaultConfig } from '../../src/config/parse';
import { parseBehaviors } from '../../src/config/behaviors';
import { drill } from '../../src/config/detection';
import { deniedFeatureCallMessage, featureAccessControl } from '../../src/detect/permissions';

const COMPONENT = 'com.example.DeviceDefenderAgent';
const behaviors = parseBehaviors([
  { name: 'tcp', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } },
]);

describe('featureAccessControl', () => {
  it('grants nothing when no feature is configured: the default stays the Device Defender topics only', () => {
    expect(featureAccessControl(defaultConfig(), COMPONENT, 'Core1')).toEqual({});
    const recipe = JSON.stringify(accessControlFor(COMPONENT, '{iot:thingName}'));
    expect(recipe).not.toContain('alarms');
    expect(recipe).not.toContain('pubsub');
  });

  it('behaviors without criteria raise no alarms, so they need nothing', () => {
    expect(
      featureAccessControl(
        { ...defaultConfig(), behaviors: parseBehaviors([{ name: 'keep', metric: 'aws:all-bytes-out' }]) },
        COMPONENT,
        'Core1',
      ),
    ).toEqual({});
  });

  it('with behaviors: publish on the alarm topic (thing substituted) and PublishToTopic on the local topic, nothing more', () => {
    expect(featureAccessControl({ ...defaultConfig(), behaviors }, COMPONENT, 'Core1')).toEqual({
      'aws.greengrass.ipc.mqttproxy': {
        [`${COMPONENT}:mqttproxy:publish-alarms`]: {
          policyDescription: 'Publish Device Defender agent alarms',
          operations: ['aws.greengrass#PublishToIoTCore'],
          resources: ['defender-agent/Core1/alarms'],
        },
      },
      'aws.greengrass.ipc.pubsub': {
        [`${COMPONENT}:pubsub:publish-alarms`]: {
          policyDescription: 'Publish Device Defender agent alarms on local publish/subscribe',
          operations: ['aws.greengrass#PublishToTopic'],
          resources: ['defender-agent/alarms'],
        },
      },
    });
  });

  it('each feature adds only its own topic under its own policy id', () => {
    const onlyLocal = featureAccessControl({ ...defaultConfig(), behaviors, alarmTopic: '' }, COMPONENT, 'Core1');
    expect(Object.keys(onlyLocal)).toEqual(['aws.greengrass.ipc.pubsub']);
    const sink = featureAccessControl(
      { ...defaultConfig(), metricsSinkTopic: 'fleet/{iot:thingName}/metrics' },
      COMPONENT,
      '{iot:thingName}',
    );
    expect(sink).toEqual({
      'aws.greengrass.ipc.mqttproxy': {
        [`${COMPONENT}:mqttproxy:publish-metrics-sink`]: expect.objectContaining({ resources: ['fleet/{iot:thingName}/metrics'] }),
      },
    });
    const bytesOut = featureAccessControl({ ...defaultConfig(), drill: drill({ kind: 'bytes-out' }) }, COMPONENT, 'Core1');
    expect(bytesOut['aws.greengrass.ipc.mqttproxy']?.[`${COMPONENT}:mqttproxy:publish-drill`]?.resources).toEqual([
      'defender-agent/Core1/drill',
    ]);
    expect(featureAccessControl({ ...defaultConfig(), drill: drill({ kind: 'listening-port' }) }, COMPONENT, 'Core1')).toEqual({});
  });
});

describe('deniedFeatureCallMessage', () => {
  it('names the operation, the topic, the feature and the exact entry to merge', () => {
    const message = deniedFeatureCallMessage(COMPONENT, 'PublishToTopic', 'defender-agent/alarms', 'alarms');
    expect(message).toContain('aws.greengrass#PublishToTopic on "defender-agent/alarms" (alarms) was denied');
    const merge = JSON.parse(message.slice(message.indexOf('{"accessControl"')));
    expect(merge).toEqual({
      accessControl: {
        'aws.greengrass.ipc.pubsub': {
          [`${COMPONENT}:pubsub:publish-alarms`]: expect.objectContaining({
            operations: ['aws.greengrass#PublishToTopic'],
            resources: ['defender-agent/alarms'],
          }),
        },
      },
    });
  });
});
