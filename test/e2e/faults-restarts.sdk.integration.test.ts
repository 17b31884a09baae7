import { describeRestartFaults } from './faults-restarts';

describeRestartFaults('sdk');
