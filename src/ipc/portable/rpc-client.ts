/**
 * Client side of eventstream-RPC over the nucleus's Unix socket, in plain TypeScript (no native addon).
 *
 * Wire rules, as aws-c-event-stream's client and the nucleus apply them: every frame carries the int32 headers
 * `:message-type`, `:message-flags` and `:stream-id`; the first frame is Connect (`:version` 0.1.0, payload
 * `{"authToken": SVCUID}`) and nothing else may be sent or accepted before a ConnectAck with the
 * ConnectionAccepted flag; the client allocates stream ids 1, 2, 3, …; the first frame of a stream names the
 * `operation`; TerminateStream ends a stream from either side. A frame on a stream id never opened is a protocol
 * violation; one on a closed stream is dropped.
 *
 * A Ping from the server is not answered. The SDK's client (aws-c-event-stream) hands it to a callback the SDK leaves
 * empty, and the nucleus never sends one; echoing it would let a server make the agent write back whatever it sends,
 * at its own pace. Nor is its payload kept: once its headers say Ping, the rest of the frame is dropped as it streams
 * in (its CRC still checked), so a flood of the largest Pings costs no memory. What the client writes is bounded too:
 * a server that stops reading is a dead connection, not a reason to queue more.
 */
import net from 'node:net';
import {
  decodeMessage,
  encodeRpcFrame,
  type EventstreamMessage,
  FrameSplitter,
  findHeader,
  type Header,
  int32Of,
  MAX_MESSAGE_LENGTH as MAX_FRAME_BYTES,
  MessageFlags,
  MessageTooLargeError,
  MessageType,
  RPC_VERSION,
  stringHeader,
} from '../eventstream';
import { describeError } from '../../util/describe-error';

/** The largest stream id: `:stream-id` is a signed int32. */
const MAX_STREAM_ID = 0x7fffffff;
/**
 * Bytes written and not yet taken by the server beyond which it counts as not reading. The agent's largest frames are
 * a report (at most 120,000 bytes, base64 in JSON) and the drill's padding chunks; one frame is always let through
 * onto an empty queue, whatever its size.
 */
const MAX_UNSENT_BYTES = 1024 * 1024;

/** A request that no eventstream frame can carry: refused before it takes a stream id or reaches the socket. */
export class RequestTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`the request is ${bytes} bytes, more than the ${MAX_FRAME_BYTES} bytes one eventstream frame can carry`);
    this.name = 'RequestTooLargeError';
  }
}

/** One frame as a stream sees it. */
export interface StreamMessage {
  type: number;
  terminate: boolean;
  /** `service-model-type`, when present. */
  shape: string | undefined;
  /** `:content-type`, when present. */
  contentType: string | undefined;
  payload: Buffer;
}

export interface StreamHandler {
  onMessage(message: StreamMessage): void;
  /** The stream can carry nothing more: the server terminated it, or the connection is gone. */
  onEnd(reason: string): void;
}

/** Why a connect failed: `refused` = the nucleus said no (ConnectAck without the accepted flag). */
export class RpcConnectError extends Error {
  constructor(
    readonly refused: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'RpcConnectError';
  }
}

export interface RpcClientOptions {
  socketPath: string;
  authToken: string | undefined;
}

/** A client-opened stream; `close()` sends TerminateStream unless the stream already ended. */
export class RpcClientStream {
  private ended = false;

  constructor(
    private readonly client: RpcClient,
    readonly id: number,
    private readonly handler: StreamHandler,
  ) {}

  get isOpen(): boolean {
    return !this.ended;
  }

  close(): void {
    if (this.ended) return;
    this.client.sendFrame(this.id, MessageType.ApplicationMessage, MessageFlags.TerminateStream, [], Buffer.alloc(0));
    this.end('closed by the client', false);
  }

  /** @internal called by the client */
  deliver(message: StreamMessage): void {
    if (this.ended) return;
    if (message.terminate) this.ended = true;
    this.handler.onMessage(message);
    if (message.terminate) this.finish('terminated by the server');
  }

  /** @internal called by the client */
  end(reason: string, notify = true): void {
    if (this.ended) {
      this.client.forget(this.id);
      return;
    }
    this.ended = true;
    if (notify) this.finish(reason);
    else this.client.forget(this.id);
  }

  private finish(reason: string): void {
    this.client.forget(this.id);
    this.handler.onEnd(reason);
  }
}

/** A well-formed Ping or PingResponse: what onMessage ignores once connected. */
function isPing(headers: Header[]): boolean {
  const int = (name: string) => headers.find((h) => h.name === name)?.value.type === 'int32';
  const type = headers.find((h) => h.name === ':message-type')?.value;
  return (
    type?.type === 'int32' &&
    (type.value === MessageType.Ping || type.value === MessageType.PingResponse) &&
    int(':message-flags') &&
    int(':stream-id')
  );
}

/** One connection to the nucleus. Create with `RpcClient.connect`. */
export class RpcClient {
  /** Pings (and PingResponses) after the ConnectAck carry nothing the client reads: dropped unbuffered. */
  private readonly splitter = new FrameSplitter({ discard: (headers) => this.accepted && isPing(headers) });
  private readonly streams = new Map<number, RpcClientStream>();
  private lastStreamId = 0;
  private accepted = false;
  private closedReason: string | undefined;
  private readonly closeListeners: Array<(reason: string) => void> = [];
  private settleConnect: ((error?: Error) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.shutDown(`socket error: ${error.message}`));
    socket.on('close', () => this.shutDown('connection closed'));
  }

  /** Connects and completes the handshake; rejects with RpcConnectError. The caller owns the deadline (call `destroy`). */
  static connect(options: RpcClientOptions, onCreated: (client: RpcClient) => void = () => undefined): Promise<RpcClient> {
    const socket = net.createConnection({ path: options.socketPath });
    const client = new RpcClient(socket);
    onCreated(client);
    return new Promise<RpcClient>((resolve, reject) => {
      client.settleConnect = (error) => {
        client.settleConnect = undefined;
        if (error) reject(error);
        else resolve(client);
      };
      socket.once('connect', () => {
        // Like the SDK: without a token the payload stays empty (a real nucleus then refuses).
        const payload = options.authToken ? Buffer.from(JSON.stringify({ authToken: options.authToken })) : Buffer.alloc(0);
        client.sendFrame(0, MessageType.Connect, 0, [stringHeader(':version', RPC_VERSION)], payload);
      });
    });
  }

  /** Bytes of incoming frames held until they are complete. */
  get bufferedBytes(): number {
    return this.splitter.bufferedBytes;
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Runs once when the connection ends after a successful connect. */
  onClose(listener: (reason: string) => void): void {
    // The connection can end in the same read as its ConnectAck, before anyone listens.
    if (this.closedReason !== undefined) listener(this.closedReason);
    else this.closeListeners.push(listener);
  }

  /** Opens a stream with its first frame (the request). Throws if the connection is closed. */
  openStream(operation: string, payload: Buffer, handler: StreamHandler): RpcClientStream {
    if (this.closedReason !== undefined || !this.accepted) throw new Error(this.closedReason ?? 'not connected');
    if (this.lastStreamId >= MAX_STREAM_ID) {
      // Stream ids cannot be reused on a connection; a fresh connection starts again at 1.
      this.destroy('stream ids exhausted');
      throw new Error('stream ids exhausted');
    }
    // Encoded before the id is taken: a request too large to send must not skip an id (the nucleus closes a
    // connection whose stream ids jump).
    const id = this.lastStreamId + 1;
    let frame: Buffer;
    try {
      frame = encodeRpcFrame(id, MessageType.ApplicationMessage, 0, [stringHeader('operation', operation)], payload);
    } catch (error) {
      if (error instanceof MessageTooLargeError) throw new RequestTooLargeError(error.bytes);
      throw error;
    }
    if (!this.write(frame)) throw new Error(this.closedReason ?? 'not connected');
    this.lastStreamId = id;
    const stream = new RpcClientStream(this, id, handler);
    this.streams.set(id, stream);
    return stream;
  }

  /** Ends every open stream with TerminateStream (so the nucleus unsubscribes at once, as with the SDK), then hangs up. */
  close(): void {
    if (this.closedReason !== undefined) return;
    for (const stream of [...this.streams.values()]) stream.close();
    this.shutDown('closed by the client');
    this.socket.end(() => this.socket.destroy());
  }

  destroy(reason = 'closed by the client'): void {
    this.shutDown(reason);
    this.socket.destroy();
  }

  /** @internal used by RpcClientStream */
  sendFrame(streamId: number, type: number, flags: number, headers: Header[], payload: Buffer): void {
    if (this.closedReason !== undefined || this.socket.destroyed) return;
    this.write(encodeRpcFrame(streamId, type, flags, headers, payload));
  }

  /** Writes a frame unless the server has stopped reading, in which case the connection is ended as dead. */
  private write(frame: Buffer): boolean {
    const unsent = this.socket.writableLength;
    if (unsent > 0 && unsent + frame.length > MAX_UNSENT_BYTES) {
      this.destroy(`the nucleus stopped reading: ${unsent} bytes written to it are still waiting`);
      return false;
    }
    this.socket.write(frame);
    return true;
  }

  /** @internal used by RpcClientStream */
  forget(streamId: number): void {
    this.streams.delete(streamId);
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      this.protocolError(`unreadable frame: ${describeError(error)}`);
      return;
    }
    for (const frame of frames) {
      if (this.closedReason !== undefined) return;
      let message: EventstreamMessage;
      try {
        message = decodeMessage(frame);
      } catch (error) {
        this.protocolError(`unreadable frame: ${describeError(error)}`);
        return;
      }
      this.onMessage(message);
    }
  }

  private onMessage(message: EventstreamMessage): void {
    const type = int32Of(message, ':message-type');
    const flags = int32Of(message, ':message-flags');
    const streamId = int32Of(message, ':stream-id');
    if (type === undefined || flags === undefined || streamId === undefined) {
      this.protocolError('frame without the int32 :message-type, :message-flags and :stream-id headers');
      return;
    }
    if (!this.accepted) {
      if (type !== MessageType.ConnectAck || streamId !== 0) {
        this.protocolError(`message type ${type} before the ConnectAck`);
        return;
      }
      if (!(flags & MessageFlags.ConnectionAccepted)) {
        this.failConnect(new RpcConnectError(true, 'the nucleus refused the connection (is SVCUID the token it gave this component?)'));
        return;
      }
      this.accepted = true;
      this.settleConnect?.();
      return;
    }
    switch (type) {
      case MessageType.Ping:
      case MessageType.PingResponse:
        return;
      case MessageType.ApplicationMessage:
      case MessageType.ApplicationError:
        this.onStreamMessage(message, type, flags, streamId);
        return;
      case MessageType.ProtocolError:
      case MessageType.InternalError:
        this.destroy(`the nucleus reported a ${type === MessageType.ProtocolError ? 'protocol' : 'internal'} error`);
        return;
      default:
        this.protocolError(`unexpected message type ${type}`);
    }
  }

  private onStreamMessage(message: EventstreamMessage, type: number, flags: number, streamId: number): void {
    if (streamId <= 0 || streamId > this.lastStreamId) {
      this.protocolError(`message on stream ${streamId}, which this client never opened`);
      return;
    }
    const stream = this.streams.get(streamId);
    // A late frame on a stream that already ended: dropped, as the C runtime does.
    if (!stream) return;
    const shape = findHeader(message, 'service-model-type');
    const contentType = findHeader(message, ':content-type');
    stream.deliver({
      type,
      terminate: (flags & MessageFlags.TerminateStream) !== 0,
      shape: shape?.type === 'string' ? shape.value : undefined,
      contentType: contentType?.type === 'string' ? contentType.value : undefined,
      payload: message.payload,
    });
  }

  private protocolError(reason: string): void {
    this.sendFrame(0, MessageType.ProtocolError, 0, [], Buffer.alloc(0));
    this.shutDown(`protocol error: ${reason}`);
    // Let the ProtocolError frame go out before hanging up.
    this.socket.end(() => this.socket.destroy());
  }

  private failConnect(error: Error): void {
    this.settleConnect?.(error);
    this.destroy(error.message);
  }

  private shutDown(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.settleConnect) {
      this.settleConnect(new RpcConnectError(false, `cannot connect to the nucleus: ${reason}`));
      return;
    }
    for (const stream of [...this.streams.values()]) stream.end(reason);
    this.streams.clear();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }
}
