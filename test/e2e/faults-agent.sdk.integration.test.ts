import { describeAgentFaults } from './faults-agent';

describeAgentFaults('sdk');
