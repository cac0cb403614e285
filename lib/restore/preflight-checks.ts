/**
 * The restore preflight's decisions (pure): given what was observed about the buckets, objects, manifests
 * and snapshot of a restore, which failures and warnings to report. The handler (`preflight.lambda.ts`)
 * only observes and calls these functions.
 *
 * Every failure says what is wrong and what to change. Messages group objects with the same problem so that
 * a 500-shard restore stays readable; the whole report is cut to fit a CloudFormation status reason.
 */
import { elastiCacheSnapshotPrincipal, evaluateSeedAccess, PolicyParseError, seedReadStatement } from './bucket-policy';
import { checkContent, ContentObservation, EnvelopeObservation } from './content-checks';
import type { PreflightRequest } from './preflight-properties';
import { fitToBytes, jsonStringBytes } from './response-budget';
import { MAX_SHARDS } from './slots';
import { checkManifestKey, checkObjectsAgainstManifest, isVerifiedManifest, ObjectHead } from '../manifest/integrity';
import type { BackupManifest } from '../manifest/manifest';
import { isDataTiering, nodeMemoryGiB } from '../private/node-memory';
import { checkRdbCompatibility, RdbHeader } from '../rdb/header';

/** An S3 object named by a seed ARN. */
export interface S3ObjectRef {
  readonly partition: string;
  readonly bucket: string;
  readonly key: string;
}

export type HeadObservation =
  | {
    readonly status: 'found';
    readonly sizeBytes: number;
    readonly serverSideEncryption?: string;
    readonly kmsKeyId?: string;
    readonly versionId?: string;
    readonly etag?: string;
  }
  | { readonly status: 'missing' }
  | { readonly status: 'error'; readonly message: string };

export type HeaderObservation =
  | { readonly status: 'read'; readonly header: RdbHeader }
  | { readonly status: 'invalid'; readonly message: string }
  | { readonly status: 'error'; readonly message: string };

export interface ObjectObservation {
  readonly ref: S3ObjectRef;
  readonly head: HeadObservation;
  /** Absent when the header was not read (object missing, SSE-KMS, empty). */
  readonly header?: HeaderObservation;
  /** The size, EOF opcode and trailer check; absent when not made (manifest sources, unreadable objects). */
  readonly envelope?: EnvelopeObservation;
  /** The full streaming verification; absent when not made. */
  readonly content?: ContentObservation;
}

export type PolicyObservation =
  | { readonly status: 'found'; readonly text: string }
  | { readonly status: 'none' }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'skipped' };

export interface BucketObservation {
  readonly partition: string;
  readonly bucket: string;
  /** The bucket's region, or an error reading it. */
  readonly region: { readonly status: 'found'; readonly region: string } | { readonly status: 'missing' } | { readonly status: 'error'; readonly message: string };
  readonly policy: PolicyObservation;
}

export interface Findings {
  readonly failures: string[];
  readonly warnings: string[];
}

/** How many object names a grouped message lists before "and N more". */
const LIST_LIMIT = 5;
/**
 * The default size of a failure message, in bytes as written in the JSON response. The handler passes the exact room
 * left in CloudFormation's 4096-byte response once the envelope is counted (see `response-budget.ts`).
 */
export const MAX_REASON_LENGTH = 3000;
const GIB = 1024 ** 3;

const ARN_PATTERN = /^arn:([a-z0-9-]+):s3:::([^/]+)\/(.+)$/;

/** Parses `arn:<partition>:s3:::<bucket>/<key>`; returns a message when it is not one. */
export function parseS3ObjectArn(arn: string): S3ObjectRef | string {
  const match = ARN_PATTERN.exec(arn);
  if (!match) {
    return `'${arn}' is not an S3 object ARN (arn:<partition>:s3:::<bucket>/<key>.rdb)`;
  }
  if (match[3].includes(',')) {
    return `'${arn}': the object key contains a comma, which ElastiCache does not accept in a seed ARN`;
  }
  return { partition: match[1], bucket: match[2], key: match[3] };
}

export function bucketArn(partition: string, bucket: string): string {
  return `arn:${partition}:s3:::${bucket}`;
}

export function objectArn(ref: S3ObjectRef): string {
  return `${bucketArn(ref.partition, ref.bucket)}/${ref.key}`;
}

export function s3Uri(ref: S3ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

/** `a, b, c, d, e and 3 more` */
export function listSome(items: string[]): string {
  const shown = items.slice(0, LIST_LIMIT).join(', ');
  return items.length > LIST_LIMIT ? `${shown} and ${items.length - LIST_LIMIT} more` : shown;
}

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(bytes < GIB ? 3 : 2)} GiB`;
}

/**
 * Checks the seed objects of a restore (`.rdb` ARNs, typed objects, or a resolved export).
 */
export function checkObjects(request: PreflightRequest, buckets: BucketObservation[], objects: ObjectObservation[]): Findings {
  const failures: string[] = [];
  const warnings: string[] = [];
  // Cluster mode disabled: a single .rdb only.
  if (!request.clusterModeEnabled && objects.length > 1) {
    failures.push(
      `the backup has ${objects.length} .rdb objects (one per shard of a cluster-mode-enabled group), but the new replication group has cluster mode disabled, `
      + 'and ElastiCache cannot seed a cluster-mode-disabled group from a multi-shard backup: enable cluster mode on the new group, or restore a single-shard backup',
    );
  }

  checkBuckets(request, buckets, objects, { failures, warnings });

  const missing = objects.filter((o) => o.head.status === 'missing').map((o) => s3Uri(o.ref));
  if (missing.length > 0) {
    failures.push(`${missing.length} .rdb object(s) do not exist: ${listSome(missing)}: check the object keys, or wait until S3 replication has delivered them and deploy again`);
  }
  const unreadable = objects.filter((o) => o.head.status === 'error');
  for (const o of unreadable) {
    failures.push(`could not read ${s3Uri(o.ref)}: ${(o.head as { message: string }).message}`);
  }

  const found = objects.filter((o): o is ObjectObservation & { head: { status: 'found'; sizeBytes: number; serverSideEncryption?: string } } => o.head.status === 'found');
  const kms = found.filter((o) => o.head.serverSideEncryption === 'aws:kms' || o.head.serverSideEncryption === 'aws:kms:dsse');
  if (kms.length > 0) {
    const first = kms[0].ref;
    failures.push(
      `${kms.length} .rdb object(s) are encrypted with SSE-KMS (${kms[0].head.serverSideEncryption}): ${listSome(kms.map((o) => s3Uri(o.ref)))}; ElastiCache seeds only from SSE-S3 (AES256) objects: `
      + `copy each object over itself with SSE-S3 (aws s3 cp ${s3Uri(first)} ${s3Uri(first)} --sse AES256) and make SSE-S3 the bucket's default encryption`,
    );
  }
  const empty = found.filter((o) => o.head.sizeBytes === 0);
  if (empty.length > 0) {
    failures.push(`${empty.length} .rdb object(s) are empty: ${listSome(empty.map((o) => s3Uri(o.ref)))}: the export or upload did not complete; restore from another backup`);
  }

  checkHeaders(request, found, { failures, warnings });

  const content = checkContent(request, found.map((o) => ({
    uri: s3Uri(o.ref), sizeBytes: o.head.sizeBytes, envelope: o.envelope, content: o.content,
  })));
  failures.push(...content.failures);
  warnings.push(...content.warnings);

  const size = checkSize(request, found.reduce((sum, o) => sum + o.head.sizeBytes, 0));
  if (size?.severity === 'failure') {
    failures.push(size.message);
  } else if (size) {
    warnings.push(size.message);
  }
  return { failures, warnings };
}

/** Region and bucket policy of each bucket holding seed objects. */
function checkBuckets(request: PreflightRequest, buckets: BucketObservation[], objects: ObjectObservation[], out: Findings): void {
  const principal = elastiCacheSnapshotPrincipal(request.region);
  for (const b of buckets) {
    if (b.region.status === 'missing') {
      out.failures.push(`bucket ${b.bucket} does not exist: check the bucket name in the restore source`);
      continue;
    }
    if (b.region.status === 'error') {
      out.warnings.push(`could not read the region of bucket ${b.bucket} (${b.region.message}); the region was not checked`);
    } else if (b.region.region !== request.region) {
      out.failures.push(
        `bucket ${b.bucket} is in ${b.region.region} but the replication group is created in ${request.region}, and ElastiCache seeds only from a bucket in its own region: `
        + `copy or replicate the objects to a bucket in ${request.region} (a BackupReplicaBucket there does this) and restore from that bucket`,
      );
    }
    const inBucket = objects.filter((o) => o.ref.bucket === b.bucket && o.head.status === 'found');
    const policyFinding = checkPolicy(b, inBucket.map((o) => objectArn(o.ref)), principal);
    if (policyFinding?.severity === 'failure') {
      out.failures.push(policyFinding.message);
    } else if (policyFinding) {
      out.warnings.push(policyFinding.message);
    }
  }
}

/** Headers: not RDB, and RDB version vs the target engine (grouped by version). */
function checkHeaders(request: PreflightRequest, found: ObjectObservation[], out: Findings): void {
  const invalid = found.filter((o) => o.header?.status === 'invalid');
  for (const o of invalid.slice(0, LIST_LIMIT)) {
    out.failures.push(`${s3Uri(o.ref)} is ${(o.header as { message: string }).message}`);
  }
  if (invalid.length > LIST_LIMIT) {
    out.failures.push(`${invalid.length - LIST_LIMIT} more object(s) are not RDB files`);
  }
  for (const o of found.filter((x) => x.header?.status === 'error')) {
    out.warnings.push(`could not read the header of ${s3Uri(o.ref)} (${(o.header as { message: string }).message}); its RDB version was not checked`);
  }
  const byVersion = new Map<number, string[]>();
  for (const o of found) {
    if (o.header?.status === 'read') {
      const list = byVersion.get(o.header.header.rdbVersion) ?? [];
      list.push(s3Uri(o.ref));
      byVersion.set(o.header.header.rdbVersion, list);
    }
  }
  for (const [version, uris] of [...byVersion.entries()].sort((a, b) => a[0] - b[0])) {
    const verdict = checkRdbCompatibility(version, request.engine);
    if (verdict.status === 'ok') {
      continue;
    }
    const message = `${listSome(uris)}: ${verdict.message}`;
    if (verdict.status === 'error' || request.failOnUncertainCompatibility) {
      out.failures.push(verdict.status === 'warning' ? `${message} (failOnUncertainCompatibility is set)` : message);
    } else {
      out.warnings.push(message);
    }
  }
}

function checkPolicy(b: BucketObservation, objectArns: string[], principal: string): { severity: 'failure' | 'warning'; message: string } | undefined {
  if (b.policy.status === 'skipped' || objectArns.length === 0) {
    return undefined;
  }
  const arn = bucketArn(b.partition, b.bucket);
  if (b.policy.status === 'error') {
    return { severity: 'warning', message: `could not read the bucket policy of ${b.bucket} (${b.policy.message}); access for ${principal} was not checked` };
  }
  const statement = JSON.stringify(seedReadStatement(principal, arn, objectArns));
  if (b.policy.status === 'none') {
    return {
      severity: 'failure',
      message: `bucket ${b.bucket} has no bucket policy, so ElastiCache (${principal}) cannot read the .rdb objects: add this statement to the bucket policy: ${statement}`,
    };
  }
  let verdict;
  try {
    verdict = evaluateSeedAccess(b.policy.text, principal, arn, objectArns);
  } catch (e) {
    if (e instanceof PolicyParseError) {
      return { severity: 'warning', message: `${e.message} (bucket ${b.bucket}); access for ${principal} was not checked` };
    }
    throw e;
  }
  if (verdict.deniedBy.length > 0) {
    return {
      severity: 'failure',
      message: `the bucket policy of ${b.bucket} denies ElastiCache (${principal}) read access in statement(s) ${verdict.deniedBy.join(', ')}: exempt ${principal} from them`,
    };
  }
  if (verdict.missingBucketActions.length === 0 && verdict.unreadableObjectArns.length === 0) {
    return undefined;
  }
  const gaps = [
    ...verdict.missingBucketActions.map((a) => `${a} on the bucket`),
    ...(verdict.unreadableObjectArns.length > 0 ? [`s3:GetObject on ${verdict.unreadableObjectArns.length} object(s)`] : []),
  ];
  const fix = JSON.stringify(seedReadStatement(principal, arn, verdict.unreadableObjectArns.length > 0 ? verdict.unreadableObjectArns : objectArns));
  return {
    severity: 'failure',
    message: `the bucket policy of ${b.bucket} does not let ElastiCache (${principal}) read the .rdb objects (missing: ${gaps.join('; ')}): add this statement to the bucket policy: ${fix}`,
  };
}

/**
 * Total `.rdb` bytes against the data memory of the new group: node memory x shards x (1 - reserved-memory-percent).
 *
 * A file larger than the data memory cannot load (ElastiCache leaves the group in `restore-failed`). Data in
 * memory is usually larger than its `.rdb` (RDB is compact and may be compressed), so a file above half the
 * data memory is a warning. Replicas hold copies, so only shards count.
 */
export function checkSize(request: PreflightRequest, totalBytes: number): { severity: 'failure' | 'warning'; message: string } | undefined {
  const memory = nodeMemoryGiB(request.nodeType);
  if (memory === undefined) {
    return { severity: 'warning', message: `node type ${request.nodeType} is not in the preflight's memory table; the backup size (${gib(totalBytes)}) was not checked against it` };
  }
  const shards = request.clusterModeEnabled ? request.shardCount : 1;
  const reserved = isDataTiering(request.nodeType) ? 0 : request.reservedMemoryPercent;
  const dataBytes = memory * GIB * shards * (1 - reserved / 100);
  const capacity = `${shards} shard(s) of ${request.nodeType} hold about ${gib(dataBytes)} of data (${memory} GiB per node, ${reserved}% reserved memory)`;
  if (totalBytes > dataBytes) {
    return {
      severity: 'failure',
      message: `the .rdb objects total ${gib(totalBytes)} but ${capacity}; ElastiCache would leave the group in restore-failed: choose a larger node type or more shards`,
    };
  }
  if (totalBytes > dataBytes / 2) {
    return {
      severity: 'warning',
      message: `the .rdb objects total ${gib(totalBytes)} and ${capacity}; data usually takes more memory than its .rdb file, so the restore may not fit: consider a larger node type or more shards`,
    };
  }
  return undefined;
}

/** A manifest observed under `manifests/<group>/`, newest first. */
export interface ManifestCandidate {
  readonly key: string;
  /** The parsed manifest, when it could be read. */
  readonly manifest?: BackupManifest;
  /** Why it cannot be restored (undefined: usable). */
  readonly problem?: string;
}

export interface ManifestChoice extends Findings {
  readonly chosen?: { readonly key: string; readonly manifest: BackupManifest };
}

/**
 * Whether a manifest can be trusted before its objects are looked at: it must be verified (format 2), stored under
 * the key its content names, and not dated in the future. Returns the problem, or undefined.
 */
export function manifestTrustProblem(key: string, manifest: BackupManifest, now: Date): string | undefined {
  if (!isVerifiedManifest(manifest)) {
    const how = manifest.formatVersion < 2 ? `a format ${manifest.formatVersion} manifest, written before exports were verified` : 'not every shard records a verified version';
    return `not verified (${how}), so nothing proves its objects are intact; restore it explicitly with BackupSource.fromRdbObjects and its keys `
      + '(the preflight then verifies the objects themselves)';
  }
  if (manifest.shards.length > MAX_SHARDS) {
    return `not used: it lists ${manifest.shards.length} .rdb objects, more than the ${MAX_SHARDS} shards an ElastiCache group can have, so it was not written by BackupPlan`;
  }
  const keyProblem = checkManifestKey(key, manifest, now);
  return keyProblem === undefined ? undefined : `not used: ${keyProblem}`;
}

/**
 * A trusted manifest with more objects than the restore was synthesized for (one ARN chunk resource per 20). It stops
 * the search before any object is looked at: restoring an older export instead would silently give older data.
 */
export function sourceShardsProblem(key: string, objectCount: number, maxSourceShards: number): string | undefined {
  if (objectCount <= maxSourceShards) {
    return undefined;
  }
  return `the latest export (${key}) has ${objectCount} .rdb objects, but this restore was synthesized for at most ${maxSourceShards} `
    + `(BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to ${objectCount} or more and deploy again`;
}

/**
 * Whether the objects of a verified manifest are still the ones it verified (HEAD of each: the current version and
 * size must match what the manifest pinned). Returns the problem, or undefined when every object is intact.
 */
export function manifestObjectsProblem(bucket: string, manifest: BackupManifest, heads: ReadonlyMap<string, HeadObservation>): string | undefined {
  const parts: string[] = [];
  const unreadable = manifest.shards.filter((s) => heads.get(s.key)?.status === 'error');
  for (const s of unreadable.slice(0, LIST_LIMIT)) {
    parts.push(`could not read s3://${bucket}/${s.key}: ${(heads.get(s.key) as { message: string }).message}`);
  }
  const missing = manifest.shards.filter((s) => heads.get(s.key)?.status !== 'found' && heads.get(s.key)?.status !== 'error').map((s) => `s3://${bucket}/${s.key}`);
  if (missing.length > 0) {
    // In a versioned bucket a deleted object's verified version is still there, under a delete marker.
    const deleted = manifest.shards.some((s) => s.versionId !== undefined)
      ? ' (if they were deleted, the versions the manifest verified may still be listed by aws s3api list-object-versions: delete the delete marker to bring one back)'
      : '';
    parts.push(`${missing.length} of ${manifest.shards.length} object(s) missing (${listSome(missing)}), S3 replication may still be in flight${deleted}`);
  }
  const found = new Map<string, ObjectHead | undefined>();
  for (const [key, h] of heads) {
    if (h.status === 'found') {
      found.set(key, { key, sizeBytes: h.sizeBytes, versionId: h.versionId, etag: h.etag });
    }
  }
  const changed = checkObjectsAgainstManifest(manifest, found, bucket).filter((p) => found.has(p.key));
  parts.push(...changed.slice(0, LIST_LIMIT).map((p) => `s3://${bucket}/${p.key}: ${p.reason}`));
  if (changed.length > LIST_LIMIT) {
    parts.push(`${changed.length - LIST_LIMIT} more object(s) changed since the export was verified`);
  }
  return parts.length === 0 ? undefined : parts.join('; ');
}

/**
 * Chooses the export to restore: the newest candidate without a problem.
 *
 * Newer manifests that cannot be used (objects not all replicated yet, overwritten or deleted after the commit,
 * unverified, stored under a key that does not match their content, dated in the future) are skipped with a warning
 * that names each and says why; if none is usable, the preflight fails. `candidates` are newest first and may stop at
 * the first usable one.
 */
export function chooseManifest(bucket: string, replicationGroupId: string, candidates: ManifestCandidate[]): ManifestChoice {
  const where = `s3://${bucket}/manifests/${replicationGroupId}/`;
  if (candidates.length === 0) {
    return {
      failures: [`no export of ${replicationGroupId} is committed in ${where} (no manifest): check that the backup plan exports ${replicationGroupId} and that S3 replication reaches bucket ${bucket}`],
      warnings: [],
    };
  }
  const skipped: string[] = [];
  for (const c of candidates) {
    if (c.manifest && c.problem === undefined) {
      const warnings = skipped.length === 0 ? [] : [
        `restoring the export of ${c.manifest.snapshotCreateTime} (${c.key}) because newer manifests are not usable: ${skipped.join('; ')}`,
      ];
      return { chosen: { key: c.key, manifest: c.manifest }, failures: [], warnings };
    }
    skipped.push(`${c.key}: ${c.problem ?? 'not usable'}`);
  }
  return {
    failures: [
      `no complete, verified export of ${replicationGroupId} in ${where}: ${skipped.join('; ')}: `
      + 'wait for S3 replication to finish and deploy again, repair the export as described, or restore a specific backup with BackupSource.fromRdbObjects',
    ],
    warnings: [],
  };
}

/** Checks a manifest against the new group before its objects are checked. */
export function checkManifest(request: PreflightRequest, key: string, manifest: BackupManifest): Findings {
  const failures: string[] = [];
  if (!request.clusterModeEnabled && manifest.clusterModeEnabled) {
    failures.push(
      `the latest export (${key}) comes from cluster-mode-enabled group ${manifest.replicationGroupId} (${manifest.shardCount} shard(s)), `
      + 'and ElastiCache cannot seed a cluster-mode-disabled group from it: enable cluster mode on the new group',
    );
  }
  // Engine compatibility is checked from each object's header, not from the manifest's engine fields.
  return { failures, warnings: [] };
}

/** What DescribeSnapshots said about a named snapshot. */
export type SnapshotObservation =
  | {
    readonly status: 'found';
    readonly snapshotStatus: string;
    readonly engine: string;
    readonly engineVersion: string;
    readonly numNodeGroups?: number;
    readonly dataTiering?: string;
  }
  | { readonly status: 'missing' }
  | { readonly status: 'error'; readonly message: string };

/** Checks an ElastiCache snapshot restore (`BackupSource.fromSnapshotName`). */
export function checkSnapshot(request: PreflightRequest, name: string, snapshot: SnapshotObservation): Findings {
  const failures: string[] = [];
  const warnings: string[] = [];
  if (snapshot.status === 'missing') {
    return { failures: [`snapshot ${name} does not exist in ${request.region}: check the name (DescribeSnapshots), or copy the snapshot to ${request.region}`], warnings };
  }
  if (snapshot.status === 'error') {
    return { failures: [`could not describe snapshot ${name}: ${snapshot.message}`], warnings };
  }
  if (snapshot.snapshotStatus !== 'available') {
    failures.push(`snapshot ${name} is '${snapshot.snapshotStatus}', not 'available': wait until it is available and deploy again`);
  }
  const target = request.engine;
  if (snapshot.engine === 'valkey' && target.engineType === 'redis') {
    failures.push(`snapshot ${name} is a Valkey ${snapshot.engineVersion} backup and the target engine is redis ${target.engineVersion}: restore it into a Valkey group`);
  } else if (snapshot.engine !== target.engineType) {
    warnings.push(`snapshot ${name} is a ${snapshot.engine} ${snapshot.engineVersion} backup and the target engine is ${target.engineType} ${target.engineVersion}`);
  } else if (compareVersions(snapshot.engineVersion, target.engineVersion) > 0) {
    failures.push(
      `snapshot ${name} was taken on ${snapshot.engine} ${snapshot.engineVersion}, newer than the target ${target.engineType} ${target.engineVersion}, `
      + `and an engine cannot load a backup from a newer version: choose engine version ${majorMinor(snapshot.engineVersion)} or newer`,
    );
  }
  if (snapshot.dataTiering === 'enabled' && !isDataTiering(request.nodeType)) {
    failures.push(`snapshot ${name} comes from a data-tiering (r6gd) group, and ElastiCache restores it only into r6gd nodes: choose a cache.r6gd node type`);
  }
  if (!request.clusterModeEnabled && (snapshot.numNodeGroups ?? 1) > 1) {
    failures.push(`snapshot ${name} has ${snapshot.numNodeGroups} shards, and a cluster-mode-disabled group cannot be restored from it: enable cluster mode on the new group`);
  }
  return { failures, warnings };
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** Compares dotted versions numerically on major.minor: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = majorMinor(a).split('.').map(Number);
  const pb = majorMinor(b).split('.').map(Number);
  for (let i = 0; i < 2; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) {
      return Math.sign(d);
    }
  }
  return 0;
}

/**
 * The message a failed preflight throws (CloudFormation shows it as the status reason). Problems are listed until
 * the next one would not fit in `maxBytes` (counted as written in the JSON response, escapes included); the first is
 * cut to fit when it alone is too long, and the rest are counted and left to the log.
 */
export function formatFailure(findings: Findings, maxBytes: number = MAX_REASON_LENGTH): string {
  const head = `restore preflight failed, nothing was created (${findings.failures.length} problem(s)):`;
  const more = (n: number) => ` ... and ${n} more problem(s): see the preflight function's log`;
  // Room for the "and N more" tail is kept whenever a problem might not be shown.
  const reserve = jsonStringBytes(more(findings.failures.length));
  let text = head;
  let shown = 0;
  for (const f of findings.failures) {
    const isLast = shown === findings.failures.length - 1;
    const room = maxBytes - jsonStringBytes(text) - (isLast ? 0 : reserve);
    let line = ` [${shown + 1}] ${f}`;
    if (jsonStringBytes(line) > room) {
      if (shown > 0) {
        break;
      }
      line = `${fitToBytes(line, Math.max(0, room - 3))}...`;
    }
    text += line;
    shown++;
  }
  if (shown < findings.failures.length) {
    text += more(findings.failures.length - shown);
  }
  return text;
}
