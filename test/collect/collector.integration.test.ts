/**
 * Collects from this machine's real /proc while the test holds known loopback sockets open, and cross-checks the
 * totals against `ss` (netlink sock_diag, an independent reader of the same kernel tables).
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { promisify } from 'node:util';
import { createSystemCollector, type CollectedSample } from '../../src/collect/collector';

const run = promisify(execFile);
const SS = '/usr/bin/ss';
const OPTIONS = { customMetrics: {}, networkStatsIncludeLoopback: false };
const loopbackName = Object.entries(os.networkInterfaces()).find(([, list]) => list?.some((a) => a.address === '127.0.0.1'))?.[0];

const closers: Array<() => Promise<void> | void> = [];

async function tcpServer(host: string): Promise<{ port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  closers.push(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

async function tcpClient(host: string, port: number): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  closers.push(() => void socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

async function udpSocket(type: 'udp4' | 'udp6', host: string, connectTo?: number): Promise<number> {
  const socket = dgram.createSocket(type);
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  if (connectTo !== undefined) await new Promise<void>((resolve) => socket.connect(connectTo, host, resolve));
  return socket.address().port;
}

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('collect from the live /proc', () => {
  const hosts = ['127.0.0.1', '::1'] as const;
  const opened: Record<string, { tcpPort: number; udpPort: number; clientPort: number; connectedUdpPort: number }> = {};

  beforeAll(async () => {
    for (const host of hosts) {
      const server = await tcpServer(host);
      const client = await tcpClient(host, server.port);
      while (server.accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const udpPort = await udpSocket(host === '::1' ? 'udp6' : 'udp4', host);
      const connectedUdpPort = await udpSocket(host === '::1' ? 'udp6' : 'udp4', host, udpPort);
      opened[host] = { tcpPort: server.port, udpPort, clientPort: client.localPort ?? 0, connectedUdpPort };
    }
  });

  it('finds the listeners and both ends of each connection, on the loopback interface', async () => {
    expect(loopbackName).toBeDefined();
    const sample = await createSystemCollector('/proc').collect(OPTIONS);
    expect(sample.problems).toEqual([]);
    for (const host of hosts) {
      const { tcpPort, udpPort, clientPort, connectedUdpPort } = opened[host] ?? {
        tcpPort: 0,
        udpPort: 0,
        clientPort: 0,
        connectedUdpPort: 0,
      };
      const at = (port: number) => (host === '::1' ? `[::1]:${port}` : `127.0.0.1:${port}`);
      expect(sample.listeningTcpPorts).toContainEqual({ port: tcpPort, interface: loopbackName });
      expect(sample.listeningUdpPorts).toContainEqual({ port: udpPort, interface: loopbackName });
      expect(sample.listeningUdpPorts?.some((p) => p.port === connectedUdpPort)).toBe(false);
      expect(sample.establishedConnections).toContainEqual({
        remoteAddr: at(tcpPort),
        localPort: clientPort,
        localInterface: loopbackName,
      });
      expect(sample.establishedConnections).toContainEqual({
        remoteAddr: at(clientPort),
        localPort: tcpPort,
        localInterface: loopbackName,
      });
    }
  });

  // Only where iproute2 is installed (it is on the CI machine); the test above does not need it.
  (fs.existsSync(SS) ? it : it.skip)('agrees with ss on the sets of listening ports and established connections', async () => {
    /** `ss` prints `addr:port` (IPv6 bracketed, mapped as ::ffff:a.b.c.d, maybe with %iface): the same text as ours. */
    const endpoint = (text: string) => {
      const colon = text.lastIndexOf(':');
      const address = text
        .slice(0, colon)
        .replace(/^\[|\]$/g, '')
        .replace(/%.*$/, '')
        .replace(/^::ffff:(\d+\.)/, '$1');
      const port = text.slice(colon + 1);
      return { address, port: Number(port), text: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}` };
    };
    const columns = async (...args: string[]) =>
      (await run(SS, ['-H', ...args])).stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => line.trim().split(/\s+/));
    const fromSs = async () => {
      // Without a state filter the columns are: State Recv-Q Send-Q Local Peer.
      const tcp = await columns('-tln');
      const udp = await columns('-uln');
      const established = await columns('-tn', 'state', 'established');
      return {
        tcpPorts: [...new Set(tcp.map((c) => endpoint(c[3] ?? '').port))].sort(),
        udpPorts: [...new Set(udp.map((c) => endpoint(c[3] ?? '').port))].sort(),
        // With a state filter the State column is left out: Recv-Q Send-Q Local Peer.
        connections: [...new Set(established.map((c) => `${endpoint(c[3] ?? '').text}/${endpoint(c[2] ?? '').port}`))].sort(),
      };
    };
    const fromUs = (sample: CollectedSample) => ({
      tcpPorts: [...new Set(sample.listeningTcpPorts?.map((p) => p.port))].sort(),
      udpPorts: [...new Set(sample.listeningUdpPorts?.map((p) => p.port))].sort(),
      connections: [...new Set(sample.establishedConnections?.map((c) => `${c.remoteAddr}/${c.localPort}`))].sort(),
    });

    // Other processes open and close sockets meanwhile: compare only when ss saw the same sets before and after us.
    const collector = createSystemCollector('/proc');
    let attempts = 0;
    for (;;) {
      attempts++;
      const before = await fromSs();
      const ours = fromUs(await collector.collect(OPTIONS));
      const after = await fromSs();
      if (JSON.stringify(before) === JSON.stringify(after) || attempts === 5) {
        expect(ours).toEqual(after);
        expect(ours.connections.length).toBeGreaterThanOrEqual(4);
        return;
      }
    }
  });
});
