import { describeCycleFaults } from './faults-cycles';

describeCycleFaults('sdk');
