/**
 * Following one deployment on many core devices (deploy --group --wait): each core is polled at most once per poll
 * period by a bounded number of workers, no request starts after the deadline, and what is printed stays a few lines
 * whatever the fleet's size: progress counts, then a summary with counts per state, failures by name up to a limit,
 * and the rest as numbers. The full list goes to a file when asked for.
 */
import { writeFileSync } from 'node:fs';
import {
  GetDeploymentCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
  type EffectiveDeployment,
  type InstalledComponent,
} from '@aws-sdk/client-greengrassv2';
import { isNotFound } from './aws';
import { allPages } from './paginate';
import type { Session } from './session';
import { neutralized } from './terminal-text';

/** Requests in flight at once: enough to follow a large fleet, few enough for Greengrass's per-account request rates. */
export const FLEET_CONCURRENCY = 8;
/** Failed cores named in the summary; the rest is a count (and in the --wait-report file). */
export const FAILURES_NAMED = 20;
/** Progress lines: at most about ten over the whole wait, and not more often than every 30 s. */
const PROGRESS_LINES = 10;
const MIN_PROGRESS_EVERY_MS = 30_000;
const SUCCESS = new Set(['COMPLETED', 'SUCCEEDED']);
const FAILURE = new Set(['FAILED', 'TIMED_OUT', 'CANCELED', 'REJECTED']);
const COMPONENT_FAILED = new Set(['BROKEN', 'ERRORED']);

type CoreState = 'succeeded' | 'failed' | 'in progress' | 'not a core device' | 'not polled';
const FINAL: ReadonlySet<CoreState> = new Set(['succeeded', 'failed', 'not a core device']);

interface CoreResult {
  state: CoreState;
  detail: string;
}

export interface FleetOptions {
  deploymentId: string;
  /** Epoch ms: no request starts at or after it. */
  deadlineAt: number;
  pollMs: number;
  concurrency?: number;
  /** Where to write every thing's final state, one per line (the summary names only some). */
  reportPath?: string | undefined;
}

export type FleetOutcome = 'succeeded' | 'failed' | 'deadline';

class Fleet {
  private version: Promise<string | undefined> | undefined;

  constructor(
    private readonly session: Session,
    private readonly options: FleetOptions,
  ) {}

  private deadlinePassed(): boolean {
    return this.session.now().getTime() >= this.options.deadlineAt;
  }

  /** The component version the deployment sets: asked once for the whole fleet. */
  private deployedVersion(): Promise<string | undefined> {
    this.version ??= this.session.aws
      .greengrass(new GetDeploymentCommand({ deploymentId: this.options.deploymentId }))
      .then((deployment) => deployment.components?.[this.session.identity.name]?.componentVersion);
    return this.version;
  }

  /** One look at one core: its execution of the deployment, then (once it succeeded) the component's state. */
  async poll(thingName: string): Promise<CoreResult> {
    let deployments: EffectiveDeployment[];
    try {
      deployments = await allPages(
        (nextToken) => this.session.aws.greengrass(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thingName, nextToken })),
        (page) => page.effectiveDeployments,
      );
    } catch (error) {
      if (isNotFound(error)) return { state: 'not a core device', detail: '' };
      throw error;
    }
    const deployment = deployments.find((d) => d.deploymentId === this.options.deploymentId);
    const status = deployment?.coreDeviceExecutionStatus ?? 'NOT YET RECEIVED';
    if (deployment && FAILURE.has(status)) return { state: 'failed', detail: `${status}: ${deployment.reason ?? 'no reason given'}` };
    if (!deployment || !SUCCESS.has(status)) return { state: 'in progress', detail: status };
    const version = await this.deployedVersion();
    if (version === undefined) return { state: 'succeeded', detail: status };
    if (this.deadlinePassed()) return { state: 'in progress', detail: `${status}, component not checked before the deadline` };
    const component = await this.installed(thingName);
    const fresh =
      !component?.lastReportedTimestamp || !deployment.creationTimestamp || component.lastReportedTimestamp >= deployment.creationTimestamp;
    if (component?.componentVersion === version && fresh) {
      if (component.lifecycleState === 'RUNNING') return { state: 'succeeded', detail: `${version} RUNNING` };
      if (COMPONENT_FAILED.has(component.lifecycleState ?? '')) {
        return { state: 'failed', detail: `${version} ${component.lifecycleState}: ${component.lifecycleStateDetails ?? ''}`.trimEnd() };
      }
    }
    return {
      state: 'in progress',
      detail: component ? `${component.componentVersion} ${component.lifecycleState}` : 'component not reported',
    };
  }

  private async installed(thingName: string): Promise<InstalledComponent | undefined> {
    const name = this.session.identity.name;
    let nextToken: string | undefined;
    do {
      const page = await this.session.aws.greengrass(
        new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL', nextToken }),
      );
      const found = (page.installedComponents ?? []).find((c) => c.componentName === name);
      if (found) return found;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  /** Polls each pending core once with bounded concurrency; cores not reached before the deadline stay as they were. */
  async round(pending: string[], results: Map<string, CoreResult>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length && !this.deadlinePassed()) {
        const thingName = pending[next]!;
        next += 1;
        results.set(thingName, await this.poll(thingName));
      }
    };
    const workers = Math.min(this.options.concurrency ?? FLEET_CONCURRENCY, pending.length);
    await Promise.all(Array.from({ length: workers }, worker));
  }
}

function countsOf(results: ReadonlyMap<string, CoreResult>): Map<CoreState, number> {
  const counts = new Map<CoreState, number>();
  for (const { state } of results.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
  return counts;
}

function describeCounts(counts: ReadonlyMap<CoreState, number>): string {
  const order: CoreState[] = ['succeeded', 'failed', 'in progress', 'not polled', 'not a core device'];
  return order
    .filter((state) => counts.get(state))
    .map((state) => `${counts.get(state)} ${state}`)
    .join(', ');
}

function writeReport(path: string, results: ReadonlyMap<string, CoreResult>): void {
  const lines = [...results].map(([thing, { state, detail }]) => `${thing}\t${state}\t${neutralized(detail)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export async function followFleet(
  session: Session,
  groupName: string,
  things: readonly string[],
  options: FleetOptions,
): Promise<FleetOutcome> {
  const { out } = session;
  const fleet = new Fleet(session, options);
  const results = new Map<string, CoreResult>(things.map((thing) => [thing, { state: 'not polled', detail: '' }]));
  const started = session.now().getTime();
  out.info(
    `following deployment ${options.deploymentId} on the ${things.length} thing(s) of ${groupName}, ${options.concurrency ?? FLEET_CONCURRENCY} at a time, until ${new Date(options.deadlineAt).toISOString()}`,
  );
  let lastProgress = started;
  const progressEveryMs = Math.max(MIN_PROGRESS_EVERY_MS, (options.deadlineAt - started) / PROGRESS_LINES);
  for (;;) {
    const roundStart = session.now().getTime();
    const pending = [...results].filter(([, r]) => !FINAL.has(r.state)).map(([thing]) => thing);
    if (pending.length === 0) break;
    await fleet.round(pending, results);
    const now = session.now().getTime();
    const stillPending = [...results.values()].some((r) => !FINAL.has(r.state));
    if (!stillPending) break;
    const nextRound = Math.max(now, roundStart + options.pollMs);
    if (nextRound >= options.deadlineAt) break;
    if (now - lastProgress >= progressEveryMs) {
      out.info(`${groupName}: ${describeCounts(countsOf(results))} (${Math.round((now - started) / 1000)} s)`);
      lastProgress = now;
    }
    await session.sleep(nextRound - now);
  }
  return summarize(session, groupName, results, options);
}

function summarize(session: Session, groupName: string, results: ReadonlyMap<string, CoreResult>, options: FleetOptions): FleetOutcome {
  const { out } = session;
  const counts = countsOf(results);
  const cores = results.size - (counts.get('not a core device') ?? 0);
  const succeeded = counts.get('succeeded') ?? 0;
  out.info(`${groupName}: ${succeeded} of ${cores} core device(s) succeeded (${describeCounts(counts)})`);
  const failed = [...results].filter(([, r]) => r.state === 'failed');
  for (const [thing, { detail }] of failed.slice(0, FAILURES_NAMED)) out.error(`  failed: ${thing}: ${neutralized(detail)}`);
  if (failed.length > FAILURES_NAMED) out.error(`  ... and ${failed.length - FAILURES_NAMED} more failed core device(s)`);
  const unfinished = (counts.get('in progress') ?? 0) + (counts.get('not polled') ?? 0);
  if (unfinished > 0) {
    out.error(
      `  deadline reached: ${unfinished} core device(s) had not finished (${counts.get('not polled') ?? 0} not polled before the deadline)`,
    );
  }
  if (options.reportPath) {
    writeReport(options.reportPath, results);
    out.info(`every thing's state: ${options.reportPath}`);
  } else if (failed.length > FAILURES_NAMED || unfinished > 0) {
    out.info('the state of every thing: add --wait-report FILE');
  }
  if (failed.length > 0) {
    out.error('  next: read a failed core with `npm run gg -- status --thing <core>` (reason, error stack, log path)');
    return 'failed';
  }
  if (unfinished > 0) {
    out.error(`  next: run \`npm run gg -- status --thing <core>\` later, or deploy --wait again with a longer --deadline-seconds`);
    return 'deadline';
  }
  return 'succeeded';
}
