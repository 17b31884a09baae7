import { AlarmPublisher, fitEvent, type OutboxEntry, type ViolationEvent } from '../../src/detect/alarms';
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes } from '../../src/ipc/frame-size';
import { frameLimited } from '../../src/ipc/frame-limit';
import { createLogger } from '../../src/log/logger';
import { FakeNucleus } from '../support/fake-ipc';

const address = (i: number) => `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::${i.toString(16)}:1`;

/** An alarm whose measured value and criteria carry long lists: 100 IPv6 peers, a behavior with 500 CIDRs. */
function bigEvent(): ViolationEvent {
  return {
    violationId: 'v-1',
    thingName: 'Core1',
    securityProfileName: 'defender-agent-edge',
    behavior: {
      name: 'known-peers',
      metric: 'aws:destination-ip-addresses',
      criteria: {
        comparisonOperator: 'in-cidr-set',
        value: { cidrs: Array.from({ length: 500 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`) },
      },
    },
    metricValue: { cidrs: Array.from({ length: 100 }, (_, i) => address(i)) },
    violationEventType: 'in-alarm',
    violationEventTime: 1,
  };
}

describe('fitEvent', () => {
  it('keeps an event that fits as it is, and cuts the lists of one that does not, first elements kept and marked', () => {
    const event = bigEvent();
    expect(fitEvent(event, undefined)).toEqual({ payload: Buffer.from(JSON.stringify(event)), trimmed: false });
    const fitted = fitEvent(event, 7_000)!;
    expect(fitted.trimmed).toBe(true);
    expect(fitted.payload.length).toBeLessThanOrEqual(7_000);
    const sent = JSON.parse(fitted.payload.toString('utf8')) as ViolationEvent & { listsTrimmed: boolean };
    expect(sent.listsTrimmed).toBe(true);
    expect(sent.metricValue.cidrs!.length).toBeGreaterThan(0);
    expect(sent.metricValue.cidrs).toEqual(event.metricValue.cidrs!.slice(0, sent.metricValue.cidrs!.length));
    expect(sent.violationId).toBe('v-1');
    expect(event.metricValue.cidrs).toHaveLength(100);
  });

  it('writes counts beyond 2^53 as their exact integers, whole or cut to fit', () => {
    const event: ViolationEvent = {
      ...bigEvent(),
      behavior: {
        name: 'out',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'less-than', value: { count: 2n ** 63n - 1n } },
      },
      metricValue: { count: 2n ** 63n + 1n },
    };
    const whole = fitEvent(event, undefined)!.payload.toString('utf8');
    expect(whole).toContain('"value":{"count":9223372036854775807}');
    expect(whole).toContain('"metricValue":{"count":9223372036854775809}');
    const listed = {
      ...bigEvent(),
      metricValue: { cidrs: bigEvent().metricValue.cidrs!, count: 2n ** 63n + 1n } as ViolationEvent['metricValue'],
    };
    const cut = fitEvent(listed, 7_000)!;
    expect(cut.trimmed).toBe(true);
    expect(cut.payload.toString('utf8')).toContain('"count":9223372036854775809');
  });

  it('is undefined when not even empty lists fit', () => {
    expect(fitEvent(bigEvent(), 100)).toBeUndefined();
  });
});

describe('AlarmPublisher on nucleus lite', () => {
  it('sends a large alarm to AWS IoT Core and to local pub/sub within the 10,000-byte message, without losing the connection', async () => {
    const nucleus = new FakeNucleus();
    nucleus.frameLimit = LITE_IPC_FRAME_LIMIT_BYTES;
    const connection = await frameLimited(nucleus, () => LITE_IPC_FRAME_LIMIT_BYTES).connect();
    const lines: string[] = [];
    const publisher = new AlarmPublisher({
      connection: () => connection,
      componentName: 'com.example.Agent',
      logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
      frameLimit: () => LITE_IPC_FRAME_LIMIT_BYTES,
    });
    const outbox: OutboxEntry[] = [{ event: bigEvent(), cloudTopic: 'defender-agent/Core1/alarms', localTopic: 'defender-agent/alarms' }];
    await publisher.flush(outbox);
    expect(outbox).toEqual([]);
    expect(nucleus.oversizedFrames).toBe(0);
    expect(nucleus.connected).toBe(true);
    const [cloud] = nucleus.published;
    const [local] = nucleus.localPublished;
    expect(cloud!.payload.length).toBeLessThanOrEqual(
      maxPayloadBytes('PublishToIoTCore', 'defender-agent/Core1/alarms', LITE_IPC_FRAME_LIMIT_BYTES),
    );
    expect(local!.payload.length).toBeLessThanOrEqual(
      maxPayloadBytes('PublishToTopic', 'defender-agent/alarms', LITE_IPC_FRAME_LIMIT_BYTES),
    );
    expect(lines.filter((l) => /WARN .*alarm v-1 to .*lists were cut to fit the nucleus's 10000-byte IPC message/.test(l))).toHaveLength(2);
  });

  it('without fitting, the same alarm would close the connection (the model is not vacuous)', async () => {
    const nucleus = new FakeNucleus();
    nucleus.frameLimit = LITE_IPC_FRAME_LIMIT_BYTES;
    const connection = await nucleus.connect();
    await expect(connection.publishToIoTCore('defender-agent/Core1/alarms', Buffer.from(JSON.stringify(bigEvent())), '1')).rejects.toThrow(
      /connection to the nucleus closed/,
    );
    expect(nucleus.oversizedFrames).toBe(1);
  });
});
