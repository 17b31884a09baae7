/**
 * Jest's order with one change for the files it has no timing for (all of them on a fresh clone, which jest would
 * order by file size): the end-to-end files, which wait on the agent's real-time intervals for tens of seconds, start
 * first, then the other integration files, then the unit files, which fill the workers in around them. Files with a
 * timing from an earlier run keep jest's order (failed first, then the longest).
 */
const Sequencer = require('@jest/test-sequencer').default;

/** A guess, in ms, standing in for a file's timing until a run has measured it. */
function expectedDuration(testPath) {
  const file = testPath.split('\\').join('/');
  if (/\/test\/e2e\/.*\.integration\.test\.ts$/.test(file)) return 60_000;
  if (file.endsWith('.integration.test.ts')) return 10_000;
  return 0;
}

class RealTimeFirstSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const rank = (test) => (this.hasFailed(test) ? 0 : 1);
    const duration = (test) => test.duration ?? expectedDuration(test.path);
    // Array.prototype.sort is stable: equal keys keep jest's order (by file size among the files without a timing).
    return [...ordered].sort((a, b) => rank(a) - rank(b) || duration(b) - duration(a));
  }
}

module.exports = RealTimeFirstSequencer;
