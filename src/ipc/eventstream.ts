/**
 * AWS eventstream binary framing (the layer under eventstream-RPC), as the aws-c-event-stream library
 * defines it: [total_len u32][headers_len u32][prelude_crc u32][headers][payload][message_crc u32].
 */
import * as zlib from 'node:zlib';

export type HeaderValue =
  | { type: 'bool'; value: boolean }
  | { type: 'byte'; value: number }
  | { type: 'short'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'int64'; value: bigint }
  | { type: 'bytes'; value: Buffer }
  | { type: 'string'; value: string }
  | { type: 'timestamp'; value: bigint }
  | { type: 'uuid'; value: Buffer };

export interface Header {
  name: string;
  value: HeaderValue;
}

export interface EventstreamMessage {
  headers: Header[];
  payload: Buffer;
}

const PRELUDE_LENGTH = 12;
const TRAILER_LENGTH = 4;
const MIN_MESSAGE_LENGTH = PRELUDE_LENGTH + TRAILER_LENGTH;
/** aws-c-event-stream limits. */
export const MAX_MESSAGE_LENGTH = 24 * 1024 * 1024;
const MAX_HEADER_NAME_LENGTH = 255;
const MAX_HEADER_VALUE_LENGTH = 32767;
const MAX_HEADER_COUNT = 1024;

const TYPE_CODES = {
  boolTrue: 0,
  boolFalse: 1,
  byte: 2,
  short: 3,
  int32: 4,
  int64: 5,
  bytes: 6,
  string: 7,
  timestamp: 8,
  uuid: 9,
} as const;

export class EventstreamError extends Error {}

/** A message longer than any eventstream peer accepts; `bytes` is its encoded length. */
export class MessageTooLargeError extends EventstreamError {
  constructor(readonly bytes: number) {
    super(`message of ${bytes} bytes exceeds 24 MiB`);
  }
}

let crcTable: Uint32Array | undefined;

function tableCrc32(data: Uint8Array, initial: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = ~initial >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Node's own CRC-32, from Node 20.15 / 22.2; older Node 20, which the engines field allows, lacks it. */
const nodeCrc32 = zlib.crc32 as typeof zlib.crc32 | undefined;

/**
 * Standard CRC-32 (zlib polynomial); `initial` carries on from an earlier part. Node's native one where node has it:
 * the table loop runs over every byte of every frame, so on a quiet agent it is the first function hot enough for
 * TurboFan, and TurboFan's first compile steps RSS up by the compiler's code it touches in the node binary
 * (`npm run bench -- --real-time`). The table where node is older.
 */
export function crc32(data: Uint8Array, initial = 0): number {
  return nodeCrc32 ? nodeCrc32(data, initial) : tableCrc32(data, initial);
}

/** Exposed so a test can prove the table agrees with the CRC's definition, whichever one this node uses. */
export const crc32Fallback = tableCrc32;

function encodeHeader(header: Header): Buffer {
  const name = Buffer.from(header.name, 'utf8');
  if (name.length === 0 || name.length > MAX_HEADER_NAME_LENGTH) {
    throw new EventstreamError(`header name must be 1-${MAX_HEADER_NAME_LENGTH} bytes: "${header.name}"`);
  }
  const { value } = header;
  let body: Buffer;
  switch (value.type) {
    case 'bool':
      body = Buffer.from([value.value ? TYPE_CODES.boolTrue : TYPE_CODES.boolFalse]);
      break;
    case 'byte':
      body = Buffer.alloc(2);
      body[0] = TYPE_CODES.byte;
      body.writeInt8(value.value, 1);
      break;
    case 'short':
      body = Buffer.alloc(3);
      body[0] = TYPE_CODES.short;
      body.writeInt16BE(value.value, 1);
      break;
    case 'int32':
      body = Buffer.alloc(5);
      body[0] = TYPE_CODES.int32;
      body.writeInt32BE(value.value, 1);
      break;
    case 'int64':
    case 'timestamp':
      body = Buffer.alloc(9);
      body[0] = value.type === 'int64' ? TYPE_CODES.int64 : TYPE_CODES.timestamp;
      body.writeBigInt64BE(value.value, 1);
      break;
    case 'bytes':
    case 'string': {
      const data = value.type === 'bytes' ? value.value : Buffer.from(value.value, 'utf8');
      if (data.length > MAX_HEADER_VALUE_LENGTH) {
        throw new EventstreamError(`header "${header.name}" value exceeds ${MAX_HEADER_VALUE_LENGTH} bytes`);
      }
      body = Buffer.alloc(3 + data.length);
      body[0] = value.type === 'bytes' ? TYPE_CODES.bytes : TYPE_CODES.string;
      body.writeUInt16BE(data.length, 1);
      data.copy(body, 3);
      break;
    }
    case 'uuid':
      if (value.value.length !== 16) throw new EventstreamError(`uuid header "${header.name}" must be 16 bytes`);
      body = Buffer.concat([Buffer.from([TYPE_CODES.uuid]), value.value]);
      break;
  }
  return Buffer.concat([Buffer.from([name.length]), name, body]);
}

export function encodeMessage(message: EventstreamMessage): Buffer {
  if (message.headers.length > MAX_HEADER_COUNT) throw new EventstreamError(`more than ${MAX_HEADER_COUNT} headers`);
  const headers = Buffer.concat(message.headers.map(encodeHeader));
  const totalLength = MIN_MESSAGE_LENGTH + headers.length + message.payload.length;
  if (totalLength > MAX_MESSAGE_LENGTH) throw new MessageTooLargeError(totalLength);
  const frame = Buffer.alloc(totalLength);
  frame.writeUInt32BE(totalLength, 0);
  frame.writeUInt32BE(headers.length, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  headers.copy(frame, PRELUDE_LENGTH);
  message.payload.copy(frame, PRELUDE_LENGTH + headers.length);
  frame.writeUInt32BE(crc32(frame.subarray(0, totalLength - TRAILER_LENGTH)), totalLength - TRAILER_LENGTH);
  return frame;
}

function decodeHeaders(data: Buffer): Header[] {
  const headers: Header[] = [];
  let offset = 0;
  const need = (n: number): void => {
    if (offset + n > data.length) throw new EventstreamError('truncated header block');
  };
  while (offset < data.length) {
    need(1);
    const nameLength = data[offset]!;
    offset += 1;
    need(nameLength + 1);
    const name = data.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    const typeCode = data[offset]!;
    offset += 1;
    let value: HeaderValue;
    switch (typeCode) {
      case TYPE_CODES.boolTrue:
      case TYPE_CODES.boolFalse:
        value = { type: 'bool', value: typeCode === TYPE_CODES.boolTrue };
        break;
      case TYPE_CODES.byte:
        need(1);
        value = { type: 'byte', value: data.readInt8(offset) };
        offset += 1;
        break;
      case TYPE_CODES.short:
        need(2);
        value = { type: 'short', value: data.readInt16BE(offset) };
        offset += 2;
        break;
      case TYPE_CODES.int32:
        need(4);
        value = { type: 'int32', value: data.readInt32BE(offset) };
        offset += 4;
        break;
      case TYPE_CODES.int64:
      case TYPE_CODES.timestamp:
        need(8);
        value = { type: typeCode === TYPE_CODES.int64 ? 'int64' : 'timestamp', value: data.readBigInt64BE(offset) };
        offset += 8;
        break;
      case TYPE_CODES.bytes:
      case TYPE_CODES.string: {
        need(2);
        const length = data.readUInt16BE(offset);
        offset += 2;
        need(length);
        const raw = data.subarray(offset, offset + length);
        value =
          typeCode === TYPE_CODES.bytes ? { type: 'bytes', value: Buffer.from(raw) } : { type: 'string', value: raw.toString('utf8') };
        offset += length;
        break;
      }
      case TYPE_CODES.uuid:
        need(16);
        value = { type: 'uuid', value: Buffer.from(data.subarray(offset, offset + 16)) };
        offset += 16;
        break;
      default:
        throw new EventstreamError(`unknown header type ${typeCode} for header "${name}"`);
    }
    headers.push({ name, value });
  }
  return headers;
}

/** Decodes exactly one whole frame, checking both CRCs. */
export function decodeMessage(frame: Buffer): EventstreamMessage {
  if (frame.length < MIN_MESSAGE_LENGTH) throw new EventstreamError(`frame of ${frame.length} bytes is shorter than the prelude`);
  const totalLength = frame.readUInt32BE(0);
  const headersLength = frame.readUInt32BE(4);
  if (totalLength !== frame.length) throw new EventstreamError(`total_len ${totalLength} does not match frame length ${frame.length}`);
  if (crc32(frame.subarray(0, 8)) !== frame.readUInt32BE(8)) throw new EventstreamError('prelude CRC mismatch');
  if (crc32(frame.subarray(0, totalLength - TRAILER_LENGTH)) !== frame.readUInt32BE(totalLength - TRAILER_LENGTH)) {
    throw new EventstreamError('message CRC mismatch');
  }
  if (PRELUDE_LENGTH + headersLength > totalLength - TRAILER_LENGTH) throw new EventstreamError('headers_len exceeds the frame');
  const headers = decodeHeaders(frame.subarray(PRELUDE_LENGTH, PRELUDE_LENGTH + headersLength));
  const payload = Buffer.from(frame.subarray(PRELUDE_LENGTH + headersLength, totalLength - TRAILER_LENGTH));
  return { headers, payload };
}

export interface FrameSplitterOptions {
  /**
   * Asked once per frame that is not complete yet, with its headers as soon as they are in: true drops the frame's
   * payload as it streams in, never holding it (its message CRC is still checked). A frame whose prelude CRC or
   * headers are bad is never asked about: it is read whole and refused as before.
   */
  discard?: (headers: Header[]) => boolean;
}

/**
 * Cuts a byte stream into whole frames using the total_len prefix. A frame the `discard` option drops is consumed as
 * it arrives: whatever its length, the splitter holds its prelude and headers, never its payload.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /**
   * Chunks of a frame not yet complete, joined once it is: joining at every chunk would copy a large frame over and
   * over (a 16 MiB frame in 64 KiB reads: 256 copies of up to 16 MiB), which a peer could use to burn the CPU.
   */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private needed = 0;
  /** The frame being dropped: its length, how much of it was consumed, the CRC so far and its trailer's bytes. */
  private dropping: { total: number; consumed: number; crc: number; trailer: number[] } | undefined;

  constructor(private readonly options: FrameSplitterOptions = {}) {}

  /** Returns every frame completed by this chunk; throws when a prelude announces an impossible length. */
  push(chunk: Buffer): Buffer[] {
    let input = chunk;
    if (this.dropping) {
      input = this.drop(input);
      if (input.length === 0) return [];
    }
    if (this.waiting.length > 0) {
      this.waiting.push(input);
      this.waitingBytes += input.length;
      if (this.waitingBytes < this.needed) return [];
      this.pending = Buffer.concat(this.waiting, this.waitingBytes);
      this.waiting = [];
      this.waitingBytes = 0;
    } else {
      this.pending = this.pending.length === 0 ? input : Buffer.concat([this.pending, input]);
    }
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const totalLength = this.pending.readUInt32BE(0);
      if (totalLength < MIN_MESSAGE_LENGTH || totalLength > MAX_MESSAGE_LENGTH) {
        throw new EventstreamError(`invalid total_len ${totalLength}`);
      }
      if (this.pending.length >= totalLength) {
        frames.push(this.pending.subarray(0, totalLength));
        this.pending = this.pending.subarray(totalLength);
        continue;
      }
      const decided = this.decide(totalLength);
      if (decided === 'drop') {
        this.dropping = { total: totalLength, consumed: 0, crc: 0, trailer: [] };
        // The frame is incomplete: all that is pending belongs to it.
        this.drop(this.pending);
        this.pending = Buffer.alloc(0);
        break;
      }
      this.waiting = [this.pending];
      this.waitingBytes = this.pending.length;
      this.needed = decided === 'keep' ? totalLength : decided.until;
      this.pending = Buffer.alloc(0);
      break;
    }
    return frames;
  }

  get bufferedBytes(): number {
    return this.pending.length + this.waitingBytes;
  }

  /** For an incomplete frame at the start of `pending`: drop it, keep it, or wait for more bytes to tell. */
  private decide(totalLength: number): 'drop' | 'keep' | { until: number } {
    const { discard } = this.options;
    if (!discard) return 'keep';
    if (this.pending.length < PRELUDE_LENGTH) return { until: PRELUDE_LENGTH };
    if (crc32(this.pending.subarray(0, 8)) !== this.pending.readUInt32BE(8)) return 'keep';
    const headersEnd = PRELUDE_LENGTH + this.pending.readUInt32BE(4);
    if (headersEnd > totalLength - TRAILER_LENGTH) return 'keep';
    if (this.pending.length < headersEnd) return { until: headersEnd };
    let headers: Header[];
    try {
      headers = decodeHeaders(this.pending.subarray(PRELUDE_LENGTH, headersEnd));
    } catch {
      return 'keep';
    }
    return discard(headers) ? 'drop' : 'keep';
  }

  /** Consumes bytes of the frame being dropped; returns what follows it. Throws when its message CRC is wrong. */
  private drop(input: Buffer): Buffer {
    const frame = this.dropping as NonNullable<FrameSplitter['dropping']>;
    const take = Math.min(input.length, frame.total - frame.consumed);
    const checkedEnd = frame.total - TRAILER_LENGTH;
    const checked = Math.max(0, Math.min(take, checkedEnd - frame.consumed));
    if (checked > 0) frame.crc = crc32(input.subarray(0, checked), frame.crc);
    for (let i = checked; i < take; i++) frame.trailer.push(input[i] as number);
    frame.consumed += take;
    if (frame.consumed === frame.total) {
      this.dropping = undefined;
      if (Buffer.from(frame.trailer).readUInt32BE(0) !== frame.crc) throw new EventstreamError('message CRC mismatch');
    }
    return input.subarray(take);
  }
}

export function findHeader(message: EventstreamMessage, name: string): HeaderValue | undefined {
  return message.headers.find((h) => h.name === name)?.value;
}

export function stringHeader(name: string, value: string): Header {
  return { name, value: { type: 'string', value } };
}

export function int32Header(name: string, value: number): Header {
  return { name, value: { type: 'int32', value } };
}

/** The eventstream-RPC layer on top of the frames (docs/greengrass-ipc.md, "RPC layer"): one definition for both ends. */
export const RPC_VERSION = '0.1.0';

export const MessageType = {
  ApplicationMessage: 0,
  ApplicationError: 1,
  Ping: 2,
  PingResponse: 3,
  Connect: 4,
  ConnectAck: 5,
  ProtocolError: 6,
  InternalError: 7,
} as const;

export const MessageFlags = { ConnectionAccepted: 0x1, TerminateStream: 0x2 } as const;

/** A frame with the three int32 headers every RPC frame carries, then `headers`. */
export function encodeRpcFrame(streamId: number, type: number, flags: number, headers: Header[], payload: Buffer): Buffer {
  const protocol = [int32Header(':message-type', type), int32Header(':message-flags', flags), int32Header(':stream-id', streamId)];
  return encodeMessage({ headers: [...protocol, ...headers], payload });
}

/** The value of an int32 header, or undefined when it is missing or of another type (a protocol error for the caller). */
export function int32Of(message: EventstreamMessage, name: string): number | undefined {
  const value = findHeader(message, name);
  return value?.type === 'int32' ? value.value : undefined;
}
