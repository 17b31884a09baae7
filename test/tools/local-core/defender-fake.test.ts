import { decode } from 'cbor-x';
import { encodeReport } from '../../../src/report/encode';
import { DefenderFake, parseDefenderReportTopic } from '../../../tools/local-core/defender-fake';

const JSON_TOPIC = '$aws/things/T1/defender/metrics/json';
const CBOR_TOPIC = '$aws/things/T1/defender/metrics/cbor';
const validReport = { header: { report_id: 1700000000, version: '1.0' }, metrics: {} };

function fake(clock = { now: 1_000_000 }) {
  return { clock, defender: new DefenderFake({ minIntervalMs: 300_000, now: () => clock.now }) };
}

describe('DefenderFake', () => {
  it('recognises only the two report topics', () => {
    expect(parseDefenderReportTopic(JSON_TOPIC)).toEqual({ thingName: 'T1', format: 'json' });
    expect(parseDefenderReportTopic(`${JSON_TOPIC}/accepted`)).toBeUndefined();
    expect(parseDefenderReportTopic('$aws/things/T1/defender/metrics/xml')).toBeUndefined();
    expect(fake().defender.handle('a/b', Buffer.from('{}'))).toBeUndefined();
  });

  it('accepts a valid JSON report and echoes its reportId on /accepted', () => {
    const payload = encodeReport(validReport, 'json');
    const outcome = fake().defender.handle(JSON_TOPIC, payload)!;
    expect(outcome).toMatchObject({
      status: 'ACCEPTED',
      errors: [],
      tooSoon: false,
      reportId: 1700000000,
      bytes: payload.length,
      thingName: 'T1',
      format: 'json',
    });
    expect(outcome.reply.topic).toBe(`${JSON_TOPIC}/accepted`);
    expect(JSON.parse(outcome.reply.payload.toString())).toEqual({
      thingName: 'T1',
      reportId: 1700000000,
      status: 'ACCEPTED',
      timestamp: 1_000_000,
    });
  });

  it('rejects a malformed report with InvalidPayload and quotes the first errors', () => {
    const outcome = fake().defender.handle(JSON_TOPIC, Buffer.from(JSON.stringify({ header: { report_id: -1, version: '1.0' } })))!;
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.errors.length).toBeGreaterThan(0);
    expect(outcome.reply.topic).toBe(`${JSON_TOPIC}/rejected`);
    const reply = JSON.parse(outcome.reply.payload.toString());
    expect(reply).toMatchObject({ thingName: 'T1', reportId: -1, status: 'REJECTED', statusDetails: { ErrorCode: 'InvalidPayload' } });
    expect(reply.statusDetails.ErrorMessage).toBe(`Malformed metrics report: ${outcome.errors.slice(0, 3).join('; ')}`);
  });

  it('rejects a payload that does not decode, without a reportId', () => {
    const outcome = fake().defender.handle(JSON_TOPIC, Buffer.from('{"header":'))!;
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reportId).toBeUndefined();
    expect(JSON.parse(outcome.reply.payload.toString()).reportId).toBeUndefined();
  });

  it('throttles a second valid report inside the interval, per thing, until the interval has passed', () => {
    const { clock, defender } = fake();
    const payload = encodeReport(validReport, 'json');
    expect(defender.handle(JSON_TOPIC, payload)!.status).toBe('ACCEPTED');
    clock.now += 299_999;
    const throttled = defender.handle(JSON_TOPIC, payload)!;
    expect(throttled).toMatchObject({ status: 'REJECTED', tooSoon: true, errors: [] });
    expect(JSON.parse(throttled.reply.payload.toString()).statusDetails.ErrorCode).toBe('Throttled');
    expect(defender.handle('$aws/things/T2/defender/metrics/json', payload)!.status).toBe('ACCEPTED');
    clock.now += 1;
    expect(defender.handle(JSON_TOPIC, payload)!).toMatchObject({ status: 'ACCEPTED', tooSoon: false });
  });

  it('answers a CBOR report with a plain CBOR map, short names included', () => {
    const shortReport = { hed: { rid: 42, v: '1.0' }, met: {} };
    const outcome = fake().defender.handle(CBOR_TOPIC, encodeReport(shortReport, 'cbor'))!;
    expect(outcome.status).toBe('ACCEPTED');
    expect(outcome.reply.topic).toBe(`${CBOR_TOPIC}/accepted`);
    expect(decode(outcome.reply.payload)).toEqual({ thingName: 'T1', reportId: 42, status: 'ACCEPTED', timestamp: 1_000_000 });
  });
});
