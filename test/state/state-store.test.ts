import { mkdtemp, readdir, readFile, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStateStore, MAX_STATE_FILE_BYTES, type AgentState } from '../../src/state/state-store';

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

  const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
  const state: AgentState = {
    version: 1,
    lastReportId: 1736000000,
    lastPublishedAtMs: 1736000000123,
    network: {
      bootId: 'boot-1',
      interfaces: { eth0: { bytesIn: 2n ** 64n - 1n, bytesOut: 9007199254740993n, packetsIn: 0n, packetsOut: 12n } },
    },
  };

  it('refuses unread a file larger than the agent ever writes (a planted file must not inflate memory)', async () => {
    await writeFile(path, '');
    await truncate(path, 200 * 1024 * 1024); // sparse: no disk used
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded.state).toBeUndefined();
    expect(loaded.problem).toBe(
      `${path} is not a valid state file (209715200 bytes, more than the ${MAX_STATE_FILE_BYTES} the agent ever writes; not read)`,
    );
  });

  it('has no state and no problem when there is no file yet', async () => {
    expect(await createFileStateStore(path).load(NOW)).toEqual({});
  });

  it('saves and loads the state, 64-bit counters exact, as decimal strings in the file', async () => {
    const store = createFileStateStore(path);
    await store.save(state);
    expect(await createFileStateStore(path).load(NOW)).toEqual({ state });
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
    expect(await store.load(NOW)).toEqual({ state: { version: 1, lastReportId: 0 } });
  });

  it('replaces the file atomically, leaving no temporary file, and creates the folder', async () => {
    const nested = join(dir, 'work', 'state.json');
    const store = createFileStateStore(nested);
    await store.save({ version: 1, lastReportId: 1 });
    await store.save({ version: 1, lastReportId: 2 });
    expect(await readdir(join(dir, 'work'))).toEqual(['state.json']);
    expect((await store.load(NOW)).state?.lastReportId).toBe(2);
  });

  it('keeps the last of overlapping saves', async () => {
    const store = createFileStateStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save({ version: 1, lastReportId: i + 1 })));
    expect((await store.load(NOW)).state?.lastReportId).toBe(20);
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
    expect((await store.load(NOW)).state?.lastReportId).toBe(7);
  });

  it.each([
    ['not JSON', '{"version":1,', /is not a valid state file \(.+\)$/],
    ['not an object', '[1]', /\(not a JSON object\)$/],
    ['another version', '{"version":2,"lastReportId":5}', /\(unsupported version 2\)$/],
  ])('reports a corrupt file (%s) and gives no state', async (_label, content, message) => {
    await writeFile(path, content);
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded.state).toBeUndefined();
    expect(loaded.problem).toMatch(message);
    expect(loaded.problem).toContain(path);
  });

  it.each([
    ['negative', -3],
    ['2^53 - 1', 2 ** 53 - 1],
    ['2^53', 2 ** 53],
    ['2^52', 2 ** 52],
    ['a day and a minute ahead of the clock', NOW / 1000 + 86_460],
    ['a string', '"1736000000"'],
  ])('treats a lastReportId that is %s as corrupt, in one problem, and keeps the rest of the file', async (_label, id) => {
    const baseline = { bootId: 'b', interfaces: { eth0: { bytesIn: '5', bytesOut: '6', packetsIn: '7', packetsOut: '8' } } };
    await writeFile(path, `{"version":1,"lastReportId":${id},"lastPublishedAtMs":1736000000123,"network":${JSON.stringify(baseline)}}`);
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded.state).toMatchObject({ version: 1, lastReportId: 0, lastPublishedAtMs: 1736000000123, network: { bootId: 'b' } });
    expect(loaded.problem).toMatch(/lastReportId .* is implausible .*ignored, ids restart from the clock$/);
  });

  it('keeps a lastReportId up to a day ahead of the clock (a clock that stepped back)', async () => {
    await writeFile(path, `{"version":1,"lastReportId":${NOW / 1000 + 86_000}}`);
    expect(await createFileStateStore(path).load(NOW)).toEqual({ state: { version: 1, lastReportId: NOW / 1000 + 86_000 } });
  });

  it('drops a bad publish time alone, keeping the report id', async () => {
    await writeFile(path, '{"version":1,"lastReportId":3,"lastPublishedAtMs":"soon"}');
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded.state).toEqual({ version: 1, lastReportId: 3 });
    expect(loaded.problem).toMatch(/lastPublishedAtMs is not a timestamp: ignored$/);
  });

  it('keeps the write-ahead fields: the monotonic publish mark and the report being handed over', async () => {
    const store = createFileStateStore(path);
    const ahead: AgentState = {
      version: 1,
      lastReportId: 1736000000,
      lastPublishedAtMs: 1736000000123,
      lastPublishedMonotonic: { bootId: 'boot-1', ms: 123456 },
      publishingReportId: 1736000000,
    };
    await store.save(ahead);
    expect(await store.load(NOW)).toEqual({ state: ahead });
  });

  it('keeps the report id when only the network baseline is damaged', async () => {
    await writeFile(
      path,
      JSON.stringify({ version: 1, lastReportId: 99, network: { bootId: 'b', interfaces: { eth0: { bytesIn: 'x' } } } }),
    );
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded.state).toEqual({ version: 1, lastReportId: 99 });
    expect(loaded.problem).toMatch(/network baseline "eth0" bytesIn is not a decimal counter; the next report omits network_stats$/);
  });

  it('reports a file it cannot read', async () => {
    await mkdir(path);
    const loaded = await createFileStateStore(path).load(NOW);
    expect(loaded).toEqual({ problem: expect.stringMatching(/^cannot read .*state\.json: /) });
  });
});
