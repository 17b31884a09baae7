/**
 * One report, from the device to a payload ready to hand over: collect, network delta, report id,
 * build. The agent and `npm run collect` both use it, so what the command prints is what the agent
 * would send. The report is not schema-checked here (2 to 5 ms a cycle at 10,000 connections): the
 * builder's output is checked against the schema by its tests and by the local core on every report,
 * and `npm run collect` checks what it prints. Nothing is committed here: the caller moves the network baseline and the
 * last report id forward only once the report was handed over (published, or printed).
 */
import { type CollectOptions, type Collector, toMetricsSample } from '../collect/collector';
import type { DestinationTable } from '../metrics/destinations';
import type { MetricsSample, Problem } from '../metrics/types';
import { type BuiltReport, buildReport, type ReportOptions } from '../report/build';
import { computeNetworkDelta, type NetworkBaseline } from '../state/network-delta';
import { nextReportId } from '../state/report-id';

export interface PipelineInput {
  collector: Collector;
  collect: CollectOptions;
  /** The reading of the last report handed over: the delta covers everything since. */
  baseline: NetworkBaseline | undefined;
  lastReportId: number | undefined;
  build: Omit<ReportOptions, 'reportId'>;
  /** Wall clock, epoch ms: report ids only. */
  wallNow: () => number;
  /** Monotonic clock: how long the collection took. */
  monotonic: () => number;
}

export interface PreparedReport {
  reportId: number;
  built: BuiltReport;
  sample: MetricsSample;
  /** Every destination of the sample, for detection (the report lists at most maxListedConnections). */
  destinations?: DestinationTable;
  /** Blocks left out by the collection, values dropped by the build. */
  problems: Problem[];
  /** Rows the parsers dropped because the report cannot carry them, by table. */
  droppedRows: Record<string, number>;
  /** The next baseline, once this report has been handed over. */
  networkReading?: NetworkBaseline;
  /** Why network_stats is left out, when it is. */
  networkOmitted?: string;
  /** What happened to single interfaces (appeared, vanished, wrapped). */
  networkNotes: string[];
  collectionMs: number;
}

export async function prepareReport(input: PipelineInput): Promise<PreparedReport> {
  const startedAt = input.monotonic();
  const collected = await input.collector.collect(input.collect);
  const collectionMs = input.monotonic() - startedAt;
  let networkOmitted: string | undefined;
  let networkNotes: string[] = [];
  let networkStats: MetricsSample['networkStats'];
  if (collected.network) {
    const result = computeNetworkDelta(input.baseline, collected.network);
    networkStats = result.delta;
    networkNotes = result.notes;
    if (!result.delta) networkOmitted = result.reason ?? 'no delta';
  }
  const sample = toMetricsSample(collected, networkStats);
  const reportId = nextReportId(input.lastReportId, input.wallNow());
  const built = buildReport(sample, { ...input.build, reportId });
  return {
    reportId,
    built,
    sample,
    ...(collected.destinations ? { destinations: collected.destinations } : {}),
    problems: [...collected.problems, ...built.problems],
    droppedRows: collected.droppedRows ?? {},
    ...(collected.network ? { networkReading: collected.network } : {}),
    ...(networkOmitted !== undefined ? { networkOmitted } : {}),
    networkNotes,
    collectionMs,
  };
}
