import { MODELED_ERRORS, serviceErrorText } from '../../src/ipc/ipc';

/** The service model the SDK client is generated from: what it can read of each operation's errors. */
function sdkErrorShapes(operation: string): string[] {
  const { makeServiceModel } = require('aws-iot-device-sdk-v2/dist/greengrasscoreipc/model_utils.js') as {
    makeServiceModel: () => { operations: Map<string, { errorShapes: Set<string> }> };
  };
  const shapes = makeServiceModel().operations.get(`aws.greengrass#${operation}`)?.errorShapes ?? new Set<string>();
  return [...shapes].map((shape) => shape.replace('aws.greengrass#', '')).sort();
}

describe('MODELED_ERRORS', () => {
  it.each(Object.keys(MODELED_ERRORS))("lists exactly the errors the SDK's service model has for %s", (operation) => {
    expect([...MODELED_ERRORS[operation]!].sort()).toEqual(sdkErrorShapes(operation));
  });
});

describe('serviceErrorText', () => {
  it("words a listed error with the nucleus's message and an unlisted one by its code alone", () => {
    expect(serviceErrorText('GetConfiguration', 'ResourceNotFoundError', 'Key not found')).toBe(
      'GetConfiguration failed: ResourceNotFoundError: Key not found',
    );
    expect(serviceErrorText('PublishToIoTCore', 'InvalidArgumentsError', 'Invalid QoS value: 2')).toBe(
      "PublishToIoTCore failed: InvalidArgumentsError (an error PublishToIoTCore's service model does not list; the SDK client cannot read its message)",
    );
  });
});
