// The live service probe of issue 9 (docs/service-behaviour.md). `npx projen integ:service-probe:snapshot` writes
// test/service-probe.integ.snapshot/ and the test task re-synthesizes and diffs it. Maintainers deploy it with their
// own account (see README, "Live service probe"); CI never deploys it.
import { App } from 'aws-cdk-lib';
import { ServiceProbeStack } from './probe/probe-stack';

// No stack traces in the metadata and no performance report (written only when synth is slow): the snapshot must be
// identical in every checkout directory and on every machine.
const app = new App({
  performanceReporting: false,
  context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true },
});
const flag = (name: string) => ['true', true].includes(app.node.tryGetContext(`service-probe:${name}`));
new ServiceProbeStack(app, 'CacheBackupServiceProbe', {
  // The fixed dummy account lets the probe synthesize without credentials; maintainers deploy with
  // `-c service-probe:account=<account id> -c service-probe:region=<region>`.
  env: {
    account: app.node.tryGetContext('service-probe:account') ?? '111111111111',
    region: app.node.tryGetContext('service-probe:region') ?? 'us-east-1',
  },
  clusterModeEnabledGroup: flag('cme'),
  retentionWithoutSnapshottingCluster: flag('retention-without-source'),
});
app.synth();
