/**
 * The interface list a sample uses to name the interfaces of sockets, and for the ipAddresses / interfaceNames custom
 * metrics: enumerated once per sample, from the same network namespace as the socket tables.
 *
 * Why not getifaddrs alone: Node (libuv) leaves out every interface that is up but not RUNNING, so an interface whose
 * cable is unplugged would lose its listeners' names and its addresses, which `ss` and psutil still show. Its IPv6
 * addresses are in `<root>/net/if_inet6` (with the interface name), and its IPv4 addresses are the `/32 host LOCAL`
 * entries of `<root>/net/fib_trie`, named by the connected route of `<root>/net/route` that holds them.
 *
 * Which namespace: `<root>/net` is a link to `self/net`, the network namespace of the process that reads it, whatever
 * procfs mount `<root>` is (the host's `/proc` mounted at `/host/proc` in a container included); the host's is
 * `<root>/1/net`. getifaddrs also answers for the agent's own namespace. When `<root>/net/dev` does not list the
 * interfaces getifaddrs gives (another namespace), those are not used: a name must come from where the sockets come.
 */
import type { InterfaceAddress } from '../procfs/interfaces';
import { formatIpv6Groups, isLoopback, networkOrder } from './ip';

/** `fe800000000000000000000000000001 02 40 20 80 eth0`: address in network order, index, prefix, scope, flags, name. */
const IF_INET6_ROW = /^([0-9a-f]{32})\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+(\S{1,15})$/i;
const FIB_LEAF = /^\s*\|-- (\d{1,3}(?:\.\d{1,3}){3})$/;
const FIB_LOCAL = /^\s*\/32 host LOCAL$/;
const HEX8 = /^[0-9A-F]{8}$/i;
/** RTF_GATEWAY: a route through a router names no link the address is on. */
const RTF_GATEWAY = 0x2;

/** The addresses of /proc/net/if_inet6; rows that do not fit are skipped. */
export function parseIfInet6(text: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const match = IF_INET6_ROW.exec(line.trim());
    if (!match) continue;
    const hex = match[1] as string;
    const groups = Array.from({ length: 8 }, (_, g) => Number.parseInt(hex.slice(g * 4, g * 4 + 4), 16));
    const address = formatIpv6Groups(groups);
    addresses.push({ name: match[2] as string, address, family: 6, internal: isLoopback(address) });
  }
  return addresses;
}

/** The IPv4 word of /proc/net/route (host byte order, as the socket tables print it) as a number in network order. */
function routeWord(hex: string): number {
  return networkOrder(Number.parseInt(hex, 16));
}

function dottedToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/**
 * The local IPv4 addresses of /proc/net/fib_trie, each named by the most specific connected route of /proc/net/route
 * that holds it; an address no such route holds, or that two interfaces' equally specific routes hold, is left out.
 */
export function parseLocalIpv4(fibTrie: string, route: string): InterfaceAddress[] {
  const links: Array<{ name: string; network: number; mask: number }> = [];
  for (const line of route.split('\n').slice(1)) {
    const [name, destination, gateway, flags, , , , mask] = line.trim().split(/\s+/);
    if (!name || !destination || !gateway || !flags || !mask || ![destination, gateway, mask].every((h) => HEX8.test(h))) continue;
    if ((Number.parseInt(flags, 16) & RTF_GATEWAY) !== 0 || routeWord(gateway) !== 0) continue;
    const maskValue = routeWord(mask);
    if (maskValue === 0) continue;
    links.push({ name, network: routeWord(destination), mask: maskValue });
  }
  const locals = new Set<string>();
  let leaf: string | undefined;
  for (const line of fibTrie.split('\n')) {
    const leafMatch = FIB_LEAF.exec(line);
    if (leafMatch) leaf = leafMatch[1];
    else if (leaf !== undefined && FIB_LOCAL.test(line)) locals.add(leaf);
  }
  const addresses: InterfaceAddress[] = [];
  for (const address of locals) {
    const value = dottedToNumber(address);
    if (isLoopback(address) || address === '0.0.0.0' || !(value >= 0 && value <= 0xffffffff)) continue;
    let best: { name: string | undefined; mask: number } = { name: undefined, mask: 0 };
    for (const link of links) {
      if ((value & link.mask) >>> 0 !== (link.network & link.mask) >>> 0) continue;
      if (link.mask > best.mask) best = { name: link.name, mask: link.mask };
      else if (link.mask === best.mask && link.name !== best.name) best = { name: undefined, mask: link.mask };
    }
    if (best.name !== undefined) addresses.push({ name: best.name, address, family: 4, internal: false });
  }
  return addresses;
}

export interface InterfaceList {
  addresses: InterfaceAddress[];
  /** getifaddrs names that `<root>/net/dev` does not list: another network namespace than the sockets'. */
  foreign: string[];
}

/**
 * getifaddrs' addresses of the interfaces `<root>/net/dev` lists (all of them when it could not be read), plus the
 * procfs addresses of interfaces getifaddrs left out (up without carrier). Loopback is marked as getifaddrs marks it.
 */
export function mergeInterfaceAddresses(
  system: readonly InterfaceAddress[],
  fromProcfs: readonly InterfaceAddress[],
  netDevNames: ReadonlySet<string> | undefined,
): InterfaceList {
  const inNamespace = (name: string) => netDevNames === undefined || netDevNames.has(name);
  const foreign = [...new Set(system.filter((a) => !inNamespace(a.name)).map((a) => a.name))];
  const addresses = system.filter((a) => inNamespace(a.name));
  const internalNames = new Set(addresses.filter((a) => a.internal).map((a) => a.name));
  const listed = new Set(addresses.map((a) => `${a.name}/${a.address.split('%')[0]}`));
  for (const entry of fromProcfs) {
    if (!inNamespace(entry.name) || listed.has(`${entry.name}/${entry.address}`)) continue;
    listed.add(`${entry.name}/${entry.address}`);
    addresses.push({ ...entry, internal: entry.internal || internalNames.has(entry.name) });
  }
  return { addresses, foreign };
}
