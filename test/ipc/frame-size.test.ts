import { encodeRpcFrame, MessageType, stringHeader } from '../../src/ipc/eventstream';
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes, publishFrameBytes } from '../../src/ipc/frame-size';

/** The frame the portable client writes for an operation's request (rpc-client.ts openStream). */
const realFrame = (operation: string, body: unknown): number =>
  encodeRpcFrame(
    7,
    MessageType.ApplicationMessage,
    0,
    [stringHeader('operation', `aws.greengrass#${operation}`)],
    Buffer.from(JSON.stringify(body)),
  ).length;

const TOPIC = `$aws/things/${'T'.repeat(128)}/defender/metrics/json`;

describe('publishFrameBytes', () => {
  it('is the length of the encoded request frame, for every payload size modulo 3 and both operations', () => {
    for (const size of [0, 1, 2, 3, 7300, 7301, 7302]) {
      const payload = Buffer.alloc(size, 0x41).toString('base64');
      expect(publishFrameBytes('PublishToIoTCore', TOPIC, size)).toBe(
        realFrame('PublishToIoTCore', { topicName: TOPIC, qos: '1', payload }),
      );
      expect(publishFrameBytes('PublishToTopic', 'defender-agent/alarms', size)).toBe(
        realFrame('PublishToTopic', { topic: 'defender-agent/alarms', publishMessage: { binaryMessage: { message: payload } } }),
      );
    }
  });

  it('counts a topic as JSON writes it (escapes and UTF-8)', () => {
    const topic = 'sink/"quoted"/\u00e9t\u00e9';
    expect(publishFrameBytes('PublishToIoTCore', topic, 10)).toBe(
      realFrame('PublishToIoTCore', { topicName: topic, qos: '1', payload: Buffer.alloc(10).toString('base64') }),
    );
  });
});

describe('maxPayloadBytes', () => {
  it('is the largest payload whose frame fits: one byte more does not', () => {
    for (const topic of [TOPIC, '$aws/things/a/defender/metrics/cbor', 'x']) {
      const most = maxPayloadBytes('PublishToIoTCore', topic, LITE_IPC_FRAME_LIMIT_BYTES);
      expect(publishFrameBytes('PublishToIoTCore', topic, most)).toBeLessThanOrEqual(LITE_IPC_FRAME_LIMIT_BYTES);
      expect(publishFrameBytes('PublishToIoTCore', topic, most + 1)).toBeGreaterThan(LITE_IPC_FRAME_LIMIT_BYTES);
    }
  });

  it('leaves a Device Defender report about three quarters of nucleus lite\u2019s message, as measured on the real nucleus', () => {
    // Measured on nucleus lite: a 7,300-byte JSON report fitted, a 7,400-byte one closed the connection.
    const most = maxPayloadBytes('PublishToIoTCore', '$aws/things/lite-core-1/defender/metrics/json', LITE_IPC_FRAME_LIMIT_BYTES);
    expect(most).toBeGreaterThanOrEqual(7_300);
    expect(most).toBeLessThan(7_400);
  });

  it('is 0 when not even an empty payload fits', () => {
    expect(maxPayloadBytes('PublishToIoTCore', 'x'.repeat(20_000), LITE_IPC_FRAME_LIMIT_BYTES)).toBe(0);
  });
});
