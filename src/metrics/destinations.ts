/**
 * The distinct remote addresses of a sample's established TCP connections, all of them (the listed connections are
 * capped by the report's budget), as numbers: what `aws:destination-ip-addresses` is evaluated on. The collector fills
 * it from the numbers /proc prints, so at 10,000 peers nothing is formatted and parsed back.
 *
 * Words are network order, as in src/metrics/networks.ts: an IPv4 address is one word (family 4, the peer of an
 * IPv4-mapped IPv6 socket included), an IPv6 address four (family 6). Texts are the canonical form the report uses.
 */
export class DestinationTable {
  count = 0;
  /** 4 or 6 per address. */
  family: Uint8Array;
  /** `v4[i]` when family 4. */
  v4: Uint32Array;
  /** `v6[4i..4i+3]` when family 6. Made at the first IPv6 address: most peers are IPv4, and it is four times v4. */
  v6 = new Uint32Array(0);
  private readonly texts: string[] = [];

  /** `expected`: a sizing hint, such as the previous sample's count. */
  constructor(expected = 0) {
    const capacity = Math.max(16, expected);
    this.family = new Uint8Array(capacity);
    this.v4 = new Uint32Array(capacity);
  }

  addV4(text: string, word: number): void {
    const i = this.next(text);
    this.family[i] = 4;
    this.v4[i] = word;
  }

  addV6(text: string, w0: number, w1: number, w2: number, w3: number): void {
    const i = this.next(text);
    this.family[i] = 6;
    if (this.v6.length === 0) this.v6 = new Uint32Array(this.family.length * 4);
    const o = i * 4;
    this.v6[o] = w0;
    this.v6[o + 1] = w1;
    this.v6[o + 2] = w2;
    this.v6[o + 3] = w3;
  }

  /** The canonical text of address `i`. */
  text(i: number): string {
    return this.texts[i] as string;
  }

  private next(text: string): number {
    if (this.count === this.family.length) this.grow();
    this.texts.push(text);
    return this.count++;
  }

  private grow(): void {
    const capacity = this.family.length * 2;
    const family = new Uint8Array(capacity);
    const v4 = new Uint32Array(capacity);
    family.set(this.family);
    v4.set(this.v4);
    this.family = family;
    this.v4 = v4;
    if (this.v6.length > 0) {
      const v6 = new Uint32Array(capacity * 4);
      v6.set(this.v6);
      this.v6 = v6;
    }
  }
}
