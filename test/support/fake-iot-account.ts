/**
 * A fake AWS IoT account for the isolation function: things with attributes, thing groups, named shadows with
 * versions. Used directly (as the function's IsolationAws) and over HTTP on loopback, where it answers the REST
 * requests the AWS SDK sends for DescribeThing, AddThingToThingGroup, GetThingShadow and UpdateThingShadow, after
 * checking each against the vendored AWS models.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IsolationAws } from '../../cloud/isolation/isolate';
import { readShadowDocument, recordDocument } from '../../cloud/isolation/shadow';
import { validateRequest } from './aws-model-validator';

interface StoredShadow {
  reported: Record<string, unknown>;
  version: number;
}

export class FakeIotAccount {
  readonly things = new Map<string, Record<string, string>>();
  readonly groups = new Map<string, Set<string>>();
  readonly shadows = new Map<string, StoredShadow>();
  /** Every operation received, in order: `Operation thing`. */
  readonly calls: string[] = [];
  /** Requests that violated the AWS models (HTTP front only). */
  readonly modelViolations: string[] = [];
  /** Shadow writes to answer with a version conflict before accepting, as a concurrent writer would cause. */
  conflictsToInject = 0;

  constructor(things: Record<string, Record<string, string>>, groups: string[]) {
    for (const [name, attributes] of Object.entries(things)) this.things.set(name, { ...attributes });
    for (const group of groups) this.groups.set(group, new Set());
  }

  membersOf(group: string): string[] {
    return [...(this.groups.get(group) ?? [])].sort();
  }

  shadow(thing: string, name: string): StoredShadow | undefined {
    return this.shadows.get(`${thing}/${name}`);
  }

  private describeThing(thing: string): Record<string, string> | undefined {
    this.calls.push(`DescribeThing ${thing}`);
    return this.things.get(thing);
  }

  private addToGroup(thing: string, group: string): 'ok' | 'no-thing' | 'no-group' {
    this.calls.push(`AddThingToThingGroup ${thing}`);
    const members = this.groups.get(group);
    if (!members) return 'no-group';
    if (!this.things.has(thing)) return 'no-thing';
    members.add(thing);
    return 'ok';
  }

  private getShadow(thing: string, name: string, recorded = true): string | undefined {
    if (recorded) this.calls.push(`GetThingShadow ${thing}`);
    const stored = this.shadow(thing, name);
    return stored ? JSON.stringify({ state: { reported: stored.reported }, version: stored.version }) : undefined;
  }

  /** The shadow service's merge: a null removes a key; a stale `version` is a conflict. */
  private updateShadow(thing: string, name: string, document: string): 'ok' | 'conflict' {
    this.calls.push(`UpdateThingShadow ${thing}`);
    const parsed = JSON.parse(document) as { state?: { reported?: Record<string, unknown> }; version?: number };
    const key = `${thing}/${name}`;
    const stored = this.shadows.get(key);
    if (this.conflictsToInject > 0) {
      this.conflictsToInject -= 1;
      this.shadows.set(key, { reported: stored?.reported ?? {}, version: (stored?.version ?? 0) + 1 });
      return 'conflict';
    }
    if (parsed.version !== undefined && parsed.version !== (stored?.version ?? 0)) return 'conflict';
    const reported = { ...stored?.reported };
    for (const [k, v] of Object.entries(parsed.state?.reported ?? {})) {
      if (v === null) delete reported[k];
      else reported[k] = v;
    }
    this.shadows.set(key, { reported, version: (stored?.version ?? 0) + 1 });
    return 'ok';
  }

  /** The account as the function's own interface sees it (no HTTP, no SDK). */
  isolationAws(): IsolationAws {
    return {
      describeThing: async (thing) => {
        const attributes = this.describeThing(thing);
        return attributes ? { attributes: { ...attributes } } : undefined;
      },
      addToGroup: async (thing, group) => {
        const result = this.addToGroup(thing, group);
        if (result !== 'ok') throw new Error(`AddThingToThingGroup: ${result}`);
      },
      readShadow: async (thing, name) => {
        const document = this.getShadow(thing, name);
        return readShadowDocument(document === undefined ? undefined : Buffer.from(document));
      },
      writeShadow: async (thing, name, record, version) => this.updateShadow(thing, name, recordDocument(record, version)) === 'ok',
    };
  }

  /** Serves the REST API on 127.0.0.1; point the SDK at it with AWS_ENDPOINT_URL_IOT and AWS_ENDPOINT_URL_IOT_DATA_PLANE. */
  async serve(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const url = new URL(request.url ?? '/', 'http://fake');
        const answer = (status: number, payload: unknown, errorType?: string): void => {
          response.writeHead(status, {
            'content-type': 'application/json',
            ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
          });
          response.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
        };
        const check = (service: 'iot' | 'iot-data', operation: string, input: unknown): void => {
          for (const problem of validateRequest(service, operation, input)) this.modelViolations.push(`${service} ${problem}`);
        };
        const thingPath = /^\/things\/([^/]+)(\/shadow)?$/.exec(url.pathname);
        const thing = thingPath ? decodeURIComponent(thingPath[1]!) : '';
        if (request.method === 'GET' && thingPath && !thingPath[2]) {
          check('iot', 'DescribeThing', { thingName: thing });
          const attributes = this.describeThing(thing);
          if (!attributes) return answer(404, { message: `Thing ${thing} cannot be found.` }, 'ResourceNotFoundException');
          return answer(200, { thingName: thing, attributes, version: 1 });
        }
        if (request.method === 'PUT' && url.pathname === '/thing-groups/addThingToThingGroup') {
          const input = JSON.parse(body) as { thingName: string; thingGroupName: string };
          check('iot', 'AddThingToThingGroup', input);
          const result = this.addToGroup(input.thingName, input.thingGroupName);
          if (result !== 'ok') return answer(404, { message: result }, 'ResourceNotFoundException');
          return answer(200, {});
        }
        const shadowName = url.searchParams.get('name') ?? '';
        if (request.method === 'GET' && thingPath?.[2]) {
          check('iot-data', 'GetThingShadow', { thingName: thing, shadowName });
          const document = this.getShadow(thing, shadowName);
          if (document === undefined) return answer(404, { message: 'No shadow exists with name' }, 'ResourceNotFoundException');
          return answer(200, document);
        }
        if (request.method === 'POST' && thingPath?.[2]) {
          check('iot-data', 'UpdateThingShadow', { thingName: thing, shadowName, payload: Buffer.from(body) });
          const result = this.updateShadow(thing, shadowName, body);
          if (result === 'conflict') return answer(409, { message: 'Version conflict' }, 'ConflictException');
          return answer(200, this.getShadow(thing, shadowName, false) ?? '{}');
        }
        return answer(400, { message: `the fake does not serve ${request.method} ${url.pathname}` }, 'InvalidRequestException');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
