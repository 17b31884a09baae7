/**
 * Device Defender's side of the broker that stands in for AWS IoT Core: an MQTT client of its own (mutual TLS, its own
 * certificate) that answers every report the core publishes on `$aws/things/<thing>/defender/metrics/<json|cbor>`
 * with `/accepted` or `/rejected`, after checking it against the specification's JSON Schema
 * (tools/local-core/defender-report.schema.json, through the local core's DefenderFake, which shares nothing with the
 * agent's own builder or validator). It also records what else reaches the broker on the alarm topics.
 */
import { io, iot, mqtt } from 'aws-crt';
import { type DefenderOutcome, DefenderFake } from '../../tools/local-core/defender-fake';
import type { Certificates } from './certificates';

export interface BrokerMessage {
  topic: string;
  payload: Buffer;
  at: number;
}

export class DefenderResponder {
  readonly outcomes: Array<DefenderOutcome & { at: number; payload: Buffer }> = [];
  readonly messages: BrokerMessage[] = [];
  private readonly fake: DefenderFake;
  private connection: mqtt.MqttClientConnection | undefined;

  constructor(
    private readonly certificates: Certificates,
    private readonly port: number,
    /** Device Defender's throttle: a report sooner than this after the last accepted one is rejected. */
    minIntervalMs: number,
  ) {
    this.fake = new DefenderFake({ minIntervalMs, now: () => Date.now() });
  }

  async start(alarmTopicFilter: string): Promise<void> {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
      this.certificates.responder.cert,
      this.certificates.responder.key,
    )
      .with_certificate_authority_from_path(undefined, this.certificates.caFile)
      .with_endpoint('localhost')
      .with_port(this.port)
      .with_client_id(`device-defender-responder-${process.pid}`)
      .with_clean_session(true)
      .build();
    const client = new mqtt.MqttClient(new io.ClientBootstrap());
    this.connection = client.new_connection(config);
    await this.connection.connect();
    const record = (topic: string, payload: ArrayBuffer) => {
      this.messages.push({ topic, payload: Buffer.from(payload), at: Date.now() });
    };
    await this.connection.subscribe('$aws/things/+/defender/metrics/+', mqtt.QoS.AtLeastOnce, (topic, payload) => {
      record(topic, payload);
      const outcome = this.fake.handle(topic, Buffer.from(payload));
      if (!outcome) return;
      this.outcomes.push({ ...outcome, at: Date.now(), payload: Buffer.from(payload) });
      void this.connection?.publish(outcome.reply.topic, outcome.reply.payload, mqtt.QoS.AtLeastOnce).catch(() => undefined);
    });
    await this.connection.subscribe(alarmTopicFilter, mqtt.QoS.AtLeastOnce, record);
  }

  async stop(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.disconnect().catch(() => undefined);
  }
}
