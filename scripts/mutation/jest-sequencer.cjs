/**
 * Jest's test sequencer for `npm run test:mutation`: in a mutant's run, Stryker names the tests covering the mutant as
 * the test name pattern, and Jest would still load every test file to find them; this keeps only the files that hold
 * a matching test, as jest-environment.cjs recorded them in the initial run. Without that record (or outside a mutant's
 * run) every file runs. A file left out wrongly can only let a mutant survive, never kill one.
 */
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const { TEST_NAMES_FILE } = require('./jest-environment.cjs');

class CoveringTestsSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.testNamePattern = options.globalConfig.testNamePattern;
  }

  sort(tests) {
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined || !this.testNamePattern) return super.sort(tests);
    const file = path.resolve(TEST_NAMES_FILE);
    if (!fs.existsSync(file)) return super.sort(tests);
    const names = JSON.parse(fs.readFileSync(file, 'utf8'));
    // As Jest matches it (jest-circus): case-insensitive, anywhere in the test's id.
    const pattern = new RegExp(this.testNamePattern, 'i');
    return super.sort(tests.filter((test) => (names[test.path] ?? []).some((id) => pattern.test(id))));
  }
}

module.exports = CoveringTestsSequencer;
