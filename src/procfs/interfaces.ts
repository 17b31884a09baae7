import os from 'node:os';

export interface InterfaceAddress {
  /** Interface name, e.g. `eth0`. */
  name: string;
  address: string;
  family: 4 | 6;
  /** Loopback. */
  internal: boolean;
  netmask?: string;
}

/** The addresses of the network interfaces that are up (interfaces without an address are not listed). */
export interface InterfaceAddressSource {
  list(): InterfaceAddress[];
}

/** Backed by os.networkInterfaces(): one getifaddrs() call, no subprocess. */
export function systemInterfaceSource(): InterfaceAddressSource {
  return {
    list: () =>
      Object.entries(os.networkInterfaces()).flatMap(([name, addresses]) =>
        (addresses ?? []).map((a) => ({
          name,
          address: a.address,
          family: a.family === 'IPv6' ? (6 as const) : (4 as const),
          internal: a.internal,
          netmask: a.netmask,
        })),
      ),
  };
}
