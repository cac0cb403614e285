/**
 * The last check before the reconciler deletes a backup: the manifest it relies on is re-read and every object it
 * lists HEADed (refuse when no longer intact), and the export must have reached the replica bucket (wait).
 * Not part of the jsii API.
 */
import { DeleteSnapshotAction, ObjectInfo } from './planner';
import type { ReconcileIo } from './reconcile-core';
import { checkManifestKey, checkObjectsAgainstManifest, describeProblems, isVerifiedManifest, ObjectHead } from '../manifest/integrity';
import { BackupManifest, parseManifest } from '../manifest/manifest';

/**
 * A manifest must be this old before its snapshot is deleted: long enough for S3 replication (15 minutes with
 * Replication Time Control) to deliver the export to the replica bucket, when the objects report no replication status.
 */
export const PRUNE_SETTLE_SECONDS = 30 * 60;

/** Why a snapshot must not be deleted yet: `wait` (replication pending), or `refuse` (no longer intact). */
export interface DeleteBlock {
  readonly kind: 'wait' | 'refuse';
  readonly why: string;
}

/**
 * Why a snapshot must not be deleted now, or undefined: its manifest or an object is no longer intact (refuse), or
 * the export has not reached the replica bucket yet (wait).
 */
export async function checkBeforeDelete(io: ReconcileIo, action: DeleteSnapshotAction, now: Date): Promise<DeleteBlock | undefined> {
  const where = `s3://${io.bucketName}/${action.manifestKey}`;
  const refuse = (why: string): DeleteBlock => ({ kind: 'refuse', why: `refusing to delete ${action.snapshotName}: ${why}` });
  const gone = refuse(`manifest ${where} no longer exists`);
  const text = await io.getText(action.manifestKey);
  if (text === undefined) {
    return gone;
  }
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(text, where);
  } catch (e) {
    return refuse((e as Error).message);
  }
  const keyProblem = checkManifestKey(action.manifestKey, manifest, now);
  if (keyProblem) {
    return refuse(`manifest ${where}: ${keyProblem}`);
  }
  if (manifest.snapshotName !== action.snapshotName) {
    return refuse(`manifest ${where} describes snapshot ${manifest.snapshotName}, not ${action.snapshotName}`);
  }
  if (!isVerifiedManifest(manifest)) {
    return refuse(`manifest ${where} (format version ${manifest.formatVersion}) does not record a verification of every shard against a pinned `
      + 'version: the plan never deletes a backup on an unverified manifest; it exports the snapshot again');
  }
  const heads = new Map<string, ObjectInfo | undefined>();
  for (const shard of manifest.shards) {
    heads.set(shard.key, await io.headObject(shard.key));
  }
  const problems = checkObjectsAgainstManifest(manifest, heads as ReadonlyMap<string, ObjectHead | undefined>, io.bucketName);
  if (problems.length) {
    return refuse(describeProblems(where, problems));
  }
  const manifestHead = await io.headObject(action.manifestKey);
  if (manifestHead === undefined) {
    return gone; // read a moment ago, deleted since: somebody is removing the export
  }
  return replicationBlock(action, manifest, [...shardHeads(heads), manifestHead], now);
}

/** The shard HEADs, each known to exist once `checkObjectsAgainstManifest` found no problem. */
function shardHeads(heads: ReadonlyMap<string, ObjectInfo | undefined>): ObjectInfo[] {
  return [...heads.values()].filter((o): o is ObjectInfo => o !== undefined);
}

/** The export must have reached the replica bucket before its snapshot goes: the only other copy of the data. */
function replicationBlock(action: DeleteSnapshotAction, manifest: BackupManifest, objects: readonly ObjectInfo[],
  now: Date): DeleteBlock | undefined {
  const pending = objects.filter((o) => o.replicationStatus !== undefined && o.replicationStatus !== 'COMPLETED');
  if (pending.length) {
    return {
      kind: 'wait',
      why: `not deleting ${action.snapshotName} yet: replication of ${pending.map((o) => `${o.key} (${o.replicationStatus})`).join(', ')} `
        + 'to the replica bucket has not completed',
    };
  }
  const ageSeconds = (now.getTime() - Date.parse(manifest.exportTime)) / 1000;
  if (objects.every((o) => o.replicationStatus === undefined) && ageSeconds < PRUNE_SETTLE_SECONDS) {
    return {
      kind: 'wait',
      why: `not deleting ${action.snapshotName} yet: its export was committed ${Math.round(ageSeconds)} s ago; waiting `
        + `${PRUNE_SETTLE_SECONDS} s for replication to deliver it to the replica bucket`,
    };
  }
  return undefined;
}

