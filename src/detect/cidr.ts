import { dottedIpv4, isIpv4Mapped } from '../collect/ip';
import { DestinationTable } from '../metrics/destinations';
import { ipWords, type Network, V4_MAPPED_WORD } from '../metrics/networks';

/**
 * The destinations of connections given as `ip:port` text (samples that carry no destination table, such as the
 * custom ones tests build), distinct, as a table. The collector's samples carry the table, filled from /proc's numbers.
 */
export function destinationTableOf(connections: ReadonlyArray<{ remoteAddr: string }>): DestinationTable {
  const table = new DestinationTable(connections.length);
  const seen = new Set<string>();
  for (const { remoteAddr } of connections) {
    const host = remoteAddr.startsWith('[')
      ? remoteAddr.slice(1, remoteAddr.indexOf(']'))
      : remoteAddr.slice(0, remoteAddr.lastIndexOf(':'));
    const words = ipWords(host);
    if (!words) continue;
    const mapped = isIpv4Mapped(words);
    const text = mapped ? dottedIpv4(words[3]) : host;
    if (seen.has(text)) continue;
    seen.add(text);
    if (mapped) table.addV4(text, words[3]);
    else table.addV6(text, words[0], words[1], words[2], words[3]);
  }
  return table;
}

/**
 * A sample's destination addresses with the CIDR matching done on them: IPv4 matched with one masked compare, IPv6
 * with four. `inside(networks)` is the bitmap of the addresses inside any of them; each network's bitmap is computed
 * once per sample, however many behaviors name it.
 */
export class AddressSet {
  readonly count: number;
  private readonly bitmaps = new Map<string, Uint32Array>();

  constructor(private readonly table: DestinationTable) {
    this.count = table.count;
  }

  /** A zeroed bitmap of `count` bits. */
  private bitmap(): Uint32Array {
    return new Uint32Array((this.count + 31) >>> 5);
  }

  /** The text of address `i`. */
  address(i: number): string {
    return this.table.text(i);
  }

  /** Bit i set when address i is inside any of `networks`. */
  inside(networks: readonly Network[]): Uint32Array {
    const result = this.bitmap();
    for (const network of networks) {
      const bitmap = this.bitmapOf(network);
      for (let w = 0; w < result.length; w++) result[w] = (result[w] as number) | (bitmap[w] as number);
    }
    return result;
  }

  private bitmapOf(network: Network): Uint32Array {
    let bitmap = this.bitmaps.get(network.text);
    if (bitmap) return bitmap;
    bitmap = this.bitmap();
    // Signed 32-bit copies: `&` yields int32, and int32 compares stay in registers where uint32 ones become doubles.
    const n0 = network.words[0] | 0;
    const n1 = network.words[1] | 0;
    const n2 = network.words[2] | 0;
    const n3 = network.words[3] | 0;
    const m0 = network.masks[0] | 0;
    const m1 = network.masks[1] | 0;
    const m2 = network.masks[2] | 0;
    const m3 = network.masks[3] | 0;
    // An IPv4 address is ::ffff:a.b.c.d: inside when the network's first three words admit that prefix.
    const v4Possible = n0 === 0 && n1 === 0 && (V4_MAPPED_WORD & m2) === n2;
    const { family, v4, v6 } = this.table;
    const count = this.count;
    for (let i = 0; i < count; i++) {
      let inside: boolean;
      if (family[i] === 4) inside = v4Possible && ((v4[i] as number) & m3) === n3;
      else {
        const o = i * 4;
        inside =
          ((v6[o] as number) & m0) === n0 &&
          ((v6[o + 1] as number) & m1) === n1 &&
          ((v6[o + 2] as number) & m2) === n2 &&
          ((v6[o + 3] as number) & m3) === n3;
      }
      if (inside) bitmap[i >>> 5] = (bitmap[i >>> 5] as number) | (1 << (i & 31));
    }
    this.bitmaps.set(network.text, bitmap);
    return bitmap;
  }
}
