import { statfs } from '../util/async-fs';

/** Block counts of a mounted file system, as statfs(2) reports them. */
interface FileSystemBlocks {
  blocks: number;
  bfree: number;
  /** Free blocks available to unprivileged users. */
  bavail: number;
}

export interface StatfsSource {
  statfs(mountPoint: string): Promise<FileSystemBlocks>;
}

export function systemStatfs(): StatfsSource {
  return {
    statfs: async (mountPoint) => {
      const stats = await statfs(mountPoint);
      return { blocks: stats.blocks, bfree: stats.bfree, bavail: stats.bavail };
    },
  };
}
