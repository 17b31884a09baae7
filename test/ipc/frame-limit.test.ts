import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes } from '../../src/ipc/frame-size';
import { frameLimited } from '../../src/ipc/frame-limit';
import { FakeNucleus } from '../support/fake-ipc';

describe('frameLimited', () => {
  it('refuses a publish above the limit with the reason, keeps the connection, and passes the rest through', async () => {
    const nucleus = new FakeNucleus();
    nucleus.frameLimit = LITE_IPC_FRAME_LIMIT_BYTES;
    let limit: number | undefined = LITE_IPC_FRAME_LIMIT_BYTES;
    const connection = await frameLimited(nucleus, () => limit).connect();
    const most = maxPayloadBytes('PublishToIoTCore', 't', LITE_IPC_FRAME_LIMIT_BYTES);
    await connection.publishToIoTCore('t', Buffer.alloc(most), '1');
    await expect(connection.publishToIoTCore('t', Buffer.alloc(most + 1), '1')).rejects.toThrow(
      /PublishToIoTCore not sent: its IPC frame would be 10\d\d\d bytes .*above the nucleus's 10000-byte message limit/,
    );
    await expect(connection.publishToTopic!('t', Buffer.alloc(20_000))).rejects.toThrow(/PublishToTopic not sent/);
    expect(nucleus.published).toHaveLength(1);
    expect(nucleus.connected).toBe(true);
    limit = undefined;
    nucleus.frameLimit = undefined;
    await connection.publishToIoTCore('t', Buffer.alloc(most + 1), '1');
    expect(nucleus.published).toHaveLength(2);
  });
});
