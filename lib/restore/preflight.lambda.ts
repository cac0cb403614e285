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
 * - Update (`planUpdate`): another source is checked as on Create; the same source is checked again when a create-only
 *   property of the group changed (CloudFormation replaces the group and seeds the new one from the same, pinned,
 *   objects); otherwise nothing is checked and the log says why. For `latestExport` the export chosen at creation stays
 *   pinned (another one would replace the group).
 * - Delete: nothing to do.
 *
 * Every answer, success or failure, fits CloudFormation's 4096-byte response with its envelope (`response-budget.ts`);
 * warnings go to the log and only their count to the attributes.
 */
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { readManifest } from './latest-export';
import { formatFailure, objectArn, sourceShardsProblem } from './preflight-checks';
import {
  A,
  ArnChunkRequest,
  arnChunk,
  isArnChunkRequest,
  parseArnChunkProperties,
  parsePreflightProperties,
  planUpdate,
  PreflightRequest,
} from './preflight-properties';
import { exportAttributes, PreflightDependencies, PREFLIGHT_TIMEOUT_MS, REPORT_MARGIN_MS, runPreflight } from './preflight-run';
import {
  errorWithoutFrames,
  failureMessageBudget,
  fitToBytes,
  jsonStringBytes,
  RESPONSE_LIMIT_BYTES,
  ResponseEnvelope,
  successBodyBytes,
} from './response-budget';

export { HEADER_BYTES, mapLimit, normalizeLocation } from './s3-reads';
export { MAX_MANIFESTS, MAX_MANIFEST_BYTES } from './latest-export';
export { PREFLIGHT_TIMEOUT_MS, REPORT_MARGIN_MS, runPreflight } from './preflight-run';
export type { PreflightDependencies, PreflightOutcome } from './preflight-run';

/** The part of the Lambda context the preflight uses. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

export interface PreflightResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

type Log = NonNullable<PreflightDependencies['log']>;

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
    try {
      return await respond(deps, log, event, context);
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      log('error', 'restore preflight failed', { stack: (e as Error)?.stack });
      // CloudFormation shows the message as the status reason: it must fit, or CloudFormation reports the size instead.
      const budget = failureMessageBudget(event, process.env.AWS_LAMBDA_FUNCTION_NAME);
      throw errorWithoutFrames(jsonStringBytes(message) <= budget ? message : `${fitToBytes(message, budget - 3)}...`);
    }
  };
}

async function respond(
  deps: PreflightDependencies, log: Log, event: CloudFormationCustomResourceEvent, context?: RemainingTime,
): Promise<PreflightResponse> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  if (isArnChunkRequest(event.ResourceProperties)) {
    return withinBudget(event, await arnChunkResponse(deps, parseArnChunkProperties(event.ResourceProperties)));
  }
  const request = parsePreflightProperties(event.ResourceProperties);
  let pinnedManifestKey: string | undefined;
  if (event.RequestType === 'Update') {
    const plan = planUpdate(event.OldResourceProperties, event.ResourceProperties, parsePreflightProperties(event.OldResourceProperties), request);
    log('info', `restore preflight update: ${plan.reason}`, { action: plan.action, physicalResourceId: event.PhysicalResourceId });
    if (plan.action === 'keep') {
      return withinBudget(event, await unchanged(deps, request, event.PhysicalResourceId));
    }
    if (plan.action === 'recheck' && request.source.kind === 'latestExport') {
      pinnedManifestKey = pinnedKey(event.PhysicalResourceId);
    }
  }
  const deadlineMs = Date.now() + (context?.getRemainingTimeInMillis() ?? PREFLIGHT_TIMEOUT_MS) - REPORT_MARGIN_MS;
  const outcome = await runPreflight(deps, request, { deadlineMs, pinnedManifestKey });
  for (const w of outcome.findings.warnings) {
    log('warn', w);
  }
  if (outcome.findings.failures.length > 0) {
    for (const f of outcome.findings.failures) {
      log('error', f);
    }
    throw errorWithoutFrames(formatFailure(outcome.findings, failureMessageBudget(event, process.env.AWS_LAMBDA_FUNCTION_NAME)));
  }
  const manifestKey = outcome.data[A.manifestKey];
  const response = { PhysicalResourceId: `${PHYSICAL_ID_PREFIX}:${manifestKey ?? event.LogicalResourceId}`, Data: outcome.data };
  const responseBytes = successBodyBytes(event, response.PhysicalResourceId, response.Data);
  log('info', 'restore preflight passed', { ...outcome.data, ...outcome.verification, responseBytes });
  return withinBudget(event, response, manifestKey);
}

/**
 * The response, when the body the framework sends with it fits in CloudFormation's 4096 bytes; otherwise a failure that
 * says what to do (CloudFormation would refuse the body and report only its size).
 */
function withinBudget(event: ResponseEnvelope, response: PreflightResponse, manifestKey?: string): PreflightResponse {
  const size = successBodyBytes(event, response.PhysicalResourceId, response.Data);
  if (size <= RESPONSE_LIMIT_BYTES) {
    return response;
  }
  const how = manifestKey
    ? `restore this export with BackupSource.fromRdbObjects(bucket, keys) using the keys listed in ${manifestKey}`
    : 'shorten the object keys, the bucket name, the stack name or the construct id';
  throw new Error(
    `restore preflight failed, nothing was created: its answer (${size} bytes with the stack id, logical id, physical id and attributes, `
    + `mostly .rdb ARNs) does not fit in a CloudFormation custom resource response (${RESPONSE_LIMIT_BYTES} bytes): ${how}`,
  );
}

/** The manifest key in a `latestExport` preflight's physical id. */
function pinnedKey(physicalId: string): string {
  const key = physicalId.startsWith(`${PHYSICAL_ID_PREFIX}:`) ? physicalId.slice(PHYSICAL_ID_PREFIX.length + 1) : '';
  if (!key.endsWith('.json')) {
    throw new Error(`restore preflight: the physical id ${physicalId} does not name the export this group was restored from, so it cannot be checked again: `
      + 'change the restore source to resolve the latest export again');
  }
  return key;
}

/** Nothing that seeds the group changed: return the same attributes without checking again. */
async function unchanged(deps: PreflightDependencies, request: PreflightRequest, physicalId: string): Promise<PreflightResponse> {
  if (request.source.kind !== 'latestExport') {
    return { PhysicalResourceId: physicalId, Data: { [A.warningCount]: '0' } };
  }
  const { bucket, maxSourceShards } = request.source;
  const manifestKey = physicalId.startsWith(`${PHYSICAL_ID_PREFIX}:`) ? physicalId.slice(PHYSICAL_ID_PREFIX.length + 1) : '';
  const manifest = manifestKey ? await readManifest(deps.s3, bucket, manifestKey) : 'no manifest recorded';
  if (typeof manifest === 'string') {
    throw new Error(
      `restore preflight: the export this group was restored from (${manifestKey || 'unknown'}) cannot be read any more (${manifest}), `
      + 'so its ARNs cannot be returned unchanged: keep the manifest, or remove the restore source from the stack',
    );
  }
  // Fewer ARN chunks than the pinned export needs would drop ARNs from SnapshotArns, which replaces the group.
  const tooMany = sourceShardsProblem(manifestKey, manifest.shards.length, maxSourceShards);
  if (tooMany !== undefined) {
    throw new Error(`restore preflight failed, nothing was changed: ${tooMany}`);
  }
  return {
    PhysicalResourceId: physicalId,
    Data: {
      ...exportAttributes(request.partition, bucket, manifestKey, manifest),
      [A.objectCount]: String(manifest.shards.length),
      [A.totalBytes]: String(manifest.shards.reduce((sum, s) => sum + s.sizeBytes, 0)),
      [A.warningCount]: '0',
    },
  };
}

/** One further chunk of a resolved export's ARNs (no checks: the preflight has run). */
async function arnChunkResponse(deps: PreflightDependencies, request: ArnChunkRequest): Promise<PreflightResponse> {
  const manifest = await readManifest(deps.s3, request.bucket, request.manifestKey);
  if (typeof manifest === 'string') {
    throw new Error(`restore: ${manifest} (s3://${request.bucket}/${request.manifestKey})`);
  }
  const arns = manifest.shards.map((s) => objectArn({ partition: request.partition, bucket: request.bucket, key: s.key }));
  return {
    PhysicalResourceId: `${PHYSICAL_ID_PREFIX}:${request.manifestKey}:${request.chunkIndex}`,
    Data: { [A.snapshotArns]: arnChunk(arns, request.chunkIndex) },
  };
}

function defaultLog(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
  // One JSON line per entry: CloudWatch Logs Insights can filter on level.
  // eslint-disable-next-line no-console
  console.log(JSON.stringify({ level, message, ...details }));
}
