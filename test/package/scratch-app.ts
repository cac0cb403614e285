/**
 * The CDK app a platform team would write against the published package: two regions, a backup-ready cache with a
 * plan, an export bucket replicated to the DR region, a freshness monitor and a restore. It is copied into a scratch
 * directory outside the repository and compiled there against the packed tarball, so it may import only what an
 * npm user can import.
 */
export const SCRATCH_APP_SOURCE = `
import { App, Duration, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import {
  BackupExportBucket, BackupFreshnessMonitor, BackupPlan, BackupReplicaBucket, BackupSource, CacheEngine, ClusterMode,
  ReplicationGroup, ReplicationGroupFromBackup,
} from 'cdk-elasticache-backup';

class OfflineStack extends Stack {
  public get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}

function isolatedVpc(scope: Construct): ec2.Vpc {
  return new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
}

class DrStorage extends OfflineStack {
  public readonly replica: BackupReplicaBucket;
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.replica = new BackupReplicaBucket(this, 'Replica', { retention: Duration.days(60) });
    new BackupFreshnessMonitor(this, 'Freshness', {
      replicaBucket: this.replica,
      replicationGroupIds: ['sessions', 'carts'],
      maxAge: Duration.hours(4),
    });
  }
}

class Primary extends OfflineStack {
  constructor(scope: Construct, id: string, props: StackProps & { replica: BackupReplicaBucket }) {
    super(scope, id, props);
    const vpc = isolatedVpc(this);
    const sessions = new ReplicationGroup(this, 'Sessions', {
      vpc, replicationGroupId: 'sessions', engine: CacheEngine.VALKEY_8_0, nodeType: 'cache.r7g.large', replicasPerShard: 1,
    });
    const carts = new ReplicationGroup(this, 'Carts', {
      vpc, replicationGroupId: 'carts', engine: CacheEngine.VALKEY_8_0, nodeType: 'cache.m7g.large', replicasPerShard: 1,
      clusterMode: ClusterMode.ENABLED, shards: 2,
    });
    const exports = new BackupExportBucket(this, 'Exports', { replicateTo: [props.replica] });
    const plan = new BackupPlan(this, 'Plan', { exportBucket: exports });
    plan.protect(sessions, { interval: Duration.hours(2) });
    plan.protect(carts, { interval: Duration.hours(3) });
  }
}

class Restore extends OfflineStack {
  constructor(scope: Construct, id: string, props: StackProps & { replica: BackupReplicaBucket }) {
    super(scope, id, props);
    new ReplicationGroupFromBackup(this, 'RestoredSessions', {
      vpc: isolatedVpc(this),
      replicationGroupId: 'sessions-dr',
      engine: CacheEngine.VALKEY_8_0,
      nodeType: 'cache.r7g.large',
      replicasPerShard: 1,
      source: BackupSource.latestExport(props.replica.bucket, 'sessions'),
    });
  }
}

const app = new App();
const account = '222222222222';
const dr = new DrStorage(app, 'ScratchDr', { env: { account, region: 'eu-west-1' } });
new Primary(app, 'ScratchPrimary', { env: { account, region: 'eu-central-1' }, replica: dr.replica });
new Restore(app, 'ScratchRestore', { env: { account, region: 'eu-west-1' }, replica: dr.replica });
app.synth();
`;
