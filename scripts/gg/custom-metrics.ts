/** Registering the custom metrics the agent sends: Device Defender only evaluates names it knows, with the type it knows. */
import { CreateCustomMetricCommand, DescribeCustomMetricCommand, type CustomMetricType } from '@aws-sdk/client-iot';
import { CUSTOM_METRIC_SOURCES, type CustomMetricSpec } from '../../src/config/definition';
import { isNotFound } from './aws';
import { CliError } from './errors';
import { outcome, type Session } from './session';

export type CustomMetricCheck = { name: string; expected: CustomMetricType } & (
  | { state: 'registered' }
  | { state: 'missing' }
  | { state: 'wrong-type'; actual: string }
);

function expectedType(spec: CustomMetricSpec): CustomMetricType {
  return CUSTOM_METRIC_SOURCES[spec.source].type;
}

export async function checkCustomMetric(session: Session, name: string, spec: CustomMetricSpec): Promise<CustomMetricCheck> {
  const expected = expectedType(spec);
  try {
    const metric = await session.aws.iot(new DescribeCustomMetricCommand({ metricName: name }));
    if (metric.metricType === expected) return { name, expected, state: 'registered' };
    return { name, expected, state: 'wrong-type', actual: metric.metricType ?? 'unknown' };
  } catch (error) {
    if (isNotFound(error)) return { name, expected, state: 'missing' };
    throw error;
  }
}

function wrongTypeError(check: CustomMetricCheck & { state: 'wrong-type' }): CliError {
  return new CliError(
    `custom metric ${check.name} is registered as ${check.actual}, but its source sends ${check.expected}; a custom metric's type cannot be changed`,
    `delete it (aws iot delete-custom-metric --metric-name ${check.name}, after removing it from security profiles) or give the agent's metric another name`,
  );
}

/** Idempotent: existing metrics of the right type are left alone. */
export async function registerCustomMetrics(session: Session, metrics: Record<string, CustomMetricSpec>): Promise<void> {
  for (const [name, spec] of Object.entries(metrics)) {
    const check = await checkCustomMetric(session, name, spec);
    if (check.state === 'wrong-type') throw wrongTypeError(check);
    if (check.state === 'registered') {
      session.out.info(`custom metric ${name} (${check.expected}) already registered`);
      continue;
    }
    await session.aws.iot(
      new CreateCustomMetricCommand({
        metricName: name,
        metricType: check.expected,
        displayName: `${spec.source}: ${CUSTOM_METRIC_SOURCES[spec.source].description}`.slice(0, 128),
      }),
    );
    session.out.info(
      outcome(session, `registered custom metric ${name} (${check.expected})`, `register custom metric ${name} (${check.expected})`),
    );
  }
}
