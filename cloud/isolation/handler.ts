/**
 * The isolation function's entry point on AWS Lambda: wires the SDK clients to the decision and logs one line per
 * event. A message that cannot be acted on (unparseable, alarm-cleared, unknown thing) ends the invocation normally,
 * so Lambda does not retry it; only a failure of AWS itself throws, and `enable` bounds Lambda's retries of those.
 */
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { sdkIsolationAws } from './aws-adapter';
import { readInvocation } from './events';
import { type Decision, isolate } from './isolate';
import { settingsFromEnv } from './settings';

const settings = settingsFromEnv(process.env);
const aws = sdkIsolationAws(new IoTClient({}), new IoTDataPlaneClient({}));

export async function handler(event: unknown): Promise<{ decisions: Decision['outcome'][] }> {
  const decisions: Decision['outcome'][] = [];
  let failure: unknown;
  for (const read of readInvocation(event)) {
    try {
      const decision = await isolate(read, settings, aws, Date.now);
      decisions.push(decision.outcome);
      if (decision.outcome === 'refused') console.warn(decision.line);
      else console.log(decision.line);
    } catch (error) {
      failure = error;
      console.error(
        `FAILED ${read.ok ? `violation ${read.alarm.violationId} of thing ${read.alarm.thingName}` : 'message'}: ${String(error)}`,
      );
    }
  }
  if (failure !== undefined) throw failure;
  return { decisions };
}
