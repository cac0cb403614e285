// Integration snapshot of the example disaster-recovery app: `npx projen integ:dr-app:snapshot` writes
// test/dr-app.integ.snapshot/, and the test task re-synthesizes and diffs it.
import { App } from 'aws-cdk-lib';
import { createDisasterRecoveryApp } from '../examples/dr-app-stacks';

const app = new App();
createDisasterRecoveryApp(app);
app.synth();
