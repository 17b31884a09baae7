import { ReplyTracker } from '../../src/agent/reply-tracker';
import { createLogger } from '../../src/log/logger';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';

const JSON_TOPIC = '$aws/things/T/defender/metrics/json';
const CBOR_TOPIC = '$aws/things/T/defender/metrics/cbor';

async function tracker() {
  const clock = new FakeClock();
  const nucleus = new FakeNucleus();
  const connection = await nucleus.connect();
  const lines: string[] = [];
  const part = new ReplyTracker({
    componentName: 'com.example.Agent',
    clock,
    logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
  });
  return { part, clock, nucleus, connection, lines };
}

describe('ReplyTracker', () => {
  it('settles a reply that came before the publish resolved, logged once the publish is, with the time it came', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    expect(h.part.expect(42, JSON_TOPIC)).toBe(true);
    await h.clock.advance(35);
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { reportId: 42, status: 'ACCEPTED' });
    expect(h.lines.filter((l) => l.includes('ACCEPTED'))).toEqual([]);
    await h.clock.advance(10);
    h.lines.push('report 42 published');
    h.part.published(42);
    expect(h.lines.filter((l) => /report 42 (published|ACCEPTED by Device Defender after 35 ms)$/.test(l))).toEqual([
      'report 42 published',
      expect.stringMatching(/report 42 ACCEPTED by Device Defender after 35 ms$/),
    ]);
    h.part.expire(0);
    expect(h.part.unansweredCount).toBe(0);
  });

  it('logs an early reply when the publish then times out or fails, since it shows the report went out', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    h.part.expect(1, JSON_TOPIC);
    h.part.expect(2, JSON_TOPIC);
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { reportId: 1, status: 'ACCEPTED' });
    h.nucleus.reply(`${JSON_TOPIC}/rejected`, { reportId: 2, status: 'REJECTED', statusDetails: { ErrorCode: 'Malformed' } });
    expect(h.lines.filter((l) => /ACCEPTED|REJECTED/.test(l))).toEqual([]);
    h.part.publishTimedOut(1);
    h.part.drop(2);
    expect(h.lines.filter((l) => /report 1 ACCEPTED|report 2 REJECTED/.test(l))).toHaveLength(2);
    expect(h.part.awaitedCount).toBe(0);
  });

  it('keeps the topics of an earlier format until their last report is answered or expires', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    h.part.expect(1, JSON_TOPIC);
    await h.part.follow(h.connection, 'T', 'cbor');
    expect([...h.nucleus.subscriptions.keys()]).toHaveLength(4);
    await h.clock.advance(60_000);
    h.part.expire(60_000);
    await h.clock.advance(0);
    expect([...h.nucleus.subscriptions.keys()].sort()).toEqual([`${CBOR_TOPIC}/accepted`, `${CBOR_TOPIC}/rejected`]);
    expect(h.lines.filter((l) => /report 1 got no reply from Device Defender within 60 s \(1 without reply so far\)/.test(l))).toHaveLength(
      1,
    );
  });

  it('awaits nothing while a reply topic is denied, and explains the denial once', async () => {
    const h = await tracker();
    h.nucleus.deniedTopics.add(`${JSON_TOPIC}/rejected`);
    for (let i = 0; i < 3; i += 1) await h.part.follow(h.connection, 'T', 'json');
    expect(h.part.expect(7, JSON_TOPIC)).toBe(false);
    expect(h.lines.filter((l) => l.includes('was denied'))).toHaveLength(1);
    h.nucleus.deniedTopics.clear();
    await h.part.follow(h.connection, 'T', 'json');
    expect(h.part.expect(8, JSON_TOPIC)).toBe(true);
  });

  it('forgets a report whose publish failed', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    h.part.expect(5, JSON_TOPIC);
    h.part.drop(5);
    await h.clock.advance(120_000);
    h.part.expire(60_000);
    expect(h.part.unansweredCount).toBe(0);
  });

  it('subscribes each topic once when asked twice at the same time (a configuration change during a cycle)', async () => {
    const h = await tracker();
    let calls = 0;
    const subscribe = h.connection.subscribeToIoTCore.bind(h.connection);
    h.connection.subscribeToIoTCore = (topic, onMessage) => {
      calls += 1;
      return subscribe(topic, onMessage);
    };
    await Promise.all([h.part.follow(h.connection, 'T', 'json'), h.part.follow(h.connection, 'T', 'json')]);
    expect(calls).toBe(2);
  });

  it('renews a reply subscription the nucleus ended, logs it, and logs the replies after that', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    h.nucleus.endSubscription(`${JSON_TOPIC}/accepted`);
    await h.clock.advance(0);
    expect(
      h.lines.filter((l) => l.includes(`WARN  the nucleus ended the subscription to ${JSON_TOPIC}/accepted (terminated by the server)`)),
    ).toEqual([expect.stringMatching(/subscribing again now$/)]);
    expect(
      h.lines.filter((l) => l.includes(`INFO  subscribed to ${JSON_TOPIC}/accepted again: report outcomes are logged again`)),
    ).toHaveLength(1);
    expect(h.part.expect(9, JSON_TOPIC)).toBe(true);
    h.part.published(9);
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { reportId: 9 });
    expect(h.lines.filter((l) => /report 9 ACCEPTED by Device Defender/.test(l))).toHaveLength(1);
  });

  it('renews a subscription the nucleus keeps ending at most once per report cycle, then before the next report', async () => {
    const h = await tracker();
    await h.part.follow(h.connection, 'T', 'json');
    for (let i = 0; i < 5; i += 1) {
      h.nucleus.endSubscription(`${JSON_TOPIC}/rejected`);
      await h.clock.advance(0);
    }
    expect(h.nucleus.subscriptions.has(`${JSON_TOPIC}/rejected`)).toBe(false);
    expect(h.part.isListening(JSON_TOPIC)).toBe(false);
    expect(h.lines.filter((l) => /it ended again since the last report, so it is renewed at the next report$/.test(l))).toHaveLength(1);
    h.part.expire(60_000);
    await h.part.follow(h.connection, 'T', 'json');
    expect(h.part.isListening(JSON_TOPIC)).toBe(true);
  });
});
