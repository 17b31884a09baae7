/**
 * A client of nucleus lite's core bus, the protocol its daemons speak among themselves on
 * `/run/greengrass/<interface>`: one eventstream frame per call with a `method` string header and a `type` int32
 * header (1 = call), whose payload is lite's own object encoding (`modules/core-bus/src/object_serde.c`: a type tag
 * byte, then little-endian i64/f64, u32-length-prefixed buffers, u32-counted lists and maps). Used to read and write
 * ggconfigd the way `ggl-cli` and the daemons do, without going through the component's IPC.
 */
import net from 'node:net';
import path from 'node:path';
import { decodeMessage, encodeMessage, FrameSplitter, findHeader, int32Header, stringHeader } from '../../src/ipc/eventstream';

export type BusValue = null | boolean | bigint | number | string | Buffer | BusValue[] | { [key: string]: BusValue };

const TYPE = { null: 0, boolean: 1, i64: 2, f64: 3, buf: 4, list: 5, map: 6 } as const;
const CALL = 1;

function encodeObject(value: BusValue): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    parts.push(b);
  };
  const buf = (b: Buffer) => {
    u32(b.length);
    parts.push(b);
  };
  const write = (v: BusValue): void => {
    if (v === null) {
      parts.push(Buffer.of(TYPE.null));
    } else if (typeof v === 'boolean') {
      parts.push(Buffer.of(TYPE.boolean, v ? 1 : 0));
    } else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
      const b = Buffer.alloc(9);
      b[0] = TYPE.i64;
      b.writeBigInt64LE(BigInt(v), 1);
      parts.push(b);
    } else if (typeof v === 'number') {
      const b = Buffer.alloc(9);
      b[0] = TYPE.f64;
      b.writeDoubleLE(v, 1);
      parts.push(b);
    } else if (typeof v === 'string' || Buffer.isBuffer(v)) {
      parts.push(Buffer.of(TYPE.buf));
      buf(Buffer.from(v));
    } else if (Array.isArray(v)) {
      parts.push(Buffer.of(TYPE.list));
      u32(v.length);
      for (const item of v) write(item);
    } else {
      parts.push(Buffer.of(TYPE.map));
      const entries = Object.entries(v);
      u32(entries.length);
      for (const [key, item] of entries) {
        buf(Buffer.from(key));
        write(item);
      }
    }
  };
  write(value);
  return Buffer.concat(parts);
}

/** Decodes lite's object encoding; buffers come back as strings (configuration values are UTF-8 text). */
function decodeObject(data: Buffer): BusValue {
  let at = 0;
  const take = (n: number) => {
    if (at + n > data.length) throw new Error('core bus object ends early');
    const slice = data.subarray(at, at + n);
    at += n;
    return slice;
  };
  const u32 = () => take(4).readUInt32LE(0);
  const read = (): BusValue => {
    const tag = take(1)[0];
    switch (tag) {
      case TYPE.null:
        return null;
      case TYPE.boolean:
        return take(1)[0] !== 0;
      case TYPE.i64: {
        const n = take(8).readBigInt64LE(0);
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case TYPE.f64:
        return take(8).readDoubleLE(0);
      case TYPE.buf:
        return take(u32()).toString('utf8');
      case TYPE.list: {
        const n = u32();
        return Array.from({ length: n }, () => read());
      }
      case TYPE.map: {
        const n = u32();
        const out: { [key: string]: BusValue } = {};
        for (let i = 0; i < n; i++) {
          const key = take(u32()).toString('utf8');
          out[key] = read();
        }
        return out;
      }
      default:
        throw new Error(`unknown core bus object tag ${tag}`);
    }
  };
  const value = read();
  if (at !== data.length) throw new Error(`core bus object has ${data.length - at} trailing bytes`);
  return value;
}

class CoreBusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One call: connects, sends, reads the one response frame, closes. Rejects with the daemon's error code. */
function coreBusCall(
  socketDir: string,
  service: string,
  method: string,
  params: { [key: string]: BusValue },
  timeoutMs = 10_000,
): Promise<BusValue> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path.join(socketDir, service));
    const splitter = new FrameSplitter();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`core bus ${service}.${method}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error: Error | undefined, value?: BusValue) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    socket.on('error', (error) => finish(new Error(`core bus ${service}.${method}: ${error.message}`)));
    socket.on('close', () => finish(new Error(`core bus ${service}.${method}: closed without an answer`)));
    socket.on('connect', () => {
      socket.write(encodeMessage({ headers: [stringHeader('method', method), int32Header('type', CALL)], payload: encodeObject(params) }));
    });
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        const message = decodeMessage(frame);
        const error = findHeader(message, 'error');
        if (error) {
          const code = error.type === 'int32' ? error.value : -1;
          finish(new CoreBusError(code, `core bus ${service}.${method} failed: error ${code}`));
          return;
        }
        finish(undefined, message.payload.length > 0 ? decodeObject(message.payload) : null);
        return;
      }
    });
  });
}

/** ggconfigd's `write`: merges `value` at `keyPath` (maps merge key by key, as lite's deployments do). */
export async function writeConfig(socketDir: string, keyPath: string[], value: BusValue): Promise<void> {
  await coreBusCall(socketDir, 'gg_config', 'write', { key_path: keyPath, value, timestamp: Date.now() });
}

export function readConfig(socketDir: string, keyPath: string[]): Promise<BusValue> {
  return coreBusCall(socketDir, 'gg_config', 'read', { key_path: keyPath });
}

const SUBSCRIBE = 2;

export interface CoreBusSubscription {
  readonly messages: BusValue[];
  close(): void;
}

/**
 * A subscription (for example ggpubsubd's `subscribe` on a topic filter): resolves once the daemon accepted it; every
 * later frame on the connection is one message, kept in `messages` until `close()`.
 */
export function coreBusSubscribe(
  socketDir: string,
  service: string,
  method: string,
  params: { [key: string]: BusValue },
  timeoutMs = 10_000,
): Promise<CoreBusSubscription> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path.join(socketDir, service));
    const splitter = new FrameSplitter();
    const messages: BusValue[] = [];
    let accepted = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`core bus ${service}.${method}: not accepted within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (!accepted) reject(error);
    };
    socket.on('error', (error) => fail(new Error(`core bus ${service}.${method}: ${error.message}`)));
    socket.on('close', () => fail(new Error(`core bus ${service}.${method}: closed`)));
    socket.on('connect', () => {
      socket.write(
        encodeMessage({ headers: [stringHeader('method', method), int32Header('type', SUBSCRIBE)], payload: encodeObject(params) }),
      );
    });
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        const message = decodeMessage(frame);
        const error = findHeader(message, 'error');
        if (error) {
          fail(new CoreBusError(error.type === 'int32' ? error.value : -1, `core bus ${service}.${method} refused`));
          return;
        }
        if (!accepted) {
          if (findHeader(message, 'accepted')) {
            accepted = true;
            clearTimeout(timer);
            resolve({ messages, close: () => socket.destroy() });
          }
          continue;
        }
        messages.push(message.payload.length > 0 ? decodeObject(message.payload) : null);
      }
    });
  });
}

export async function deleteConfig(socketDir: string, keyPath: string[]): Promise<void> {
  await coreBusCall(socketDir, 'gg_config', 'delete', { key_path: keyPath });
}
