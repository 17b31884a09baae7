import { keyNames, LONG_TO_SHORT, SHORT_TO_LONG } from '../../src/report/names';

describe('report key names', () => {
  it('map long and short names one to one', () => {
    const longs = Object.keys(LONG_TO_SHORT);
    const shorts = Object.values(LONG_TO_SHORT);
    expect(new Set(shorts).size).toBe(longs.length);
    for (const long of longs) expect(SHORT_TO_LONG[LONG_TO_SHORT[long as keyof typeof LONG_TO_SHORT]]).toBe(long);
  });

  it('give the spec names in each mode', () => {
    expect(keyNames(false).listening_tcp_ports).toBe('listening_tcp_ports');
    expect(keyNames(true)).toMatchObject({
      header: 'hed',
      report_id: 'rid',
      version: 'v',
      metrics: 'met',
      custom_metrics: 'cmet',
      remote_addr: 'rad',
      local_interface: 'li',
    });
  });
});
