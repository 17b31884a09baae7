import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInvocation } from '../../../cloud/isolation/events';
import { type IsolationSettings, isolate, RELEASED_AT_ATTRIBUTE } from '../../../cloud/isolation/isolate';
import { FakeIotAccount } from '../../support/fake-iot-account';

const GROUP = 'defender-quarantine';
const SHADOW = 'defender-quarantine';
const ALL: IsolationSettings = { groupName: GROUP, shadowName: SHADOW, behaviors: undefined };
const NOW = Date.parse('2026-12-01T10:00:05Z');

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
}

function account(): FakeIotAccount {
  return new FakeIotAccount({ 'gw-0042': {}, Core1: {} }, [GROUP]);
}

async function deliver(event: unknown, fake: FakeIotAccount, settings = ALL): Promise<string[]> {
  const outcomes: string[] = [];
  for (const read of readInvocation(event)) outcomes.push((await isolate(read, settings, fake.isolationAws(), () => NOW)).outcome);
  return outcomes;
}

/** The SNS fixture with its alert's fields replaced. */
function snsAlert(changes: Record<string, unknown>): unknown {
  const event = fixture('sns-in-alarm.json') as { Records: { Sns: { Message: string } }[] };
  const alert = JSON.parse(event.Records[0]!.Sns.Message) as Record<string, unknown>;
  event.Records[0]!.Sns.Message = JSON.stringify({ ...alert, ...changes });
  return event;
}

describe('the isolation function on Device Defender SNS alerts', () => {
  it('in-alarm: adds the thing to the quarantine group and writes the named shadow with behavior, violation and time', async () => {
    const fake = account();
    expect(await deliver(fixture('sns-in-alarm.json'), fake)).toEqual(['isolated']);
    expect(fake.membersOf(GROUP)).toEqual(['gw-0042']);
    expect(fake.shadow('gw-0042', SHADOW)?.reported).toEqual({
      quarantined: true,
      quarantineGroup: GROUP,
      behavior: 'MaxBytesOut',
      violationId: '9f1c2e7a5b3d4c6e8f0a1b2c3d4e5f60',
      securityProfileName: 'edge-baseline',
      violationEventTime: 1796119200000,
      source: 'device-defender-sns',
      isolatedAt: NOW,
    });
  });

  it('alarm-cleared changes nothing, before or after an isolation', async () => {
    const fake = account();
    expect(await deliver(fixture('sns-alarm-cleared.json'), fake)).toEqual(['ignored']);
    expect(fake.calls).toEqual([]);
    await deliver(fixture('sns-in-alarm.json'), fake);
    const before = fake.shadow('gw-0042', SHADOW);
    const calls = fake.calls.length;
    expect(await deliver(fixture('sns-alarm-cleared.json'), fake)).toEqual(['ignored']);
    expect(fake.calls.length).toBe(calls);
    expect(fake.shadow('gw-0042', SHADOW)).toEqual(before);
    expect(fake.membersOf(GROUP)).toEqual(['gw-0042']);
  });

  it('a duplicate delivery (SNS retry, Lambda retry) writes nothing new', async () => {
    const fake = account();
    await deliver(fixture('sns-in-alarm.json'), fake);
    expect(await deliver(fixture('sns-in-alarm.json'), fake)).toEqual(['already-isolated']);
    expect(fake.shadow('gw-0042', SHADOW)?.version).toBe(1);
    expect(fake.calls.filter((call) => call.startsWith('UpdateThingShadow'))).toHaveLength(1);
  });

  it('out of order: two violations in either order leave the same record, the earliest', async () => {
    const early = snsAlert({ violationId: 'aaaa-early', violationEventTime: 1796119100000 });
    const late = snsAlert({ violationId: 'bbbb-late', violationEventTime: 1796119300000, behavior: { name: 'other' } });
    const inOrder = account();
    await deliver(early, inOrder);
    expect(await deliver(late, inOrder)).toEqual(['already-isolated']);
    const reversed = account();
    await deliver(late, reversed);
    expect(await deliver(early, reversed)).toEqual(['already-isolated']);
    expect(reversed.shadow('gw-0042', SHADOW)?.reported).toEqual({ ...inOrder.shadow('gw-0042', SHADOW)?.reported, isolatedAt: NOW });
    expect(reversed.shadow('gw-0042', SHADOW)?.reported).toMatchObject({ violationId: 'aaaa-early', behavior: 'MaxBytesOut' });
  });

  it('reads the API form of violationEventTime (epoch seconds, fractional) as milliseconds', async () => {
    const fake = account();
    await deliver(snsAlert({ violationEventTime: 1796119200.29 }), fake);
    expect(fake.shadow('gw-0042', SHADOW)?.reported.violationEventTime).toBe(1796119200290);
  });

  it('isolates only on the chosen behaviors', async () => {
    const fake = account();
    const chosen: IsolationSettings = { ...ALL, behaviors: new Set(['only-ssh-and-mqtt']) };
    expect(await deliver(fixture('sns-in-alarm.json'), fake, chosen)).toEqual(['ignored']);
    expect(fake.calls).toEqual([]);
    expect(await deliver(fixture('iot-rule-in-alarm.json'), fake, chosen)).toEqual(['isolated']);
  });

  it('refuses an unknown thing and writes nothing', async () => {
    const fake = account();
    expect(await deliver(snsAlert({ thingName: 'not-registered' }), fake)).toEqual(['refused']);
    expect(fake.calls).toEqual(['DescribeThing not-registered']);
    expect(fake.shadows.size).toBe(0);
  });

  it('ignores an alarm older than the last release, and isolates again on a newer one', async () => {
    const fake = account();
    fake.things.set('gw-0042', { [RELEASED_AT_ATTRIBUTE]: '1796119250000' });
    expect(await deliver(fixture('sns-in-alarm.json'), fake)).toEqual(['ignored']);
    expect(fake.membersOf(GROUP)).toEqual([]);
    expect(await deliver(snsAlert({ violationEventTime: 1796119260000 }), fake)).toEqual(['isolated']);
    expect(fake.membersOf(GROUP)).toEqual(['gw-0042']);
  });

  it('a concurrent shadow writer (version conflict) makes it read again and decide again', async () => {
    const fake = account();
    fake.conflictsToInject = 1;
    expect(await deliver(fixture('sns-in-alarm.json'), fake)).toEqual(['isolated']);
    expect(fake.calls.filter((call) => call.startsWith('UpdateThingShadow'))).toHaveLength(2);
    expect(fake.shadow('gw-0042', SHADOW)?.reported.violationId).toBe('9f1c2e7a5b3d4c6e8f0a1b2c3d4e5f60');
  });

  it('gives up after three conflicting writes with an error (Lambda retries a bounded number of times)', async () => {
    const fake = account();
    fake.conflictsToInject = 3;
    await expect(deliver(fixture('sns-in-alarm.json'), fake)).rejects.toThrow(/kept changing during 3 writes/);
  });
});

describe('the isolation function on edge alarms from the AWS IoT rule', () => {
  it('in-alarm isolates; alarm-cleared after it changes nothing', async () => {
    const fake = account();
    expect(await deliver(fixture('iot-rule-in-alarm.json'), fake)).toEqual(['isolated']);
    expect(fake.shadow('Core1', SHADOW)?.reported).toMatchObject({
      behavior: 'only-ssh-and-mqtt',
      violationId: '0b6f3c1e-8d2a-4f4b-9b7e-5a1c2d3e4f50',
      violationEventTime: 1796119200123,
      source: 'edge-alarm-rule',
    });
    const shadow = fake.shadow('Core1', SHADOW);
    expect(await deliver(fixture('iot-rule-alarm-cleared.json'), fake)).toEqual(['ignored']);
    expect(fake.shadow('Core1', SHADOW)).toEqual(shadow);
  });

  it('refuses an alarm whose thingName is not the thing of the topic it came on (a core naming another)', async () => {
    const fake = account();
    const forged = { ...(fixture('iot-rule-in-alarm.json') as object), thingName: 'gw-0042' };
    expect(await deliver(forged, fake)).toEqual(['refused']);
    expect(fake.calls).toEqual([]);
  });
});

describe('messages that cannot be acted on are refused with the reason, never thrown (no endless retries)', () => {
  it.each([
    ['an SNS message that is not JSON', { Records: [{ EventSource: 'aws:sns', Sns: { Message: 'hello {' } }] }, /SNS Message is not JSON/],
    ['a record from another service', { Records: [{ eventSource: 'aws:sqs', body: '{}' }] }, /not from SNS/],
    ['no Records', { Records: [] }, /no Records/],
    ['a string', 'in-alarm', /not a JSON object/],
    ['no violationId', { thingName: 'Core1', violationEventType: 'in-alarm' }, /no valid violationId/],
    [
      'a thing name AWS IoT cannot have',
      { violationId: 'a-1', thingName: 'bad name\n', violationEventType: 'in-alarm' },
      /no valid thingName: "bad name\\n"/,
    ],
    ['an unknown event type', snsMessage({ violationEventType: 'in-alarm ' }), /no valid violationEventType/],
    ['no behavior name', snsMessage({ behavior: {} }), /no valid behavior.name/],
    ['a time that is not a number', snsMessage({ violationEventTime: '2026-12-01' }), /no valid violationEventTime/],
  ])('%s', async (_what, event, reason) => {
    const fake = account();
    const reads = readInvocation(event);
    const decisions = await Promise.all(reads.map((read) => isolate(read, ALL, fake.isolationAws(), () => NOW)));
    expect(decisions.map((d) => d.outcome)).toEqual(['refused']);
    expect(decisions[0]!.line).toMatch(reason);
    expect(decisions[0]!.line).not.toMatch(/[\n\r]/);
    expect(fake.calls).toEqual([]);
  });
});

function snsMessage(changes: Record<string, unknown>): unknown {
  const alert = {
    violationId: 'a-1',
    thingName: 'gw-0042',
    behavior: { name: 'b' },
    violationEventType: 'in-alarm',
    violationEventTime: 1796119200000,
    ...changes,
  };
  return { Records: [{ EventSource: 'aws:sns', Sns: { Message: JSON.stringify(alert) } }] };
}
