/**
 * Two projects: `unit` (pure logic, fixtures, fakes: seconds) and `integration` (live /proc, the local core over
 * real Unix sockets, the built bundle launched as the nucleus launches it). `npm test` runs both.
 */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  // Tests that start processes and sockets run one file per worker; two workers match the 2-core CI machine.
  maxWorkers: 2,
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
