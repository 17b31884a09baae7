import { decode as decodeCbor } from 'cbor-x';
import { Agent } from '../../src/agent/agent';
import type { CollectedSample, CollectOptions, Collector } from '../../src/collect/collector';
import type { DestinationTable } from '../../src/metrics/destinations';
import { createLogger, type Logger } from '../../src/log/logger';
import type { NetworkTotals } from '../../src/metrics/types';
import type { AgentState, StateStore } from '../../src/state/state-store';
import { FakeClock } from './fake-clock';
import { FakeNucleus } from './fake-ipc';

export const THING = 'CoreThing';
export const JSON_TOPIC = `$aws/things/${THING}/defender/metrics/json`;
export const CBOR_TOPIC = `$aws/things/${THING}/defender/metrics/cbor`;
const BOOT = 'boot-1';

/** A state file in memory: every save is kept, so a test can "kill" the agent at any save and restart from it. */
export class MemoryStateStore implements StateStore {
  saved: AgentState | undefined;
  saves: AgentState[] = [];
  loadedAt: number | undefined;
  constructor(private readonly initial?: AgentState) {}
  async load(nowMs: number) {
    this.loadedAt = nowMs;
    return this.initial ? { state: structuredClone(this.initial) } : {};
  }
  async save(state: AgentState) {
    this.saved = structuredClone(state);
    this.saves.push(this.saved);
  }
}

/** A device whose traffic counters the test moves: `send(bytes)` is traffic that must show up in some report. */
export class ScriptedCollector implements Collector {
  totals: NetworkTotals = { bytesIn: 1000n, bytesOut: 500n, packetsIn: 10n, packetsOut: 5n };
  bootId = BOOT;
  calls = 0;
  /** The options of every collect call, in order. */
  options: CollectOptions[] = [];
  /** When set, collect waits for it (a slow read). */
  gate: Promise<void> | undefined;
  /** Every destination of the sample, beyond the one connection it lists; none unless set. */
  destinations: DestinationTable | undefined;
  send(bytesOut: bigint, bytesIn = 0n): void {
    this.totals = {
      bytesIn: this.totals.bytesIn + bytesIn,
      bytesOut: this.totals.bytesOut + bytesOut,
      packetsIn: this.totals.packetsIn + (bytesIn > 0n ? 1n : 0n),
      packetsOut: this.totals.packetsOut + (bytesOut > 0n ? 1n : 0n),
    };
  }
  async collect(options: CollectOptions): Promise<CollectedSample> {
    this.calls += 1;
    this.options.push(options);
    await this.gate;
    return {
      listeningTcpPorts: [{ port: 22 }, { port: 8883, interface: 'eth0' }],
      listeningUdpPorts: [{ port: 5353, interface: 'eth0' }],
      establishedConnections: [{ remoteAddr: '192.0.2.10:443', localPort: 50000, localInterface: 'eth0' }],
      ...(this.destinations ? { destinations: this.destinations } : {}),
      network: { bootId: this.bootId, interfaces: { eth0: { ...this.totals } } },
      customMetrics: {},
      problems: [],
      droppedRows: {},
    };
  }
}

export interface Harness {
  agent: Agent;
  nucleus: FakeNucleus;
  clock: FakeClock;
  collector: ScriptedCollector;
  store: MemoryStateStore;
  lines: string[];
  logger: Logger;
}

export interface HarnessOptions {
  state?: AgentState;
  configuration?: Record<string, unknown>;
  clock?: FakeClock;
  collector?: ScriptedCollector;
  coreThingName?: string;
  bootId?: string;
  /** The core's platform (Linux unless given). */
  platform?: NodeJS.Platform;
}

export function harness(options: HarnessOptions = {}): Harness {
  const nucleus = new FakeNucleus();
  nucleus.configuration = options.configuration ?? {};
  const clock = options.clock ?? new FakeClock();
  const collector = options.collector ?? new ScriptedCollector();
  const store = new MemoryStateStore(options.state);
  const lines: string[] = [];
  const logger = createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, 'info', () => new Date(clock.now()));
  const agent = new Agent({
    identity: {
      componentName: 'com.example.Agent',
      componentVersion: '1.2.3',
      coreThingName: 'coreThingName' in options ? options.coreThingName : THING,
      platform: `${options.platform ?? 'linux'}/x64`,
    },
    ...(options.platform ? { platform: options.platform } : {}),
    ipc: nucleus,
    createCollector: () => collector,
    stateStore: store,
    clock,
    logger,
    bootId: async () => options.bootId ?? BOOT,
    random: () => 0.5,
  });
  return { agent, nucleus, clock, collector, store, lines, logger };
}

export function reports(nucleus: FakeNucleus) {
  return nucleus.published.map((m) => ({
    topic: m.topic,
    document: (m.topic.endsWith('/cbor') ? decodeCbor(m.payload) : JSON.parse(m.payload.toString('utf8'))) as Record<string, any>,
  }));
}

export const logged = (h: Harness, pattern: RegExp): string[] => h.lines.filter((l) => pattern.test(l));
