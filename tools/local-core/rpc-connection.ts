/**
 * Server side of eventstream-RPC over one accepted socket, shaped after the nucleus's
 * ServiceOperationMappingContinuationHandler: Connect/ConnectAck handshake, per-stream dispatch on
 * the `operation` header, Ping echo, client TerminateStream -> stream closed, and the stream-id rules of
 * aws-c-event-stream's server (new streams take the next id and name an operation, or the connection ends).
 */
import type { Socket } from 'node:net';
import {
  decodeMessage,
  encodeRpcFrame,
  type EventstreamMessage,
  FrameSplitter,
  findHeader,
  type Header,
  int32Of,
  MessageFlags,
  MessageType,
  RPC_VERSION,
  stringHeader,
} from '../../src/ipc/eventstream';

const JSON_CONTENT_TYPE = 'application/json';
const PRELUDE_BYTES = 12;

/**
 * The connection-level errors of the server half of aws-c-event-stream (`source/event_stream_rpc_server.c`,
 * `include/aws/event-stream/private/event_stream_rpc_priv.h`), which the nucleus's IPC server runs on: the server sends
 * one ProtocolError with this JSON payload on stream 0, then closes the connection.
 */
const ProtocolProblem = {
  streamIdNotApplication:
    '{ "message": "non-zero stream-id field is only allowed for messages of type APPLICATION_MESSAGE. The stream id max value is INT32_MAX." }',
  streamIdReused:
    '{ "message": "stream-id values must be monotonically incrementing. A stream-id arrived that was lower than the last seen stream-id." }',
  streamIdSkipped:
    '{ "message": "stream-id values must be monotonically incrementing. A new stream-id arrived that was incremented by more than 1." }',
  missingOperation: '{ "message": "The first message for on a non-zero :stream-id must contain an operation header value."; }',
} as const;

export interface RpcConnectionHandlers {
  /** Returns the component name for a valid token, undefined to reject the connection. */
  authenticate(authToken: string): string | undefined;
  /** A client opened a stream; the handler replies through `stream`. */
  onStream(stream: RpcStream, operation: string, payload: Buffer): void;
  onConnected(component: string): void;
  onClosed(component: string | undefined): void;
  /** Like nucleus lite's ggipcd: a frame whose length after the 12-byte prelude is above this closes the connection. */
  maxFrameDataBytes?: number;
  onFrameTooLarge?(component: string | undefined, frameBytes: number): void;
}

/** One operation's continuation: the server answers, pushes events, or closes it. */
export class RpcStream {
  private terminated = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly connection: RpcConnection,
    readonly id: number,
    readonly component: string,
  ) {}

  get isOpen(): boolean {
    return !this.terminated;
  }

  /** Runs when the stream ends for any reason (client TerminateStream, server close, connection loss). */
  onClose(listener: () => void): void {
    if (this.terminated) listener();
    else this.closeListeners.push(listener);
  }

  /** Modeled response; request/response operations terminate, streaming operations stay open (flags 0). */
  respond(shape: string, body: unknown, terminate: boolean): void {
    this.send(MessageType.ApplicationMessage, terminate, shape, JSON.stringify(body ?? {}));
  }

  sendEvent(shape: string, body: unknown): void {
    this.send(MessageType.ApplicationMessage, false, shape, JSON.stringify(body));
  }

  sendModeledError(shape: string, body: unknown): void {
    this.send(MessageType.ApplicationError, true, shape, JSON.stringify(body));
  }

  /** What the nucleus sends for an unexpected exception: a text/plain ApplicationError. */
  sendInternalServerError(): void {
    if (!this.terminated) {
      this.connection.sendFrame(
        this.id,
        MessageType.ApplicationError,
        MessageFlags.TerminateStream,
        [stringHeader(':content-type', 'text/plain')],
        Buffer.from('InternalServerError'),
      );
      this.markClosed();
    }
  }

  /** An error frame with no service-model-type, as for operation names outside the service model. */
  sendRawError(payload: string): void {
    if (!this.terminated) {
      this.connection.sendFrame(
        this.id,
        MessageType.ApplicationError,
        MessageFlags.TerminateStream,
        [stringHeader(':content-type', JSON_CONTENT_TYPE)],
        Buffer.from(payload),
      );
      this.markClosed();
    }
  }

  /** Server-side close: an empty TerminateStream message without service-model-type, like closeStream(). */
  close(): void {
    if (!this.terminated) {
      this.connection.sendFrame(this.id, MessageType.ApplicationMessage, MessageFlags.TerminateStream, [], Buffer.alloc(0));
      this.markClosed();
    }
  }

  private send(type: number, terminate: boolean, shape: string, json: string): void {
    if (this.terminated) return;
    const headers = [stringHeader(':content-type', JSON_CONTENT_TYPE), stringHeader('service-model-type', shape)];
    this.connection.sendFrame(this.id, type, terminate ? MessageFlags.TerminateStream : 0, headers, Buffer.from(json));
    if (terminate) this.markClosed();
  }

  /** @internal called by the connection */
  markClosed(): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

export class RpcConnection {
  private readonly splitter = new FrameSplitter();
  private component: string | undefined;
  private readonly streams = new Map<number, RpcStream>();
  /** The highest stream id a client has opened; a new stream must take the next one. */
  private latestStreamId = 0;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly handlers: RpcConnectionHandlers,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onSocketClosed());
  }

  get componentName(): string | undefined {
    return this.component;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** @internal used by RpcStream */
  sendFrame(streamId: number, type: number, flags: number, headers: Header[], payload: Buffer): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(encodeRpcFrame(streamId, type, flags, headers, payload));
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch {
      this.protocolError();
      return;
    }
    for (const frame of frames) {
      if (this.ended) return;
      const limit = this.handlers.maxFrameDataBytes;
      if (limit !== undefined && frame.length - PRELUDE_BYTES > limit) {
        // ggipcd logs "EventStream packet does not fit in configured IPC buffer size" and drops the client, no answer.
        this.handlers.onFrameTooLarge?.(this.component, frame.length);
        this.ended = true;
        this.socket.destroy();
        return;
      }
      let message: EventstreamMessage;
      try {
        message = decodeMessage(frame);
      } catch {
        this.protocolError();
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
      this.protocolError();
      return;
    }
    if (this.component === undefined) {
      if (type === MessageType.Connect && streamId === 0) this.onConnect(message);
      else this.protocolError();
      return;
    }
    switch (type) {
      case MessageType.Ping: {
        const echoed = message.headers.filter((h) => !h.name.startsWith(':'));
        this.sendFrame(0, MessageType.PingResponse, 0, echoed, message.payload);
        return;
      }
      case MessageType.PingResponse:
        return;
      case MessageType.ApplicationMessage:
      case MessageType.ApplicationError:
        // A negative int32 is a stream id above INT32_MAX for the C runtime, which reads it unsigned.
        if (streamId > 0) {
          this.onStreamMessage(message, streamId, flags);
          return;
        }
        this.protocolError(streamId === 0 ? undefined : ProtocolProblem.streamIdNotApplication);
        return;
      default:
        this.protocolError(streamId === 0 ? undefined : ProtocolProblem.streamIdNotApplication);
    }
  }

  private onConnect(message: EventstreamMessage): void {
    const version = findHeader(message, ':version');
    let component: string | undefined;
    if (version?.type === 'string' && version.value === RPC_VERSION && message.payload.length > 0) {
      try {
        const parsed: unknown = JSON.parse(message.payload.toString('utf8'));
        const token = (parsed as { authToken?: unknown } | null)?.authToken;
        if (typeof token === 'string') component = this.handlers.authenticate(token);
      } catch {
        component = undefined;
      }
    }
    if (component === undefined) {
      // The nucleus answers a failed authentication with a refusing ConnectAck, then hangs up.
      this.sendFrame(0, MessageType.ConnectAck, 0, [], Buffer.alloc(0));
      this.hangUp();
      return;
    }
    this.component = component;
    this.sendFrame(0, MessageType.ConnectAck, MessageFlags.ConnectionAccepted, [], Buffer.alloc(0));
    this.handlers.onConnected(component);
  }

  private onStreamMessage(message: EventstreamMessage, streamId: number, flags: number): void {
    const terminating = (flags & MessageFlags.TerminateStream) !== 0;
    if (streamId <= this.latestStreamId) {
      const existing = this.streams.get(streamId);
      if (existing) {
        if (terminating) {
          this.streams.delete(streamId);
          existing.markClosed();
        }
        return;
      }
      // A close crossing the server's own close is normal; anything else on a finished stream is an error.
      if (!terminating) this.protocolError(ProtocolProblem.streamIdReused);
      return;
    }
    if (streamId !== this.latestStreamId + 1) {
      this.protocolError(ProtocolProblem.streamIdSkipped);
      return;
    }
    const operation = findHeader(message, 'operation');
    if (operation?.type !== 'string' || operation.value.length === 0) {
      this.protocolError(ProtocolProblem.missingOperation);
      return;
    }
    this.latestStreamId = streamId;
    const stream = new RpcStream(this, streamId, this.component!);
    this.streams.set(streamId, stream);
    stream.onClose(() => this.streams.delete(streamId));
    try {
      this.handlers.onStream(stream, operation.value, message.payload);
    } catch {
      stream.sendInternalServerError();
    }
  }

  /** `problem` is the JSON the C runtime sends for stream-id faults; other faults go out with an empty payload. */
  private protocolError(problem?: string): void {
    if (this.ended) return;
    const headers = problem === undefined ? [] : [stringHeader(':content-type', JSON_CONTENT_TYPE)];
    this.sendFrame(0, MessageType.ProtocolError, 0, headers, Buffer.from(problem ?? ''));
    this.hangUp();
  }

  /** Flushes what was written, then closes; later frames from the peer are ignored. */
  private hangUp(): void {
    this.ended = true;
    this.socket.end(() => this.socket.destroy());
  }

  private onSocketClosed(): void {
    this.ended = true;
    for (const stream of [...this.streams.values()]) stream.markClosed();
    this.streams.clear();
    this.handlers.onClosed(this.component);
  }
}
