// Agent entry point: wires the adapters to the agent and handles process signals. No logic here.
import './native-binding';
import { join } from 'node:path';
import { Agent } from './agent/agent';
import { systemClock } from './agent/clock';
import { COLLECT_ONCE_FLAG, runCollectOnTerminal } from './collect/cli';
import { entryDirectory, platformCollection } from './collect/platform';
import { componentIdentity } from './component/identity';
import { LOW_MEMORY_VARIABLE, v8TierNote } from './component/node-tier';
import { EdgeFeatures } from './agent/edge-features';
import { createDetectionStateFile } from './detect/state-file';
import { IPC_CLIENT_VARIABLE, selectIpcClient } from './ipc/select-client';
import { createLogger, streamSink } from './log/logger';
import { createFileStateStore } from './state/state-store';
import { describeError } from './util/describe-error';
import { DEVICE_FACTS_FLAG, deviceFactsProcess, printDeviceFacts } from './inventory/device-facts-process';
import { inventoryDelayMs, logDeviceInventoryLater } from './inventory/device-inventory';
import { systeminformationFacts } from './inventory/systeminformation-facts';

/** A stopped component must be gone within 5 s (deployments wait on it); the hard stop stays inside that. */
const SHUTDOWN_BUDGET_MS = 4_000;
const IPC_OPERATION_TIMEOUT_MS = 10_000;
/** The component's work folder ({work:path}) is the process cwd under Greengrass. */
const STATE_FILE = 'defender-agent-state.json';
/** Alarm state of the behaviors evaluated on the device, beside the agent's state file. */
const DETECTION_STATE_FILE = 'defender-agent-detection.json';
/**
 * Milliseconds from start to the device inventory line; default 15 s (after the first report). Tests set it shorter;
 * a deployment has no reason to.
 */
const INVENTORY_DELAY_VARIABLE = 'DEFENDER_AGENT_INVENTORY_DELAY_MS';

const platform = platformCollection(process.platform, entryDirectory());

// The bundle is also the device-facts process the agent starts for its inventory line (device-facts-process.ts), and
// the one-shot collection an operator (or the Windows test under Wine) runs where the agent runs.
if (process.argv.slice(2).includes(DEVICE_FACTS_FLAG)) printFactsAndExit();
else if (process.argv[2] === COLLECT_ONCE_FLAG) collectOnceAndExit();
else runAgent();

function collectOnceAndExit(): void {
  runCollectOnTerminal(process.argv.slice(3), platform.createCollector);
}

function printFactsAndExit(): void {
  printDeviceFacts(
    systeminformationFacts(),
    (line) => process.stdout.write(line),
    (line) => process.stderr.write(line),
  ).then((code) => process.exit(code));
}

/**
 * Exit code when the log output is gone. Not 0: the nucleus treats a Run that exits 0 as finished and never starts it
 * again, and a nucleus that is still there should restart the agent with fresh pipes.
 */
const LOG_OUTPUT_LOST_EXIT_CODE = 1;

function runAgent(): void {
  // Without its log the agent must not run on: it can no longer say what it does, and when the pipe broke because the
  // nucleus died without its components, an orphaned agent would report beside the one the next nucleus starts. It
  // stops as on SIGTERM (state saved, nothing lost) and exits non-zero.
  let onLogOutputLost: (reason: string) => void = () => process.exit(LOG_OUTPUT_LOST_EXIT_CODE);
  const logger = createLogger(streamSink({ out: process.stdout, err: process.stderr }, (reason) => onLogOutputLost(reason)));
  const identity = componentIdentity();
  const ipcClient = selectIpcClient({ setting: process.env[IPC_CLIENT_VARIABLE], operationTimeoutMs: IPC_OPERATION_TIMEOUT_MS, logger });
  if (!ipcClient.client) {
    logger.error(ipcClient.problem);
    process.exit(1);
  }

  const agent = new Agent({
    identity: {
      componentName: identity.name,
      componentVersion: identity.version,
      coreThingName: process.env.AWS_IOT_THING_NAME || undefined,
      platform: `${process.platform}/${process.arch} node ${process.version}${v8TierNote(process.execArgv, process.env[LOW_MEMORY_VARIABLE])}`,
    },
    ipc: ipcClient.connector,
    createCollector: platform.createCollector,
    platform: process.platform,
    stateStore: createFileStateStore(join(process.cwd(), STATE_FILE)),
    clock: systemClock,
    logger,
    createEdgeFeatures: (connection, frameLimit) =>
      new EdgeFeatures({
        store: createDetectionStateFile(join(process.cwd(), DETECTION_STATE_FILE)),
        connection,
        frameLimit,
        componentName: identity.name,
        logger,
        now: () => systemClock.now(),
        setTimer: (delayMs, callback) => systemClock.setTimer(delayMs, callback),
      }),
    bootId: platform.bootId,
  });

  let stopping = false;
  function shutdown(why: string, exitCode = 0): void {
    if (stopping) return;
    stopping = true;
    logger.info(`${why}: stopping`);
    setTimeout(() => {
      logger.warn(`shutdown took longer than ${SHUTDOWN_BUDGET_MS} ms; exiting anyway`);
      process.exit(exitCode);
    }, SHUTDOWN_BUDGET_MS).unref();
    agent.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        logger.error(`error while stopping: ${describeError(error)}`);
        process.exit(exitCode);
      },
    );
  }
  onLogOutputLost = (reason) => shutdown(`log output lost: ${reason}`, LOG_OUTPUT_LOST_EXIT_CODE);

  process.on('SIGTERM', () => shutdown('SIGTERM received'));
  process.on('SIGINT', () => shutdown('SIGINT received'));
  // The agent must never stop reporting silently: a stray error is logged, and the cycles go on.
  process.on('unhandledRejection', (reason) =>
    logger.error(`unexpected error (agent keeps running): ${reason instanceof Error ? reason.stack : String(reason)}`),
  );
  process.on('uncaughtException', (error) => logger.error(`unexpected error (agent keeps running): ${error.stack ?? error.message}`));

  agent.start().catch((error: unknown) => {
    logger.error(`agent failed to start: ${describeError(error)}`);
    process.exitCode = 1;
  });
  // Once, later and off the first report's path, in a process of its own: systeminformation stays out of the agent.
  logDeviceInventoryLater({
    source: deviceFactsProcess({ command: process.execPath, args: [process.argv[1] ?? '', DEVICE_FACTS_FLAG] }),
    logger,
    delayMs: inventoryDelayMs(process.env[INVENTORY_DELAY_VARIABLE]),
  });
}
