/**
 * Restore preflight: a custom resource handler (aws-cdk-lib `custom_resources.Provider` onEvent) that runs
 * before the new replication group is created. It only reads: HeadObject, ranged GetObjects of the start and end of
 * each `.rdb`, a streamed GetObject of each `.rdb` it verifies in full, GetBucketLocation, GetBucketPolicy,
 * ListObjectsV2 of the manifest folder, DescribeSnapshots. Nothing is created or deleted. All decisions are in
 * `preflight-checks.ts` and `content-checks.ts`; the S3 reads in `s3-reads.ts`.
 *
 * - Create: resolve the source (for `latestExport`, the newest verified manifest whose objects are still the verified
 *   versions), check it, and return the resolved ARNs as attributes; throw (= FAILED, with what to change) when a
 *   check fails.
 * - Update with the same source: no checks, same attributes. The group already exists; for `latestExport`
 *   the export chosen at creation stays pinned (a new one would replace the group).
 * - Delete: nothing to do.
 */
import {
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  Snapshot,
} from '@aws-sdk/client-elasticache';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ContentObservation, checkManifestContent, planContentVerification, PREFLIGHT_TIMEOUT_MINUTES, VERIFY_CONCURRENCY } from './content-checks';
import {
  checkManifest,
  checkObjects,
  checkSnapshot,
  chooseManifest,
  Findings,
  formatFailure,
  HeadObservation,
  ManifestCandidate,
  manifestObjectsProblem,
  manifestTrustProblem,
  ObjectObservation,
  objectArn,
  parseS3ObjectArn,
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
import {
  describeError,
  errorName,
  getText,
  headObject,
  listManifestKeys,
  mapLimit,
  observeBucket,
  readHeaderAndEnvelope,
  verifyObject,
} from './s3-reads';
import { BackupManifest, manifestPrefix, ManifestError, parseManifest } from '../manifest/manifest';

export { HEADER_BYTES, mapLimit, normalizeLocation } from './s3-reads';

/** Manifests examined (newest first) before giving up on finding a usable export. */
export const MAX_MANIFESTS = 10;
/** CloudFormation rejects custom resource responses over 4096 bytes; leave room for the envelope. */
export const MAX_DATA_BYTES = 3500;
/** The preflight function's timeout (set by the provider construct): a FULL verification stops before it. */
export const PREFLIGHT_TIMEOUT_MS = PREFLIGHT_TIMEOUT_MINUTES * 60_000;
/** Time kept back from the Lambda's remaining time to report a verification that was cut short. */
export const REPORT_MARGIN_MS = 60_000;

export interface PreflightDependencies {
  readonly s3: S3Client;
  readonly elastiCache: () => ElastiCacheClient;
  /** Parallel S3 requests. @default 16 */
  readonly concurrency?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
  /** The clock: a manifest dated after it is not used. @default the system clock */
  readonly now?: () => Date;
  /** The seconds `RdbContentVerification.AUTO` may spend verifying. @default VERIFY_TIME_BUDGET_SECONDS */
  readonly verifyBudgetSeconds?: number;
}

/** The part of the Lambda context the preflight uses. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

export interface PreflightResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

const PHYSICAL_ID_PREFIX = 'restore-preflight';

let defaultDeps: PreflightDependencies | undefined;

/** The Lambda entry point. */
export async function handler(event: CloudFormationCustomResourceEvent, context?: RemainingTime): Promise<PreflightResponse> {
  defaultDeps ??= {
    s3: new S3Client({ followRegionRedirects: true }),
    elastiCache: () => new ElastiCacheClient({}),
  };
  return createHandler(defaultDeps)(event, context);
}

/** A handler with its clients injected (tests point the S3 client at a loopback S3). */
export function createHandler(
  deps: PreflightDependencies,
): (event: CloudFormationCustomResourceEvent, context?: RemainingTime) => Promise<PreflightResponse> {
  const log = deps.log ?? defaultLog;
  return async (event, context) => {
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
    const deadlineMs = Date.now() + (context?.getRemainingTimeInMillis() ?? PREFLIGHT_TIMEOUT_MS) - REPORT_MARGIN_MS;
    const outcome = await runPreflight(deps, request, deadlineMs);
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
    log('info', 'restore preflight passed', { ...outcome.data, ...outcome.verification });
    return { PhysicalResourceId: physicalId, Data: outcome.data };
  };
}

export interface PreflightOutcome {
  readonly findings: Findings;
  readonly data: Record<string, string>;
  /** How the content was verified, for the log. */
  readonly verification?: Record<string, unknown>;
}

/**
 * Observes and checks a restore source. Exported for the benchmark.
 *
 * @param deadlineMs epoch ms after which a full verification stops (and fails, saying so)
 */
export async function runPreflight(
  deps: PreflightDependencies, request: PreflightRequest, deadlineMs: number = Date.now() + PREFLIGHT_TIMEOUT_MS - REPORT_MARGIN_MS,
): Promise<PreflightOutcome> {
  const source = request.source;
  if (source.kind === 'snapshot') {
    const observed = await describeSnapshot(deps, source.snapshotName);
    return { findings: checkSnapshot(request, source.snapshotName, observed), data: {} };
  }

  const failures: string[] = [];
  const warnings: string[] = [];
  const data: Record<string, string> = {};
  let observed: Observed;
  if (source.kind === 'rdbArns') {
    const refs: S3ObjectRef[] = [];
    for (const arn of source.arns) {
      const ref = parseS3ObjectArn(arn);
      if (typeof ref === 'string') {
        failures.push(`${ref}: pass ARNs of .rdb objects, for example arn:${request.partition}:s3:::my-bucket/my-backup-0001.rdb`);
      } else {
        refs.push(ref);
      }
    }
    observed = await observeRdbObjects(deps, request, refs, deadlineMs);
  } else {
    const resolved = await resolveLatestExport(deps, request, source.bucket, source.replicationGroupId);
    failures.push(...resolved.failures);
    warnings.push(...resolved.warnings);
    if (!resolved.chosen) {
      return { findings: { failures, warnings }, data };
    }
    const refs = resolved.objects.map((o) => o.ref);
    data[A.manifestKey] = resolved.chosen.key;
    data[A.snapshotCreateTime] = resolved.chosen.manifest.snapshotCreateTime;
    data[A.snapshotArns] = arnChunk(refs.map(objectArn), 0);
    if (refs.length > source.maxSourceShards) {
      failures.push(
        `the latest export (${resolved.chosen.key}) has ${refs.length} .rdb objects, but this restore was synthesized for at most ${source.maxSourceShards} `
        + `(BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to ${refs.length} or more and deploy again`,
      );
    }
    observed = { objects: resolved.objects, warnings: [], verification: { verification: 'manifest', manifestKey: resolved.chosen.key } };
  }
  warnings.push(...observed.warnings);

  const objects = observed.objects;
  const bucketNames = [...new Set(objects.map((o) => `${o.ref.partition}\u0000${o.ref.bucket}`))];
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
  return { findings: { failures, warnings }, data, verification: observed.verification };
}

interface Observed {
  readonly objects: ObjectObservation[];
  readonly warnings: string[];
  readonly verification: Record<string, unknown>;
}

/**
 * `.rdb` objects named by the user: HEAD each, always check the header and envelope (size, magic, EOF opcode,
 * trailer), and stream every byte through the verifier when the mode and the time budget allow.
 */
async function observeRdbObjects(deps: PreflightDependencies, request: PreflightRequest, refs: S3ObjectRef[], deadlineMs: number): Promise<Observed> {
  const concurrency = deps.concurrency ?? 16;
  const heads = await mapLimit(refs, concurrency, (ref) => headObject(deps.s3, ref));
  const sizeOf = (i: number) => { const h = heads[i]; return h.status === 'found' ? h.sizeBytes : 0; };
  // SSE-KMS objects are refused anyway (ElastiCache cannot seed from them), and reading them needs kms:Decrypt.
  const readable = refs.map((_, i) => sizeOf(i) > 0 && !((heads[i] as { serverSideEncryption?: string }).serverSideEncryption ?? '').startsWith('aws:kms'));
  const envelopes = await mapLimit(refs.map((ref, i) => ({ ref, i })), concurrency,
    async ({ ref, i }) => (readable[i] ? readHeaderAndEnvelope(deps.s3, ref, sizeOf(i)) : undefined));

  const totalBytes = refs.reduce((sum, _, i) => sum + sizeOf(i), 0);
  const plan = planContentVerification(request.verifyContent, totalBytes, refs.length, deps.verifyBudgetSeconds);
  const contents: Array<ContentObservation | undefined> = plan.verify
    ? await mapLimit(refs.map((ref, i) => ({ ref, i })), VERIFY_CONCURRENCY,
      async ({ ref, i }) => (envelopes[i]?.envelope?.status === 'ok' ? verifyObject(deps.s3, ref, sizeOf(i), deadlineMs) : undefined))
    : [];
  const objects = refs.map((ref, i): ObjectObservation => ({
    ref, head: heads[i], header: envelopes[i]?.header, envelope: envelopes[i]?.envelope, content: contents[i],
  }));
  const verified = contents.filter((c) => c?.status === 'verified');
  return {
    objects,
    warnings: plan.warning ? [plan.warning] : [],
    verification: {
      verification: plan.verify ? 'full' : 'envelope',
      verifyContent: request.verifyContent,
      verifiedObjects: verified.length,
      verifiedKeys: verified.reduce((sum, c) => sum + (c?.status === 'verified' ? c.keys : 0), 0),
    },
  };
}

interface ResolvedExport extends Findings {
  readonly chosen?: { readonly key: string; readonly manifest: BackupManifest };
  readonly objects: ObjectObservation[];
}

/**
 * Finds the newest usable export: verified, stored under the key its content names, not dated in the future, and
 * every object still the version the manifest verified. Older or unusable ones are skipped with the reason.
 */
async function resolveLatestExport(deps: PreflightDependencies, request: PreflightRequest, bucket: string, groupId: string): Promise<ResolvedExport> {
  const keys = await listManifestKeys(deps.s3, bucket, manifestPrefix(groupId));
  const now = deps.now?.() ?? new Date();
  const candidates: ManifestCandidate[] = [];
  let heads = new Map<string, HeadObservation>();
  for (const key of keys.slice(0, MAX_MANIFESTS)) {
    const manifest = await readManifest(deps.s3, bucket, key);
    if (typeof manifest === 'string') {
      candidates.push({ key, problem: manifest });
      continue;
    }
    const trust = manifestTrustProblem(key, manifest, now);
    if (trust !== undefined) {
      candidates.push({ key, manifest, problem: trust });
      continue;
    }
    const refs = manifest.shards.map((s) => ({ partition: request.partition, bucket, key: s.key }));
    heads = new Map(await mapLimit(refs, deps.concurrency ?? 16, async (ref) => [ref.key, await headObject(deps.s3, ref)] as const));
    const problem = manifestObjectsProblem(bucket, manifest, heads);
    candidates.push({ key, manifest, problem });
    if (problem === undefined) {
      break;
    }
  }
  const choice = chooseManifest(bucket, groupId, candidates);
  if (!choice.chosen) {
    return { ...choice, objects: [] };
  }
  const manifest = choice.chosen.manifest;
  const manifestFindings = checkManifest(request, choice.chosen.key, manifest);
  const contentFindings = checkManifestContent(request, bucket, manifest);
  return {
    chosen: choice.chosen,
    failures: [...choice.failures, ...manifestFindings.failures, ...contentFindings.failures],
    warnings: [...choice.warnings, ...manifestFindings.warnings, ...contentFindings.warnings],
    // The verified manifest pins each object's version, so the RDB version it recorded is the object's own.
    objects: manifest.shards.map((s): ObjectObservation => ({
      ref: { partition: request.partition, bucket, key: s.key },
      head: heads.get(s.key)!,
      header: s.rdbVersion === undefined ? undefined : {
        status: 'read',
        header: { format: s.rdbVersion >= 80 ? 'valkey' : 'redis', rdbVersion: s.rdbVersion, writerEngine: s.writerEngine, writerVersion: s.writerVersion },
      },
    })),
  };
}

/** The parsed manifest, or why it cannot be read. */
async function readManifest(s3: S3Client, bucket: string, key: string): Promise<BackupManifest | string> {
  const text = await getText(s3, bucket, key);
  if (typeof text !== 'string') {
    return text.error;
  }
  try {
    return parseManifest(text, `s3://${bucket}/${key}`);
  } catch (e) {
    if (e instanceof ManifestError) {
      return e.message;
    }
    throw e;
  }
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

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function defaultLog(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
  // One JSON line per entry: CloudWatch Logs Insights can filter on level.
  // eslint-disable-next-line no-console
  console.log(JSON.stringify({ level, message, ...details }));
}
