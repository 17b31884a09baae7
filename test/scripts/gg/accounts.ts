/** Accounts the command tests start from, arranged once for every file that needs them. */
import {
  AttachPolicyCommand,
  AttachSecurityProfileCommand,
  CreateCustomMetricCommand,
  CreatePolicyCommand,
  CreateSecurityProfileCommand,
  CreateThingGroupCommand,
  DescribeCustomMetricCommand,
  DescribeSecurityProfileCommand,
} from '@aws-sdk/client-iot';
import { mocks, notFound } from './helpers';

/** No custom metric or security profile yet; creating and attaching them succeeds (setup-defender's first run). */
export function accountWithoutDefenderSetup(): void {
  mocks.iot.on(DescribeCustomMetricCommand).rejects(notFound());
  mocks.iot.on(DescribeSecurityProfileCommand).rejects(notFound());
  mocks.iot.on(CreateCustomMetricCommand).resolves({});
  mocks.iot.on(CreateSecurityProfileCommand).resolves({});
  mocks.iot.on(AttachSecurityProfileCommand).resolves({});
}

/** The quarantine group and its deny-all policy can be created and attached (quarantine setup, auto enable --create-group). */
export function quarantineGroupCreatable(): void {
  mocks.iot.on(CreateThingGroupCommand).resolves({});
  mocks.iot.on(CreatePolicyCommand).resolves({});
  mocks.iot.on(AttachPolicyCommand).resolves({});
}
