import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStateStore, type AgentState } from '../../src/state/state-store';

describe('createFileStateStore', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dds-'));
    path = join(dir, 'state.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const state: AgentState = {
    version: 1,
    lastReportId: 1736000000,
    lastPublishedAtMs: 1736000000123,
    network: {
      bootId: 'boot-1',
      interfaces: { eth0: { bytesIn: 2n ** 64n - 1n, bytesOut: 9007199254740993n, packetsIn: 0n, packetsOut: 12n } },
    },
  };

  it('has no state and no problem when there is no file yet', async () => {
    expect(await createFileStateStore(path).load()).toEqual({});
  });

  it('saves and loads the state, 64-bit counters exact, as decimal strings in the file', async () => {
    const store = createFileStateStore(path);
    await store.save(state);
    expect(await createFileStateStore(path).load()).toEqual({ state });
    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(file.network.interfaces.eth0).toEqual({
      bytesIn: '18446744073709551615',
      bytesOut: '9007199254740993',
      packetsIn: '0',
      packetsOut: '12',
    });
  });

  it('saves a state without baseline or publish time', async () => {
    const store = createFileStateStore(path);
    await store.save({ version: 1, lastReportId: 0 });
    expect(await store.load()).toEqual({ state: { version: 1, lastReportId: 0 } });
  });

  it('replaces the file atomically, leaving no temporary file, and creates the folder', async () => {
    const nested = join(dir, 'work', 'state.json');
    const store = createFileStateStore(nested);
    await store.save({ version: 1, lastReportId: 1 });
    await store.save({ version: 1, lastReportId: 2 });
    expect(await readdir(join(dir, 'work'))).toEqual(['state.json']);
    expect((await store.load()).state?.lastReportId).toBe(2);
  });

  it('keeps the last of overlapping saves', async () => {
    const store = createFileStateStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save({ version: 1, lastReportId: i + 1 })));
    expect((await store.load()).state?.lastReportId).toBe(20);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('rejects a save it cannot write, keeps the previous file and removes its temporary file', async () => {
    const store = createFileStateStore(path);
    await store.save({ version: 1, lastReportId: 7 });
    // The target is a folder: the temporary file is written, the rename fails.
    const folderTarget = join(dir, 'taken');
    await mkdir(join(folderTarget, 'inside'), { recursive: true });
    await expect(createFileStateStore(folderTarget).save(state)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['state.json', 'taken']);
    expect((await store.load()).state?.lastReportId).toBe(7);
  });

  it.each([
    ['not JSON', '{"version":1,', /is not a valid state file \(.+\)$/],
    ['not an object', '[1]', /\(not a JSON object\)$/],
    ['another version', '{"version":2,"lastReportId":5}', /\(unsupported version 2\)$/],
    ['a bad report id', '{"version":1,"lastReportId":-3}', /\(lastReportId is not a non-negative integer\)$/],
    ['a bad publish time', '{"version":1,"lastReportId":3,"lastPublishedAtMs":"soon"}', /\(lastPublishedAtMs is not a timestamp\)$/],
  ])('reports a corrupt file (%s) and gives no state', async (_label, content, message) => {
    await writeFile(path, content);
    const loaded = await createFileStateStore(path).load();
    expect(loaded.state).toBeUndefined();
    expect(loaded.problem).toMatch(message);
    expect(loaded.problem).toContain(path);
  });

  it('keeps the report id when only the network baseline is damaged', async () => {
    await writeFile(
      path,
      JSON.stringify({ version: 1, lastReportId: 99, network: { bootId: 'b', interfaces: { eth0: { bytesIn: 'x' } } } }),
    );
    const loaded = await createFileStateStore(path).load();
    expect(loaded.state).toEqual({ version: 1, lastReportId: 99 });
    expect(loaded.problem).toMatch(/network baseline "eth0" bytesIn is not a decimal counter; the next report omits network_stats$/);
  });

  it('reports a file it cannot read', async () => {
    await mkdir(path);
    const loaded = await createFileStateStore(path).load();
    expect(loaded).toEqual({ problem: expect.stringMatching(/^cannot read .*state\.json: /) });
  });
});
