/**
 * Test order for mutation testing (stryker.config.json): example-based tests first, property tests next, simulations
 * last, so that a mutant is usually killed (and the rest of its run skipped: bail-environment.js) by a test that takes
 * milliseconds. Jest's default order (slowest first, from its cache) would run the simulations first.
 */
'use strict';
const Sequencer = require('@jest/test-sequencer').default;

function rank(path) {
  if (/simulation/.test(path)) {
    return 2;
  }
  return /property/.test(path) ? 1 : 0;
}

class CheapFirstSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}

module.exports = CheapFirstSequencer;
