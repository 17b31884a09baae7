/**
 * When Device Defender last accepted a report from each thing. The service remembers this across a device's restarts,
 * so a fake that forgot it on restart would let a too-soon report after a core restart through; the file keeps it.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ThrottleMemory {
  lastAcceptedAt(thingName: string): number | undefined;
  remember(thingName: string, acceptedAt: number): void;
}

export class InMemoryThrottle implements ThrottleMemory {
  private readonly times = new Map<string, number>();

  lastAcceptedAt(thingName: string): number | undefined {
    return this.times.get(thingName);
  }

  remember(thingName: string, acceptedAt: number): void {
    this.times.set(thingName, acceptedAt);
  }
}

/** The file name under the core's root directory. */
export const THROTTLE_FILE = 'defender-throttle.json';

/**
 * A JSON object thing name -> epoch milliseconds, rewritten whole (temp file + rename) on every accepted report. A file
 * that does not parse is treated as a fault of the core's own state: it is reported, not silently forgotten.
 */
export class FileThrottle implements ThrottleMemory {
  private readonly times = new Map<string, number>();
  readonly file: string;

  constructor(rootDir: string) {
    this.file = path.join(rootDir, THROTTLE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${this.file}: not a JSON object`);
    for (const [thing, at] of Object.entries(parsed)) {
      if (typeof at !== 'number' || !Number.isFinite(at)) throw new Error(`${this.file}: ${thing} has no valid time`);
      this.times.set(thing, at);
    }
  }

  lastAcceptedAt(thingName: string): number | undefined {
    return this.times.get(thingName);
  }

  remember(thingName: string, acceptedAt: number): void {
    this.times.set(thingName, acceptedAt);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.times)));
    fs.renameSync(temporary, this.file);
  }
}
