/**
 * Whether a committed export can still be trusted: the checks that pruning (export bucket), restore (replica or export
 * bucket) and the DR freshness monitor (replica bucket) all make against a manifest before relying on it.
 *
 * Pure code: callers do the S3 calls (a HEAD per shard) and pass what they saw. One implementation, so the three
 * readers can never disagree about what "intact" means. Not part of the jsii API.
 */
import { BackupManifest, manifestKey, ManifestShard } from './manifest';

/** What a HEAD (or a listing with versions) said about one object. Absent from the map: the object does not exist. */
export interface ObjectHead {
  readonly key: string;
  readonly sizeBytes: number;
  readonly versionId?: string;
  readonly etag?: string;
  readonly lastModified?: Date;
}

/** One reason a manifest cannot be trusted now, for logs and error messages. */
export interface IntegrityProblem {
  readonly key: string;
  readonly reason: string;
}

/**
 * Clock skew tolerated between the reconciler, the service and S3 when a time in a manifest or key is compared with
 * "now". Anything later than now plus this is "in the future" and is ignored and reported.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A manifest is verified when it is format version 2 or later and every shard records a verification (`full`, or
 * `partial` for shards above the verifier's size limit) with a trailer that was present. Version 1 manifests
 * (written before verification existed) are never verified.
 */
export function isVerifiedManifest(manifest: BackupManifest): boolean {
  return manifest.formatVersion >= 2
    && manifest.shards.length === manifest.shardCount
    && manifest.shards.every((s) => (s.verification === 'full' || s.verification === 'partial')
      && typeof s.versionId === 'string' && s.versionId.length > 0
      && s.sizeBytes > 0);
}

/**
 * Whether a manifest stored under `key` describes what its key says: the same group, snapshot time and snapshot
 * name (a manifest copied or planted under another key must not be taken for that export), with a snapshot time
 * that is not in the future. Returns the problem, or undefined when the key matches.
 */
export function checkManifestKey(key: string, manifest: BackupManifest, now: Date): string | undefined {
  const time = new Date(manifest.snapshotCreateTime);
  if (Number.isNaN(time.getTime())) {
    return `snapshotCreateTime ${JSON.stringify(manifest.snapshotCreateTime)} is not a time`;
  }
  const expected = manifestKey(manifest.replicationGroupId, time, manifest.snapshotName);
  if (expected !== key) {
    return `its content (group ${manifest.replicationGroupId}, snapshot ${manifest.snapshotName} taken ${manifest.snapshotCreateTime}) belongs under ${expected}, not under this key`;
  }
  const latest = now.getTime() + FUTURE_TOLERANCE_MS;
  if (time.getTime() > latest) {
    return `its snapshot time ${manifest.snapshotCreateTime} is in the future (now ${now.toISOString()})`;
  }
  const exportTime = Date.parse(manifest.exportTime);
  if (Number.isNaN(exportTime) || exportTime > latest) {
    return `its export time ${manifest.exportTime} is in the future (now ${now.toISOString()})`;
  }
  if (exportTime < time.getTime()) {
    return `its export time ${manifest.exportTime} is before its snapshot time ${manifest.snapshotCreateTime}`;
  }
  for (const shard of manifest.shards) {
    if (!shard.key.startsWith(`${manifest.exportName}-`)) {
      return `shard ${shard.key} is not an object of export ${manifest.exportName}`;
    }
  }
  return undefined;
}

/**
 * Compares the objects as they are now with what the manifest pinned. Each shard must exist with the same size, and,
 * when the manifest pinned a version (format 2), the current version must be that version (an overwrite makes a new
 * current version: the message names the version to copy back). Returns every problem found (empty: intact).
 *
 * @param bucketName the bucket the heads come from, to print the exact command that repairs an overwritten object
 */
export function checkObjectsAgainstManifest(
  manifest: BackupManifest,
  heads: ReadonlyMap<string, ObjectHead | undefined>,
  bucketName?: string,
): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  for (const shard of manifest.shards) {
    const problem = checkShard(shard, heads.get(shard.key), bucketName ?? '<bucket>');
    if (problem) {
      problems.push({ key: shard.key, reason: problem });
    }
  }
  return problems;
}

function checkShard(shard: ManifestShard, head: ObjectHead | undefined, bucket: string): string | undefined {
  if (!head) {
    // In a versioned bucket a DeleteObject only adds a delete marker: the verified version may still be there.
    const pinned = shard.versionId === undefined ? ''
      : `; if version ${shard.versionId} is still listed (aws s3api list-object-versions --bucket ${bucket} --prefix ${shard.key}), `
        + 'a delete marker hides it: delete the delete marker (delete-object with its --version-id) and it is current again';
    return `object does not exist (deleted, expired by a lifecycle rule, or not replicated yet)${pinned}`;
  }
  if (shard.versionId !== undefined && head.versionId !== shard.versionId) {
    return `current version is ${head.versionId ?? '(none: versioning off?)'} (${head.sizeBytes} bytes), but the manifest verified version ${shard.versionId} `
      + `(${shard.sizeBytes} bytes): the object was overwritten after the commit. ${repair(bucket, shard, head.versionId)}`;
  }
  if (head.sizeBytes === 0) {
    return 'object is empty (0 bytes)';
  }
  if (head.sizeBytes !== shard.sizeBytes) {
    return `size is ${head.sizeBytes} bytes, but the manifest recorded ${shard.sizeBytes}`;
  }
  if (shard.etag !== undefined && head.etag !== undefined && normalizeEtag(head.etag) !== normalizeEtag(shard.etag)) {
    return `ETag is ${head.etag}, but the manifest recorded ${shard.etag}`;
  }
  return undefined;
}

/**
 * The repair for an object whose verified version is no longer the current one. Copying it back makes a new version
 * with a new id, which no longer matches the manifest (so only a restore that verifies the content itself accepts
 * it); removing the newer version makes the verified version current again under its own id.
 */
function repair(bucket: string, shard: ManifestShard, currentVersion: string | undefined): string {
  const remove = currentVersion === undefined ? ''
    : ` make it current again by deleting the newer version (aws s3api delete-object --bucket ${bucket} --key ${shard.key} --version-id ${currentVersion}; `
      + 'copy that version elsewhere first if it matters), or';
  return `Version ${shard.versionId} is the one to copy back:${remove} `
    + `copy it back over the object (aws s3api copy-object --bucket ${bucket} --key ${shard.key} --copy-source "${bucket}/${shard.key}?versionId=${shard.versionId}") `
    + 'and restore with BackupSource.fromRdbObjects, which verifies the content itself; or restore from another export';
}

function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** One line per problem, for error messages and logs. */
export function describeProblems(manifestLocation: string, problems: readonly IntegrityProblem[]): string {
  return `${manifestLocation}: ${problems.map((p) => `${p.key}: ${p.reason}`).join('; ')}`;
}
