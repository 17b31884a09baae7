/**
 * Decoders of the Windows IP Helper API's tables, as the calls return them: pure functions of a Buffer.
 *
 * The layouts are the Windows SDK's (the same declarations in Wine's `include/` and in mingw-w64's headers):
 *
 * - `tcpmib.h` `MIB_TCPTABLE` (GetExtendedTcpTable with AF_INET, TCP_TABLE_BASIC_ALL): `DWORD dwNumEntries` at 0, then
 *   `MIB_TCPROW table[]` at 4, 20 bytes each: `dwState` at 0 (MIB_TCP_STATE), `dwLocalAddr` 4, `dwLocalPort` 8,
 *   `dwRemoteAddr` 12, `dwRemotePort` 16 (five DWORDs).
 * - `tcpmib.h` `MIB_TCP6TABLE` (GetTcp6Table): `dwNumEntries` at 0, `MIB_TCP6ROW table[]` at 4, 52 bytes each:
 *   `State` 0, `IN6_ADDR LocalAddr` 4 (16 bytes), `dwLocalScopeId` 20, `dwLocalPort` 24, `IN6_ADDR RemoteAddr` 28,
 *   `dwRemoteScopeId` 44, `dwRemotePort` 48. IN6_ADDR (`in6addr.h`) is a union of `UCHAR Byte[16]` and `USHORT Word[8]`:
 *   16 bytes, alignment 2, so no padding anywhere in the row.
 * - `udpmib.h` `MIB_UDPTABLE` (GetExtendedUdpTable with AF_INET, UDP_TABLE_BASIC): `dwNumEntries` at 0, `MIB_UDPROW
 *   table[]` at 4, 8 bytes each: `dwLocalAddr` 0, `dwLocalPort` 4.
 * - `udpmib.h` `MIB_UDP6TABLE` (GetUdp6Table): `dwNumEntries` at 0, `MIB_UDP6ROW table[]` at 4, 24 bytes each:
 *   `IN6_ADDR dwLocalAddr` 0, `dwLocalScopeId` 16, `dwLocalPort` 20.
 * - `netioapi.h` `MIB_IF_TABLE2` (GetIfTable2): `ULONG NumEntries` at 0, `MIB_IF_ROW2 Table[]` at 8 (the row holds
 *   ULONG64s, so it is 8-aligned), 1,352 bytes each; see IF_ROW2 below for the fields read.
 *
 * Which architectures: every field is a fixed-size integer (DWORD, ULONG, enum, ULONG64), a byte or WCHAR array, a GUID
 * or an IN6_ADDR, and no pointer or SIZE_T, so the layout is the same on x64, arm64 and x86: Windows compilers align a
 * ULONG64 in a struct to 8 on x86 as well (MSVC's default /Zp8; mingw-w64 follows the MS layout). All three are
 * little-endian.
 *
 * Byte order of the values (MSDN, MIB_TCPROW): addresses are in network order (the bytes of the address as written);
 * a port is in network order in the low 16 bits of its DWORD, i.e. its first two bytes, big-endian, and the upper 16
 * bits "may contain uninitialized data", so they are not read.
 *
 * These buffers come from a DLL, but a security product treats them as input: a count larger than the buffer holds,
 * a truncated buffer, an unknown state or a name without its terminating NUL must cost at most the table or the row, and
 * never throw (every read is bounds-checked first).
 */
import type { NetworkTotals } from '../../metrics/types';
import {
  parsedAddress,
  type ParsedAddress,
  type SocketAddressCache,
  type SocketRow,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  UDP_UNCONNECTED,
} from '../sockets';

/** tcpmib.h MIB_TCP_STATE. */
const MIB_TCP_STATE_CLOSED = 1;
const MIB_TCP_STATE_LISTEN = 2;
const MIB_TCP_STATE_ESTAB = 5;
const MIB_TCP_STATE_DELETE_TCB = 12;

const COUNT_BYTES = 4;

export const TCP_ROW = { size: 20, state: 0, localAddr: 4, localPort: 8, remoteAddr: 12, remotePort: 16 } as const;
export const TCP6_ROW = { size: 52, state: 0, localAddr: 4, localPort: 24, remoteAddr: 28, remotePort: 48 } as const;
export const UDP_ROW = { size: 8, localAddr: 0, localPort: 4 } as const;
export const UDP6_ROW = { size: 24, localAddr: 0, localPort: 20 } as const;

/**
 * netioapi.h MIB_IF_ROW2, offsets counted from the declaration with ifdef.h's IF_MAX_STRING_SIZE 256 and
 * IF_MAX_PHYS_ADDRESS_LENGTH 32: InterfaceLuid (ULONG64) 0, InterfaceIndex 8, InterfaceGuid 12, `WCHAR Alias[257]` 28,
 * Description[257] 542, PhysicalAddressLength 1056, PhysicalAddress[32] 1060, PermanentPhysicalAddress[32] 1092, Mtu
 * 1124, `IFTYPE Type` 1128, TunnelType 1132, MediaType 1136, PhysicalMediumType 1140, AccessType 1144, DirectionType
 * 1148, InterfaceAndOperStatusFlags (eight BOOLEAN bit-fields: one byte, HardwareInterface the lowest bit,
 * FilterInterface the next) 1152, OperStatus 1156, AdminStatus 1160, MediaConnectState 1164, NetworkGuid 1168,
 * ConnectionType 1184, then the ULONG64s from 1192 (8-aligned): TransmitLinkSpeed, ReceiveLinkSpeed, InOctets 1208,
 * InUcastPkts 1216, InNUcastPkts 1224, InDiscards, InErrors, InUnknownProtos, InUcastOctets, InMulticastOctets,
 * InBroadcastOctets, OutOctets 1280, OutUcastPkts 1288, OutNUcastPkts 1296, ... OutQLen 1344; 1352 in all.
 */
export const IF_ROW2 = {
  size: 1352,
  alias: 28,
  aliasChars: 257,
  type: 1128,
  flags: 1152,
  inOctets: 1208,
  inUcastPkts: 1216,
  inNUcastPkts: 1224,
  outOctets: 1280,
  outUcastPkts: 1288,
  outNUcastPkts: 1296,
} as const;
/** MIB_IF_TABLE2's Table: after NumEntries, at the row's 8-byte alignment. */
export const IF_TABLE2_ROWS_AT = 8;
/** ipifcons.h IF_TYPE_SOFTWARE_LOOPBACK. */
export const IF_TYPE_SOFTWARE_LOOPBACK = 24;
/** InterfaceAndOperStatusFlags.FilterInterface: an NDIS filter (a WFP or QoS layer) stacked on an adapter. */
const FILTER_INTERFACE_FLAG = 0x02;

export interface TableDecoding {
  /** Why nothing in the table can be trusted (then no row was handed over). */
  error?: string;
  /** Rows that were not socket rows (an unknown state). */
  dropped: number;
}

/** The count a table's first DWORD announces, or why the buffer cannot hold that many rows. */
function rowCount(buffer: Buffer, rowsAt: number, rowSize: number, table: string): { count: number } | { error: string } {
  if (buffer.length < COUNT_BYTES) return { error: `${table}: ${buffer.length} bytes, shorter than its entry count` };
  const count = buffer.readUInt32LE(0);
  const room = buffer.length < rowsAt ? 0 : Math.floor((buffer.length - rowsAt) / rowSize);
  if (count > room) {
    return { error: `${table}: announces ${count} rows but holds ${room} (${buffer.length} bytes): truncated, nothing of it is used` };
  }
  return { count };
}

/** Port in network order in the low 16 bits of a little-endian DWORD: its first two bytes, big-endian. */
function portAt(buffer: Buffer, offset: number): number {
  return buffer.readUInt16BE(offset);
}

/** The report's state of a MIB_TCP_STATE, 0 for the states it does not carry, -1 for a value that is no state. */
function tcpState(state: number): number {
  if (state === MIB_TCP_STATE_LISTEN) return TCP_LISTEN;
  if (state === MIB_TCP_STATE_ESTAB) return TCP_ESTABLISHED;
  return state >= MIB_TCP_STATE_CLOSED && state <= MIB_TCP_STATE_DELETE_TCB ? 0 : -1;
}

/**
 * Hands the listening and established rows of a MIB_TCPTABLE (family 4) or MIB_TCP6TABLE (family 6) to `onRow`, as the
 * /proc parser does (the same row object every time). A row whose state is no MIB_TCP_STATE is dropped and counted.
 */
export function decodeTcpTable(
  buffer: Buffer,
  family: 4 | 6,
  addresses: SocketAddressCache,
  onRow: (row: SocketRow) => void,
): TableDecoding {
  const layout = family === 4 ? TCP_ROW : TCP6_ROW;
  const counted = rowCount(buffer, COUNT_BYTES, layout.size, family === 4 ? 'MIB_TCPTABLE' : 'MIB_TCP6TABLE');
  if ('error' in counted) return { error: counted.error, dropped: 0 };
  const address = (offset: number): ParsedAddress =>
    family === 4 ? addresses.ipv4Address(buffer.readUInt32BE(offset)) : addresses.ipv6AddressFromBytes(buffer, offset);
  const row: SocketRow = { state: 0, localAddress: '', localPort: 0, remote: parsedAddress('', []), remotePort: 0 };
  let dropped = 0;
  for (let index = 0, at = COUNT_BYTES; index < counted.count; index++, at += layout.size) {
    const state = tcpState(buffer.readUInt32LE(at + layout.state));
    if (state < 0) dropped++;
    if (state <= 0) continue;
    row.state = state;
    row.localAddress = address(at + layout.localAddr).text;
    row.localPort = portAt(buffer, at + layout.localPort);
    row.remote = address(at + layout.remoteAddr);
    row.remotePort = portAt(buffer, at + layout.remotePort);
    onRow(row);
  }
  return { dropped };
}

const NO_PEER = parsedAddress('', []);

/**
 * Hands every row of a MIB_UDPTABLE (family 4) or MIB_UDP6TABLE (family 6) to `onRow` as a UDP listener: the basic UDP
 * tables list bound endpoints only, with no peer and no state.
 */
export function decodeUdpTable(
  buffer: Buffer,
  family: 4 | 6,
  addresses: SocketAddressCache,
  onRow: (row: SocketRow) => void,
): TableDecoding {
  const layout = family === 4 ? UDP_ROW : UDP6_ROW;
  const counted = rowCount(buffer, COUNT_BYTES, layout.size, family === 4 ? 'MIB_UDPTABLE' : 'MIB_UDP6TABLE');
  if ('error' in counted) return { error: counted.error, dropped: 0 };
  const row: SocketRow = { state: UDP_UNCONNECTED, localAddress: '', localPort: 0, remote: NO_PEER, remotePort: 0 };
  for (let index = 0, at = COUNT_BYTES; index < counted.count; index++, at += layout.size) {
    const local =
      family === 4 ? addresses.ipv4Address(buffer.readUInt32BE(at + layout.localAddr)) : addresses.ipv6AddressFromBytes(buffer, at);
    row.localAddress = local.text;
    row.localPort = portAt(buffer, at + layout.localPort);
    onRow(row);
  }
  return { dropped: 0 };
}

export interface IfTableDecoding {
  /** Counters by interface Alias (null-prototype map); loopback only when asked for, filter interfaces never. */
  interfaces: Record<string, NetworkTotals>;
  /** Rows left out because they name no interface (an empty, unterminated or repeated Alias). */
  dropped: number;
  error?: string;
}

/** Control characters (and a lone surrogate) would make the name a forgery in a log line or a state file. */
const UNPRINTABLE = /\p{Cc}|\p{Cs}/u;

/** The NUL-terminated UTF-16LE Alias of the row at `at`; undefined if it is empty, unterminated or unprintable. */
function aliasAt(buffer: Buffer, at: number): string | undefined {
  const start = at + IF_ROW2.alias;
  for (let char = 0; char < IF_ROW2.aliasChars; char++) {
    if (buffer.readUInt16LE(start + char * 2) !== 0) continue;
    const alias = buffer.toString('utf16le', start, start + char * 2);
    return alias === '' || UNPRINTABLE.test(alias) ? undefined : alias;
  }
  return undefined;
}

/**
 * The traffic counters of a MIB_IF_TABLE2, per interface Alias (the friendly name `os.networkInterfaces()` also uses).
 * Packets are unicast plus non-unicast, as psutil counts them. Filter interfaces are left out: an NDIS filter is a
 * layer stacked on an adapter, and counting it would count the adapter's traffic twice. Software loopback (IF_TYPE 24)
 * is left out unless `includeLoopback`, as `lo` is on Linux.
 */
export function decodeIfTable2(buffer: Buffer, includeLoopback: boolean): IfTableDecoding {
  const interfaces: Record<string, NetworkTotals> = Object.create(null);
  const counted = rowCount(buffer, IF_TABLE2_ROWS_AT, IF_ROW2.size, 'MIB_IF_TABLE2');
  if ('error' in counted) return { interfaces, dropped: 0, error: counted.error };
  let dropped = 0;
  for (let index = 0, at = IF_TABLE2_ROWS_AT; index < counted.count; index++, at += IF_ROW2.size) {
    if ((buffer.readUInt8(at + IF_ROW2.flags) & FILTER_INTERFACE_FLAG) !== 0) continue;
    const name = aliasAt(buffer, at);
    if (name === undefined || name in interfaces) {
      dropped++;
      continue;
    }
    if (buffer.readUInt32LE(at + IF_ROW2.type) === IF_TYPE_SOFTWARE_LOOPBACK && !includeLoopback) continue;
    const counter = (offset: number) => buffer.readBigUInt64LE(at + offset);
    // The sum of two 64-bit counters, kept a 64-bit counter: modulo 2^64 it wraps as they do, and the delta's wrap
    // rule (src/state/network-delta.ts) still reads it right.
    const packets = (unicast: number, other: number) => BigInt.asUintN(64, counter(unicast) + counter(other));
    interfaces[name] = {
      bytesIn: counter(IF_ROW2.inOctets),
      packetsIn: packets(IF_ROW2.inUcastPkts, IF_ROW2.inNUcastPkts),
      bytesOut: counter(IF_ROW2.outOctets),
      packetsOut: packets(IF_ROW2.outUcastPkts, IF_ROW2.outNUcastPkts),
    };
  }
  return { interfaces, dropped };
}
