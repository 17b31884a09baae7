/**
 * A deadline for every source a cycle reads (a procfs table, statfs of one mount, the interface list).
 *
 * Node cannot cancel a read in the thread pool: a hung NFS mount behind statfs keeps its thread until the server
 * answers. So a read past its deadline is given up (the caller leaves that block out and the cycle goes on), and the
 * same source is not read again while that read is still pending: a second hung read would take a second thread, and
 * with four of them the whole process would stall.
 */
export class SourceDeadlines {
  /** When each still-pending read started, by source. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly deadlineMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** `read()`'s result, or a rejection once `deadlineMs` passed or while the previous read of `source` is pending. */
  run<T>(source: string, read: () => Promise<T>): Promise<T> {
    const startedAt = this.pending.get(source);
    if (startedAt !== undefined) {
      const seconds = Math.round((this.now() - startedAt) / 1000);
      return Promise.reject(
        new Error(`${source}: its previous read, started ${seconds} s ago, has not returned yet; not read again until it does`),
      );
    }
    let reading: Promise<T>;
    try {
      reading = read();
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending.set(source, this.now());
    const settled = () => this.pending.delete(source);
    reading.then(settled, settled);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${source} did not answer within ${this.deadlineMs} ms (a hung mount, a FIFO or a stuck driver)`));
      }, this.deadlineMs);
      // A hung read must not keep the process alive on its own.
      timer.unref();
      reading.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
