/**
 * Shared scaffolding for local-core tests that drive the real SDK client. The SDK loads aws-crt's native event loop,
 * which keeps a jest worker alive: tests that need only raw frames import wire-harness.ts instead.
 */
import { cancel } from 'aws-crt';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { DEADLINE_MS, withDeadline } from './wire-harness';

export * from './wire-harness';

function createSdkClient(socketPath: string, authToken: string | undefined): greengrasscoreipc.Client {
  return greengrasscoreipc.createClient({
    ...greengrasscoreipc.createDefaultClientConfig(),
    hostName: socketPath,
    // Like the SDK's default transform: no token, no payload key (an explicit `payload: undefined` crashes in aws-crt's N-API layer).
    connectTransform: async (args) =>
      authToken === undefined ? args.message : { ...args.message, payload: JSON.stringify({ authToken }) },
  });
}

/** Tracks every client a test opens so afterEach can close them all. */
export class ClientPool {
  private readonly clients: greengrasscoreipc.Client[] = [];

  async connect(socketPath: string, authToken: string | undefined): Promise<greengrasscoreipc.Client> {
    const client = createSdkClient(socketPath, authToken);
    this.clients.push(client);
    await withDeadline(client.connect(), 'connect');
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.close().catch(() => undefined)));
  }
}

/** Runs one SDK operation with a cancel controller, so a silent server fails the test instead of hanging it. */
export async function call<T>(run: (options: { cancelController: cancel.CancelController }) => Promise<T>, ms = DEADLINE_MS): Promise<T> {
  const cancelController = new cancel.CancelController();
  const timer = setTimeout(() => cancelController.cancel(), ms);
  try {
    return await run({ cancelController });
  } finally {
    clearTimeout(timer);
  }
}
