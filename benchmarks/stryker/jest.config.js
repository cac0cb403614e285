/**
 * The jest configuration of mutation testing (stryker.config.json, `jest.configFile`): the fast backup-plan tests and
 * the short simulations, cheap tests first, bailing after a mutant's first failing test. A JavaScript file so that
 * the paths are absolute inside Stryker's sandbox: its jest runner loads the test environment without resolving
 * `<rootDir>`.
 */
'use strict';
const path = require('path');

const root = path.join(__dirname, '..', '..');
const tests = [
  'planner*.test.ts',
  'reconcile-core.test.ts',
  'reconcile-quota.test.ts',
  'state*.test.ts',
  'notification-events.test.ts',
  'event-routing.test.ts',
  'export-timeout*.test.ts',
  'verify-core*.test.ts',
  'verify-export.test.ts',
  'delete-check.test.ts',
  'quota-memory.test.ts',
  'clock-skew.test.ts',
  'simulation-short.test.ts',
];

module.exports = {
  rootDir: root,
  testEnvironment: path.join(__dirname, 'bail-environment.js'),
  testSequencer: path.join(__dirname, 'cheap-first-sequencer.js'),
  testMatch: tests.map((t) => `<rootDir>/test/backup-plan/${t}`),
  testPathIgnorePatterns: ['/node_modules/', '\\.integ\\.snapshot/'],
  transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: path.join(root, 'test', 'tsconfig.json') }] },
  testTimeout: 600000,
};
