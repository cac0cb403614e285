/**
 * The restore drill's step Lambda (I/O only; every decision is in `drill-plan.ts` and the restore preflight's checks).
 * One function, three steps chosen by `action`:
 *
 * - `resolve` (first state of a drill): finds the newest verified, intact export of the group in the replica bucket
 *   (the same rules as `BackupSource.latestExport`), runs the restore preflight's checks against the temporary group
 *   (bucket region and policy, encryption, RDB versions, size against the node type, cluster mode, databases), checks
 *   the node type against the drill's cap and whether another drill of the group is running. Reads only:
 *   ListObjectsV2, GetObject and HeadObject on the replica bucket, GetBucketLocation, GetBucketPolicy,
 *   DescribeReplicationGroups of the temporary id.
 * - `summarize` (after cleanup): builds the drill report and its metric data (pure; no I/O).
 * - `status` (scheduled, every 6 hours): reads each group's newest report under `drills/<group>/` and publishes its age
 *   and verdict as embedded metrics, so an alarm can see a drill that stopped running.
 */
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
// eslint-disable-next-line import/no-extraneous-dependencies
import { S3Client } from '@aws-sdk/client-s3';
import {
  DRILL_GROUP_DIMENSION,
  DRILL_METRIC_NAMESPACE,
  DrillConfig,
  drillGroupId,
  drillReportPrefix,
  ENV_DRILL_CONFIG,
  METRIC_DRILL_AGE,
  METRIC_LAST_DRILL_SUCCEEDED,
} from './drill-constants';
import {
  chooseNodeType,
  DrillOutcome,
  DrillPlan,
  DrillRefusedError,
  drillStatus,
  DrillStatus,
  DrillSummary,
  ExistingDrillGroup,
  existingDrillDecision,
  planDrill,
  summarizeDrill,
} from './drill-plan';
import { checkManifestContent } from '../restore/content-checks';
import { resolveLatestExport } from '../restore/latest-export';
import { checkManifest, checkObjects, formatFailure } from '../restore/preflight-checks';
import type { PreflightRequest } from '../restore/preflight-properties';
import { errorName, getText, listManifestKeys, observeBucket } from '../restore/s3-reads';

/**
 * The largest manifest a drill carries in its state (Step Functions caps a state's data at 256 KB; the verifier
 * receives the manifest in its payload because it runs in the VPC without S3 access).
 */
export const MAX_MANIFEST_STATE_BYTES = 200_000;
/** The most bytes of a drill report the status check reads. */
const MAX_REPORT_BYTES = 1024 * 1024;
/** The shard cap of the export search: ElastiCache's maximum number of shards. */
const MAX_SOURCE_SHARDS = 500;
/** reserved-memory-percent of the engines' default parameter groups, which the temporary group uses. */
const DEFAULT_RESERVED_MEMORY_PERCENT = 25;

export type DrillStepEvent =
  | { readonly action: 'resolve'; readonly input?: { readonly replicationGroupId?: unknown } }
  | { readonly action: 'summarize'; readonly outcome: DrillOutcome }
  | { readonly action: 'status' };

export interface DrillStepDependencies {
  readonly s3: S3Client;
  readonly elastiCache: ElastiCacheClient;
  readonly config: DrillConfig;
  readonly now?: () => Date;
  /** Where embedded-metric lines go. @default console.log */
  readonly emit?: (line: string) => void;
}

let defaultDeps: DrillStepDependencies | undefined;

/** The Lambda entry point. */
export async function handler(event: DrillStepEvent): Promise<DrillPlan | DrillSummary | DrillStatus[]> {
  defaultDeps ??= {
    s3: new S3Client({}),
    elastiCache: new ElastiCacheClient({}),
    config: parseConfig(process.env[ENV_DRILL_CONFIG]),
  };
  return runStep(defaultDeps, event);
}

export function parseConfig(text: string | undefined): DrillConfig {
  if (!text) {
    throw new Error(`restore drill: environment variable ${ENV_DRILL_CONFIG} is missing: deploy the RestoreDrill construct again`);
  }
  return JSON.parse(text) as DrillConfig;
}

export async function runStep(deps: DrillStepDependencies, event: DrillStepEvent): Promise<DrillPlan | DrillSummary | DrillStatus[]> {
  const now = deps.now?.() ?? new Date();
  switch (event?.action) {
    case 'resolve':
      return resolveDrill(deps, event.input?.replicationGroupId, now);
    case 'summarize':
      return summarizeDrill(event.outcome, now);
    case 'status':
      return publishStatus(deps, now);
    default:
      throw new DrillRefusedError(`restore drill: unknown step ${JSON.stringify((event as { action?: unknown })?.action)}; expected resolve, summarize or status`, 'DrillInputError');
  }
}

/** Resolves and checks the export a drill restores, and plans the temporary group. */
export async function resolveDrill(deps: DrillStepDependencies, requested: unknown, now: Date): Promise<DrillPlan> {
  const { config } = deps;
  const group = config.groups.find((g) => g.replicationGroupId === requested);
  if (!group) {
    throw new DrillRefusedError(
      `this drill restores ${config.groups.map((g) => g.replicationGroupId).join(', ')}, not ${JSON.stringify(requested)}: `
      + 'start the execution with {"replicationGroupId": "<one of those>"}', 'DrillInputError');
  }
  const id = group.replicationGroupId;
  const resolution = await resolveLatestExport({ s3: deps.s3, now: () => now },
    { partition: config.partition, bucket: config.bucket, replicationGroupId: id, maxSourceShards: MAX_SOURCE_SHARDS });
  if (!resolution.chosen) {
    throw new DrillRefusedError(formatFailure({ failures: resolution.failures, warnings: [] }), 'DrillPreflightFailed');
  }
  const { key, manifest } = resolution.chosen;
  const nodeType = chooseNodeType(config, id, manifest.nodeType);
  const request = preflightRequest(config, id, manifest, nodeType);
  const bucket = await observeBucket(deps.s3, config.partition, config.bucket, true);
  const findings = [
    checkManifest(request, key, manifest),
    checkManifestContent(request, config.bucket, manifest),
    checkObjects(request, [bucket], resolution.objects),
  ];
  const failures = findings.flatMap((f) => f.failures);
  const warnings = [...resolution.warnings, ...findings.flatMap((f) => f.warnings)];
  if (failures.length > 0) {
    throw new DrillRefusedError(formatFailure({ failures, warnings }), 'DrillPreflightFailed');
  }
  const size = Buffer.byteLength(JSON.stringify(manifest));
  if (size > MAX_MANIFEST_STATE_BYTES) {
    throw new DrillRefusedError(
      `the manifest ${key} has ${size} bytes, more than the ${MAX_MANIFEST_STATE_BYTES} a drill can pass to its verifier through Step Functions: `
      + 'drill a group with fewer shards', 'DrillRefused');
  }
  const existing = existingDrillDecision(await describeDrillGroup(deps.elastiCache, drillGroupId(id)), now, config.executionTimeoutSeconds);
  return planDrill({ config, replicationGroupId: id, manifestKey: key, manifest, nodeType, existing, warnings, now });
}

/** The restore preflight's view of the temporary group: the source's engine and version, and the drill's node type. */
function preflightRequest(config: DrillConfig, id: string, manifest: DrillPlan['manifest'], nodeType: string): PreflightRequest {
  const versions = manifest.shards.map((s) => s.rdbVersion).filter((v): v is number => v !== undefined);
  return {
    region: config.region,
    partition: config.partition,
    engine: {
      engineType: manifest.engine,
      engineVersion: manifest.engineVersion,
      // The temporary group runs the engine version that wrote the files, which reads them.
      newestReadableRdbVersion: versions.length > 0 ? Math.max(...versions) : undefined,
      rdbCompatibilityCertain: versions.length > 0,
    },
    nodeType,
    shardCount: manifest.shardCount,
    clusterModeEnabled: manifest.clusterModeEnabled,
    reservedMemoryPercent: DEFAULT_RESERVED_MEMORY_PERCENT,
    failOnUncertainCompatibility: false,
    verifyBucketPolicy: true,
    // The manifest recorded the full verification of every object; the checks here are about the target.
    verifyContent: 'envelope-only',
    source: { kind: 'latestExport', bucket: config.bucket, replicationGroupId: id, maxSourceShards: MAX_SOURCE_SHARDS },
  };
}

async function describeDrillGroup(client: ElastiCacheClient, id: string): Promise<ExistingDrillGroup> {
  try {
    const out = await client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    const found = out.ReplicationGroups?.[0];
    if (!found) {
      return { status: 'none' };
    }
    return { status: 'found', groupStatus: found.Status ?? 'unknown', createTime: found.ReplicationGroupCreateTime, tagged: true };
  } catch (e) {
    if (errorName(e) === 'ReplicationGroupNotFoundFault') {
      return { status: 'none' };
    }
    throw e;
  }
}

/** Publishes every group's drill age and last verdict (embedded metric format: no PutMetricData permission needed). */
async function publishStatus(deps: DrillStepDependencies, now: Date): Promise<DrillStatus[]> {
  const emit = deps.emit ?? ((line: string) => console.log(line)); // eslint-disable-line no-console
  const statuses: DrillStatus[] = [];
  for (const { replicationGroupId } of deps.config.groups) {
    const keys = await listManifestKeys(deps.s3, deps.config.bucket, drillReportPrefix(replicationGroupId));
    let newest: { startedAt?: unknown; verdict?: unknown } | undefined;
    if (keys.length > 0) {
      const text = await getText(deps.s3, deps.config.bucket, keys[0], MAX_REPORT_BYTES);
      try {
        newest = typeof text === 'string' ? JSON.parse(text) : undefined;
      } catch {
        newest = undefined;
      }
    }
    const status = drillStatus(replicationGroupId, newest, now);
    statuses.push(status);
    if (status.ageSeconds === undefined) {
      // No report: publish nothing, so the alarm sees missing data (breaching).
      continue;
    }
    emit(JSON.stringify({
      _aws: {
        Timestamp: now.getTime(),
        CloudWatchMetrics: [{
          Namespace: DRILL_METRIC_NAMESPACE,
          Dimensions: [[DRILL_GROUP_DIMENSION]],
          Metrics: [{ Name: METRIC_DRILL_AGE, Unit: 'Seconds' }, { Name: METRIC_LAST_DRILL_SUCCEEDED, Unit: 'Count' }],
        }],
      },
      [DRILL_GROUP_DIMENSION]: replicationGroupId,
      [METRIC_DRILL_AGE]: status.ageSeconds,
      [METRIC_LAST_DRILL_SUCCEEDED]: status.lastSucceeded ? 1 : 0,
      newestReport: keys[0],
    }));
  }
  return statuses;
}
