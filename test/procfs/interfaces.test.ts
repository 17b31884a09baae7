import os from 'node:os';
import { systemInterfaceSource } from '../../src/procfs/interfaces';

describe('systemInterfaceSource', () => {
  it('lists every address os.networkInterfaces() has, with family 4 or 6', () => {
    const listed = systemInterfaceSource().list();
    const expected = Object.entries(os.networkInterfaces()).flatMap(([name, list]) =>
      (list ?? []).map((a) => ({ name, address: a.address, family: a.family === 'IPv6' ? 6 : 4, internal: a.internal })),
    );
    expect(listed.map(({ netmask: _netmask, ...rest }) => rest)).toEqual(expected);
    expect(listed).toContainEqual(expect.objectContaining({ address: '127.0.0.1', family: 4, internal: true }));
  });
});
