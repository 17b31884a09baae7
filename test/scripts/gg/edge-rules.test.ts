import {
  alarmRulePayload,
  metricsRulePayload,
  ruleNameFor,
  ruleRoleNameFor,
  thingExpression,
  topicFilterOf,
} from '../../../scripts/gg/edge-rules';

describe('edge rules', () => {
  it('listens on every thing through the {iot:thingName} level and names the thing from it', () => {
    expect(topicFilterOf('defender-agent/{iot:thingName}/alarms')).toBe('defender-agent/+/alarms');
    expect(thingExpression('defender-agent/{iot:thingName}/alarms')).toBe('topic(2)');
    expect(thingExpression('fleet/metrics/{iot:thingName}')).toBe('topic(3)');
    // One topic for every core: the core's MQTT client id is its thing name.
    expect(topicFilterOf('fleet/metrics')).toBe('fleet/metrics');
    expect(thingExpression('fleet/metrics')).toBe('clientid()');
  });

  it('reads long key names by default, as the agent sends them', () => {
    const sql = metricsRulePayload('fleet/metrics', false, 'NS', 'arn:role').sql!;
    expect(sql).toBe(
      "SELECT clientid() AS thing, metrics.listening_tcp_ports.total AS ListeningTcpPorts, metrics.listening_udp_ports.total AS ListeningUdpPorts, metrics.tcp_connections.established_connections.total AS EstablishedTcpConnections, metrics.network_stats.bytes_in AS BytesIn, metrics.network_stats.bytes_out AS BytesOut, metrics.network_stats.packets_in AS PacketsIn, metrics.network_stats.packets_out AS PacketsOut FROM 'fleet/metrics'",
    );
  });

  it('keeps names within what AWS IoT and IAM accept', () => {
    expect(ruleNameFor('com.example.DeviceDefenderAgent', 'alarms')).toBe('com_example_DeviceDefenderAgent_alarms');
    expect(ruleNameFor('x'.repeat(200), 'metrics')).toHaveLength(128);
    expect(ruleRoleNameFor('com.example.DeviceDefenderAgent', 'eu-west-1')).toBe('com.example.DeviceDefenderAgent-edge-rules-eu-west-1');
    expect(ruleRoleNameFor('y'.repeat(100), 'ap-southeast-2').length).toBeLessThanOrEqual(64);
  });

  it('sends the alarm as it is (RAW), not wrapped in a JSON envelope', () => {
    expect(alarmRulePayload('a/{iot:thingName}', 'arn:sns', 'arn:role').actions).toEqual([
      { sns: { targetArn: 'arn:sns', roleArn: 'arn:role', messageFormat: 'RAW' } },
    ]);
  });
});
