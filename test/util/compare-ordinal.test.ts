import { compareOrdinal } from '../../src/util/compare-ordinal';

describe('compareOrdinal', () => {
  it('orders by code unit, not by any locale: capitals before lower case, punctuation by its code', () => {
    const names = ['eth0', 'Eth0', 'veth_a', 'veth0', 'br-lan', 'br0', 'ä0', 'a0', ''];
    expect([...names].sort(compareOrdinal)).toEqual(['', 'Eth0', 'a0', 'br-lan', 'br0', 'eth0', 'veth0', 'veth_a', 'ä0']);
  });

  it('is zero for equal strings only', () => {
    expect(compareOrdinal('wlan0', 'wlan0')).toBe(0);
    expect(compareOrdinal('wlan0', 'wlan1')).toBeLessThan(0);
    expect(compareOrdinal('wlan1', 'wlan0')).toBeGreaterThan(0);
  });
});
