import os from 'node:os';
import { systemStatfs } from '../../src/procfs/statfs';

describe('systemStatfs', () => {
  it('reports consistent block counts for a mounted file system', async () => {
    const { blocks, bfree, bavail } = await systemStatfs().statfs(os.tmpdir());
    expect(blocks).toBeGreaterThan(0);
    expect(bfree).toBeLessThanOrEqual(blocks);
    expect(bavail).toBeLessThanOrEqual(bfree);
  });

  it('rejects for a path that does not exist', async () => {
    await expect(systemStatfs().statfs('/no/such/mount/point')).rejects.toThrow(/ENOENT/);
  });
});
