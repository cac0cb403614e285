/**
 * The example disaster-recovery app: a primary region (us-east-1) with a backup-ready replication group,
 * an export bucket replicated to a DR region (us-west-2), a backup plan, and a restore stack in the DR region.
 *
 * `npx projen example` synthesizes it into cdk.out/ and prints a summary.
 */
import { App } from 'aws-cdk-lib';
import { createDisasterRecoveryApp } from './dr-app-stacks';

const app = new App();
createDisasterRecoveryApp(app);
app.synth();
