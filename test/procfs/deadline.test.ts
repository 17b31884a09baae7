import { SourceDeadlines } from '../../src/procfs/deadline';

describe('SourceDeadlines', () => {
  it('passes a read that answers in time through, value and error alike', async () => {
    const deadlines = new SourceDeadlines(1000);
    await expect(deadlines.run('net/dev', async () => 'counters')).resolves.toBe('counters');
    await expect(deadlines.run('net/dev', async () => Promise.reject(new Error('EACCES')))).rejects.toThrow('EACCES');
    await expect(
      deadlines.run('net/dev', () => {
        throw new Error('sync failure');
      }),
    ).rejects.toThrow('sync failure');
  });

  it('gives up a read that never returns, and does not read that source again while it is pending', async () => {
    let now = 0;
    const deadlines = new SourceDeadlines(20, () => now);
    let reads = 0;
    let answer: (text: string) => void = () => undefined;
    const hung = () => {
      reads++;
      return new Promise<string>((resolve) => {
        answer = resolve;
      });
    };
    await expect(deadlines.run('statfs /mnt/nfs', hung)).rejects.toThrow('statfs /mnt/nfs did not answer within 20 ms');
    now = 61_000;
    await expect(deadlines.run('statfs /mnt/nfs', hung)).rejects.toThrow(
      'statfs /mnt/nfs: its previous read, started 61 s ago, has not returned yet; not read again until it does',
    );
    expect(reads).toBe(1);
    // Other sources are not held up.
    await expect(deadlines.run('net/tcp', async () => 'rows')).resolves.toBe('rows');
    // Once the hung read returns, the source is read again.
    answer('late');
    await Promise.resolve();
    await expect(deadlines.run('statfs /mnt/nfs', async () => 'fresh')).resolves.toBe('fresh');
  });
});
