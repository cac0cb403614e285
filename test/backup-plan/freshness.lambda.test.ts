process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { measureFreshness, publish, S3FreshnessIo } from '../../lib/backup-plan/freshness.lambda';
import { BackupManifest, manifestKey, serializeManifest } from '../../lib/manifest/manifest';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const BUCKET = 'replica-bucket';
const NOW = new Date('2026-03-10T12:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

function manifest(group: string, taken: Date, name: string, keys: string[]): BackupManifest {
  return {
    formatVersion: 1,
    replicationGroupId: group,
    region: 'us-east-1',
    bucket: 'exports',
    snapshotName: name,
    snapshotSource: 'manual',
    snapshotCreateTime: taken.toISOString(),
    exportName: `${group}-x`,
    exportTime: NOW.toISOString(),
    engine: 'valkey',
    engineVersion: '8.0',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: false,
    shardCount: keys.length,
    shards: keys.map((key) => ({ key, sizeBytes: 1 })),
  };
}

describeWithTool('moto_server')('freshness monitor handler (S3 on moto_server)', () => {
  let moto: MotoS3;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await MotoS3.start();
    s3 = moto.client('us-west-2');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
  });
  afterAll(async () => {
    await moto?.stop();
  });
  const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));

  test('reports the age of the newest manifest whose objects all arrived, skipping one still replicating', async () => {
    await put(manifestKey('orders', ago(200), 'old'), serializeManifest(manifest('orders', ago(200), 'old', ['old-0001.rdb'])));
    await put('old-0001.rdb', 'REDIS0011');
    await put(manifestKey('orders', ago(80), 'mid'), serializeManifest(manifest('orders', ago(80), 'mid', ['mid-0001.rdb', 'mid-0002.rdb'])));
    await put('mid-0001.rdb', 'REDIS0011');
    await put('mid-0002.rdb', 'REDIS0011');
    // The newest manifest arrived before its .rdb: not restorable yet.
    await put(manifestKey('orders', ago(5), 'new'), serializeManifest(manifest('orders', ago(5), 'new', ['new-0001.rdb'])));
    const [orders, carts] = await measureFreshness(new S3FreshnessIo(s3, BUCKET), { bucketName: BUCKET, replicationGroupIds: ['orders', 'carts'] }, NOW);
    expect(orders).toEqual({
      replicationGroupId: 'orders',
      ageSeconds: 80 * 60,
      manifestKey: manifestKey('orders', ago(80), 'mid'),
      problems: [`${manifestKey('orders', ago(5), 'new')}: objects not replicated yet: new-0001.rdb`],
    });
    expect(carts).toEqual({ replicationGroupId: 'carts', problems: [] });
  });

  test('publishes ReplicaBackupAgeSeconds with the group as the only dimension, and nothing for a group without a backup', () => {
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((l: unknown) => {
      lines.push(String(l));
    });
    publish([{ replicationGroupId: 'orders', ageSeconds: 4800, problems: [] }, { replicationGroupId: 'carts', problems: [] }],
      () => new Metrics({ namespace: 'ElastiCacheBackup' }), new Logger({ logLevel: 'SILENT' }));
    const emf = lines.map((l) => JSON.parse(l)).filter((d) => d._aws);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ReplicationGroupId: 'orders', ReplicaBackupAgeSeconds: 4800 });
    expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['ReplicationGroupId']]);
    jest.restoreAllMocks();
  });
});
