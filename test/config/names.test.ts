import { metricNameProblem, thingNameProblem } from '../../src/config/names';

describe('metricNameProblem', () => {
  it('accepts CreateCustomMetric names', () => {
    for (const name of ['cpu_usage', 'A:b-c_9', 'x', 'x'.repeat(128)]) expect(metricNameProblem(name)).toBeUndefined();
  });

  it('refuses empty, too long, other characters and the reserved aws: prefix', () => {
    for (const name of ['', 'x'.repeat(129), 'cpu usage', 'cpu.usage', 'é']) expect(metricNameProblem(name)).toMatch(/1-128 characters/);
    expect(metricNameProblem('aws:cpu')).toMatch(/reserved/);
    expect(metricNameProblem('AWS:cpu')).toMatch(/reserved/);
  });
});

describe('thingNameProblem', () => {
  it('takes the IoT ThingName pattern, 1-128 characters', () => {
    for (const name of ['Core1', 'a:b_c-d', 'x'.repeat(128)]) expect(thingNameProblem(name)).toBeUndefined();
    for (const name of ['', 'x'.repeat(129), 'core 1', 'core/1', 'core\n1']) expect(thingNameProblem(name)).toMatch(/1-128 characters/);
  });
});
