/**
 * Jest's node environment with two jobs for `npm run test:mutation` (scripts/mutation/main.ts):
 *
 * - In Stryker's initial run (no mutant active) it records which test file holds which tests, in TEST_NAMES_FILE in
 *   the sandbox, so that jest-sequencer.cjs loads for each mutant only the files that hold tests covering it.
 * - In a mutant's run it stops at the first failing test: every later test (and describe block, with its hooks) of that
 *   run is skipped. One failure is all Stryker needs to call a mutant killed, but Jest's `bail` cannot be set through
 *   the API Stryker uses, so without this every covering test runs to its end, and a mutant that breaks everything
 *   waits out the timeout of each test that waits for something.
 *
 * Stryker sets the mutant under test in __STRYKER_ACTIVE_MUTANT__ for the length of one run. Plain CommonJS: Stryker
 * loads the environment with require, untransformed.
 */
const fs = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__';
/** Test file path -> the ids (Jest's full names) of its tests; read by jest-sequencer.cjs. */
const TEST_NAMES_FILE = '.mutation-test-names.json';

/** Module state, so it holds across the test files of one run. */
const testNames = {};
let failedUnder;

/** Jest's id of a test, which a test name pattern is matched against: the describe names and its own, root left out. */
function testId(test) {
  const names = [];
  for (let block = test; block; block = block.parent) names.unshift(block.name);
  return names.slice(1).join(' ');
}

class MutationTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  handleTestEvent(event) {
    const mutant = process.env[ACTIVE_MUTANT];
    if (mutant === undefined) {
      if (event.name === 'test_start') {
        testNames[this.testPath] ??= [];
        testNames[this.testPath].push(testId(event.test));
      }
      return;
    }
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') failedUnder = mutant;
    else if (failedUnder === mutant) {
      if (event.name === 'test_start') event.test.mode = 'skip';
      else if (event.name === 'run_describe_start') event.describeBlock.mode = 'skip';
    }
  }

  async teardown() {
    if (process.env[ACTIVE_MUTANT] === undefined) {
      const file = path.resolve(TEST_NAMES_FILE);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(testNames));
      fs.renameSync(`${file}.tmp`, file);
    }
    await super.teardown();
  }
}

module.exports = MutationTestEnvironment;
module.exports.TEST_NAMES_FILE = TEST_NAMES_FILE;
