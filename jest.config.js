/**
 * Two projects: `unit` (pure logic, fixtures, fakes: seconds) and `integration` (live /proc, the local core over
 * real Unix sockets, the built bundle launched as the nucleus launches it). `npm test` runs both.
 */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // The integration files spend most of their time waiting on the agent's real-time intervals, not on a core: twice as
  // many workers as cores keep the cores busy with the unit files meanwhile (4 on the 2-core CI machine). A number, not
  // '200%': jest 30 turns that into 200 workers (`jest --showConfig`), which a 2-core machine cannot carry.
  maxWorkers: availableParallelism() * 2,
  // A file's it.concurrent tests (each on a core and component of its own) all run at once: the fault suite has 9.
  maxConcurrency: 10,
  testSequencer: '<rootDir>/test/support/real-time-first-sequencer.js',
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.integration\\.test\\.ts$'],
    },
    { ...shared, displayName: 'integration', testMatch: ['**/*.integration.test.ts'] },
  ],
};
