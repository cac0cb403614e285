/**
 * Restore preflight: a custom resource handler (aws-cdk-lib `custom_resources.Provider` onEvent) that runs
 * before the new replication group is created. It only reads: HeadObject, a ranged GetObject of each `.rdb`
 * header, GetBucketLocation, GetBucketPolicy, ListObjectsV2 of the manifest folder, DescribeSnapshots.
 * Nothing is created or deleted. All decisions are in `preflight-checks.ts`.
 *
 * - Create: resolve the source (for `latestExport`, the newest complete manifest), check it, and return the
 *   resolved ARNs as attributes; throw (= FAILED, with what to change) when a check fails.
 * - Update with the same source: no checks, same attributes. The group already exists; for `latestExport`
 *   the export chosen at creation stays pinned (a new one would replace the group).
 * - Delete: nothing to do.
 */
import {
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  Snapshot,
} from '@aws-sdk/client-elasticache';
import {
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  BucketObservation,
  checkManifest,
  checkObjects,
  checkSnapshot,
  chooseManifest,
  Findings,
  formatFailure,
  HeadObservation,
  ManifestCandidate,
  ObjectObservation,
  objectArn,
  parseS3ObjectArn,
  PolicyObservation,
  S3ObjectRef,
  SnapshotObservation,
} from './preflight-checks';
import {
  A,
  ArnChunkRequest,
  arnChunk,
  isArnChunkRequest,
  parseArnChunkProperties,
  parsePreflightProperties,
  PreflightRequest,
  sameSource,
} from './preflight-properties';
import { parseRdbHeader, RdbParseError } from '../rdb/header';
import { manifestPrefix, ManifestError, parseManifest } from '../manifest/manifest';

/** Bytes read from the start of each `.rdb` (the header and its aux fields fit easily). */
export const HEADER_BYTES = 256;
/** Manifests examined (newest first) before giving up on finding a complete export. */
export const MAX_MANIFESTS = 10;
/** CloudFormation rejects custom resource responses over 4096 bytes; leave room for the envelope. */
export const MAX_DATA_BYTES = 3500;

export interface PreflightDependencies {
  readonly s3: S3Client;
  readonly elastiCache: () => ElastiCacheClient;
  /** Parallel S3 requests. @default 16 */
  readonly concurrency?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

export interface PreflightResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

const PHYSICAL_ID_PREFIX = 'restore-preflight';

let defaultDeps: PreflightDependencies | undefined;

/** The Lambda entry point. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<PreflightResponse> {
  defaultDeps ??= {
    s3: new S3Client({ followRegionRedirects: true }),
    elastiCache: () => new ElastiCacheClient({}),
  };
  return createHandler(defaultDeps)(event);
}

/** A handler with its clients injected (tests point the S3 client at a loopback S3). */
export function createHandler(deps: PreflightDependencies): (event: CloudFormationCustomResourceEvent) => Promise<PreflightResponse> {
  const log = deps.log ?? defaultLog;
  return async (event) => {
    if (event.RequestType === 'Delete') {
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    if (isArnChunkRequest(event.ResourceProperties)) {
      return arnChunkResponse(deps, parseArnChunkProperties(event.ResourceProperties));
    }
    const request = parsePreflightProperties(event.ResourceProperties);
    if (event.RequestType === 'Update') {
      const old = parsePreflightProperties(event.OldResourceProperties);
      if (sameSource(old, request)) {
        log('info', 'restore source unchanged: the replication group exists already, checks skipped', { physicalResourceId: event.PhysicalResourceId });
        return unchanged(deps, request, event.PhysicalResourceId);
      }
    }
    const outcome = await runPreflight(deps, request);
    for (const w of outcome.findings.warnings) {
      log('warn', w);
    }
    if (outcome.findings.failures.length > 0) {
      for (const f of outcome.findings.failures) {
        log('error', f);
      }
      throw new Error(formatFailure(outcome.findings));
    }
    const physicalId = outcome.data[A.manifestKey]
      ? `${PHYSICAL_ID_PREFIX}:${outcome.data[A.manifestKey]}`
      : `${PHYSICAL_ID_PREFIX}:${event.LogicalResourceId}`;
    log('info', 'restore preflight passed', outcome.data);
    return { PhysicalResourceId: physicalId, Data: outcome.data };
  };
}

export interface PreflightOutcome {
  readonly findings: Findings;
  readonly data: Record<string, string>;
}

/** Observes and checks a restore source. Exported for the benchmark. */
export async function runPreflight(deps: PreflightDependencies, request: PreflightRequest): Promise<PreflightOutcome> {
  const source = request.source;
  if (source.kind === 'snapshot') {
    const observed = await describeSnapshot(deps, source.snapshotName);
    return { findings: checkSnapshot(request, source.snapshotName, observed), data: {} };
  }

  const failures: string[] = [];
  const warnings: string[] = [];
  let refs: S3ObjectRef[] = [];
  const heads = new Map<string, HeadObservation>();
  const data: Record<string, string> = {};

  if (source.kind === 'rdbArns') {
    for (const arn of source.arns) {
      const ref = parseS3ObjectArn(arn);
      if (typeof ref === 'string') {
        failures.push(`${ref}: pass ARNs of .rdb objects, for example arn:${request.partition}:s3:::my-bucket/my-backup-0001.rdb`);
      } else {
        refs.push(ref);
      }
    }
  } else {
    const resolved = await resolveLatestExport(deps, request, source.bucket, source.replicationGroupId);
    failures.push(...resolved.failures);
    warnings.push(...resolved.warnings);
    if (!resolved.chosen) {
      return { findings: { failures, warnings }, data };
    }
    refs = resolved.refs;
    resolved.heads.forEach((v, k) => heads.set(k, v));
    data[A.manifestKey] = resolved.chosen.key;
    data[A.snapshotCreateTime] = resolved.chosen.manifest.snapshotCreateTime;
    data[A.snapshotArns] = arnChunk(refs.map(objectArn), 0);
    if (refs.length > source.maxSourceShards) {
      failures.push(
        `the latest export (${resolved.chosen.key}) has ${refs.length} .rdb objects, but this restore was synthesized for at most ${source.maxSourceShards} `
        + `(BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to ${refs.length} or more and deploy again`,
      );
    }
  }

  const objects = await mapLimit(refs, deps.concurrency ?? 16, async (ref): Promise<ObjectObservation> => {
    const head = heads.get(ref.key) ?? await headObject(deps.s3, ref);
    const readHeader = head.status === 'found' && head.sizeBytes > 0 && !(head.serverSideEncryption ?? '').startsWith('aws:kms');
    return { ref, head, header: readHeader ? await readRdbHeader(deps.s3, ref) : undefined };
  });
  const bucketNames = [...new Set(refs.map((r) => `${r.partition}\u0000${r.bucket}`))];
  const buckets = await mapLimit(bucketNames, 4, async (entry) => {
    const [partition, bucket] = entry.split('\u0000');
    return observeBucket(deps.s3, partition, bucket, request.verifyBucketPolicy);
  });
  const checked = checkObjects(request, buckets, objects);
  failures.push(...checked.failures);
  warnings.push(...checked.warnings);

  const totalBytes = objects.reduce((sum, o) => sum + (o.head.status === 'found' ? o.head.sizeBytes : 0), 0);
  data[A.objectCount] = String(objects.length);
  data[A.totalBytes] = String(totalBytes);
  data[A.warnings] = truncate(warnings.join(' | '), 1000);
  const size = Buffer.byteLength(JSON.stringify(data));
  if (failures.length === 0 && size > MAX_DATA_BYTES) {
    failures.push(
      `the preflight's answer (${size} bytes, mostly .rdb ARNs) does not fit in a CloudFormation custom resource response (4096 bytes): the object keys are too long; `
      + `restore this export with BackupSource.fromRdbObjects(bucket, keys) using the keys listed in ${data[A.manifestKey]}`,
    );
  }
  return { findings: { failures, warnings }, data };
}

interface ResolvedExport extends Findings {
  readonly chosen?: { readonly key: string; readonly manifest: import('../manifest/manifest').BackupManifest };
  readonly refs: S3ObjectRef[];
  readonly heads: Map<string, HeadObservation>;
}

async function resolveLatestExport(deps: PreflightDependencies, request: PreflightRequest, bucket: string, groupId: string): Promise<ResolvedExport> {
  const keys = await listManifestKeys(deps.s3, bucket, groupId);
  const candidates: ManifestCandidate[] = [];
  let heads = new Map<string, HeadObservation>();
  for (const key of keys.slice(0, MAX_MANIFESTS)) {
    const text = await getText(deps.s3, bucket, key);
    if (typeof text !== 'string') {
      candidates.push({ key, error: text.error });
      continue;
    }
    let manifest;
    try {
      manifest = parseManifest(text, `s3://${bucket}/${key}`);
    } catch (e) {
      if (e instanceof ManifestError) {
        candidates.push({ key, error: e.message });
        continue;
      }
      throw e;
    }
    const refs = manifest.shards.map((s) => ({ partition: request.partition, bucket, key: s.key }));
    const observed = await mapLimit(refs, deps.concurrency ?? 16, async (ref) => [ref.key, await headObject(deps.s3, ref)] as const);
    heads = new Map(observed);
    const missingKeys = observed.filter(([, h]) => h.status === 'missing').map(([k]) => k);
    candidates.push({ key, manifest, missingKeys });
    if (missingKeys.length === 0) {
      break;
    }
  }
  const choice = chooseManifest(bucket, groupId, candidates);
  if (!choice.chosen) {
    return { ...choice, refs: [], heads };
  }
  const manifestFindings = checkManifest(request, choice.chosen.key, choice.chosen.manifest);
  return {
    chosen: choice.chosen,
    failures: [...choice.failures, ...manifestFindings.failures],
    warnings: [...choice.warnings, ...manifestFindings.warnings],
    refs: choice.chosen.manifest.shards.map((s) => ({ partition: request.partition, bucket, key: s.key })),
    heads,
  };
}

/** Update with an unchanged source: return the same attributes without checking again. */
async function unchanged(deps: PreflightDependencies, request: PreflightRequest, physicalId: string): Promise<PreflightResponse> {
  if (request.source.kind !== 'latestExport') {
    return { PhysicalResourceId: physicalId, Data: {} };
  }
  const manifestKey = physicalId.startsWith(`${PHYSICAL_ID_PREFIX}:`) ? physicalId.slice(PHYSICAL_ID_PREFIX.length + 1) : '';
  const text = manifestKey ? await getText(deps.s3, request.source.bucket, manifestKey) : { error: 'no manifest recorded' };
  if (typeof text !== 'string') {
    throw new Error(
      `restore preflight: the export this group was restored from (${manifestKey || 'unknown'}) cannot be read any more (${text.error}), `
      + 'so its ARNs cannot be returned unchanged: keep the manifest, or remove the restore source from the stack',
    );
  }
  const manifest = parseManifest(text, `s3://${request.source.bucket}/${manifestKey}`);
  const bucket = request.source.bucket;
  return {
    PhysicalResourceId: physicalId,
    Data: {
      [A.snapshotArns]: arnChunk(manifest.shards.map((s) => objectArn({ partition: request.partition, bucket, key: s.key })), 0),
      [A.manifestKey]: manifestKey,
      [A.snapshotCreateTime]: manifest.snapshotCreateTime,
      [A.objectCount]: String(manifest.shards.length),
      [A.totalBytes]: String(manifest.shards.reduce((sum, s) => sum + s.sizeBytes, 0)),
      [A.warnings]: '',
    },
  };
}

/** One further chunk of a resolved export's ARNs (no checks: the preflight has run). */
async function arnChunkResponse(deps: PreflightDependencies, request: ArnChunkRequest): Promise<PreflightResponse> {
  const text = await getText(deps.s3, request.bucket, request.manifestKey);
  if (typeof text !== 'string') {
    throw new Error(`restore: ${text.error} (s3://${request.bucket}/${request.manifestKey})`);
  }
  const manifest = parseManifest(text, `s3://${request.bucket}/${request.manifestKey}`);
  const arns = manifest.shards.map((s) => objectArn({ partition: request.partition, bucket: request.bucket, key: s.key }));
  return {
    PhysicalResourceId: `${PHYSICAL_ID_PREFIX}:${request.manifestKey}:${request.chunkIndex}`,
    Data: { [A.snapshotArns]: arnChunk(arns, request.chunkIndex) },
  };
}

async function listManifestKeys(s3: S3Client, bucket: string, groupId: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: manifestPrefix(groupId), ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key && o.Key.endsWith('.json')) {
        keys.push(o.Key);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // Manifest keys sort in snapshot time order: newest first.
  return keys.sort().reverse();
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string | { error: string }> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body!.transformToString();
  } catch (e) {
    return { error: `could not read the manifest: ${describeError(e)}` };
  }
}

async function headObject(s3: S3Client, ref: S3ObjectRef): Promise<HeadObservation> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      status: 'found',
      sizeBytes: out.ContentLength ?? 0,
      serverSideEncryption: out.ServerSideEncryption,
      kmsKeyId: out.SSEKMSKeyId,
    };
  } catch (e) {
    if (statusOf(e) === 404) {
      return { status: 'missing' };
    }
    return { status: 'error', message: describeError(e) };
  }
}

async function readRdbHeader(s3: S3Client, ref: S3ObjectRef): Promise<ObjectObservation['header']> {
  let bytes: Uint8Array;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=0-${HEADER_BYTES - 1}` }));
    bytes = await out.Body!.transformToByteArray();
  } catch (e) {
    return { status: 'error', message: describeError(e) };
  }
  try {
    return { status: 'read', header: parseRdbHeader(bytes) };
  } catch (e) {
    if (e instanceof RdbParseError) {
      return { status: 'invalid', message: e.message };
    }
    throw e;
  }
}

async function observeBucket(s3: S3Client, partition: string, bucket: string, verifyPolicy: boolean): Promise<BucketObservation> {
  let region: BucketObservation['region'];
  try {
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    region = { status: 'found', region: normalizeLocation(out.LocationConstraint) };
  } catch (e) {
    region = errorName(e) === 'NoSuchBucket' || statusOf(e) === 404 ? { status: 'missing' } : { status: 'error', message: describeError(e) };
  }
  let policy: PolicyObservation = { status: 'skipped' };
  if (verifyPolicy && region.status !== 'missing') {
    try {
      const out = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      policy = out.Policy ? { status: 'found', text: out.Policy } : { status: 'none' };
    } catch (e) {
      policy = errorName(e) === 'NoSuchBucketPolicy' ? { status: 'none' } : { status: 'error', message: describeError(e) };
    }
  }
  return { partition, bucket, region, policy };
}

/** GetBucketLocation: null/empty means us-east-1, and `EU` is the legacy name of eu-west-1. */
export function normalizeLocation(constraint: string | undefined | null): string {
  if (!constraint) {
    return 'us-east-1';
  }
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

async function describeSnapshot(deps: PreflightDependencies, name: string): Promise<SnapshotObservation> {
  let snapshot: Snapshot | undefined;
  try {
    const out = await deps.elastiCache().send(new DescribeSnapshotsCommand({ SnapshotName: name }));
    snapshot = out.Snapshots?.[0];
  } catch (e) {
    if (errorName(e) === 'SnapshotNotFoundFault') {
      return { status: 'missing' };
    }
    return { status: 'error', message: describeError(e) };
  }
  if (!snapshot) {
    return { status: 'missing' };
  }
  return {
    status: 'found',
    snapshotStatus: snapshot.SnapshotStatus ?? 'unknown',
    engine: snapshot.Engine ?? 'unknown',
    engineVersion: snapshot.EngineVersion ?? '0.0',
    numNodeGroups: snapshot.NumNodeGroups,
    dataTiering: snapshot.DataTiering,
  };
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function errorName(e: unknown): string | undefined {
  return (e as { name?: string })?.name;
}

function describeError(e: unknown): string {
  const status = statusOf(e);
  if (status === 403 && ['Unknown', 'Forbidden', '403', undefined].includes(errorName(e))) {
    // HEAD responses have no body, so the SDK cannot name the error.
    return 'access denied (HTTP 403): check the bucket policy for Deny statements and that the objects belong to the bucket owner';
  }
  const name = errorName(e) ?? 'Error';
  const message = (e as { message?: string })?.message;
  return `${name}${status ? ` (HTTP ${status})` : ''}${message && message !== name && message !== 'UnknownError' ? `: ${message}` : ''}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Runs fn over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function defaultLog(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
  // One JSON line per entry: CloudWatch Logs Insights can filter on level.
  // eslint-disable-next-line no-console
  console.log(JSON.stringify({ level, message, ...details }));
}
