import { describeAgentFaults } from './faults-agent';

describeAgentFaults('portable');
