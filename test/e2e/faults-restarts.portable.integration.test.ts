import { describeRestartFaults } from './faults-restarts';

describeRestartFaults('portable');
