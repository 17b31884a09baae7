/**
 * `setup-edge --dashboard NAME`: the fleet at a glance in CloudWatch. One graph per report metric the metrics rule
 * writes (every thing's `<thing>.<Metric>` found by a SEARCH expression, so a new core appears without editing the
 * dashboard), and the alarm history of the log group counted per behavior and per thing (Logs Insights).
 * Dashboard body: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { PutDashboardCommand } from '@aws-sdk/client-cloudwatch';
import { REPORT_METRIC_NAMES } from './edge-rules';
import type { Session } from './session';
import { neutralized } from './terminal-text';

export const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const WIDTH = 8;
const HEIGHT = 6;
const PERIOD_SECONDS = 300;

interface Widget {
  type: 'metric' | 'log' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

function dashboardBody(region: string, sources: { namespace: string | undefined; alarmLogGroup: string }): object {
  const widgets: Widget[] = [];
  const place = (type: Widget['type'], width: number, properties: Record<string, unknown>): void => {
    const used = widgets.reduce((sum, w) => sum + w.width, 0);
    widgets.push({ type, x: used % 24, y: Math.floor(used / 24) * HEIGHT, width, height: HEIGHT, properties });
  };
  const source = `SOURCE '${sources.alarmLogGroup}'`;
  place('log', 12, {
    region,
    title: 'Alarms raised per behavior',
    view: 'table',
    query: `${source} | filter violationEventType = 'in-alarm' | stats count(*) as alarms by behavior.name | sort alarms desc`,
  });
  place('log', 12, {
    region,
    title: 'Alarms per core (raised / cleared)',
    view: 'table',
    query: `${source} | stats sum(violationEventType = 'in-alarm') as raised, sum(violationEventType = 'alarm-cleared') as cleared by thingName | sort raised desc | limit 50`,
  });
  if (sources.namespace === undefined) {
    place('text', 24, {
      markdown: 'Reported metrics appear here once setup-edge runs with --metrics-sink-topic (the metrics rule).',
    });
  } else {
    REPORT_METRIC_NAMES.forEach((metric, index) => {
      place('metric', WIDTH, {
        region,
        title: metric,
        view: 'timeSeries',
        period: PERIOD_SECONDS,
        metrics: [[{ expression: `SEARCH('{${sources.namespace}} ${metric}', 'Maximum', ${PERIOD_SECONDS})`, id: `m${index}`, label: '' }]],
      });
    });
  }
  return { widgets };
}

export async function putFleetDashboard(
  session: Session,
  name: string,
  sources: { namespace: string | undefined; alarmLogGroup: string },
): Promise<void> {
  const answer = await session.aws.cloudwatch(
    new PutDashboardCommand({ DashboardName: name, DashboardBody: JSON.stringify(dashboardBody(session.aws.region, sources)) }),
  );
  for (const message of answer?.DashboardValidationMessages ?? []) {
    session.out.info(`dashboard ${name}: ${neutralized(`${message.DataPath ?? ''} ${message.Message ?? ''}`.trim())}`);
  }
  session.out.info(
    `${session.aws.dryRun ? '[dry-run] would put' : 'put'} dashboard ${name}: https://${session.aws.region}.console.aws.amazon.com/cloudwatch/home?region=${session.aws.region}#dashboards/dashboard/${name}`,
  );
}
