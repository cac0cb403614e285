/**
 * The executor's re-check before each DeleteSnapshot (reconcile-core.ts checkBeforeDelete), on an in-memory bucket:
 * the manifest must describe this snapshot, be verified, match its objects, and have reached the replica bucket.
 */
import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import { ObjectInfo } from '../../lib/backup-plan/planner';
import { checkBeforeDelete, mergeSnapshots, PRUNE_SETTLE_SECONDS, ReconcileIo } from '../../lib/backup-plan/reconcile-core';
import { BackupManifest, manifestKey, serializeManifest } from '../../lib/manifest/manifest';

const G = 'orders';
const BUCKET = 'exports';
const NOW = new Date('2026-03-10T12:00:00Z');
const TAKEN = new Date('2026-03-09T10:00:00Z');
const NAME = planSnapshotName(G, TAKEN);
const EXPORT = planExportName(G, TAKEN, 'abcdefgh');
const KEY = manifestKey(G, TAKEN, NAME);
const SHARD = `${EXPORT}-0001.rdb`;

function manifest(over: Partial<BackupManifest> = {}): BackupManifest {
  return {
    formatVersion: 2,
    replicationGroupId: G,
    region: 'us-east-1',
    bucket: BUCKET,
    snapshotName: NAME,
    snapshotSource: 'manual',
    snapshotCreateTime: TAKEN.toISOString(),
    exportName: EXPORT,
    exportTime: new Date(TAKEN.getTime() + 30 * 60_000).toISOString(),
    engine: 'valkey',
    engineVersion: '8.0.1',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: false,
    shardCount: 1,
    shards: [{
      key: SHARD,
      sizeBytes: 279,
      versionId: 'v1',
      etag: '"e1"',
      rdbVersion: 11,
      verification: 'full',
      checksum: 'ok',
      crc64: '79662f0c4642b3d4',
      databases: [{ db: 0, keys: 5, keysWithExpiry: 0 }],
      keys: 5,
      keysWithExpiry: 0,
      expiryHistogram: [],
      verifiedAt: TAKEN.toISOString(),
    }],
    ...over,
  };
}

/** Just what checkBeforeDelete reads: the manifest text and HEADs. */
function bucket(m: BackupManifest, heads: Record<string, Partial<ObjectInfo> | undefined>): ReconcileIo {
  return {
    bucketName: BUCKET,
    getText: async (key: string) => (key === KEY ? serializeManifest(m) : undefined),
    headObject: async (key: string) => (heads[key] ? { key, sizeBytes: 0, ...heads[key] } : undefined),
  } as unknown as ReconcileIo;
}
const intact = { [SHARD]: { sizeBytes: 279, versionId: 'v1', etag: '"e1"' }, [KEY]: { sizeBytes: 900 } };
const action = { kind: 'DeleteSnapshot' as const, snapshotName: NAME, manifestKey: KEY };

describe('checkBeforeDelete', () => {
  test('an intact, verified, replicated manifest of this snapshot allows the deletion', async () => {
    const replicated = { [SHARD]: { ...intact[SHARD], replicationStatus: 'COMPLETED' }, [KEY]: { sizeBytes: 900, replicationStatus: 'COMPLETED' } };
    expect(await checkBeforeDelete(bucket(manifest(), replicated), action, NOW)).toBeUndefined();
    expect(await checkBeforeDelete(bucket(manifest(), intact), action, NOW)).toBeUndefined(); // no replication: old enough
  });

  test('a manifest that describes another snapshot is refused, naming both', async () => {
    const other = { ...action, snapshotName: planSnapshotName(G, NOW) };
    expect(await checkBeforeDelete(bucket(manifest(), intact), other, NOW)).toEqual({
      kind: 'refuse', why: `refusing to delete ${other.snapshotName}: manifest s3://${BUCKET}/${KEY} describes snapshot ${NAME}, not ${other.snapshotName}`,
    });
  });

  test('an object overwritten since the commit is refused, naming the object and both versions', async () => {
    const block = await checkBeforeDelete(bucket(manifest(), { ...intact, [SHARD]: { sizeBytes: 279, versionId: 'v2' } }), action, NOW);
    expect(block?.kind).toBe('refuse');
    expect(block?.why).toMatch(new RegExp(`^refusing to delete ${NAME}: s3://${BUCKET}/${KEY}: ${SHARD}: current version is v2 .*, but the manifest verified version v1`));
  });

  test('replication not completed (or failed): wait, naming the objects', async () => {
    const pending = { [SHARD]: { ...intact[SHARD], replicationStatus: 'PENDING' }, [KEY]: { sizeBytes: 900, replicationStatus: 'FAILED' } };
    expect(await checkBeforeDelete(bucket(manifest(), pending), action, NOW)).toEqual({
      kind: 'wait',
      why: `not deleting ${NAME} yet: replication of ${SHARD} (PENDING), ${KEY} (FAILED) to the replica bucket has not completed`,
    });
  });

  test('a freshly committed export without replication status: wait until replication can have delivered it', async () => {
    const young = manifest({ exportTime: new Date(NOW.getTime() - 120_000).toISOString() });
    expect(await checkBeforeDelete(bucket(young, intact), action, NOW)).toEqual({
      kind: 'wait',
      why: `not deleting ${NAME} yet: its export was committed 120 s ago; waiting ${PRUNE_SETTLE_SECONDS} s for replication to deliver it to the replica bucket`,
    });
  });
});

test('snapshot listings merge by name (listed by the group and by a member: one snapshot)', () => {
  const s = (name: string, status: string) => ({ name, source: 'manual' as const, status, shardCount: 1 });
  expect(mergeSnapshots([s('a', 'available'), s('b', 'creating')], [s('b', 'available'), s('c', 'available')]).map((x) => [x.name, x.status]))
    .toEqual([['a', 'available'], ['b', 'creating'], ['c', 'available']]);
});
