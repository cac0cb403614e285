import { spawnSync } from 'child_process';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CacheEngine } from '../../lib/engine';
import { ClusterMode } from '../../lib/replication-group/replication-group';
import { BackupSource } from '../../lib/restore/backup-source';
import { ReplicationGroupFromBackup } from '../../lib/restore/replication-group-from-backup';
import { describeWithTool } from '../support/tools';

/**
 * cfn-lint on synthesized restores. Before NumNodeGroups was rendered, every cluster-mode restore had E3026
 * ("NumCacheClusters must be greater than one when creating a cluster").
 */
describeWithTool('cfn-lint')('restores under cfn-lint', () => {
  const app = new App();
  // Environment-agnostic: the VPC's availability zones are Fn::GetAZs, not the dummy names of a context lookup (W3010).
  const stack = new Stack(app, 'ClusterRestore');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const replica = new s3.Bucket(stack, 'Replica', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  new ReplicationGroupFromBackup(stack, 'FromLatestExport', {
    vpc,
    replicationGroupId: 'orders-dr',
    engine: CacheEngine.VALKEY_8_0,
    clusterMode: ClusterMode.ENABLED,
    shards: 3,
    source: BackupSource.latestExport(replica, 'orders', { maxSourceShards: 25 }),
  });
  new ReplicationGroupFromBackup(stack, 'FromRdbObjects', {
    vpc,
    replicationGroupId: 'sessions-dr',
    clusterMode: ClusterMode.ENABLED,
    shards: 2,
    replicasPerShard: 0,
    source: BackupSource.fromRdbObjects(replica, ['sessions-0001.rdb', 'sessions-0002.rdb']),
  });
  new ReplicationGroupFromBackup(stack, 'FromSnapshot', {
    vpc,
    replicationGroupId: 'carts-dr',
    clusterMode: ClusterMode.ENABLED,
    shards: 1,
    source: BackupSource.fromSnapshotName('carts-before-migration'),
  });
  const assembly = app.synth();

  test('three cluster-mode restores (latest export, .rdb objects, snapshot) have zero cfn-lint findings', () => {
    const templateFile = path.join(assembly.directory, assembly.getStackByName('ClusterRestore').templateFile);
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--', templateFile], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    // The one known false positive, and only it: W3005 on the DependsOn that aws-cdk-lib's Lambda Function puts on its
    // own role (also referenced by GetAtt). Any other W3005 (a DependsOn of the restore that repeats a reference) counts.
    const findings = result.stdout.split('\n').filter((line) => line.trim() !== '')
      .filter((line) => !/:W3005:.*dependency already enforced by a 'GetAtt' at 'Resources\/[A-Za-z0-9]+\/Properties\/Role'$/.test(line));
    expect(findings).toEqual([]);
  });
});
