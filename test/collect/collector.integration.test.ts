/**
 * Collects from the live /proc in a network namespace of our own (`unshare -rn`: a user and a network namespace, no
 * privilege needed) whose only sockets are the loopback ones the test opens there, and cross-checks the totals against
 * `ss` (netlink sock_diag, an independent reader of the same kernel tables) in the same namespace. Nothing else opens or
 * closes a socket there, so both readers see exactly what the test opened, whatever the host is doing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CollectedSample } from '../../src/collect/collector';

const run = promisify(execFile);
const REPO = path.join(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');
const HOSTS = ['127.0.0.1', '::1'] as const;

interface Opened {
  tcpPort: number;
  clientPort: number;
  udpPort: number;
  connectedUdpPort: number;
}

interface Seen {
  loopbackName: string | undefined;
  opened: Record<string, Opened>;
  sample: Pick<CollectedSample, 'problems' | 'listeningTcpPorts' | 'listeningUdpPorts' | 'establishedConnections'>;
  /** `ss -H` output: listening TCP, listening UDP, established TCP. */
  ss: { tcp: string; udp: string; established: string };
}

/**
 * Runs in the new namespace: opens on each loopback address a TCP listener with a connection to it, a UDP socket and a
 * connected UDP socket, then collects once and runs ss once, with every socket still open.
 */
const CHILD = `
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { createSystemCollector } from './src/collect/collector';
(async () => {
  const accepted: net.Socket[] = [];
  const opened: Record<string, unknown> = {};
  for (const host of ${JSON.stringify(HOSTS)}) {
    const server = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
    const tcpPort = (server.address() as net.AddressInfo).port;
    const client = net.connect({ host, port: tcpPort });
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    while (accepted.length < Object.keys(opened).length + 1) await new Promise((resolve) => setImmediate(resolve));
    const type = host === '::1' ? 'udp6' : 'udp4';
    const udp = dgram.createSocket(type);
    await new Promise<void>((resolve) => udp.bind(0, host, resolve));
    const connected = dgram.createSocket(type);
    await new Promise<void>((resolve) => connected.bind(0, host, resolve));
    await new Promise<void>((resolve) => connected.connect(udp.address().port, host, resolve));
    opened[host] = { tcpPort, clientPort: client.localPort, udpPort: udp.address().port, connectedUdpPort: connected.address().port };
  }
  const sample = await createSystemCollector('/proc').collect({ customMetrics: {}, networkStatsIncludeLoopback: false });
  const ss = (...args: string[]) => execFileSync('ss', ['-H', ...args], { encoding: 'utf8' });
  console.log(JSON.stringify({
    loopbackName: Object.entries(os.networkInterfaces()).find(([, list]) => list?.some((a) => a.address === '127.0.0.1'))?.[0],
    opened,
    sample: {
      problems: sample.problems,
      listeningTcpPorts: sample.listeningTcpPorts,
      listeningUdpPorts: sample.listeningUdpPorts,
      establishedConnections: sample.establishedConnections,
    },
    ss: { tcp: ss('-tln'), udp: ss('-uln'), established: ss('-tn', 'state', 'established') },
  }));
  process.exit(0);
})();
`;

/** `ss` prints `addr:port` (IPv6 bracketed, mapped as ::ffff:a.b.c.d, maybe with %iface): the same text as ours. */
function endpoint(text: string): { port: number; text: string } {
  const colon = text.lastIndexOf(':');
  const address = text
    .slice(0, colon)
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .replace(/^::ffff:(\d+\.)/, '$1');
  const port = text.slice(colon + 1);
  return { port: Number(port), text: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}` };
}

const columns = (output: string): string[][] =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/));

const sorted = <T>(values: Iterable<T>): T[] => [...new Set(values)].sort();

let seen: Seen;

beforeAll(async () => {
  const { stdout } = await run('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" -e "$1"', TSX, CHILD], {
    cwd: REPO,
    timeout: 60_000,
  });
  seen = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}, 90_000);

describe('collect from the live /proc, in a network namespace holding only the sockets the test opened', () => {
  it('finds the listeners and both ends of each connection, on the loopback interface', () => {
    const { sample, loopbackName } = seen;
    expect(loopbackName).toBe('lo');
    expect(sample.problems).toEqual([]);
    for (const host of HOSTS) {
      const { tcpPort, udpPort, clientPort, connectedUdpPort } = seen.opened[host]!;
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

  it('agrees with ss on the sets of listening ports and established connections, which are exactly the ones opened', () => {
    const ours = {
      tcpPorts: sorted(seen.sample.listeningTcpPorts?.map((p) => p.port) ?? []),
      udpPorts: sorted(seen.sample.listeningUdpPorts?.map((p) => p.port) ?? []),
      connections: sorted(seen.sample.establishedConnections?.map((c) => `${c.remoteAddr}/${c.localPort}`) ?? []),
    };
    // Without a state filter the columns are: State Recv-Q Send-Q Local Peer; with one the State column is left out.
    const ss = {
      tcpPorts: sorted(columns(seen.ss.tcp).map((c) => endpoint(c[3] ?? '').port)),
      udpPorts: sorted(columns(seen.ss.udp).map((c) => endpoint(c[3] ?? '').port)),
      connections: sorted(columns(seen.ss.established).map((c) => `${endpoint(c[3] ?? '').text}/${endpoint(c[2] ?? '').port}`)),
    };
    const opened = Object.values(seen.opened);
    const hostOf = (index: number) => (HOSTS[index] === '::1' ? '[::1]' : HOSTS[index]);
    expect(ours).toEqual(ss);
    expect(ours).toEqual({
      tcpPorts: sorted(opened.map((o) => o.tcpPort)),
      udpPorts: sorted(opened.map((o) => o.udpPort)),
      connections: sorted(
        opened.flatMap((o, index) => [`${hostOf(index)}:${o.tcpPort}/${o.clientPort}`, `${hostOf(index)}:${o.clientPort}/${o.tcpPort}`]),
      ),
    });
  });
});
