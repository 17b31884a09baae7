import { DestinationTable } from '../../src/metrics/destinations';

describe('DestinationTable', () => {
  it('makes no IPv6 words until an IPv6 address comes, then keeps them through growth', () => {
    const table = new DestinationTable(2);
    for (let i = 0; i < 40; i++) table.addV4(`10.0.0.${i}`, 0x0a000000 + i);
    expect(table.v6.length).toBe(0);
    table.addV6('2001:db8::1', 0x20010db8, 0, 0, 1);
    for (let i = 40; i < 100; i++) table.addV4(`10.0.0.${i}`, 0x0a000000 + i);
    table.addV6('2001:db8::2', 0x20010db8, 0, 0, 2);
    expect(table.count).toBe(102);
    expect(table.v6.length).toBe(table.family.length * 4);
    const words = (i: number) => Array.from(table.v6.subarray(i * 4, i * 4 + 4));
    expect([table.family[40], table.text(40), words(40)]).toEqual([6, '2001:db8::1', [0x20010db8, 0, 0, 1]]);
    expect([table.family[101], table.text(101), words(101)]).toEqual([6, '2001:db8::2', [0x20010db8, 0, 0, 2]]);
    expect([table.family[99], table.text(99), table.v4[99]]).toEqual([4, '10.0.0.98', 0x0a000000 + 98]);
  });
});
