import { ConnectionSupervisor } from '../../src/agent/connection-supervisor';
import { type IpcConnection, IpcError } from '../../src/ipc/ipc';
import { createLogger } from '../../src/log/logger';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';

function supervisor(setup: (connection: IpcConnection) => Promise<void>) {
  const clock = new FakeClock();
  const nucleus = new FakeNucleus();
  const lines: string[] = [];
  let lost = 0;
  const part = new ConnectionSupervisor({
    connector: nucleus,
    clock,
    logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
    random: () => 0.5,
    setup,
    onLost: () => {
      lost += 1;
    },
  });
  return { part, clock, nucleus, lines, lost: () => lost };
}

describe('ConnectionSupervisor', () => {
  it('offers the connection only once its setup is done', async () => {
    let finishSetup!: () => void;
    const h = supervisor(() => new Promise<void>((resolve) => (finishSetup = resolve)));
    const started = h.part.start();
    await h.clock.advance(0);
    expect(h.part.connection).toBeUndefined();
    finishSetup();
    await started;
    expect(h.part.connection).toBeDefined();
    await h.part.stop();
  });

  it('backs off on failing setups as on refused connects, and names the failure', async () => {
    let failures = 4;
    const h = supervisor(async () => {
      if (failures-- > 0) throw new Error('SubscribeToConfigurationUpdate failed: ServiceError');
    });
    await h.part.start();
    await h.clock.advance(12_000);
    // 0 s, +0.75, +1.25, +2.25, +4.25: 5 tries in 8.5 s, then connected for good.
    expect(h.nucleus.connects).toBe(5);
    expect(h.part.connection).toBeDefined();
    expect(
      h.lines.filter((l) => /connected, but setting up failed \(attempt \d\): SubscribeToConfigurationUpdate failed/.test(l)),
    ).toHaveLength(4);
    expect(h.lines.filter((l) => /connected to the Greengrass nucleus after 4 failed attempt\(s\)/.test(l))).toHaveLength(1);
    await h.part.stop();
  });

  it('on a drop: tells the parts, logs the reason, reconnects; after stop it does not', async () => {
    const h = supervisor(async () => undefined);
    await h.part.start();
    h.nucleus.dropConnection();
    expect(h.lost()).toBe(1);
    expect(h.lines.filter((l) => /lost the connection to the Greengrass nucleus \(socket closed\)/.test(l))).toHaveLength(1);
    await h.clock.advance(1_000);
    expect(h.part.connection).toBeDefined();
    await h.part.stop();
    expect(h.nucleus.connected).toBe(false);
    await h.clock.advance(60_000);
    expect(h.nucleus.connects).toBe(2);
  });

  it('drops a connection that stays open but answers neither a call nor the liveness check, and reconnects', async () => {
    const h = supervisor(async () => undefined);
    await h.part.start();
    h.nucleus.silent = true;
    await expect(h.part.connection!.publishToIoTCore('t', Buffer.from('{}'), '1')).rejects.toMatchObject({ kind: 'timeout' });
    await h.clock.advance(0);
    expect(h.lost()).toBe(1);
    expect(h.part.connection).toBeUndefined();
    expect(
      h.lines.filter((l) =>
        /WARN {2}lost the connection to the Greengrass nucleus \(the nucleus answered neither PublishToIoTCore nor a liveness check within their deadlines: the connection is open but dead\); reconnecting/.test(
          l,
        ),
      ),
    ).toHaveLength(1);
    h.nucleus.silent = false;
    await h.clock.advance(1_000);
    expect(h.nucleus.connects).toBe(2);
    expect(h.part.connection).toBeDefined();
    await h.part.stop();
  });

  it('keeps a connection whose nucleus answers the liveness check after a call timed out (a slow publish)', async () => {
    const h = supervisor(async () => undefined);
    await h.part.start();
    h.nucleus.onPublish = () => {
      throw new IpcError('timeout', 'PublishToIoTCore', 'PublishToIoTCore got no answer within 10000 ms');
    };
    for (let i = 0; i < 3; i += 1)
      await expect(h.part.connection!.publishToIoTCore('t', Buffer.from('{}'), '1')).rejects.toMatchObject({ kind: 'timeout' });
    await h.clock.advance(60_000);
    expect(h.lost()).toBe(0);
    expect(h.nucleus.connects).toBe(1);
    expect(h.part.connection).toBeDefined();
    await h.part.stop();
  });
});
