/** Test scaffolding for the local core that needs no SDK: temp socket paths, deadlines, a raw eventstream-RPC client. */
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  decodeMessage,
  encodeMessage,
  FrameSplitter,
  int32Header,
  stringHeader,
  type EventstreamMessage,
  type Header,
} from '../../../src/ipc/eventstream';

export const DEADLINE_MS = 5_000;

export interface TempSocket {
  socketPath: string;
  cleanup(): void;
}

export function tempSocket(): TempSocket {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-'));
  return { socketPath: path.join(dir, 's'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Settles with the rejection reason, failing when the promise resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

export function nextEvent<T>(emitter: EventEmitter, event: string, what = event, ms = DEADLINE_MS): Promise<T> {
  return withDeadline(new Promise<T>((resolve) => emitter.once(event, (value: T) => resolve(value))), `event ${what}`, ms);
}

/** A streaming operation's events, awaitable one by one. */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(item: T) => void> = [];

  push = (item: T): void => {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  };

  next(what = 'stream event'): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return withDeadline(new Promise<T>((resolve) => this.waiters.push(resolve)), what);
  }

  get buffered(): number {
    return this.items.length;
  }
}

/** A hand-rolled eventstream-RPC client for what the SDK cannot send (a wrong version, an operation outside the model). */
export class RawClient {
  private readonly splitter = new FrameSplitter();
  private readonly received = new EventQueue<EventstreamMessage>();
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) this.received.push(decodeMessage(frame));
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static open(socketPath: string): Promise<RawClient> {
    return withDeadline(
      new Promise<RawClient>((resolve, reject) => {
        const socket = net.connect(socketPath, () => resolve(new RawClient(socket)));
        socket.once('error', reject);
      }),
      'raw connect',
    );
  }

  send(type: number, flags: number, streamId: number, headers: Header[], payload: string | Buffer = Buffer.alloc(0)): void {
    const protocol = [int32Header(':message-type', type), int32Header(':message-flags', flags), int32Header(':stream-id', streamId)];
    this.socket.write(encodeMessage({ headers: [...protocol, ...headers], payload: Buffer.from(payload) }));
  }

  connect(authToken: string, version = '0.1.0'): void {
    this.send(4, 0, 0, [stringHeader(':version', version)], JSON.stringify({ authToken }));
  }

  next(what?: string): Promise<EventstreamMessage> {
    return this.received.next(what);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function headerValue(message: EventstreamMessage, name: string): unknown {
  return message.headers.find((h) => h.name === name)?.value.value;
}
