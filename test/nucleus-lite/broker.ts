/**
 * mosquitto standing in for AWS IoT Core: MQTT over mutual TLS on loopback port 8883 (iotcored always dials 8883),
 * client certificates required and signed by the test CA, as AWS IoT Core requires of a core device.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Certificates } from './certificates';
import { TOOLS } from './lite-build';
import { sleep } from './lite-core';
import type { RunState } from './run-state';

const BROKER_PORT = 8883;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class Broker {
  private process: ChildProcess | undefined;
  readonly logFile: string;

  constructor(
    private readonly dir: string,
    private readonly state: RunState,
  ) {
    this.logFile = path.join(dir, 'mosquitto.log');
  }

  async start(certificates: Certificates): Promise<void> {
    const conf = path.join(this.dir, 'mosquitto.conf');
    fs.writeFileSync(
      conf,
      [
        'per_listener_settings false',
        'persistence false',
        // Started as root, mosquitto would switch to its own user, which cannot read the run's certificates.
        'user root',
        `listener ${BROKER_PORT} 127.0.0.1`,
        `cafile ${certificates.caFile}`,
        `certfile ${certificates.server.cert}`,
        `keyfile ${certificates.server.key}`,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous true',
        `log_dest file ${this.logFile}`,
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        '',
      ].join('\n'),
    );
    const child = spawn(TOOLS.mosquitto, ['-c', conf], { stdio: 'ignore' });
    this.process = child;
    if (child.pid) this.state.addProcess(child.pid, 'mosquitto');
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(BROKER_PORT))) {
      if (child.exitCode !== null)
        throw new Error(
          `mosquitto exited with ${child.exitCode}: ${fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-500) : ''}`,
        );
      if (Date.now() > deadline) throw new Error(`mosquitto does not listen on ${BROKER_PORT}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
