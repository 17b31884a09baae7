/** What the local core tells its user (npm start, the tests), and the request shape its handlers share. */
import type { DefenderOutcome } from './defender-fake';
import type { RpcStream } from './rpc-connection';

export type DefenderReportEvent = Omit<DefenderOutcome, 'reply'> & { component: string };

export type LocalCoreEvents = {
  connect: [{ component: string }];
  disconnect: [{ component: string }];
  publish: [{ component: string; topic: string; qos: string; payload: Buffer }];
  /** A message on local publish/subscribe (PublishToTopic). */
  'local-publish': [{ component: string; topic: string; payload: Buffer }];
  subscribe: [{ component: string; topic: string }];
  denied: [{ component: string; operation: string; resource: string }];
  'defender-report': [DefenderReportEvent];
  state: [{ component: string; state: string }];
  'config-validation': [{ component: string; deploymentId: string; status: string; message?: string }];
  /** The component's accessControl did not parse, so the nucleus would deny all its calls. */
  'access-control-error': [{ component: string; problem: string }];
  /** Lite mode: a frame above nucleus lite's IPC buffer closed the client's connection. */
  'frame-too-large': [{ component: string | undefined; bytes: number }];
};

export type EmitEvent = <K extends keyof LocalCoreEvents>(event: K, ...args: LocalCoreEvents[K]) => void;

/** An operation's request body: always a JSON object. */
export type Request = Record<string, unknown>;

/** Returns the response body; throws ModeledError for a modeled failure. */
export type OperationHandler = (stream: RpcStream, request: Request) => unknown;

export function stringField(request: Request, name: string): string | undefined {
  const value = request[name];
  return typeof value === 'string' ? value : undefined;
}

export function keyPathField(request: Request): string[] {
  const value = request.keyPath;
  return Array.isArray(value) ? value.map(String) : [];
}
