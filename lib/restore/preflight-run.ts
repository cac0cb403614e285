/**
 * The restore preflight's observations and checks of one source against one target (I/O; decisions in
 * `preflight-checks.ts` and `content-checks.ts`). Used by the preflight handler and the restore drill. It only reads:
 * HeadObject, ranged and streamed GetObject, GetBucketLocation, GetBucketPolicy, ListObjectsV2, DescribeSnapshots.
 */
// Bundled into Lambda handlers only (their runtime provides the SDK); the constructs never import this file.
// eslint-disable-next-line import/no-extraneous-dependencies
import { DescribeSnapshotsCommand, ElastiCacheClient, Snapshot } from '@aws-sdk/client-elasticache';
import { ContentObservation, checkManifestContent, planContentVerification, PREFLIGHT_TIMEOUT_MINUTES, VERIFY_CONCURRENCY } from './content-checks';
import { ExportReadDependencies, ExportResolution, LatestExportQuery, recheckPinnedExport, resolveLatestExport } from './latest-export';
import {
  checkManifest,
  checkObjects,
  checkSnapshot,
  Findings,
  ObjectObservation,
  objectArn,
  parseS3ObjectArn,
  S3ObjectRef,
  SnapshotObservation,
} from './preflight-checks';
import { A, arnChunk, PreflightRequest } from './preflight-properties';
import { describeError, errorName, headObject, mapLimit, observeBucket, readHeaderAndEnvelope, verifyObject } from './s3-reads';
import type { BackupManifest } from '../manifest/manifest';

/** The preflight function's timeout (set by the provider construct): a FULL verification stops before it. */
export const PREFLIGHT_TIMEOUT_MS = PREFLIGHT_TIMEOUT_MINUTES * 60_000;
/** Time kept back from the Lambda's remaining time to report a verification that was cut short. */
export const REPORT_MARGIN_MS = 60_000;

export interface PreflightDependencies extends ExportReadDependencies {
  readonly elastiCache: () => ElastiCacheClient;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
  /** The seconds `RdbContentVerification.AUTO` may spend verifying. @default VERIFY_TIME_BUDGET_SECONDS */
  readonly verifyBudgetSeconds?: number;
}

export interface PreflightOutcome {
  readonly findings: Findings;
  /** The attributes to return (without the warnings themselves: they go to the log, and only their count here). */
  readonly data: Record<string, string>;
  /** How the content was verified, for the log. */
  readonly verification?: Record<string, unknown>;
}

export interface PreflightOptions {
  /** Epoch ms after which a full verification stops (and fails, saying so). */
  readonly deadlineMs?: number;
  /** `latestExport`: check this export (chosen earlier) again instead of looking for the newest. */
  readonly pinnedManifestKey?: string;
}

/**
 * Observes and checks a restore source against the target in `request`.
 */
export async function runPreflight(
  deps: PreflightDependencies, request: PreflightRequest, options: PreflightOptions = {},
): Promise<PreflightOutcome> {
  const deadlineMs = options.deadlineMs ?? Date.now() + PREFLIGHT_TIMEOUT_MS - REPORT_MARGIN_MS;
  const source = request.source;
  if (source.kind === 'snapshot') {
    const observed = await describeSnapshot(deps, source.snapshotName);
    const findings = checkSnapshot(request, source.snapshotName, observed);
    return { findings, data: { [A.warningCount]: String(findings.warnings.length) } };
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
    const query: LatestExportQuery = { partition: request.partition, ...source };
    const resolved = options.pinnedManifestKey === undefined
      ? await resolveLatestExport(deps, query)
      : await recheckPinnedExport(deps, query, options.pinnedManifestKey);
    const checked = checkResolvedExport(request, resolved);
    failures.push(...checked.failures);
    warnings.push(...checked.warnings);
    if (!resolved.chosen) {
      return { findings: { failures, warnings }, data };
    }
    Object.assign(data, exportAttributes(request.partition, source.bucket, resolved.chosen.key, resolved.chosen.manifest));
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

  data[A.objectCount] = String(objects.length);
  data[A.totalBytes] = String(objects.reduce((sum, o) => sum + (o.head.status === 'found' ? o.head.sizeBytes : 0), 0));
  data[A.warningCount] = String(warnings.length);
  return { findings: { failures, warnings }, data, verification: observed.verification };
}

/** The chosen export against the new group: cluster mode, and what its verification recorded about the content. */
function checkResolvedExport(request: PreflightRequest, resolved: ExportResolution): Findings {
  if (!resolved.chosen || request.source.kind !== 'latestExport') {
    return resolved;
  }
  const { key, manifest } = resolved.chosen;
  const manifestFindings = checkManifest(request, key, manifest);
  const contentFindings = checkManifestContent(request, request.source.bucket, manifest);
  return {
    failures: [...resolved.failures, ...manifestFindings.failures, ...contentFindings.failures],
    warnings: [...resolved.warnings, ...manifestFindings.warnings, ...contentFindings.warnings],
  };
}

/** The attributes that name a resolved export: the first chunk of its ARNs, its key and its snapshot time. */
export function exportAttributes(partition: string, bucket: string, manifestKey: string, manifest: BackupManifest): Record<string, string> {
  return {
    [A.manifestKey]: manifestKey,
    [A.snapshotCreateTime]: manifest.snapshotCreateTime,
    [A.snapshotArns]: arnChunk(manifest.shards.map((s) => objectArn({ partition, bucket, key: s.key })), 0),
  };
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
