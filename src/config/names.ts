/**
 * Name rules the AWS APIs enforce, in one place: the agent's configuration parser, the report's
 * custom-metric check, the operator tool and the local core all ask these.
 *
 * ThingName and MetricName in the AWS IoT service model: `[a-zA-Z0-9:_-]+`, 1-128 characters.
 * CreateCustomMetric reserves the `aws:` prefix for AWS's own metrics; it is refused in any case
 * here, since a name that differs only in case would be confusing even if the service took it.
 */
const IOT_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** The AWS IoT name rule shared by things, custom metrics, security profiles and behaviors. */
export function isIotName(name: string): boolean {
  return IOT_NAME.test(name);
}

/** Why `name` cannot be a thing name, or undefined when it can. */
export function thingNameProblem(name: string): string | undefined {
  return isIotName(name) ? undefined : 'a thing name is 1-128 characters of letters, digits, ":", "_" or "-"';
}

/** Why `name` cannot be a custom metric name, or undefined when it can. */
export function metricNameProblem(name: string): string | undefined {
  if (!isIotName(name)) return 'a metric name is 1-128 characters of letters, digits, ":", "_" or "-"';
  if (name.toLowerCase().startsWith('aws:')) return 'names starting with "aws:" are reserved for AWS metrics';
  return undefined;
}
