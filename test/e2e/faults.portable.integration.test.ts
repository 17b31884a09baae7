import { agentFaults } from './faults-agent';
import { cycleFaults } from './faults-cycles';
import { restartFaults } from './faults-restarts';

// One concurrent group: every fault of every theme in a run of its own, all at once (jest's maxConcurrency allows it).
describe('fault suite: the built component under the local core, portable IPC client', () => {
  agentFaults('portable');
  cycleFaults('portable');
  restartFaults('portable');
});
