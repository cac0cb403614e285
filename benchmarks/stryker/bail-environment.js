/**
 * Jest environment for mutation testing (stryker.config.json): once a test fails while a mutant is active, every
 * further test of that mutant's run is skipped. Stryker counts a mutant killed at its first failing test, but its jest
 * runner cannot stop jest early (jest has no programmatic bail), so without this every covering test of every killed
 * mutant would still run. Outside a mutant run (`__STRYKER_ACTIVE_MUTANT__` unset: the dry run) it changes nothing.
 */
'use strict';
const { TestEnvironment } = require('jest-environment-node');

// Module scope: jest loads the environment once per worker process, so this outlives one test file.
let killedMutant;

class BailOnFirstFailureEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    if (super.handleTestEvent) {
      await super.handleTestEvent(event, state);
    }
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) {
      return;
    }
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') {
      killedMutant = mutant;
    } else if (event.name === 'test_start' && killedMutant === mutant) {
      event.test.mode = 'skip';
    }
  }
}

module.exports = BailOnFirstFailureEnvironment;
