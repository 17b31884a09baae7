import { CrtError } from 'aws-crt';
import { describeDisconnection } from '../../src/ipc/greengrass-ipc';

describe('describeDisconnection', () => {
  it('names the reason of the SDK disconnection event ({ reason: CrtError }), never [object Object]', () => {
    const text = describeDisconnection({ reason: new CrtError(1051) });
    expect(text).not.toContain('[object Object]');
    expect(text).toMatch(/AWS_IO_SOCKET_CLOSED|socket is closed/i);
  });

  it('says the connection closed when there is no reason, and shows a plain object as JSON', () => {
    expect(describeDisconnection(undefined)).toBe('connection closed');
    expect(describeDisconnection({ reason: undefined })).toBe('connection closed');
    expect(describeDisconnection({ reason: { errorCode: 7 } })).toBe('{"errorCode":7}');
  });
});
