import { randomBytes } from 'node:crypto';
import {
  crc32,
  crc32Fallback,
  decodeMessage,
  encodeMessage,
  EventstreamError,
  encodeRpcFrame,
  FrameSplitter,
  int32Of,
  MAX_MESSAGE_LENGTH,
  MessageTooLargeError,
  type EventstreamMessage,
} from '../../src/ipc/eventstream';
import { referenceCrc32 } from '../support/reference-crc32';

const everyHeaderType: EventstreamMessage = {
  headers: [
    { name: 'yes', value: { type: 'bool', value: true } },
    { name: 'no', value: { type: 'bool', value: false } },
    { name: 'b', value: { type: 'byte', value: -7 } },
    { name: 's', value: { type: 'short', value: -30000 } },
    { name: ':stream-id', value: { type: 'int32', value: 2147483647 } },
    { name: 'l', value: { type: 'int64', value: -9007199254740993n } },
    { name: 'bytes', value: { type: 'bytes', value: Buffer.from([0, 1, 255]) } },
    { name: 'operation', value: { type: 'string', value: 'aws.greengrass#PublishToIoTCore — ü' } },
    { name: 't', value: { type: 'timestamp', value: 1700000000123n } },
    { name: 'u', value: { type: 'uuid', value: Buffer.from('00112233445566778899aabbccddeeff', 'hex') } },
  ],
  payload: Buffer.from('{"topicName":"a/b"}'),
};

describe('eventstream codec', () => {
  it('round-trips every header type and the payload, with the standard CRC-32 a peer checks', () => {
    const frame = encodeMessage(everyHeaderType);
    expect(decodeMessage(frame)).toEqual(everyHeaderType);
    expect(frame.readUInt32BE(frame.length - 4)).toBe(referenceCrc32(frame.subarray(0, frame.length - 4)));
  });

  it('writes the documented layout: total_len, headers_len, prelude CRC, message CRC', () => {
    const frame = encodeMessage({ headers: [{ name: 'x', value: { type: 'int32', value: 5 } }], payload: Buffer.from('hi') });
    // header: 1 (name len) + 1 (name) + 1 (type) + 4 (int32) = 7 bytes
    expect(frame.readUInt32BE(0)).toBe(16 + 7 + 2);
    expect(frame.readUInt32BE(4)).toBe(7);
    expect(frame.readUInt32BE(8)).toBe(referenceCrc32(frame.subarray(0, 8)));
    expect(frame.readUInt32BE(frame.length - 4)).toBe(referenceCrc32(frame.subarray(0, frame.length - 4)));
    expect(frame.subarray(12, 19)).toEqual(Buffer.from([1, 0x78, 4, 0, 0, 0, 5]));
  });

  it('rejects a corrupted frame', () => {
    const frame = encodeMessage(everyHeaderType);
    frame.writeUInt8(frame.readUInt8(frame.length - 6) ^ 0xff, frame.length - 6);
    expect(() => decodeMessage(frame)).toThrow('message CRC mismatch');
    const prelude = encodeMessage(everyHeaderType);
    prelude.writeUInt8(prelude.readUInt8(5) ^ 0x01, 5);
    expect(() => decodeMessage(prelude)).toThrow('prelude CRC mismatch');
  });

  it('refuses header names and values beyond the aws-c-event-stream limits', () => {
    expect(() =>
      encodeMessage({ headers: [{ name: 'n'.repeat(256), value: { type: 'bool', value: true } }], payload: Buffer.alloc(0) }),
    ).toThrow(EventstreamError);
    expect(() =>
      encodeMessage({ headers: [{ name: 'v', value: { type: 'string', value: 'x'.repeat(32768) } }], payload: Buffer.alloc(0) }),
    ).toThrow(EventstreamError);
  });

  it("computes the CRC of the bitwise definition and the standard check value, whole and in parts, with node's and the table", () => {
    expect(referenceCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Fallback(Buffer.from('123456789'), 0)).toBe(0xcbf43926);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(i * 37);
      const cut = Math.floor(data.length / 3);
      expect(crc32Fallback(data, 0)).toBe(referenceCrc32(data));
      expect(crc32Fallback(data.subarray(cut), crc32Fallback(data.subarray(0, cut), 0))).toBe(referenceCrc32(data));
      expect(crc32(data)).toBe(referenceCrc32(data));
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(referenceCrc32(data));
    }
  });
});

describe('FrameSplitter', () => {
  it('reassembles frames split across chunks and separates frames sharing a chunk', () => {
    const a = encodeMessage({ headers: [], payload: Buffer.from('first') });
    const b = encodeMessage(everyHeaderType);
    const stream = Buffer.concat([a, b, a]);
    const splitter = new FrameSplitter();
    const frames: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += 3) frames.push(...splitter.push(stream.subarray(offset, offset + 3)));
    expect(frames.map((f) => decodeMessage(f))).toEqual([decodeMessage(a), everyHeaderType, decodeMessage(a)]);
    expect(splitter.bufferedBytes).toBe(0);
  });

  describe('dropping frames the discard option names, unbuffered', () => {
    const dropped = (message: EventstreamMessage) => message.headers.some((h) => h.name === 'drop');
    const dropHeaders = [{ name: 'drop', value: { type: 'bool' as const, value: true } }];
    const big = encodeMessage({ headers: dropHeaders, payload: Buffer.alloc(4 * 1024 * 1024, 7) });
    const kept = encodeMessage({ headers: [], payload: Buffer.from('kept') });

    it.each([
      [1, 16 * 1024],
      [13, 64 * 1024],
      [64 * 1024, 4 * 1024 * 1024],
    ])(
      'in chunks of %i bytes, holds only the prelude and headers of a dropped frame of %i bytes and delivers the frames around it',
      (size, payloadBytes) => {
        const drop = encodeMessage({ headers: dropHeaders, payload: Buffer.alloc(payloadBytes, 7) });
        const splitter = new FrameSplitter({ discard: (headers) => dropped({ headers, payload: Buffer.alloc(0) }) });
        const stream = Buffer.concat([kept, drop, kept, drop, kept]);
        const frames: Buffer[] = [];
        let mostBuffered = 0;
        for (let offset = 0; offset < stream.length; offset += size) {
          frames.push(...splitter.push(stream.subarray(offset, offset + size)));
          mostBuffered = Math.max(mostBuffered, splitter.bufferedBytes);
        }
        expect(frames.map((f) => decodeMessage(f).payload.toString())).toEqual(['kept', 'kept', 'kept']);
        // At most one chunk beyond a prelude and its headers: a kept frame's start waits with the chunk it came in.
        expect(mostBuffered).toBeLessThan(size + kept.length + 64);
        expect(splitter.bufferedBytes).toBe(0);
      },
    );

    it('delivers a frame the option would drop when it arrives whole in one chunk: it already costs its memory', () => {
      const splitter = new FrameSplitter({ discard: () => true });
      expect(splitter.push(Buffer.concat([kept, kept]))).toHaveLength(2);
    });

    it('still checks the message CRC of a dropped frame', () => {
      const corrupt = Buffer.from(big);
      corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 100) ^ 1, corrupt.length - 100);
      const splitter = new FrameSplitter({ discard: () => true });
      expect(() => {
        for (let offset = 0; offset < corrupt.length; offset += 64 * 1024) splitter.push(corrupt.subarray(offset, offset + 64 * 1024));
      }).toThrow('message CRC mismatch');
    });

    it('drops a frame of headers only, no payload: its headers end where its trailer starts', () => {
      const headersOnly = encodeMessage({ headers: dropHeaders, payload: Buffer.alloc(0) });
      const splitter = new FrameSplitter({ discard: (headers) => dropped({ headers, payload: Buffer.alloc(0) }) });
      const stream = Buffer.concat([headersOnly, kept]);
      const frames: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset++) frames.push(...splitter.push(stream.subarray(offset, offset + 1)));
      expect(frames.map((f) => decodeMessage(f).payload.toString())).toEqual(['kept']);
    });

    it('delivers, as soon as it is whole, a frame whose headers_len runs past it (decodeMessage refuses it then)', () => {
      for (const headersLength of [11, 14, 16, 100]) {
        const bogus = rawFrame(Buffer.alloc(0), Buffer.alloc(10), headersLength);
        const splitter = new FrameSplitter({ discard: () => true });
        expect(splitter.push(bogus.subarray(0, 12))).toEqual([]);
        expect([headersLength, splitter.push(bogus.subarray(12))]).toEqual([headersLength, [bogus]]);
      }
    });

    it('delivers a frame whose headers cannot be read rather than asking the option about them', () => {
      // A header named "x" of type 99, which no peer may send.
      const garbage = Buffer.from([1, 0x78, 99, 0, 0]);
      const frame = rawFrame(garbage, Buffer.alloc(20));
      const splitter = new FrameSplitter({ discard: () => true });
      expect(splitter.push(frame.subarray(0, 12 + garbage.length))).toEqual([]);
      expect(splitter.push(frame.subarray(12 + garbage.length))).toEqual([frame]);
      expect(() => decodeMessage(frame)).toThrow();
    });

    it('reads whole, to be refused as before, a frame whose prelude CRC is wrong', () => {
      const corrupt = Buffer.from(big);
      corrupt.writeUInt8(corrupt.readUInt8(8) ^ 1, 8);
      const splitter = new FrameSplitter({ discard: () => true });
      const frames: Buffer[] = [];
      for (let offset = 0; offset < corrupt.length; offset += 64 * 1024)
        frames.push(...splitter.push(corrupt.subarray(offset, offset + 64 * 1024)));
      expect(frames).toHaveLength(1);
      expect(() => decodeMessage(frames[0]!)).toThrow('prelude CRC mismatch');
    });
  });

  it('rejects an impossible total_len', () => {
    const bogus = Buffer.alloc(8);
    bogus.writeUInt32BE(3, 0);
    expect(() => new FrameSplitter().push(bogus)).toThrow('invalid total_len 3');
    // As soon as the length is readable: four bytes are enough to refuse it.
    expect(() => new FrameSplitter().push(bogus.subarray(0, 4))).toThrow('invalid total_len 3');
  });
});

/** A frame around raw header bytes and a payload, with correct CRCs and `headersLength` as given (a peer's frame). */
function rawFrame(headerBytes: Buffer, payload: Buffer, headersLength = headerBytes.length): Buffer {
  const frame = Buffer.alloc(16 + headerBytes.length + payload.length);
  frame.writeUInt32BE(frame.length, 0);
  frame.writeUInt32BE(headersLength, 4);
  frame.writeUInt32BE(referenceCrc32(frame.subarray(0, 8)), 8);
  headerBytes.copy(frame, 12);
  payload.copy(frame, 12 + headerBytes.length);
  frame.writeUInt32BE(referenceCrc32(frame.subarray(0, frame.length - 4)), frame.length - 4);
  return frame;
}

describe('decoding a peer frame refuses what does not add up, naming it', () => {
  const empty = { headers: [], payload: Buffer.alloc(0) };

  it('a frame shorter than prelude and trailer is refused; the shortest frame (16 bytes, nothing in it) decodes', () => {
    expect(() => decodeMessage(Buffer.alloc(15))).toThrow('frame of 15 bytes is shorter than the prelude');
    const shortest = encodeMessage(empty);
    expect(shortest.length).toBe(16);
    expect(decodeMessage(shortest)).toEqual(empty);
  });

  it('a frame whose total_len is not its length is refused', () => {
    const frame = Buffer.concat([encodeMessage(empty), Buffer.from([0])]);
    expect(() => decodeMessage(frame)).toThrow('total_len 16 does not match frame length 17');
  });

  it('headers_len reaching past the payload into the trailer is refused; headers that fill the frame decode', () => {
    const header = Buffer.from([1, 0x78, 0]); // "x": true
    expect(() => decodeMessage(rawFrame(header, Buffer.alloc(0), 4))).toThrow('headers_len exceeds the frame');
    expect(decodeMessage(rawFrame(header, Buffer.alloc(0)))).toEqual({
      headers: [{ name: 'x', value: { type: 'bool', value: true } }],
      payload: Buffer.alloc(0),
    });
  });

  it('a header of a type eventstream does not define is refused', () => {
    expect(() => decodeMessage(rawFrame(Buffer.from([1, 0x78, 10]), Buffer.alloc(0)))).toThrow('unknown header type 10 for header "x"');
  });

  it('a header block cut inside a name or a value is refused as truncated', () => {
    expect(() => decodeMessage(rawFrame(Buffer.from([5, 0x78]), Buffer.from('p')))).toThrow('truncated header block');
    expect(() => decodeMessage(rawFrame(Buffer.from([1, 0x78]), Buffer.from('p')))).toThrow('truncated header block');
    expect(() => decodeMessage(rawFrame(Buffer.from([1, 0x78, 4, 0, 0]), Buffer.from('p')))).toThrow('truncated header block');
  });
});

describe('encoding stays within what every eventstream peer accepts', () => {
  const header = (name: string, value: EventstreamMessage['headers'][number]['value']) => ({
    headers: [{ name, value }],
    payload: Buffer.alloc(0),
  });

  it('header names of 1 to 255 bytes: an empty one is refused, 255 bytes round-trips', () => {
    expect(() => encodeMessage(header('', { type: 'bool', value: true }))).toThrow('header name must be 1-255 bytes: ""');
    const longest = header('n'.repeat(255), { type: 'bool', value: true });
    expect(decodeMessage(encodeMessage(longest))).toEqual(longest);
  });

  it('string and bytes values up to 32767 bytes round-trip; one byte more is refused for either', () => {
    for (const value of [
      { type: 'string' as const, value: 'x'.repeat(32767) },
      { type: 'bytes' as const, value: Buffer.alloc(32767, 1) },
    ]) {
      expect(decodeMessage(encodeMessage(header('v', value)))).toEqual(header('v', value));
    }
    expect(() => encodeMessage(header('v', { type: 'bytes', value: Buffer.alloc(32768) }))).toThrow('header "v" value exceeds 32767 bytes');
  });

  it('a uuid that is not 16 bytes is refused', () => {
    expect(() => encodeMessage(header('u', { type: 'uuid', value: Buffer.alloc(15) }))).toThrow('uuid header "u" must be 16 bytes');
  });

  it('at most 1024 headers', () => {
    const headers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i}`, value: { type: 'bool' as const, value: true } }));
    expect(decodeMessage(encodeMessage({ headers: headers(1024), payload: Buffer.alloc(0) })).headers).toHaveLength(1024);
    expect(() => encodeMessage({ headers: headers(1025), payload: Buffer.alloc(0) })).toThrow('more than 1024 headers');
  });

  it('a message of exactly 24 MiB is encoded; one byte more is MessageTooLargeError with its length', () => {
    expect(encodeMessage({ headers: [], payload: Buffer.alloc(MAX_MESSAGE_LENGTH - 16) }).length).toBe(MAX_MESSAGE_LENGTH);
    let error: unknown;
    try {
      encodeMessage({ headers: [], payload: Buffer.alloc(MAX_MESSAGE_LENGTH - 15) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toMatchObject({ bytes: MAX_MESSAGE_LENGTH + 1, message: `message of ${MAX_MESSAGE_LENGTH + 1} bytes exceeds 24 MiB` });
  });

  it('an RPC frame carries message type, flags and stream id before the caller’s headers', () => {
    const message = decodeMessage(encodeRpcFrame(7, 4, 1, [{ name: 'extra', value: { type: 'int32', value: 9 } }], Buffer.from('p')));
    expect(message.headers.map((h) => h.name)).toEqual([':message-type', ':message-flags', ':stream-id', 'extra']);
    expect([int32Of(message, ':message-type'), int32Of(message, ':message-flags'), int32Of(message, ':stream-id')]).toEqual([4, 1, 7]);
    expect(int32Of(message, 'missing')).toBeUndefined();
    expect(int32Of(decodeMessage(encodeMessage(header('s', { type: 'string', value: '1' }))), 's')).toBeUndefined();
  });
});

describe('FrameSplitter at the edges', () => {
  it('splits a stream fed one byte at a time, counting what it holds until the frame completes', () => {
    const frame = encodeMessage({ headers: [], payload: Buffer.from('payload') });
    const splitter = new FrameSplitter();
    const frames: Buffer[] = [];
    for (let i = 0; i < frame.length; i++) {
      frames.push(...splitter.push(frame.subarray(i, i + 1)));
      if (i < frame.length - 1) expect(splitter.bufferedBytes).toBe(i + 1);
    }
    expect(frames).toEqual([frame]);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('takes the shortest frame (16 bytes) and refuses a total_len above 24 MiB', () => {
    const shortest = encodeMessage({ headers: [], payload: Buffer.alloc(0) });
    expect(new FrameSplitter().push(shortest)).toEqual([shortest]);
    const largest = Buffer.alloc(8);
    largest.writeUInt32BE(MAX_MESSAGE_LENGTH, 0);
    const waiting = new FrameSplitter();
    expect(waiting.push(largest)).toEqual([]);
    expect(waiting.bufferedBytes).toBe(8);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
    expect(() => new FrameSplitter().push(huge)).toThrow(`invalid total_len ${MAX_MESSAGE_LENGTH + 1}`);
  });
});
