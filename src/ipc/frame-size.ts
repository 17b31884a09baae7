/**
 * How many bytes a publish takes on the IPC socket, and how large a payload fits a nucleus's frame limit. Both IPC
 * clients send an operation's request as one eventstream frame: the prelude, the `:message-type`, `:message-flags`,
 * `:stream-id` and `operation` headers, the request as JSON with the payload in base64, and the message CRC
 * (test/ipc/frame-size.integration.test.ts holds both clients' real frames to these numbers).
 */
import { encodeRpcFrame, MessageType, stringHeader } from './eventstream';

/**
 * Nucleus lite's IPC buffer (`GGL_IPC_MAX_MSG_LEN`, modules/ggipcd): a larger frame makes ggipcd close the connection.
 * It counts the frame after its 12-byte prelude; keeping the whole frame within it leaves those bytes spare.
 */
export const LITE_IPC_FRAME_LIMIT_BYTES = 10_000;

export type PublishOperation = 'PublishToIoTCore' | 'PublishToTopic';

const overheadCache = new Map<PublishOperation, number>();

/** Prelude, headers and CRC of an operation's request frame (the stream id is a fixed-size int32). */
function frameOverhead(operation: PublishOperation): number {
  let bytes = overheadCache.get(operation);
  if (bytes === undefined) {
    bytes = encodeRpcFrame(
      1,
      MessageType.ApplicationMessage,
      0,
      [stringHeader('operation', `aws.greengrass#${operation}`)],
      Buffer.alloc(0),
    ).length;
    overheadCache.set(operation, bytes);
  }
  return bytes;
}

/** The request body without its base64 payload, exactly as the clients write it (key order included). */
function bodyWithoutPayload(operation: PublishOperation, topic: string): number {
  const body =
    operation === 'PublishToIoTCore'
      ? { topicName: topic, qos: '1', payload: '' }
      : { topic, publishMessage: { binaryMessage: { message: '' } } };
  return Buffer.byteLength(JSON.stringify(body), 'utf8');
}

const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

export function publishFrameBytes(operation: PublishOperation, topic: string, payloadBytes: number): number {
  return frameOverhead(operation) + bodyWithoutPayload(operation, topic) + base64Length(payloadBytes);
}

/** The largest payload whose publish frame stays within `frameLimit`; 0 when not even an empty one does. */
export function maxPayloadBytes(operation: PublishOperation, topic: string, frameLimit: number): number {
  const room = frameLimit - frameOverhead(operation) - bodyWithoutPayload(operation, topic);
  return room <= 0 ? 0 : Math.floor(room / 4) * 3;
}
