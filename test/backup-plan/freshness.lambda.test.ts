process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { measureFreshness, publish, S3FreshnessIo } from '../../lib/backup-plan/freshness.lambda';
import { BackupManifest, serializeManifest } from '../../lib/manifest/manifest';
import { asV1, manifestV2, verifiedShard } from '../manifest/fixtures';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const BUCKET = 'replica-bucket';
const NOW = new Date('2026-03-10T12:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const DAY_MINUTES = 24 * 60;

/**
 * Manifest keys written out by hand (`manifests/<group>/<yyyymmddthhmmssz>_<snapshot name>.json`), not computed by
 * the code under test.
 */
function keyOf(group: string, taken: Date, name: string): string {
  const compact = taken.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();
  return `manifests/${group}/${compact}_${name}.json`;
}

describeWithTool('moto_server')('freshness monitor handler (S3 on moto_server)', () => {
  let moto: MotoS3;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await MotoS3.start();
    s3 = moto.client('us-west-2');
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    // Replica buckets are versioned (S3 replication requires it, and keeps the source's version ids).
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });
  const put = async (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  const measure = (groups = ['orders']) => measureFreshness(new S3FreshnessIo(s3, BUCKET), { bucketName: BUCKET, replicationGroupIds: groups }, NOW);

  /**
   * Puts the `.rdb` objects of an export (unless `deliver` says otherwise) and its verified manifest, pinned to the
   * versions S3 returned. Returns the manifest key and the manifest.
   */
  async function putExport(
    group: string, taken: Date, name: string, shards: number,
    options: { deliver?: (i: number) => boolean; exportTime?: Date; edit?: (m: BackupManifest) => BackupManifest; key?: string } = {},
  ): Promise<{ key: string; manifest: BackupManifest }> {
    const exportName = `${group}-x${taken.getTime()}`;
    const body = 'REDIS0011 pretend rdb';
    const manifestShards = [];
    for (let i = 1; i <= shards; i++) {
      const key = `${exportName}-000${i}.rdb`;
      if (options.deliver?.(i) ?? true) {
        const out = await put(key, body);
        manifestShards.push(verifiedShard(key, body.length, out.VersionId!, out.ETag!));
      } else {
        manifestShards.push(verifiedShard(key, body.length, 'not-yet-replicated', '"0"'));
      }
    }
    const exportTime = options.exportTime ?? new Date(taken.getTime() + 60_000);
    const base = manifestV2({ group, time: taken, snapshotName: name, exportName, shards: manifestShards, exportTime });
    const manifest = options.edit ? options.edit(base) : base;
    const key = options.key ?? keyOf(group, taken, name);
    await put(key, serializeManifest(manifest));
    return { key, manifest };
  }

  test('reports the age of the newest restorable export, skipping one still replicating (not counted as unusable)', async () => {
    await putExport('orders', ago(200), 'old', 1);
    const mid = await putExport('orders', ago(80), 'mid', 2);
    // The newest manifest arrived before its .rdb: not restorable yet.
    const fresh = await putExport('orders', ago(5), 'new', 1, { deliver: () => false });
    const [orders, carts] = await measure(['orders', 'carts']);
    expect(orders).toEqual({
      replicationGroupId: 'orders',
      ageSeconds: 80 * 60,
      manifestKey: mid.key,
      problems: [`${fresh.key}: objects not replicated yet: ${fresh.manifest.shards[0].key}`],
      unusableManifests: 0,
    });
    expect(carts).toEqual({ replicationGroupId: 'carts', problems: [], unusableManifests: 0 });
  });

  test('a manifest written now for a 30-day-old snapshot reports an age of 30 days, measured from its snapshot time', async () => {
    const old = await putExport('orders', ago(30 * DAY_MINUTES), 'month-old', 1, { exportTime: ago(1) });
    const [orders] = await measure();
    expect(orders).toEqual({ replicationGroupId: 'orders', ageSeconds: 30 * 86_400, manifestKey: old.key, problems: [], unusableManifests: 0 });
  });

  test('a manifest stored under a newer key than its content says is not counted: the age comes from an honest one', async () => {
    const honest = await putExport('orders', ago(120), 'honest', 1);
    // A copy of a 30-day-old manifest planted under a key that claims a snapshot 10 minutes old.
    const planted = await putExport('orders', ago(30 * DAY_MINUTES), 'month-old', 1, { key: keyOf('orders', ago(10), 'month-old') });
    const [orders] = await measure();
    expect(orders.ageSeconds).toBe(120 * 60);
    expect(orders.manifestKey).toBe(honest.key);
    expect(orders.unusableManifests).toBe(1);
    expect(orders.problems).toEqual([
      `${planted.key}: not counted: its content (group orders, snapshot month-old taken ${ago(30 * DAY_MINUTES).toISOString()}) belongs under `
      + `${keyOf('orders', ago(30 * DAY_MINUTES), 'month-old')}, not under this key`,
    ]);
  });

  test('a manifest dated in the future is not counted (never age 0)', async () => {
    const honest = await putExport('orders', ago(90), 'honest', 1);
    const future = await putExport('orders', new Date(NOW.getTime() + DAY_MINUTES * 60_000), 'tomorrow', 1);
    const [orders] = await measure();
    expect(orders.ageSeconds).toBe(90 * 60);
    expect(orders.manifestKey).toBe(honest.key);
    expect(orders.unusableManifests).toBe(1);
    expect(orders.problems).toEqual([`${future.key}: not counted: its snapshot time ${future.manifest.snapshotCreateTime} is in the future (now ${NOW.toISOString()})`]);
  });

  test('a future-dated manifest alone leaves the group without an age (the alarm fires on missing data)', async () => {
    await putExport('orders', new Date(NOW.getTime() + 60 * 60_000), 'next-hour', 1);
    const [orders] = await measure();
    expect(orders.ageSeconds).toBeUndefined();
    expect(orders.unusableManifests).toBe(1);
  });

  test('an object whose size differs from the manifest is not counted', async () => {
    const honest = await putExport('orders', ago(300), 'honest', 1);
    const resized = await putExport('orders', ago(30), 'resized', 1, {
      edit: (m) => ({ ...m, shards: [{ ...m.shards[0], sizeBytes: m.shards[0].sizeBytes + 1 }] }),
    });
    const [orders] = await measure();
    expect(orders.manifestKey).toBe(honest.key);
    expect(orders.ageSeconds).toBe(300 * 60);
    expect(orders.problems).toEqual([
      `${resized.key}: not counted: ${resized.manifest.shards[0].key}: size is ${resized.manifest.shards[0].sizeBytes - 1} bytes, but the manifest recorded ${resized.manifest.shards[0].sizeBytes}`,
    ]);
    expect(orders.unusableManifests).toBe(1);
  });

  test('an object overwritten after the commit is not counted, and the problem names the version to copy back', async () => {
    const honest = await putExport('orders', ago(300), 'honest', 1);
    const overwritten = await putExport('orders', ago(30), 'overwritten', 1);
    const shard = overwritten.manifest.shards[0];
    await put(shard.key, 'REDIS0011 other content');
    const [orders] = await measure();
    expect(orders.manifestKey).toBe(honest.key);
    expect(orders.problems).toHaveLength(1);
    expect(orders.problems[0]).toContain(`${overwritten.key}: not counted: ${shard.key}: current version is `);
    expect(orders.problems[0]).toContain(`Version ${shard.versionId} is the one to copy back`);
  });

  test('an object deleted after the commit (well after the replication grace period) is not counted and counts as unusable', async () => {
    const honest = await putExport('orders', ago(300), 'honest', 1);
    const deleted = await putExport('orders', ago(200), 'deleted', 1);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: deleted.manifest.shards[0].key }));
    const [orders] = await measure();
    expect(orders.manifestKey).toBe(honest.key);
    expect(orders.unusableManifests).toBe(1);
    expect(orders.problems[0]).toMatch(new RegExp(`^${deleted.key.replace(/\./g, '\\.')}: not counted: .*: object does not exist`));
  });

  test('an unverified (format 1) manifest is not counted, even when its objects are all there', async () => {
    const v1 = await putExport('orders', ago(10), 'legacy', 1, { edit: asV1 });
    const [orders] = await measure();
    expect(orders).toEqual({
      replicationGroupId: 'orders',
      problems: [`${v1.key}: not verified (format 1 manifest): not counted`],
      unusableManifests: 1,
    });
  });
});

describe('publish', () => {
  test('publishes ReplicaBackupAgeSeconds and ReplicaUnusableManifests with the group as the only dimension, and no age for a group without a backup', () => {
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((l: unknown) => {
      lines.push(String(l));
    });
    publish([
      { replicationGroupId: 'orders', ageSeconds: 4800, problems: [], unusableManifests: 0 },
      { replicationGroupId: 'carts', problems: ['x: not verified (format 1 manifest): not counted'], unusableManifests: 1 },
    ], () => new Metrics({ namespace: 'ElastiCacheBackup' }), new Logger({ logLevel: 'SILENT' }));
    const emf = lines.map((l) => JSON.parse(l)).filter((d) => d._aws);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({ ReplicationGroupId: 'orders', ReplicaBackupAgeSeconds: 4800, ReplicaUnusableManifests: 0 });
    expect(emf[1]).toMatchObject({ ReplicationGroupId: 'carts', ReplicaUnusableManifests: 1 });
    expect(emf[1].ReplicaBackupAgeSeconds).toBeUndefined();
    for (const doc of emf) {
      expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([['ReplicationGroupId']]);
    }
    jest.restoreAllMocks();
  });
});
