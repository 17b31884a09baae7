import type { EstablishedConnection, ListeningPort } from '../metrics/types';
import type { InterfaceAddress } from '../procfs/interfaces';
import { DestinationTable } from '../metrics/destinations';
import { compareOrdinal } from '../util/compare-ordinal';
import {
  canonicalIp,
  dottedIpv4,
  formatEndpoint,
  ipv6Text,
  isIpv4Mapped,
  isLoopback,
  isWildcard,
  networkOrder,
  parseHex,
  parseHex4,
  parseHex8,
  procIpv6WordsAt,
} from './ip';

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
  /** One object per distinct address (the SocketAddressCache's), so that a summary can tell peers apart by identity. */
  remote: ParsedAddress;
  remotePort: number;
}

/** An address as text and as numbers, formatted once and kept from sample to sample by a SocketAddressCache. */
export interface ParsedAddress {
  /** Canonical text (see ip.ts): an IPv4-mapped address is its IPv4 address. */
  readonly text: string;
  /** Network order: one word for IPv4 (an IPv4-mapped peer included), four for IPv6. */
  readonly words: readonly number[];
  /** The sample that last met it (see SocketAddressCache). */
  metIn: number;
  /** The summary that last grouped it as a peer, and its group there: a summary's map from peer to group, for free. */
  groupedBy: number;
  group: number;
}

export function parsedAddress(text: string, words: readonly number[]): ParsedAddress {
  return { text, words, metIn: 0, groupedBy: 0, group: 0 };
}

/** A cache that has held this many addresses or fewer is never pruned: a small device's few addresses simply stay. */
const ALWAYS_KEPT_ADDRESSES = 1024;

/**
 * The addresses a collector's socket tables name, parsed and formatted once and kept from sample to sample: a busy
 * device's peers mostly stay, and formatting them and filling maps with them again was most of a sample with 20,000
 * distinct peers (`npm run bench`, the rows with a peer per connection). One object per distinct address: the
 * IPv4-mapped form of an address is the IPv4 one, since the report names them alike. A sample that starts with more than twice as many addresses held as the last sample met drops the
 * ones that sample did not meet: peers that come and go do not pile up. Samples run one at a time (the agent's cycles
 * do), as the stamps on the addresses assume.
 */
export class SocketAddressCache {
  private readonly ipv4 = new Map<number, ParsedAddress>();
  /** By their 32 hex digits as /proc prints them; undefined: not an address. */
  private readonly ipv6 = new Map<string, ParsedAddress | undefined>();
  /** By their 16 bytes (as latin1 text) as the Windows IP Helper tables hold them. */
  private readonly ipv6Bytes = new Map<string, ParsedAddress>();
  private sample = 1;
  private met = 0;

  /** How many addresses it holds (for tests). */
  get size(): number {
    return this.ipv4.size + this.ipv6.size + this.ipv6Bytes.size;
  }

  /** Before each sample: drops the last sample's strangers if they have piled up. */
  startSample(): void {
    if (this.size > ALWAYS_KEPT_ADDRESSES && this.size > 2 * this.met) {
      for (const [key, address] of this.ipv4) if (address.metIn !== this.sample) this.ipv4.delete(key);
      for (const [key, address] of this.ipv6) if (address?.metIn !== this.sample) this.ipv6.delete(key);
      for (const [key, address] of this.ipv6Bytes) if (address.metIn !== this.sample) this.ipv6Bytes.delete(key);
    }
    this.sample++;
    this.met = 0;
  }

  /** `ip`: network order. */
  ipv4Address(ip: number): ParsedAddress {
    // As int32: a small integer key, where a word above 2^31 would be a boxed number, allocated and hashed slowly.
    const key = ip | 0;
    let address = this.ipv4.get(key);
    if (address === undefined) {
      address = parsedAddress(dottedIpv4(ip), [ip]);
      this.ipv4.set(key, address);
    }
    return this.meet(address);
  }

  /** The 32 hex digits at `start` of a /proc/net/{tcp6,udp6} row; undefined if they are not hex. */
  ipv6Address(bytes: Buffer, start: number): ParsedAddress | undefined {
    const hex = bytes.toString('latin1', start, start + 32);
    let address = this.ipv6.get(hex);
    if (address === undefined && !this.ipv6.has(hex)) {
      const words = procIpv6WordsAt(bytes, start);
      address = words && (isIpv4Mapped(words) ? this.ipv4Address(words[3]) : parsedAddress(ipv6Text(words), words));
      this.ipv6.set(hex, address);
    }
    return address && this.meet(address);
  }

  /** The IPv6 address in the 16 bytes (network order) at `start`, as an IN6_ADDR holds it; the caller checks the length. */
  ipv6AddressFromBytes(bytes: Buffer, start: number): ParsedAddress {
    const key = bytes.toString('latin1', start, start + 16);
    let address = this.ipv6Bytes.get(key);
    if (address === undefined) {
      const words = [0, 1, 2, 3].map((w) => bytes.readUInt32BE(start + w * 4));
      address = isIpv4Mapped(words) ? this.ipv4Address(words[3] as number) : parsedAddress(ipv6Text(words), words);
      this.ipv6Bytes.set(key, address);
    }
    return this.meet(address);
  }

  private meet(address: ParsedAddress): ParsedAddress {
    if (address.metIn !== this.sample) {
      address.metIn = this.sample;
      this.met++;
    }
    return address;
  }
}

function isDigitOrSpace(c: number | undefined): boolean {
  return c === 32 || (c !== undefined && c >= 48 && c <= 57);
}

const NEWLINE = 10;
const COLON = 58;
const SPACE = 32;

/**
 * Parses /proc/net/{tcp,udp} (family 4) or /proc/net/{tcp6,udp6} (family 6) as it is read, chunk by chunk, and hands
 * the rows whose state is in `keepStates` to `onRow`. The columns after the `sl:` field have a fixed width (the kernel
 * prints them with %08X:%04X and %02X), so a row is read by offset from that colon, on the bytes, without splitting,
 * a regex or a string per line: this runs on tens of thousands of rows. A row that does not fit the layout is dropped
 * and counted in `dropped` (one bad row costs only itself); a missing header sets `error`, since then nothing in the
 * file can be trusted. `onRow` gets the same row object every time (no allocation per row): it copies what it keeps.
 */
export class SocketTableParser {
  error: string | undefined;
  /** Rows that were not socket rows. */
  dropped = 0;
  /** The first dropped row, quoted (at most 100 characters), for the log. */
  firstDropped: string | undefined;
  private readonly row: SocketRow = { state: 0, localAddress: '', localPort: 0, remote: parsedAddress('', []), remotePort: 0 };
  /** The start of a line cut by the end of the previous chunk. */
  private carry: Buffer | undefined;
  private lineNumber = 0;
  private readonly addressLength: number;
  /** The last IPv4 address looked up: consecutive rows mostly share their local or remote address. */
  private lastIpv4Word = -1;
  private lastIpv4: ParsedAddress | undefined;

  /** `addresses`: the collector lends its own, kept from sample to sample. */
  constructor(
    private readonly family: 4 | 6,
    private readonly keepStates: readonly number[],
    private readonly onRow: (row: SocketRow) => void,
    private readonly addresses = new SocketAddressCache(),
  ) {
    this.addressLength = family === 4 ? 8 : 32;
  }

  /** Parses the complete lines of `chunk`, keeping a copy of a trailing partial line (the chunk's buffer is reused). */
  push(chunk: Buffer): void {
    if (this.error !== undefined) return;
    let start = 0;
    if (this.carry !== undefined) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const line = Buffer.concat([this.carry, chunk.subarray(0, newline)]);
      this.carry = undefined;
      if (!this.line(line, 0, line.length)) return;
      start = newline + 1;
    }
    for (let end = chunk.indexOf(NEWLINE, start); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      if (!this.line(chunk, start, end)) return;
      start = end + 1;
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
  }

  /**
   * At the end of the file: parses a last line without a newline, and checks that there was a header. After an error
   * there is nothing left to do: the header line has been read, and push keeps no partial line once it failed.
   */
  end(): void {
    if (this.carry !== undefined) this.line(this.carry, 0, this.carry.length);
    else if (this.lineNumber === 0) this.error = 'the header line is missing (empty file)';
  }

  private fail(message: string): false {
    this.error = message;
    return false;
  }

  /** Drops the row and goes on. */
  private drop(bytes: Buffer, start: number, end: number): true {
    this.dropped++;
    this.firstDropped ??= `line ${this.lineNumber}: "${bytes.toString('latin1', start, Math.min(end, start + 100)).trim()}"`;
    return true;
  }

  private line(bytes: Buffer, start: number, end: number): boolean {
    this.lineNumber++;
    if (this.lineNumber === 1) {
      return (
        bytes.toString('latin1', start, end).includes('local_address') || this.fail('the header line is missing (empty or truncated file)')
      );
    }
    const addressLength = this.addressLength;
    // `%4d: `: the colon is at +4 until the slot numbers pass 9999.
    let colon = start + 4;
    if (
      bytes[colon] !== COLON ||
      !isDigitOrSpace(bytes[start]) ||
      !isDigitOrSpace(bytes[start + 1]) ||
      !isDigitOrSpace(bytes[start + 2]) ||
      !isDigitOrSpace(bytes[start + 3])
    ) {
      colon = start;
      while (colon < end && isDigitOrSpace(bytes[colon])) colon++;
    }
    const localAt = colon + 2;
    const remoteAt = localAt + addressLength + 6;
    const stateAt = remoteAt + addressLength + 6;
    const valid =
      colon > start &&
      stateAt + 3 <= end &&
      bytes[colon] === COLON &&
      bytes[colon + 1] === SPACE &&
      bytes[localAt + addressLength] === COLON &&
      bytes[remoteAt - 1] === SPACE &&
      bytes[remoteAt + addressLength] === COLON &&
      bytes[stateAt - 1] === SPACE &&
      bytes[stateAt + 2] === SPACE;
    const state = valid ? parseHex(bytes, stateAt, 2) : -1;
    if (state < 0) return this.drop(bytes, start, end);
    if (!this.keepStates.includes(state)) return true;
    const local = this.address(bytes, localAt);
    const localPort = parseHex4(bytes, localAt + addressLength + 1);
    const remote = this.address(bytes, remoteAt);
    const remotePort = parseHex4(bytes, remoteAt + addressLength + 1);
    if (local === undefined || remote === undefined || localPort < 0 || remotePort < 0) return this.drop(bytes, start, end);
    const row = this.row;
    row.state = state;
    row.localAddress = local.text;
    row.localPort = localPort;
    row.remote = remote;
    row.remotePort = remotePort;
    this.onRow(row);
    return true;
  }

  private address(bytes: Buffer, start: number): ParsedAddress | undefined {
    if (this.family === 6) return this.addresses.ipv6Address(bytes, start);
    const word = parseHex8(bytes, start);
    if (word < 0) return undefined;
    if (word !== this.lastIpv4Word) {
      this.lastIpv4 = this.addresses.ipv4Address(networkOrder(word));
      this.lastIpv4Word = word;
    }
    return this.lastIpv4;
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
 * The established sockets to one remote address, kept as numbers: objects are built only for the entries listed. An
 * entry is both ports and the interface its local address names; the first one is held in the group itself, since
 * most peers have one (10,000 peers made 20,000 arrays a sample), the others in arrays made for the second.
 */
interface RemoteGroup {
  /** Canonical address text, from the address cache. */
  address: string;
  /** Entries kept, in the order first seen. */
  kept: number;
  firstPorts: number;
  firstInterface: string | undefined;
  morePorts: number[] | undefined;
  moreInterfaces: Array<string | undefined> | undefined;
}

/**
 * What SeenSockets.add found: `before`, the same socket again (a row read twice), which counts once; `entry`, another
 * socket of an entry already made (same remote endpoint, local port and interface, another local address); `new`, a
 * socket of an entry of its own.
 */
export type SocketSeen = 'before' | 'entry' | 'new';

const MIN_SLOTS = 1024;

/**
 * The sample's established sockets, (remote address id, both ports, local address), each with the interface its local
 * address names: it tells a socket seen again, and a socket of an entry already made. At 20,000 sockets each probe
 * was a cache miss (the kernel's formatting between two pieces of the table evicts what the table had in cache), which
 * cost more than the rest of the parsing: so the slots hold only a 16-bit fingerprint of (remote address id, both
 * ports) (which at 20,000 sockets mostly stays in cache) and the index of the socket's record, and the records are
 * appended in order. A record is read only when the fingerprints agree. Sockets that differ only in their local
 * address share a fingerprint and follow one another in the probe sequence. Kept from sample to sample. Its arrays
 * are made at the first socket: a table that never holds one (the UDP block's, which has no established sockets)
 * costs nothing.
 */
export class SeenSockets {
  /** 0: empty; else the key's fingerprint, never 0. */
  private fingerprints = new Uint16Array(0);
  /** The record of the slot's socket. */
  private indexes = new Int32Array(0);
  private groups = new Int32Array(0);
  private ports = new Uint32Array(0);
  /** Local address texts, and the interface each names (undefined: none). */
  private locals: string[] = [];
  private interfaces: Array<string | undefined> = [];
  /** 32 - log2(capacity): Fibonacci hashing takes the top bits of the product, which depend on every bit of the key. */
  private shift = 32;
  private size = 0;

  /** Slots: twice the most sockets it holds. */
  get capacity(): number {
    return this.fingerprints.length;
  }

  /**
   * Empties the table. It keeps its capacity (the last sample's size is the best guess for the next one), unless the
   * last sample used less than an eighth of it: a burst of connections must not keep its memory for good.
   */
  clear(): void {
    if (this.capacity > MIN_SLOTS && this.size * 8 < this.capacity) {
      let capacity = MIN_SLOTS;
      while (capacity < this.size * 4) capacity *= 2;
      this.allocate(capacity);
    } else this.fingerprints.fill(0);
    this.size = 0;
  }

  /** Adds the socket unless it was seen before; says which. */
  add(group: number, ports: number, local: string, interfaceName: string | undefined): SocketSeen {
    if (this.size * 2 >= this.fingerprints.length) this.grow();
    const fingerprints = this.fingerprints;
    const mask = fingerprints.length - 1;
    const mixed = Math.imul((ports | 0) ^ Math.imul(group, 0x85ebca6b) ^ (ports >>> 16), 0x9e3779b1);
    // The slot comes from the top bits, the fingerprint from all of them (odd, so never 0).
    const fingerprint = (Math.imul(mixed ^ (mixed >>> 15), 0x2c1b3c6d) & 0xffff) | 1;
    let seen: SocketSeen = 'new';
    for (let slot = mixed >>> this.shift; ; slot = (slot + 1) & mask) {
      const stored = fingerprints[slot] as number;
      if (stored === 0) {
        const index = this.size++;
        fingerprints[slot] = fingerprint;
        this.indexes[slot] = index;
        this.groups[index] = group;
        this.ports[index] = ports;
        this.locals[index] = local;
        this.interfaces[index] = interfaceName;
        return seen;
      }
      if (stored === fingerprint) {
        const index = this.indexes[slot] as number;
        if (this.groups[index] === group && this.ports[index] === ports) {
          if (this.locals[index] === local) return 'before';
          if (this.interfaces[index] === interfaceName) seen = 'entry';
        }
      }
    }
  }

  /** Doubles the capacity (or makes the first MIN_SLOTS), re-inserting the records in their order. */
  private grow(): void {
    const [groups, ports, locals, interfaces, size] = [this.groups, this.ports, this.locals, this.interfaces, this.size];
    this.allocate(Math.max(MIN_SLOTS, this.capacity * 2));
    this.size = 0;
    for (let index = 0; index < size; index++)
      this.add(groups[index] as number, ports[index] as number, locals[index] as string, interfaces[index]);
  }

  /** Empty arrays of `capacity` slots (a power of two). */
  private allocate(capacity: number): void {
    this.fingerprints = new Uint16Array(capacity);
    this.indexes = new Int32Array(capacity);
    this.groups = new Int32Array(capacity);
    this.ports = new Uint32Array(capacity);
    this.locals = new Array<string>(capacity);
    this.interfaces = new Array<string | undefined>(capacity);
    this.shift = 32 - Math.log2(capacity);
  }
}

/** Numbers the summaries, for the group stamps on the addresses (ParsedAddress.groupedBy). */
let summaries = 0;

/**
 * Gathers the rows of one report block as they are parsed (TCP: tcp then tcp6; UDP: udp then udp6): listening ports
 * once per port and interface (0.0.0.0:22 and :::22 are one entry), established connections listed once per remote
 * endpoint, local port and local interface (the report has no local address, so two sockets that differ only in it
 * would be two equal entries), and counted once per socket (local address, local port, remote endpoint): the total
 * says how many there are. Rows the report cannot carry (a connection to remote port 0, a listener on port 0) are
 * dropped and counted.
 *
 * Per row this costs a few map look-ups on cached strings and numbers: no object, no key string, no formatted
 * address. The connection objects are built when asked for, and only as many as will be listed.
 */
export class SocketSummary {
  /** Rows left out because the report cannot carry them. */
  dropped = 0;
  private readonly ports = new Map<string, ListeningPort>();
  private establishedSockets = 0;
  private entries = 0;
  /**
   * The list takes one entry per remote address per round (an address's first entry is in round 0, its second in
   * round 1, ...), so once the rounds below R hold `listLimit` entries nothing in round R or later is ever listed.
   * `cutRound` is the first such R: it only comes down as entries arrive, and entries at or past it are counted, not
   * kept. 250 peers of 80 sockets each with 500 listed: about two entries kept per peer, not 80.
   */
  private cutRound: number;
  /** Kept entries per round, and how many of them are in the rounds below cutRound. */
  private readonly roundSizes: Int32Array;
  private keptBelowCut = 0;
  /** By remote address, in the order first seen: a group's index is its id, stamped on the address (ParsedAddress). */
  private readonly groups: RemoteGroup[] = [];
  private readonly serial = ++summaries;
  /** The last local address looked up, and the interface it names: consecutive rows mostly share it. */
  private lastLocalAddress: string | undefined;
  private lastInterface: string | undefined;
  /** The groups' addresses as numbers, in the same order (the group id is the index). */
  private readonly destinationTable = new DestinationTable();

  /**
   * `sockets`: the table that tells a socket seen twice, emptied here (the collector lends one to every sample).
   * `listLimit`: at most this many connections are ever listed (the report's maxListedConnections): entries that cannot
   * be among them are counted, not kept (see cutRound).
   */
  constructor(
    private readonly interfaceOf: InterfaceOf,
    private readonly listenState: number,
    private readonly sockets = new SeenSockets(),
    private readonly listLimit = Number.POSITIVE_INFINITY,
  ) {
    sockets.clear();
    this.cutRound = listLimit;
    this.roundSizes = new Int32Array(Number.isFinite(listLimit) ? listLimit : 0);
  }

  readonly add = (row: SocketRow): void => {
    if (row.state === this.listenState) {
      if (row.localPort === 0) {
        this.dropped++;
        return;
      }
      const name = this.interfaceOf(row.localAddress);
      const key = `${row.localPort}/${name ?? ''}`;
      if (!this.ports.has(key))
        this.ports.set(key, name === undefined ? { port: row.localPort } : { port: row.localPort, interface: name });
    } else if (row.state === TCP_ESTABLISHED) {
      if (row.remotePort === 0) {
        this.dropped++;
        return;
      }
      const remote = row.remote;
      if (remote.groupedBy !== this.serial) {
        remote.groupedBy = this.serial;
        remote.group = this.groups.length;
        this.groups.push({
          address: remote.text,
          kept: 0,
          firstPorts: 0,
          firstInterface: undefined,
          morePorts: undefined,
          moreInterfaces: undefined,
        });
        const words = remote.words;
        if (words.length === 1) this.destinationTable.addV4(remote.text, words[0] as number);
        else this.destinationTable.addV6(remote.text, words[0] as number, words[1] as number, words[2] as number, words[3] as number);
      }
      const interfaceName = this.interfaceNamed(row.localAddress);
      const ports = row.remotePort * 65536 + row.localPort;
      // The same socket twice (a dual-stack table listing an IPv4 peer both ways, or a row read twice) counts once.
      const seen = this.sockets.add(remote.group, ports, row.localAddress, interfaceName);
      if (seen === 'before') return;
      this.establishedSockets++;
      if (seen === 'new') this.addEntry(this.groups[remote.group] as RemoteGroup, ports, interfaceName);
    }
  };

  /** Sorted by port, then interface name (ordinal: the same order on every device, whatever its locale). */
  listeningPorts(): ListeningPort[] {
    return [...this.ports.values()].sort((a, b) => a.port - b.port || compareOrdinal(a.interface ?? '', b.interface ?? ''));
  }

  /**
   * Up to `limit` entries, one per remote address first (in the order first seen), then the second ones, and so on:
   * a list cut to `limit` then names as many destinations as possible, which is what `aws:destination-ip-addresses`
   * looks at (the order buildReport lists them in). Only these entries are built.
   */
  establishedConnections(limit = this.listLimit): EstablishedConnection[] {
    const listed: EstablishedConnection[] = [];
    const wanted = Math.min(limit, this.listLimit, this.entries);
    let groups: readonly RemoteGroup[] = this.groups;
    for (let round = 0; listed.length < wanted && groups.length > 0; round++) {
      const remaining: RemoteGroup[] = [];
      for (const group of groups) {
        if (group.kept <= round) continue;
        const ports = round === 0 ? group.firstPorts : (group.morePorts?.[round - 1] as number);
        const interfaceName = round === 0 ? group.firstInterface : group.moreInterfaces?.[round - 1];
        listed.push(this.connection(group, ports, interfaceName));
        if (listed.length === wanted) return listed;
        if (group.kept > round + 1) remaining.push(group);
      }
      groups = remaining;
    }
    return listed;
  }

  /** Every distinct remote address of the established sockets, uncapped: what aws:destination-ip-addresses looks at. */
  destinations(): DestinationTable {
    return this.destinationTable;
  }

  /** Established sockets, at least as many as the entries. */
  establishedTotal(): number {
    return this.establishedSockets;
  }

  private interfaceNamed(localAddress: string): string | undefined {
    if (localAddress !== this.lastLocalAddress) {
      this.lastLocalAddress = localAddress;
      this.lastInterface = this.interfaceOf(localAddress);
    }
    return this.lastInterface;
  }

  private addEntry(group: RemoteGroup, ports: number, interfaceName: string | undefined): void {
    this.entries++;
    const round = group.kept;
    if (round >= this.cutRound) return;
    if (round === 0) {
      group.firstPorts = ports;
      group.firstInterface = interfaceName;
    } else {
      if (group.morePorts === undefined || group.moreInterfaces === undefined) {
        group.morePorts = [];
        group.moreInterfaces = [];
      }
      group.morePorts.push(ports);
      group.moreInterfaces.push(interfaceName);
    }
    group.kept++;
    if (Number.isFinite(this.listLimit)) this.lowerCut(round);
  }

  /** Counts a kept entry of `round`, and brings cutRound down while the rounds below the one before it are enough. */
  private lowerCut(round: number): void {
    const sizes = this.roundSizes;
    sizes[round] = (sizes[round] as number) + 1;
    this.keptBelowCut++;
    while (this.cutRound > 1 && this.keptBelowCut - (sizes[this.cutRound - 1] as number) >= this.listLimit) {
      this.cutRound--;
      this.keptBelowCut -= sizes[this.cutRound] as number;
    }
  }

  /** Entries kept to be listed (for tests). */
  get keptEntries(): number {
    return this.groups.reduce((sum, group) => sum + group.kept, 0);
  }

  private connection(group: RemoteGroup, ports: number, interfaceName: string | undefined): EstablishedConnection {
    const remoteAddr = formatEndpoint(group.address, Math.floor(ports / 65536));
    const localPort = ports % 65536;
    return interfaceName === undefined ? { remoteAddr, localPort } : { remoteAddr, localPort, localInterface: interfaceName };
  }
}
