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

function isDigitOrSpace(c: number): boolean {
  return c === 32 || (c >= 48 && c <= 57);
}

/**
 * Parses /proc/net/{tcp,udp} (family 4) or /proc/net/{tcp6,udp6} (family 6) as it is read, chunk by chunk, and hands
 * the rows whose state is in `keepStates` to `onRow`. The columns after the `sl:` field have a fixed width (the kernel
 * prints them with %08X:%04X and %02X), so a row is read by offset from that colon, without splitting or a regex: this
 * runs on tens of thousands of rows. Any row that does not fit the layout sets `error` and stops the parse: the caller
 * must then drop what it got, since a partial list would understate the device.
 */
export class SocketTableParser {
  error: string | undefined;
  private rest = '';
  private lineNumber = 0;
  private readonly addressLength: number;
  private readonly format: (text: string, start: number) => string | undefined;
  // Rows share few distinct addresses (the host's own, the busy peers): format each once.
  private readonly formatted = new Map<string, string | undefined>();

  constructor(
    family: 4 | 6,
    private readonly keepStates: readonly number[],
    private readonly onRow: (row: SocketRow) => void,
  ) {
    this.addressLength = family === 4 ? 8 : 32;
    this.format = family === 4 ? procIpv4At : procIpv6At;
  }

  /** Parses the complete lines of `chunk`, keeping a trailing partial line for the next one. */
  push(chunk: string): void {
    if (this.error !== undefined) return;
    const text = this.rest + chunk;
    let lineStart = 0;
    for (let lineEnd = text.indexOf('\n'); lineEnd >= 0; lineEnd = text.indexOf('\n', lineStart)) {
      if (!this.line(text, lineStart, lineEnd)) return;
      lineStart = lineEnd + 1;
    }
    this.rest = text.slice(lineStart);
  }

  /** At the end of the file: parses a last line without a newline, and checks that there was a header. */
  end(): void {
    if (this.error !== undefined) return;
    if (this.rest !== '') this.line(this.rest, 0, this.rest.length);
    else if (this.lineNumber === 0) this.error = 'the header line is missing (empty file)';
  }

  private fail(message: string): false {
    this.error = message;
    return false;
  }

  private line(text: string, lineStart: number, lineEnd: number): boolean {
    this.lineNumber++;
    if (this.lineNumber === 1) {
      return text.slice(lineStart, lineEnd).includes('local_address') || this.fail('the header line is missing (empty or truncated file)');
    }
    const addressLength = this.addressLength;
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
      return this.fail(`line ${this.lineNumber} is not a socket row: "${text.slice(lineStart, Math.min(lineEnd, lineStart + 100)).trim()}"`);
    }
    if (!this.keepStates.includes(state)) return true;
    const localAddress = this.address(text, localAt);
    const localPort = parseHex(text, localAt + addressLength + 1, 4);
    const remoteAddress = this.address(text, remoteAt);
    const remotePort = parseHex(text, remoteAt + addressLength + 1, 4);
    if (localAddress === undefined || remoteAddress === undefined || localPort < 0 || remotePort < 0) {
      return this.fail(`line ${this.lineNumber} has an address that is not hex: "${text.slice(lineStart, stateAt + 2).trim()}"`);
    }
    this.onRow({ state, localAddress, localPort, remoteAddress, remotePort });
    return true;
  }

  private address(text: string, start: number): string | undefined {
    const hex = text.slice(start, start + this.addressLength);
    let address = this.formatted.get(hex);
    if (address === undefined && !this.formatted.has(hex)) {
      address = this.format(hex, 0);
      this.formatted.set(hex, address);
    }
    return address;
  }
}

export type InterfaceOf = (localAddress: string) => string | undefined;

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
export function createInterfaceAttribution(addresses: readonly InterfaceAddress[]): InterfaceOf {
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

/**
 * Gathers the rows of a socket table as they are parsed (one summary per table, so that the order does not depend on
 * which read finished first; `merge` then joins a block's tables: TCP = tcp + tcp6, UDP = udp + udp6): listening ports once
 * per port and interface (0.0.0.0:22 and :::22 are one entry), established connections once per remote endpoint,
 * local port and local interface (a connection seen as IPv4 and as IPv4-mapped IPv6 is one entry).
 */
export class SocketSummary {
  private readonly ports = new Map<string, ListeningPort>();
  private readonly connections = new Map<string, EstablishedConnection>();

  constructor(
    private readonly interfaceOf: InterfaceOf,
    private readonly listenState: number,
  ) {}

  readonly add = (row: SocketRow): void => {
    const name = this.interfaceOf(row.localAddress);
    if (row.state === this.listenState) {
      if (row.localPort === 0) return;
      const key = `${row.localPort}/${name ?? ''}`;
      if (!this.ports.has(key)) this.ports.set(key, name === undefined ? { port: row.localPort } : { port: row.localPort, interface: name });
    } else if (row.state === TCP_ESTABLISHED) {
      const remoteAddr = formatEndpoint(row.remoteAddress, row.remotePort);
      const key = `${remoteAddr}/${row.localPort}/${name ?? ''}`;
      if (this.connections.has(key)) return;
      this.connections.set(key, name === undefined ? { remoteAddr, localPort: row.localPort } : { remoteAddr, localPort: row.localPort, localInterface: name });
    }
  };

  /** Adds the entries of `other` (the same block's other table) that this one does not have, after its own. */
  merge(other: SocketSummary): this {
    for (const [key, port] of other.ports) if (!this.ports.has(key)) this.ports.set(key, port);
    for (const [key, connection] of other.connections) if (!this.connections.has(key)) this.connections.set(key, connection);
    return this;
  }

  /** Sorted by port, then interface. */
  listeningPorts(): ListeningPort[] {
    return [...this.ports.values()].sort((a, b) => a.port - b.port || (a.interface ?? '').localeCompare(b.interface ?? ''));
  }

  /** In the order first seen. */
  establishedConnections(): EstablishedConnection[] {
    return [...this.connections.values()];
  }
}
