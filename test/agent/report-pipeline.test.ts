import { prepareReport } from '../../src/agent/report-pipeline';
import { validateReport } from '../../src/report/validate';
import { ScriptedCollector } from '../support/agent-harness';

const build = { shortNames: false, format: 'json' as const, maxListedPorts: 100, maxListedConnections: 100, maxReportBytes: 131_072 };
const input = (
  collector: ScriptedCollector,
  baseline: Awaited<ReturnType<typeof prepareReport>>['networkReading'],
  lastReportId?: number,
) => ({
  collector,
  collect: { customMetrics: {}, networkStatsIncludeLoopback: false },
  baseline,
  lastReportId,
  build,
  wallNow: () => Date.UTC(2026, 10, 22, 12),
  monotonic: () => 0,
});

describe('prepareReport', () => {
  it('builds a valid report whose delta counts from the given baseline, and hands back the reading without committing it', async () => {
    const collector = new ScriptedCollector();
    const first = await prepareReport(input(collector, undefined));
    expect(first.networkOmitted).toMatch(/no baseline/);
    expect(validateReport(first.built.document)).toEqual([]);

    collector.send(700n);
    const skipped = await prepareReport(input(collector, first.networkReading, first.reportId));
    collector.send(300n);
    // The skipped report was never handed over: the next one still counts from the first.
    const next = await prepareReport(input(collector, first.networkReading, first.reportId));
    expect(skipped.sample.networkStats?.bytesOut).toBe(700n);
    expect(next.sample.networkStats?.bytesOut).toBe(1_000n);
    expect(next.reportId).toBe(first.reportId + 1);
  });
});
