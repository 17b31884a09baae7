import { describeCycleFaults } from './faults-cycles';

describeCycleFaults('portable');
