import { encode as encodeCbor } from 'cbor-x';
import { parseDefenderReply } from '../../src/agent/replies';

const base = '$aws/things/T/defender/metrics';

describe('parseDefenderReply', () => {
  it('reads an accepted JSON reply with its report id', () => {
    const payload = Buffer.from(JSON.stringify({ thingName: 'T', reportId: 1763812345, status: 'ACCEPTED', timestamp: 1 }));
    expect(parseDefenderReply(payload, `${base}/json/accepted`)).toEqual({ status: 'ACCEPTED', reportId: 1763812345 });
  });

  it('reads the documented rejected reply, which may lack a report id', () => {
    const payload = Buffer.from(
      '{"thingName":"myThing","status":"REJECTED","statusDetails":{"ErrorCode":"InvalidPayload","ErrorMessage":"Malformed metrics report"},"timestamp":1635802047699}',
    );
    expect(parseDefenderReply(payload, `${base}/json/rejected`)).toEqual({
      status: 'REJECTED',
      errorCode: 'InvalidPayload',
      errorMessage: 'Malformed metrics report',
    });
  });

  it('decodes CBOR replies on the cbor topics', () => {
    const payload = encodeCbor({ reportId: 7, status: 'REJECTED', statusDetails: { ErrorCode: 'Throttled', ErrorMessage: 'too often' } });
    expect(parseDefenderReply(Buffer.from(payload), `${base}/cbor/rejected`)).toEqual({
      status: 'REJECTED',
      reportId: 7,
      errorCode: 'Throttled',
      errorMessage: 'too often',
    });
  });

  it('says what is wrong with an unreadable reply instead of throwing', () => {
    expect(parseDefenderReply(Buffer.from('{nope'), `${base}/json/accepted`)).toEqual({
      unreadable: expect.stringContaining(`cannot decode reply on ${base}/json/accepted`),
    });
    expect(parseDefenderReply(Buffer.from('42'), `${base}/json/accepted`)).toEqual({
      unreadable: expect.stringContaining('not an object'),
    });
  });
});
