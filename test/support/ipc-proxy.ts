/**
 * A Unix socket in front of the local core that forwards the component's IPC connections byte for byte, and can turn
 * the connections open at a given moment into a hostile or dead nucleus: `stall()` stops forwarding both ways while
 * the sockets stay open (a nucleus that stops answering); `floodPings()` does the same and then sends the component
 * Ping frames while reading nothing it writes. Connections made afterwards are forwarded again, as a recovered
 * nucleus answers them. `stop()` closes everything.
 */
import fs from 'node:fs';
import net from 'node:net';
import { encodeMessage, int32Header, MessageType } from '../../src/ipc/eventstream';

interface Link {
  component: net.Socket;
  core: net.Socket;
  stalled: boolean;
}

export class IpcProxy {
  private readonly links = new Set<Link>();
  private server: net.Server | undefined;
  /** Connections the component opened through the proxy, the first one included. */
  connections = 0;

  constructor(
    readonly socketPath: string,
    private readonly coreSocketPath: () => string,
  ) {}

  async start(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((component) => this.link(component));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, resolve);
    });
    this.server = server;
  }

  /** The connections open now stop forwarding either way; their sockets stay open until the component closes them. */
  stall(): number {
    let stalled = 0;
    for (const link of this.links) {
      if (link.stalled) continue;
      link.stalled = true;
      link.component.unpipe(link.core);
      link.core.unpipe(link.component);
      link.core.pause();
      stalled += 1;
    }
    return stalled;
  }

  /**
   * Stalls the open connections, stops reading what the component writes on them, and sends each `count` Ping frames
   * of `payloadBytes`, waiting for the socket to drain between frames. Resolves once every frame was handed to the
   * kernel, or the component closed the connection.
   */
  async floodPings(count: number, payloadBytes: number): Promise<number> {
    this.stall();
    const ping = encodeMessage({
      headers: [int32Header(':message-type', MessageType.Ping), int32Header(':message-flags', 0), int32Header(':stream-id', 0)],
      payload: Buffer.alloc(payloadBytes, 0x70),
    });
    let sent = 0;
    await Promise.all(
      [...this.links].map(async (link) => {
        link.component.pause();
        for (let i = 0; i < count && !link.component.destroyed; i += 1) {
          if (!link.component.write(ping)) await drainedOrClosed(link.component);
          sent += 1;
        }
      }),
    );
    return sent;
  }

  async stop(): Promise<void> {
    for (const link of this.links) {
      link.component.destroy();
      link.core.destroy();
    }
    this.links.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
    fs.rmSync(this.socketPath, { force: true });
  }

  private link(component: net.Socket): void {
    this.connections += 1;
    const core = net.createConnection({ path: this.coreSocketPath() });
    const link: Link = { component, core, stalled: false };
    this.links.add(link);
    const close = (): void => {
      this.links.delete(link);
      component.destroy();
      core.destroy();
    };
    component.on('error', close).on('close', close);
    core.on('error', close).on('close', close);
    component.pipe(core);
    core.pipe(component);
  }
}

function drainedOrClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
