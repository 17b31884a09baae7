import { Configuration } from '../../src/agent/configuration';
import type { AgentConfig } from '../../src/config/definition';
import { IpcError } from '../../src/ipc/ipc';
import { createLogger } from '../../src/log/logger';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';

function configuration(platform?: NodeJS.Platform) {
  const clock = new FakeClock();
  const nucleus = new FakeNucleus();
  const lines: string[] = [];
  const changes: Array<[AgentConfig, AgentConfig]> = [];
  const part = new Configuration({
    componentName: 'com.example.Agent',
    clock,
    logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
    onChange: (next, previous) => changes.push([next, previous]),
    ...(platform ? { platform } : {}),
  });
  return { part, clock, nucleus, lines, changes };
}

describe('Configuration', () => {
  it('fails the setup when the configuration cannot be read, instead of running on defaults', async () => {
    const h = configuration();
    h.nucleus.failConfigurationReads = 1;
    await expect(h.part.attach(await h.nucleus.connect())).rejects.toThrow(
      /cannot read the component configuration .*no report is sent before it is read/,
    );
    h.nucleus.configuration = { intervalSeconds: '600' };
    await h.part.attach(await h.nucleus.connect());
    expect(h.part.current.intervalSeconds).toBe(600);
    expect(h.changes).toHaveLength(1);
  });

  it('reads a burst of updates once, and quotes operator text in the change line', async () => {
    const h = configuration();
    await h.part.attach(await h.nucleus.connect());
    h.nucleus.changeConfiguration({ thingName: 'Other', intervalSeconds: '900' });
    await h.clock.advance(1_000);
    expect(h.changes).toHaveLength(2);
    expect(h.lines.filter((l) => l.includes('configuration updated: intervalSeconds 300 -> 900, thingName "" -> "Other"'))).toHaveLength(1);
  });

  it("refuses a deployment whose metric cannot exist on the core's platform, with the reason", async () => {
    const proposal = { customMetrics: { load: { source: 'loadAverage' } } };
    const windows = configuration('win32');
    await windows.part.attach(await windows.nucleus.connect());
    windows.nucleus.proposeConfiguration('d1', proposal);
    await windows.clock.advance(0);
    expect(windows.nucleus.validityReports).toEqual([
      { deploymentId: 'd1', accepted: false, message: expect.stringContaining('source loadAverage does not exist on Windows') },
    ]);
    const linux = configuration('linux');
    await linux.part.attach(await linux.nucleus.connect());
    linux.nucleus.proposeConfiguration('d2', proposal);
    await linux.clock.advance(0);
    expect(linux.nucleus.validityReports).toEqual([{ deploymentId: 'd2', accepted: true }]);
  });

  it('answers every proposal, also one whose parsing throws', async () => {
    const h = configuration();
    await h.part.attach(await h.nucleus.connect());
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('boom\nINFO forged');
        },
      },
    );
    h.nucleus.proposeConfiguration('d1', hostile as Record<string, unknown>);
    await h.clock.advance(0);
    expect(h.nucleus.validityReports).toEqual([
      {
        deploymentId: 'd1',
        accepted: false,
        message: 'invalid configuration for com.example.Agent: cannot be parsed: "boom\\nINFO forged"',
      },
    ]);
  });

  it('on a nucleus without configuration validation: sets up, says so once, and refuses a bad value when it arrives', async () => {
    const h = configuration();
    h.nucleus.servesValidation = false;
    h.nucleus.configuration = { intervalSeconds: '600' };
    await h.part.attach(await h.nucleus.connect());
    expect(h.part.validationServed).toBe(false);
    expect(h.part.current.intervalSeconds).toBe(600);
    await h.part.attach(await h.nucleus.connect());
    const said = h.lines.filter((l) => l.includes('the nucleus does not serve configuration validation'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^\S+ INFO .*as on nucleus lite.*checked when it arrives.*last good configuration kept/);

    h.nucleus.changeConfiguration({ intervalSeconds: '5' });
    await h.clock.advance(1_000);
    expect(h.part.current.intervalSeconds).toBe(600);
    expect(
      h.lines.filter((l) => /ERROR .*configuration update rejected: intervalSeconds.*Keeping the previous configuration/.test(l)),
    ).toHaveLength(1);
  });

  it('still fails the setup when the validation subscription fails for another reason', async () => {
    const h = configuration();
    const connection = await h.nucleus.connect();
    connection.subscribeToValidateConfigurationUpdates = () =>
      Promise.reject(new IpcError('timeout', 'SubscribeToValidateConfigurationUpdates', 'no answer within 10000 ms'));
    await expect(h.part.attach(connection)).rejects.toThrow(/no answer/);
    expect(h.part.validationServed).toBeUndefined();
  });
});
