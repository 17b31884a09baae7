import type { EstablishedConnection, ListeningPort } from '../metrics/types';
import type { InterfaceAddress } from '../procfs/interfaces';
import { canonicalIp, formatEndpoint, isLoopback, isWildcard, parseHex, procIpv4At, procIpv6At } from './ip';

/** `st` values of /proc/net/{tcp,tcp6,udp,udp6} rows. */
export const TCP_ESTABLISHED = 0x01;
export const TCP_LISTEN = 0x0a;
/** TCP_CLOSE, which a bound but unconnected UDP socket reports: a UDP listener. Connected UDP clients show 01. */
export const UDP_UNCONNECTED = 0x07;

export interface SocketRow {
  state: number;
  /** Canonical address text (see ip.ts). */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

export type SocketTable = { rows: SocketRow[] } | { error: string };

function isDigitOrSpace(c: number): boolean {
  return c === 32 || (c >= 48 && c <= 57);
}

/**
 * Parses /proc/net/{tcp,udp} (family 4) or /proc/net/{tcp6,udp6} (family 6) and returns the rows whose state is in
 * `keepStates`. The columns after the `sl:` field have a fixed width (the kernel prints them with %08X:%04X and %02X),
 * so the row is read by offset from that colon without splitting or a regex: this runs on tens of thousands of rows.
 * Any row that does not fit the layout makes the whole table an error: a partial list would understate the device.
 */
export function parseSocketTable(text: string, family: 4 | 6, keepStates: readonly number[]): SocketTable {
  const addressLength = family === 4 ? 8 : 32;
  const formatAddress = family === 4 ? procIpv4At : procIpv6At;
  const rows: SocketRow[] = [];
  let lineStart = text.indexOf('\n');
  if (lineStart < 0 || !text.slice(0, lineStart).includes('local_address')) {
    return { error: 'the header line is missing (empty or truncated file)' };
  }
  lineStart++;
  for (let lineNumber = 2; lineStart < text.length; lineNumber++) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const colon = text.indexOf(':', lineStart);
    const localAt = colon + 2;
    const remoteAt = localAt + addressLength + 6;
    const stateAt = remoteAt + addressLength + 6;
    let valid =
      colon > lineStart &&
      stateAt + 3 <= lineEnd &&
      text.charCodeAt(colon + 1) === 32 &&
      text.charCodeAt(localAt + addressLength) === 58 &&
      text.charCodeAt(remoteAt - 1) === 32 &&
      text.charCodeAt(remoteAt + addressLength) === 58 &&
      text.charCodeAt(stateAt - 1) === 32 &&
      text.charCodeAt(stateAt + 2) === 32;
    for (let i = lineStart; valid && i < colon; i++) valid = isDigitOrSpace(text.charCodeAt(i));
    const state = valid ? parseHex(text, stateAt, 2) : -1;
    if (state < 0) {
      return { error: `line ${lineNumber} is not a socket row: "${text.slice(lineStart, Math.min(lineEnd, lineStart + 100)).trim()}"` };
    }
    if (keepStates.includes(state)) {
      const localAddress = formatAddress(text, localAt);
      const localPort = parseHex(text, localAt + addressLength + 1, 4);
      const remoteAddress = formatAddress(text, remoteAt);
      const remotePort = parseHex(text, remoteAt + addressLength + 1, 4);
      if (localAddress === undefined || remoteAddress === undefined || localPort < 0 || remotePort < 0) {
        return { error: `line ${lineNumber} has an address that is not hex: "${text.slice(lineStart, stateAt + 2).trim()}"` };
      }
      rows.push({ state, localAddress, localPort, remoteAddress, remotePort });
    }
    lineStart = lineEnd + 1;
  }
  return { rows };
}

/**
 * Names the interface a socket is bound to, from its local address.
 *
 * Why these rules (the report's `interface` is optional and must not be false):
 * - exact match against the addresses the interfaces have right now; an address held by two interfaces (for example
 *   the same link-local address) names neither, since /proc does not say which one;
 * - any 127.0.0.0/8 address and ::1 belong to the loopback interface, although only 127.0.0.1 is configured on it;
 * - wildcard binds (0.0.0.0, ::) listen on every interface: naming one would be false, and the Python agent's
 *   "0.0.0.0" is not an interface name (the Device Client drops such sockets altogether). They get no interface, so a
 *   port open to the whole network is reported once, without one;
 * - an address no interface holds (it went away, or belongs to another network namespace) gets no interface.
 */
export function createInterfaceAttribution(addresses: readonly InterfaceAddress[]): (localAddress: string) => string | undefined {
  const owners = new Map<string, string | undefined>();
  let loopbackName: string | undefined;
  for (const entry of addresses) {
    const canonical = canonicalIp(entry.address);
    if (canonical === undefined) continue;
    if (entry.internal && isLoopback(canonical)) loopbackName ??= entry.name;
    const owner = owners.get(canonical);
    owners.set(canonical, owners.has(canonical) && owner !== entry.name ? undefined : entry.name);
  }
  return (localAddress) => {
    if (isWildcard(localAddress)) return undefined;
    if (isLoopback(localAddress)) return loopbackName;
    return owners.get(localAddress);
  };
}

type InterfaceOf = (localAddress: string) => string | undefined;

/** Listening ports of the given state, one entry per port and interface (0.0.0.0:22 and :::22 are one entry). */
export function listeningPorts(tables: readonly (readonly SocketRow[])[], state: number, interfaceOf: InterfaceOf): ListeningPort[] {
  const ports = new Map<string, ListeningPort>();
  for (const rows of tables) {
    for (const row of rows) {
      if (row.state !== state || row.localPort === 0) continue;
      const name = interfaceOf(row.localAddress);
      const key = `${row.localPort}/${name ?? ''}`;
      if (!ports.has(key)) ports.set(key, name === undefined ? { port: row.localPort } : { port: row.localPort, interface: name });
    }
  }
  return [...ports.values()].sort((a, b) => a.port - b.port || (a.interface ?? '').localeCompare(b.interface ?? ''));
}

/** ESTABLISHED TCP connections, one entry per remote endpoint, local port and local interface. */
export function establishedConnections(tables: readonly (readonly SocketRow[])[], interfaceOf: InterfaceOf): EstablishedConnection[] {
  const connections = new Map<string, EstablishedConnection>();
  for (const rows of tables) {
    for (const row of rows) {
      if (row.state !== TCP_ESTABLISHED) continue;
      const remoteAddr = formatEndpoint(row.remoteAddress, row.remotePort);
      const localInterface = interfaceOf(row.localAddress);
      const key = `${remoteAddr}/${row.localPort}/${localInterface ?? ''}`;
      if (connections.has(key)) continue;
      connections.set(
        key,
        localInterface === undefined ? { remoteAddr, localPort: row.localPort } : { remoteAddr, localPort: row.localPort, localInterface },
      );
    }
  }
  return [...connections.values()];
}
