/**
 * What the Windows build printed (`--collect-once --sample`) against what Linux says about the same network namespace:
 * `ss` for the sockets and /proc/net/dev for the counters (pure: text in, differences out).
 */

/** The parts of `--sample`'s JSON the comparison reads. */
export interface SampleDocument {
  listening_tcp_ports: Array<{ port: number }> | null;
  listening_udp_ports: Array<{ port: number }> | null;
  tcp_connections: { established_connections: Array<{ remote_addr: string; local_port: number }>; total: number } | null;
  network: { interfaces: Record<string, { bytes_in: number; bytes_out: number; packets_in: number; packets_out: number }> } | null;
}

/** `ss -H -n` columns: State Recv-Q Send-Q Local Peer (…). The port is after the last colon. */
function endpoint(text: string): { address: string; port: number } {
  const at = text.lastIndexOf(':');
  const address = text
    .slice(0, at)
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  return { address, port: Number(text.slice(at + 1)) };
}

function ssRows(
  ssText: string,
): Array<{ state: string; local: { address: string; port: number }; peer: { address: string; port: number } }> {
  return ssText
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words.length >= 5)
    .map((words) => ({ state: words[0]!, local: endpoint(words[3]!), peer: endpoint(words[4]!) }));
}

const sortedNumbers = (values: Iterable<number>): number[] => [...values].sort((a, b) => a - b);

function sameList<T>(what: string, expected: T[], actual: T[]): string[] {
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  if (e === a) return [];
  const missing = expected.filter((item) => !actual.includes(item)).slice(0, 5);
  const extra = actual.filter((item) => !expected.includes(item)).slice(0, 5);
  return [
    `${what}: ss has ${expected.length}, the Windows build ${actual.length}` +
      `${missing.length > 0 ? `; missing ${JSON.stringify(missing)}` : ''}${extra.length > 0 ? `; extra ${JSON.stringify(extra)}` : ''}`,
  ];
}

/** Listening TCP ports: the distinct ports of `ss -Htln`. */
export function compareListeningTcp(ssText: string, sample: SampleDocument): { problems: string[]; count: number } {
  const expected = sortedNumbers(new Set(ssRows(ssText).map((row) => row.local.port)));
  if (!sample.listening_tcp_ports) return { problems: ['listening_tcp_ports: not read'], count: expected.length };
  const actual = sortedNumbers(new Set(sample.listening_tcp_ports.map((entry) => entry.port)));
  return { problems: sameList('listening TCP ports', expected, actual), count: expected.length };
}

/** UDP ports: the distinct local ports of `ss -Huan` (unconnected sockets). */
export function compareListeningUdp(ssText: string, sample: SampleDocument): { problems: string[]; count: number } {
  const expected = sortedNumbers(new Set(ssRows(ssText).map((row) => row.local.port)));
  if (!sample.listening_udp_ports) return { problems: ['listening_udp_ports: not read'], count: expected.length };
  const actual = sortedNumbers(new Set(sample.listening_udp_ports.map((entry) => entry.port)));
  return { problems: sameList('UDP ports', expected, actual), count: expected.length };
}

/** Established connections: `ss -Htn state established`, each as peer address, peer port and local port. */
export function compareEstablished(ssText: string, sample: SampleDocument): { problems: string[]; count: number; ipv6: number } {
  const rows = ssRows(`${ssText}`.replace(/^/gm, 'ESTAB '));
  const key = (address: string, port: number, localPort: number) => `${address} ${port} ${localPort}`;
  const expected = rows.map((row) => key(row.peer.address, row.peer.port, row.local.port)).sort();
  const ipv6 = rows.filter((row) => row.peer.address.includes(':')).length;
  const problems: string[] = [];
  if (!sample.tcp_connections) return { problems: ['tcp_connections: not read'], count: expected.length, ipv6 };
  if (sample.tcp_connections.total !== expected.length)
    problems.push(`established total: ss has ${expected.length}, the Windows build ${sample.tcp_connections.total}`);
  const actual = sample.tcp_connections.established_connections
    .map((entry) => {
      const remote = endpoint(entry.remote_addr);
      return key(remote.address, remote.port, entry.local_port);
    })
    .sort();
  problems.push(...sameList('established connections (peer, peer port, local port)', expected, actual));
  return { problems, count: expected.length, ipv6 };
}

/** /proc/net/dev: per interface, receive bytes and packets (columns 1-2), transmit bytes and packets (9-10). */
function procNetDev(text: string): Record<string, { bytes_in: number; bytes_out: number; packets_in: number; packets_out: number }> {
  const counters: Record<string, { bytes_in: number; bytes_out: number; packets_in: number; packets_out: number }> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    counters[line.slice(0, colon).trim()] = {
      bytes_in: fields[0]!,
      packets_in: fields[1]!,
      bytes_out: fields[8]!,
      packets_out: fields[9]!,
    };
  }
  return counters;
}

/** Every interface's four counters, exactly (the namespace is quiet while the Windows build reads them). */
export function compareCounters(procText: string, sample: SampleDocument): { problems: string[]; interfaces: string[] } {
  const expected = procNetDev(procText);
  const interfaces = Object.keys(expected).sort();
  if (!sample.network) return { problems: ['network: not read'], interfaces };
  const actual = sample.network.interfaces;
  const problems: string[] = [];
  const names = Object.keys(actual).sort();
  if (JSON.stringify(names) !== JSON.stringify(interfaces))
    problems.push(`interfaces: /proc/net/dev has ${interfaces.join(', ')}, the Windows build ${names.join(', ')}`);
  for (const name of interfaces) {
    const e = expected[name]!;
    const a = actual[name];
    if (!a || (['bytes_in', 'bytes_out', 'packets_in', 'packets_out'] as const).some((k) => a[k] !== e[k]))
      problems.push(`${name}: /proc/net/dev ${JSON.stringify(e)}, the Windows build ${JSON.stringify(a)}`);
  }
  return { problems, interfaces };
}
