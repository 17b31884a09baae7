/** IsolationAws with the AWS SDK: AWS IoT for the thing and its group, the IoT data plane for the named shadow. */
import { AddThingToThingGroupCommand, DescribeThingCommand, type IoTClient } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, type IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import type { IsolationAws } from './isolate';
import { readShadowDocument, recordDocument } from './shadow';

function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}

export function sdkIsolationAws(iot: IoTClient, iotData: IoTDataPlaneClient): IsolationAws {
  return {
    async describeThing(thingName) {
      try {
        const thing = await iot.send(new DescribeThingCommand({ thingName }));
        return { attributes: thing.attributes ?? {} };
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    async addToGroup(thingName, thingGroupName) {
      await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName, overrideDynamicGroups: true }));
    },
    async readShadow(thingName, shadowName) {
      try {
        const shadow = await iotData.send(new GetThingShadowCommand({ thingName, shadowName }));
        return readShadowDocument(shadow.payload);
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return readShadowDocument(undefined);
        throw error;
      }
    },
    async writeShadow(thingName, shadowName, record, version) {
      try {
        await iotData.send(
          new UpdateThingShadowCommand({ thingName, shadowName, payload: Buffer.from(recordDocument(record, version), 'utf8') }),
        );
        return true;
      } catch (error) {
        // The shadow service answers a stale version with 409 Conflict.
        if (errorName(error) === 'ConflictException') return false;
        throw error;
      }
    },
  };
}
