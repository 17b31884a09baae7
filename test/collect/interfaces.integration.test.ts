/**
 * Interfaces in a network namespace of our own (`unshare -rn`: a user and a network namespace, no privilege needed):
 * a veth whose peer is down is UP without carrier, which getifaddrs (Node, libuv) leaves out altogether. Its listeners
 * and addresses must still be named, as `ss` and psutil name them. The same namespace shows which one `<root>/net`
 * is: the reading process's (`/proc/net` -> `self/net`), while `/proc/1/net` stays the one init runs in.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.join(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

const SETUP = [
  'ip link add va type veth peer name vb',
  'ip link set va up',
  'ip addr add 10.9.0.1/24 dev va',
  'ip -6 addr add 2001:db8:9::1/64 dev va nodad',
].join(' && ');

/** Runs in the new namespace: listens on va's addresses, then collects from `root` and prints what matters. */
const CHILD = `
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { createSystemCollector } from './src/collect/collector';
const root = process.argv[process.argv.length - 1];
const listen = (port: number, host: string) => new Promise<net.Server>((resolve) => { const s = net.createServer().listen(port, host, () => resolve(s)); });
(async () => {
  const servers = [await listen(4100, '10.9.0.1'), await listen(4106, '2001:db8:9::1')];
  const sample = await createSystemCollector(root).collect({
    customMetrics: { ips: { source: 'ipAddresses' }, names: { source: 'interfaceNames' } },
    networkStatsIncludeLoopback: false,
  });
  console.log(JSON.stringify({
    getifaddrs: Object.keys(os.networkInterfaces()),
    netLink: fs.readlinkSync('/proc/net'),
    tcp: sample.listeningTcpPorts?.filter((p) => p.port === 4100 || p.port === 4106),
    custom: sample.customMetrics,
    problems: sample.problems.map((p) => p.subject + ': ' + p.message),
    networkInterfaces: Object.keys(sample.network?.interfaces ?? {}),
  }));
  for (const s of servers) s.close();
})();
`;

async function collectInNamespace(root: string) {
  const { stdout } = await run('unshare', ['-rn', 'sh', '-c', `${SETUP} && exec "$0" -e "$1" "$2"`, TSX, CHILD, root], {
    cwd: REPO,
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('interfaces up without carrier, in a network namespace of our own', () => {
  it('names their listeners and lists their addresses, though getifaddrs leaves them out', async () => {
    const seen = await collectInNamespace('/proc');
    expect(seen.getifaddrs).toEqual([]);
    expect(seen.tcp).toEqual([
      { port: 4100, interface: 'va' },
      { port: 4106, interface: 'va' },
    ]);
    expect(seen.custom).toEqual({
      ips: { type: 'ip-address-list', value: ['10.9.0.1', '2001:db8:9::1'] },
      names: { type: 'string-list', value: ['va'] },
    });
    expect(seen.problems).toEqual([]);
  });

  it('reads the namespace of the reading process at <root>/net, and another one at <root>/1/net', async () => {
    const own = await collectInNamespace('/proc');
    expect(own.netLink).toBe('self/net');
    expect(own.networkInterfaces).toEqual(expect.arrayContaining(['va', 'vb']));
    // /proc/1 is init's, outside the new namespace: its net/dev has no va, so va names no socket read from there.
    const init = await collectInNamespace('/proc/1');
    expect(init.networkInterfaces).not.toContain('va');
    expect(init.tcp).toEqual([]);
  });
});
