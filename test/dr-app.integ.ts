// Integration snapshot of the example disaster-recovery app: `npx projen integ:dr-app:snapshot` writes
// test/dr-app.integ.snapshot/, and the test task re-synthesizes and diffs it.
import { App } from 'aws-cdk-lib';
import { createDisasterRecoveryApp } from '../examples/dr-app-stacks';

// No stack traces in the metadata: the snapshot must be identical in every checkout directory.
// performanceReporting off: a slow synth would otherwise write performance-counters.json and break the snapshot diff.
const app = new App({
  context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true },
  performanceReporting: false,
});
createDisasterRecoveryApp(app);
app.synth();
