/**
 * A dry run sends nothing, so no line of it may report a result as done: every result line says what would happen.
 * Each subcommand's dry run is run through the CLI; the requests it would send are checked against the models too.
 */
import { run } from '../../../../scripts/gg/cli';
import { harness, makeProject, totalCalls } from '../helpers';

const DRY_RUNS: string[][] = [
  ['publish'],
  ['deploy', '--thing', 'core-1', '--wait'],
  ['deploy', '--group', 'fleet', '--upload-logs'],
  ['status', '--thing', 'core-1'],
  ['setup-defender', '--group', 'fleet', '--custom-metric', 'cpu=cpuUsage', '--ml'],
  ['setup-defender', '--all-things'],
  ['setup-edge', '--create-sns', 'edge-alarms', '--metrics-sink-topic', 'defender-agent/{iot:thingName}/metrics', '--dashboard', 'fleet'],
  ['doctor', '--thing', 'core-1'],
  ['violations', '--thing', 'core-1'],
  ['quarantine', 'setup'],
  ['quarantine', 'apply', '--profile', 'rules'],
  ['quarantine', 'apply', '--violation-id', 'v-1'],
  ['quarantine', 'apply', '--thing', 'core-1'],
  ['quarantine', 'release', '--thing', 'core-1'],
  ['quarantine', 'status', '--thing', 'core-1'],
  ['quarantine', 'auto', 'enable', '--create-group', '--sns-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:alerts'],
  ['quarantine', 'auto', 'disable'],
  ['quarantine', 'auto', 'status'],
  ['logs', '--thing', 'core-1'],
  ['cleanup', '--group', 'fleet', '--delete-versions', '--custom-metric', 'cpu'],
  ['cleanup', '--group', 'fleet', '--edge', '--quarantine', '--sns-topic', 'defender-alarms'],
];

/** A line that reports a change as made: it opens with a past participle, or says the change is in effect. */
const PAST_RESULT =
  /^(registered|created|updated|replaced|attached|detached|deleted|started|released|isolated|cleared|subscribed(?! to no )|unsubscribed|uploaded|removed)\b|\bnow reach|\bis off\b/i;

it.each(DRY_RUNS.map((argv) => [argv.join(' '), argv] as const))('%s --dry-run: every result line says "would"', async (_, argv) => {
  const h = harness(makeProject());
  expect(await run([...argv, '--dry-run'], h.deps)).toBe(0);
  expect(totalCalls()).toBe(0);
  const pastResults = h.lines.filter((line) => PAST_RESULT.test(line));
  expect(pastResults).toEqual([]);
});
