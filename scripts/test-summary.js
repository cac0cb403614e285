#!/usr/bin/env node
// Prints "N passed, N failed" from jest-junit's report. A failed step outside jest (setup, bundling,
// eslint, integ snapshot diff) counts as one failure, so a red run can never print "0 failed".
const fs = require('fs');

const [reportPath, testStatus = '0', setupFailed = '0'] = process.argv.slice(2);
let tests = 0;
let failures = 0;
let errors = 0;
let skipped = 0;
if (reportPath && fs.existsSync(reportPath)) {
  const xml = fs.readFileSync(reportPath, 'utf8');
  const root = /<testsuites\b[^>]*>/.exec(xml);
  const attr = (name) => Number((new RegExp(`\\b${name}="(\\d+)"`).exec(root ? root[0] : '') || [])[1] || 0);
  tests = attr('tests');
  failures = attr('failures');
  errors = attr('errors');
  // jest-junit marks skipped tests with <skipped/>; they are neither passed nor failed.
  skipped = (xml.match(/<skipped\s*\/>/g) || []).length;
}
let failed = failures + errors;
const passed = Math.max(0, tests - failed - skipped);
if (setupFailed !== '0') {
  console.log('setup failed: installing the test tools or npm ci did not succeed');
  failed += 1;
} else if (testStatus !== '0' && failed === 0) {
  console.log('the test command failed outside jest (bundle, eslint or integ snapshot assert): see the log above');
  failed += 1;
}
if (skipped > 0) {
  console.log(`${skipped} skipped (not counted as passed)`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && tests > 0 ? 0 : 1);
