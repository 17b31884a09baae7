/**
 * What the agent process loads, through the built bundle run as the nucleus runs it (portable IPC client): after its
 * device inventory line, it has never loaded systeminformation, node:crypto or node:fs/promises, whose memory it would
 * keep for good, nor node:v8 unless lowMemory auto found a busy device (issue 11: idle RSS at most 45 MiB). A `--require` preload records every Module._load request of every node process
 * the launcher starts, and Node's own list of loaded built-in modules at exit.
 *
 * systeminformation is bundled, so its loading shows as its own requests for built-ins: it asks for the bare `os` and
 * `util`, which the agent's code never does (it writes `node:os`). The first test is the proof that this is what its
 * loading looks like: the same recorder on the bundle's device-facts mode, which does load it, sees those requests.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEVICE_FACTS_FLAG } from '../../src/inventory/device-facts-process';
import { parseDeviceFacts } from '../../src/inventory/device-inventory';
import { BuiltComponent, sharedBuild } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const RECORD_DIR_VARIABLE = 'MODULE_LOAD_RECORD_DIR';
const INVENTORY_DELAY_VARIABLE = 'DEFENDER_AGENT_INVENTORY_DELAY_MS';
const SYSTEMINFORMATION_SIGNS = ['systeminformation', 'os', 'util'];
const CRYPTO = ['crypto', 'node:crypto'];
/** node:fs/promises brings FileHandle, streams, readline and the file watchers (see src/util/async-fs.ts). */
const FS_PROMISES = ['fs/promises', 'node:fs/promises'];
/** node:v8 (0.3 MiB): nothing in the agent needs it (lowMemory is node flags, fixed at start). */
const V8 = ['v8', 'node:v8'];

/** One file per process: its argv, then each request to Module._load, then at exit process.moduleLoadList. */
const PRELOAD = `
const fs = require('node:fs');
const Module = require('node:module');
const file = require('node:path').join(process.env.${RECORD_DIR_VARIABLE}, process.pid + '.jsonl');
fs.writeFileSync(file, JSON.stringify({ argv: process.argv }) + '\\n');
const load = Module._load;
Module._load = function (request, ...rest) {
  fs.appendFileSync(file, JSON.stringify({ request }) + '\\n');
  return load.call(this, request, ...rest);
};
process.on('exit', () => fs.appendFileSync(file, JSON.stringify({ moduleLoadList: process.moduleLoadList }) + '\\n'));
`;

interface ProcessRecord {
  argv: string[];
  requests: string[];
  /** Undefined when the process did not exit normally. */
  moduleLoadList: string[] | undefined;
}

function readRecords(dir: string): ProcessRecord[] {
  return fs.readdirSync(dir).map((name) => {
    const entries = fs
      .readFileSync(path.join(dir, name), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv?: string[]; request?: string; moduleLoadList?: string[] });
    return {
      argv: entries[0]?.argv ?? [],
      requests: entries.flatMap((entry) => (entry.request === undefined ? [] : [entry.request])),
      moduleLoadList: entries.find((entry) => entry.moduleLoadList !== undefined)?.moduleLoadList,
    };
  });
}

describe('modules loaded by the built agent, portable IPC client', () => {
  let built: Awaited<ReturnType<typeof sharedBuild>>;
  let dir: string;
  let preload: string;
  let records: string;
  let run: BuiltComponent | undefined;

  beforeAll(async () => {
    built = await sharedBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-modules-'));
    preload = path.join(dir, 'record-module-loads.cjs');
    fs.writeFileSync(preload, PRELOAD);
  }, 120_000);
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    records = fs.mkdtempSync(path.join(dir, 'records-'));
  });
  afterEach(async () => {
    await run?.stop();
    run = undefined;
  });

  it("the bundle's device-facts mode prints the facts, and the recorder sees systeminformation load there", () => {
    const bundle = path.join(built.local.componentArtifactsDir, 'defender-agent.js');
    const result = spawnSync(process.execPath, ['--require', preload, bundle, DEVICE_FACTS_FLAG], {
      env: { PATH: process.env.PATH, [RECORD_DIR_VARIABLE]: records },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(0);
    expect(parseDeviceFacts(result.stdout).kernel).toBe(os.release());
    const [child] = readRecords(records);
    expect(child?.argv.slice(1)).toEqual([bundle, DEVICE_FACTS_FLAG]);
    expect(child?.requests).toEqual(expect.arrayContaining(['os', 'util']));
  });

  it('after its inventory line, the agent has never loaded systeminformation, node:crypto or node:fs/promises, nor node:v8 unless busy', async () => {
    const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, delay: process.env[INVENTORY_DELAY_VARIABLE] };
    // The launcher gives the lifecycle scripts this process's environment.
    process.env.NODE_OPTIONS = `--require ${preload}`;
    process.env[RECORD_DIR_VARIABLE] = records;
    process.env[INVENTORY_DELAY_VARIABLE] = '500';
    try {
      run = await BuiltComponent.start({
        tempPrefix: 'agent-modules-',
        thingName: 'ModulesThing',
        intervalSeconds: 5,
        // Chosen, not found by `auto`: auto's attempt at the SDK loads part of aws-crt, which also asks for `os`.
        configurationMerge: { ipcClient: 'portable' },
      });
    } finally {
      for (const [name, value] of [
        ['NODE_OPTIONS', saved.NODE_OPTIONS],
        [INVENTORY_DELAY_VARIABLE, saved.delay],
        [RECORD_DIR_VARIABLE, undefined],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const component = run;
    await waitFor(() => /INFO {2}device: .+\(gathered in \d+ ms\)/.test(component.log()), 30_000, 'the inventory line');
    await waitFor(() => component.reports.length >= 1, 30_000, 'the first report');
    expect(component.log()).toMatch(/INFO {2}IPC client: portable/);
    // SIGTERM, as the nucleus stops it: the agent exits, and the recorder writes what Node loaded.
    expect(await component.component.stop(5_000)).toMatchObject({ code: 0, forced: false });

    const agent = readRecords(records).filter((record) => record.argv[1]?.endsWith('defender-agent.js'));
    expect(agent.map((record) => record.argv.slice(2))).toEqual([[]]);
    const [{ requests, moduleLoadList } = { requests: [], moduleLoadList: undefined }] = agent;
    expect(requests.filter((request) => [...SYSTEMINFORMATION_SIGNS, ...CRYPTO, ...FS_PROMISES].includes(request))).toEqual([]);
    // This machine's /proc decides whether it is a busy device; a quiet one never loads node:v8.
    const busy = component.log().includes('busy device:');
    expect(requests.some((request) => V8.includes(request))).toBe(busy);
    // The record is real: the agent's own modules, and the child process the inventory came from.
    expect(requests).toEqual(expect.arrayContaining(['node:net', 'node:child_process']));
    expect(moduleLoadList).toBeDefined();
    expect(moduleLoadList?.filter((name) => /\bcrypto\b/.test(name))).toEqual([]);
    // fs.promises reaches the same module without a request for it.
    expect(moduleLoadList?.filter((name) => name.includes('fs/promises'))).toEqual([]);
  });
});
