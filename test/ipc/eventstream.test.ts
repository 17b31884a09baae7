import { randomBytes } from 'node:crypto';
import {
  crc32,
  crc32Fallback,
  decodeMessage,
  encodeMessage,
  EventstreamError,
  FrameSplitter,
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
  it('round-trips every header type and the payload', () => {
    expect(decodeMessage(encodeMessage(everyHeaderType))).toEqual(everyHeaderType);
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

  it('has a table CRC that agrees with the bitwise definition and the standard check value', () => {
    expect(referenceCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Fallback(Buffer.from('123456789'), 0)).toBe(0xcbf43926);
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(i * 37);
      expect(crc32Fallback(data, 0)).toBe(referenceCrc32(data));
      expect(crc32(data)).toBe(referenceCrc32(data));
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
  });
});
