/**
 * The executor's last check before a DeleteSnapshot (delete-check.ts), called directly. Mutation testing found that
 * no test reached its key and verification checks: the planner never proposes such a deletion, so they only act when
 * the bucket changed between the plan and the call. The oracle is the test's own: each manifest below is built to
 * break exactly one condition.
 */
import { checkBeforeDelete, PRUNE_SETTLE_SECONDS } from '../../lib/backup-plan/delete-check';
import { DeleteSnapshotAction, ObjectInfo } from '../../lib/backup-plan/planner';
import { ReconcileIo } from '../../lib/backup-plan/reconcile-core';
import { BackupManifest, manifestKey, serializeManifest } from '../../lib/manifest/manifest';
import { verifiedShard } from '../manifest/fixtures';

const G = 'orders';
const NOW = new Date('2026-03-10T12:00:00Z');
const TAKEN = new Date('2026-03-10T08:00:00Z');
const SNAPSHOT = 'ceb-orders-b20260310t080000z';
const KEY = manifestKey(G, TAKEN, SNAPSHOT);
const SHARD = 'ceb-orders-x20260310t080000z-abcdefgh-0001.rdb';

function manifest(over: Partial<BackupManifest> = {}): BackupManifest {
  return {
    formatVersion: 2,
    replicationGroupId: G,
    region: 'us-east-1',
    bucket: 'exports',
    snapshotName: SNAPSHOT,
    snapshotSource: 'manual',
    snapshotCreateTime: TAKEN.toISOString(),
    exportName: 'ceb-orders-x20260310t080000z-abcdefgh',
    exportTime: new Date(TAKEN.getTime() + 20 * 60_000).toISOString(),
    engine: 'valkey',
    engineVersion: '8.0.1',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: true,
    shardCount: 1,
    shards: [verifiedShard(SHARD, 100, 'v1', '"e1"', { verifiedAt: new Date(TAKEN.getTime() + 25 * 60_000).toISOString() })],
    ...over,
  } as BackupManifest;
}

/** Only what the check reads: the manifest's text and the objects' HEADs. */
function bucket(texts: Record<string, string>, heads: Record<string, ObjectInfo>): ReconcileIo {
  return {
    bucketName: 'exports',
    getText: async (key: string) => texts[key],
    headObject: async (key: string) => heads[key],
  } as unknown as ReconcileIo;
}

const action: DeleteSnapshotAction = { kind: 'DeleteSnapshot', snapshotName: SNAPSHOT, manifestKey: KEY } as DeleteSnapshotAction;
const replicated = (key: string, sizeBytes: number, versionId: string, etag: string): ObjectInfo => ({
  key, sizeBytes, versionId, etag, replicationStatus: 'COMPLETED',
});
const intactHeads = { [SHARD]: replicated(SHARD, 100, 'v1', '"e1"'), [KEY]: replicated(KEY, 500, 'm1', '"m"') };

describe('the check before a deletion', () => {
  test('an intact, verified, replicated export: the deletion may go ahead', async () => {
    expect(await checkBeforeDelete(bucket({ [KEY]: serializeManifest(manifest()) }, intactHeads), action, NOW)).toBeUndefined();
  });

  test('a manifest whose content belongs under another key (copied or planted there) is refused', async () => {
    const other = manifest({ snapshotCreateTime: '2026-03-10T07:00:00.000Z' });
    const block = await checkBeforeDelete(bucket({ [KEY]: serializeManifest(other) }, intactHeads), action, NOW);
    expect(block).toEqual({ kind: 'refuse', why: expect.stringMatching(/belongs under .*, not under this key/) });
  });

  test('a manifest without a verification of every shard (format 1) is refused', async () => {
    const unverified = manifest({ formatVersion: 1, shards: [{ key: SHARD, sizeBytes: 100, versionId: 'v1', etag: '"e1"' }] });
    const block = await checkBeforeDelete(bucket({ [KEY]: serializeManifest(unverified) }, intactHeads), action, NOW);
    expect(block).toEqual({ kind: 'refuse', why: expect.stringMatching(/does not record a verification of every shard/) });
  });

  test('without replication statuses, the deletion waits until the export is PRUNE_SETTLE_SECONDS old', async () => {
    const heads = { [SHARD]: { ...intactHeads[SHARD], replicationStatus: undefined }, [KEY]: { ...intactHeads[KEY], replicationStatus: undefined } };
    const io = bucket({ [KEY]: serializeManifest(manifest()) }, heads);
    const exportTime = Date.parse(manifest().exportTime);
    const justBefore = new Date(exportTime + PRUNE_SETTLE_SECONDS * 1000 - 1000);
    const justAt = new Date(exportTime + PRUNE_SETTLE_SECONDS * 1000);
    expect(await checkBeforeDelete(io, action, justBefore)).toMatchObject({ kind: 'wait' });
    expect(await checkBeforeDelete(io, action, justAt)).toBeUndefined();
  });

  test('one object with a replication status is enough to rely on the statuses: COMPLETED everywhere needs no settling time', async () => {
    const heads = { [SHARD]: intactHeads[SHARD], [KEY]: { ...intactHeads[KEY], replicationStatus: undefined } };
    const exportTime = Date.parse(manifest().exportTime);
    const soon = new Date(exportTime + 60_000);
    expect(await checkBeforeDelete(bucket({ [KEY]: serializeManifest(manifest()) }, heads), action, soon)).toBeUndefined();
  });

  test('a shard whose replication is still PENDING: the deletion waits', async () => {
    const heads = { ...intactHeads, [SHARD]: { ...intactHeads[SHARD], replicationStatus: 'PENDING' } };
    const block = await checkBeforeDelete(bucket({ [KEY]: serializeManifest(manifest()) }, heads), action, NOW);
    expect(block).toEqual({ kind: 'wait', why: expect.stringMatching(/PENDING/) });
  });

  test.each(['PENDING', 'COMPLETED'])('a manifest deleted between its read and its HEAD refuses the deletion (shard replication %s)', async (status) => {
    const shardHead = { ...replicated(SHARD, 100, 'v1', '"e1"'), replicationStatus: status };
    await expect(checkBeforeDelete(bucket({ [KEY]: serializeManifest(manifest()) }, { [SHARD]: shardHead }), action, NOW))
      .resolves.toEqual({ kind: 'refuse', why: `refusing to delete ${SNAPSHOT}: manifest s3://exports/${KEY} no longer exists` });
  });
});
