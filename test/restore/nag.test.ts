import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ClusterMode } from '../../lib/replication-group/replication-group';
import { BackupSource } from '../../lib/restore/backup-source';
import { ReplicationGroupFromBackup } from '../../lib/restore/replication-group-from-backup';
import { addNagPacks } from '../support/nag';

/** Findings reported for constructs under `paths`, one line each (the report names the construct and the acknowledgement id). */
function findingsUnder(run: () => void, paths: string[]): string[] {
  try {
    run();
  } catch (e) {
    return String((e as Error).message).split('\n').filter((line) => paths.some((p) => line.includes(p)));
  }
  return [];
}

describe('cdk-nag packs on a restore', () => {
  test('the preflight provider and custom resources raise no unacknowledged findings in the four packs', () => {
    const app = new App();
    addNagPacks(app);
    const stack = new Stack(app, 'Restore', { env: { account: '111111111111', region: 'us-west-2' } });
    const vpc = new ec2.Vpc(stack, 'Vpc');
    const bucket = s3.Bucket.fromBucketName(stack, 'Replica', 'replica-bucket');
    new ReplicationGroupFromBackup(stack, 'Restored', {
      vpc, clusterMode: ClusterMode.ENABLED, shards: 2, source: BackupSource.latestExport(bucket, 'orders', { maxSourceShards: 30 }),
    });
    new ReplicationGroupFromBackup(stack, 'FromArns', {
      vpc, source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']),
    });
    const findings = findingsUnder(() => app.synth(), ['RestorePreflightProvider', '/Preflight', '/SnapshotArns']);
    expect(findings).toEqual([]);
  });
});
