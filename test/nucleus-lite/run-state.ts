/**
 * What a run started and created, written to a file as it goes (`.nucleus-lite/run-state.json`), so that cleanup can
 * undo it when the run fails or is interrupted, and so that the next run can undo what a killed run left behind.
 * A process is identified by its pid and its start time (field 22 of /proc/<pid>/stat), so a pid the system reused for
 * something else is never signalled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sleep, stopCgroup } from './lite-core';
import { describeError } from '../../src/util/describe-error';

interface ProcessEntry {
  pid: number;
  startTime: string;
  name: string;
}

interface StateFile {
  processes: ProcessEntry[];
  cgroups: string[];
  paths: string[];
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields count from after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(entry: ProcessEntry): boolean {
  return startTimeOf(entry.pid) === entry.startTime;
}

export class RunState {
  private state: StateFile = { processes: [], cgroups: [], paths: [] };

  constructor(private readonly file: string) {}

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(this.state, null, 2));
  }

  addProcess(pid: number, name: string): void {
    const startTime = startTimeOf(pid);
    if (startTime === undefined) return;
    this.state.processes.push({ pid, startTime, name });
    this.save();
  }

  addCgroup(dir: string): void {
    if (!this.state.cgroups.includes(dir)) this.state.cgroups.push(dir);
    this.save();
  }

  removeCgroup(dir: string): void {
    this.state.cgroups = this.state.cgroups.filter((c) => c !== dir);
    this.save();
  }

  /** A file or folder the run created, removed by cleanup. */
  addPath(target: string): void {
    this.state.paths.push(target);
    this.save();
  }

  /** Ends every recorded process still alive and removes every recorded cgroup and path. Returns what it had to undo. */
  async cleanUp(): Promise<string[]> {
    const undone: string[] = [];
    for (const dir of this.state.cgroups) {
      if (!fs.existsSync(dir)) continue;
      try {
        await stopCgroup(dir, 3_000);
        undone.push(`cgroup ${dir}`);
      } catch (error) {
        undone.push(`cgroup ${dir} NOT removed: ${describeError(error)}`);
      }
    }
    const running = this.state.processes.filter(alive);
    for (const entry of running) {
      try {
        process.kill(entry.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 5_000;
    while (running.some(alive) && Date.now() < deadline) await sleep(100);
    for (const entry of running) {
      if (alive(entry)) {
        try {
          process.kill(entry.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      undone.push(`process ${entry.pid} (${entry.name})`);
    }
    for (const target of [...this.state.paths].reverse()) {
      if (!fs.existsSync(target)) continue;
      fs.rmSync(target, { recursive: true, force: true });
      undone.push(`path ${target}`);
    }
    this.state = { processes: [], cgroups: [], paths: [] };
    fs.rmSync(this.file, { force: true });
    return undone;
  }

  /** The state a previous run left in the file (it was killed before its cleanup), to be cleaned up now. */
  static leftOver(file: string): RunState | undefined {
    if (!fs.existsSync(file)) return undefined;
    const state = new RunState(file);
    try {
      state.state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
    } catch {
      fs.rmSync(file, { force: true });
      return undefined;
    }
    return state;
  }
}
