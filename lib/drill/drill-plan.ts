/**
 * The restore drill's decisions (pure): which node type and parameters the temporary group gets, whether another drill
 * of the group is running, and what the report and metrics of a finished drill say. The step Lambda
 * (`drill-steps.lambda.ts`) observes and calls these functions; the state machine only moves data between them and the
 * service calls.
 */
import {
  DRILL_GROUP_DIMENSION,
  DrillConfig,
  drillGroupId,
  drillReportPrefix,
  METRIC_DRILL_DURATION,
  METRIC_DRILL_KEYS_RATIO,
  METRIC_DRILL_SUCCEEDED,
} from './drill-constants';
import type { BackupManifest } from '../manifest/manifest';
import { compactTimestamp } from '../manifest/manifest';
import { nodeMemoryGiB } from '../private/node-memory';
import { evenSlotRanges, nodeGroupId } from '../restore/slots';

const NODE_FAMILIES = ['cache.t3', 'cache.t4g', 'cache.m5', 'cache.m6g', 'cache.m7g', 'cache.r5', 'cache.r6g', 'cache.r7g', 'cache.r6gd'];
const NODE_SIZES = ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];

/**
 * The node types the library knows whose memory is at most `maxNodeType`'s: the `elasticache:CacheNodeType` values IAM
 * lets a drill create (a type missing from the memory table is refused by the drill before the call, too).
 */
export function nodeTypesUpTo(maxNodeType: string): string[] {
  const max = nodeMemoryGiB(maxNodeType) ?? 0;
  return NODE_FAMILIES.flatMap((f) => NODE_SIZES.map((s) => `${f}.${s}`)).filter((t) => (nodeMemoryGiB(t) ?? Infinity) <= max);
}

/** A drill run that cannot start; `name` is the error name the state machine records. */
export class DrillRefusedError extends Error {
  constructor(message: string, name = 'DrillRefused') {
    super(message);
    this.name = name;
  }
}

/**
 * The node type of the temporary group: the override configured for the group, else the source's (from the manifest).
 * Refused when it is larger than `maxNodeType` (by memory) or unknown, so a drill never costs more than the cap allows.
 */
export function chooseNodeType(config: DrillConfig, replicationGroupId: string, manifestNodeType: string): string {
  const override = config.groups.find((g) => g.replicationGroupId === replicationGroupId)?.nodeType;
  const nodeType = override ?? manifestNodeType;
  const memory = nodeMemoryGiB(nodeType);
  const maxMemory = nodeMemoryGiB(config.maxNodeType);
  const how = override ? `the drill's nodeType for ${replicationGroupId}` : 'the source\'s node type (from the export\'s manifest)';
  if (memory === undefined) {
    throw new DrillRefusedError(
      `${how} is ${nodeType}, which the drill's memory table does not know, so it cannot be compared with maxNodeType ${config.maxNodeType}: `
      + `set a known node type for ${replicationGroupId} in the drill's groups`, 'DrillNodeTypeRefused');
  }
  if (maxMemory !== undefined && memory > maxMemory) {
    throw new DrillRefusedError(
      `${how} is ${nodeType} (${memory} GiB), larger than the drill's maxNodeType ${config.maxNodeType} (${maxMemory} GiB): `
      + `raise maxNodeType, or give ${replicationGroupId} a smaller nodeType that still holds the data`, 'DrillNodeTypeRefused');
  }
  return nodeType;
}

/**
 * The parameter group of a cluster-mode-enabled temporary group: the engine's default with `cluster-enabled yes`
 * (`default.valkey8.cluster.on`, `default.redis7.cluster.on`, `default.redis6.x.cluster.on`). Cluster mode disabled
 * uses the engine's default (no name passed).
 */
export function defaultClusterParameterGroup(engine: string, engineVersion: string): string {
  const [major, minor] = engineVersion.split('.').map(Number);
  if (engine === 'valkey') {
    return `default.valkey${major}.cluster.on`;
  }
  if (major >= 7) {
    return 'default.redis7.cluster.on';
  }
  if (major === 6) {
    return 'default.redis6.x.cluster.on';
  }
  return `default.redis${major}.${minor ?? 0}.cluster.on`;
}

/** What DescribeReplicationGroups said about the temporary group's id before a drill starts. */
export type ExistingDrillGroup =
  | { readonly status: 'none' }
  | { readonly status: 'found'; readonly groupStatus: string; readonly createTime?: Date; readonly tagged: boolean };

/**
 * Whether a drill may start. `none`: go. `running`: another drill of the group holds the temporary id (this one stops
 * without touching it). `orphan`: a group older than the state machine's timeout can belong to no running drill (an
 * execution stopped by hand skips its cleanup): this drill deletes it (it carries the drill tag, or IAM refuses) and
 * reports a failed drill; the next one starts clean.
 */
export function existingDrillDecision(existing: ExistingDrillGroup, now: Date, executionTimeoutSeconds: number): 'none' | 'running' | 'orphan' {
  if (existing.status === 'none') {
    return 'none';
  }
  if (existing.createTime === undefined) {
    return 'running';
  }
  const ageSeconds = (now.getTime() - existing.createTime.getTime()) / 1000;
  return ageSeconds > executionTimeoutSeconds ? 'orphan' : 'running';
}

/** The temporary group's parameters and everything later steps need (the state machine's `$.drill`). */
export interface DrillPlan {
  readonly sourceGroupId: string;
  readonly drillGroupId: string;
  readonly drillId: string;
  readonly engine: string;
  readonly engineVersion: string;
  readonly nodeType: string;
  readonly shardCount: number;
  readonly clusterModeEnabled: boolean;
  readonly snapshotArns: string[];
  readonly nodeGroupConfiguration: Array<{ NodeGroupId: string; Slots: string; ReplicaCount: number }>;
  /** '' with cluster mode disabled. */
  readonly cacheParameterGroupName: string;
  readonly manifestKey: string;
  readonly manifest: BackupManifest;
  readonly rpoSeconds: number;
  readonly existing: 'none' | 'running' | 'orphan';
  /** DescribeReplicationGroups polls before the drill gives up waiting for `available`. */
  readonly maxPolls: number;
  readonly sampleKeys: number;
  readonly warnings: string[];
}

/** Builds the plan of a drill from the chosen export (already checked by the restore preflight). */
export function planDrill(args: {
  readonly config: DrillConfig;
  readonly replicationGroupId: string;
  readonly manifestKey: string;
  readonly manifest: BackupManifest;
  readonly nodeType: string;
  readonly existing: 'none' | 'running' | 'orphan';
  readonly warnings: string[];
  readonly now: Date;
}): DrillPlan {
  const { config, manifest } = args;
  const shardCount = manifest.shardCount;
  const slots = manifest.clusterModeEnabled ? evenSlotRanges(shardCount) : [];
  return {
    sourceGroupId: args.replicationGroupId,
    drillGroupId: drillGroupId(args.replicationGroupId),
    drillId: config.drillId,
    engine: manifest.engine,
    engineVersion: manifest.engineVersion,
    nodeType: args.nodeType,
    shardCount,
    clusterModeEnabled: manifest.clusterModeEnabled,
    snapshotArns: manifest.shards.map((s) => `arn:${config.partition}:s3:::${config.bucket}/${s.key}`),
    nodeGroupConfiguration: slots.map((range, i) => ({ NodeGroupId: nodeGroupId(i + 1), Slots: range, ReplicaCount: 0 })),
    cacheParameterGroupName: manifest.clusterModeEnabled ? defaultClusterParameterGroup(manifest.engine, manifest.engineVersion) : '',
    manifestKey: args.manifestKey,
    manifest,
    rpoSeconds: Math.max(0, Math.round((args.now.getTime() - Date.parse(manifest.snapshotCreateTime)) / 1000)),
    existing: args.existing,
    maxPolls: Math.max(1, Math.floor(config.maxWaitSeconds / config.pollIntervalSeconds)),
    sampleKeys: config.sampleKeys,
    warnings: args.warnings,
  };
}

/** The state a drill ends with, as the state machine hands it to the summary step. */
export interface DrillOutcome {
  readonly input: { readonly replicationGroupId?: unknown };
  readonly executionName: string;
  readonly startedAt: string;
  readonly drill: Partial<DrillPlan>;
  readonly timings: {
    readonly createRequested?: { readonly at: string };
    readonly available?: { readonly at: string };
    readonly verified?: { readonly at: string };
    readonly cleanedUp?: { readonly at: string };
  };
  readonly verification: Record<string, unknown>;
  /** `{ Error, Cause }` of the step that failed, or `{}`. */
  readonly failure: { readonly Error?: string; readonly Cause?: string };
  readonly cleanup: {
    readonly deleteGroup?: boolean;
    readonly deleted?: boolean;
    readonly error?: { readonly Error?: string; readonly Cause?: string };
  };
}

export interface DrillSummary {
  readonly passed: boolean;
  readonly reportKey: string;
  readonly report: Record<string, unknown>;
  /** PutMetricData's MetricData. */
  readonly metricData: Array<Record<string, unknown>>;
}

function secondsBetween(from?: { at: string }, to?: { at: string }): number | undefined {
  if (!from || !to) {
    return undefined;
  }
  return Math.round((Date.parse(to.at) - Date.parse(from.at)) / 1000);
}

/** A group id safe to use in a report key (the execution input may be anything). */
function reportGroup(outcome: DrillOutcome): string {
  const raw = outcome.drill.sourceGroupId ?? outcome.input?.replicationGroupId;
  return typeof raw === 'string' && /^[a-z][a-z0-9-]{0,39}$/.test(raw) ? raw : 'unknown-group';
}

/**
 * The report and metrics of a finished drill. It passed only when the verifier found what the manifest promised, no
 * step failed, and the temporary group was deleted.
 */
export function summarizeDrill(outcome: DrillOutcome, now: Date): DrillSummary {
  const group = reportGroup(outcome);
  const verification = outcome.verification ?? {};
  const failure = outcome.failure?.Error ? outcome.failure : undefined;
  const cleanupError = outcome.cleanup?.error?.Error ? outcome.cleanup.error : undefined;
  const verified = verification.passed === true;
  const passed = verified && !failure && !cleanupError;
  const t = outcome.timings ?? {};
  const rtoSeconds = secondsBetween(t.createRequested, t.available);
  const groupEnd = t.cleanedUp ?? (t.createRequested ? { at: now.toISOString() } : undefined);
  const groupSeconds = secondsBetween(t.createRequested, groupEnd);
  const manifest = outcome.drill.manifest;
  const report: Record<string, unknown> = {
    formatVersion: 1,
    verdict: passed ? 'pass' : 'fail',
    replicationGroupId: group,
    drillGroupId: outcome.drill.drillGroupId,
    drillId: outcome.drill.drillId,
    execution: outcome.executionName,
    startedAt: outcome.startedAt,
    finishedAt: now.toISOString(),
    failure: failure ?? (cleanupError ? { Error: 'DrillCleanupFailed', Cause: cleanupError.Cause ?? cleanupError.Error } : undefined),
    export: manifest ? {
      manifestKey: outcome.drill.manifestKey,
      snapshotName: manifest.snapshotName,
      snapshotCreateTime: manifest.snapshotCreateTime,
      exportTime: manifest.exportTime,
    } : undefined,
    rpoSecondsAtDrill: outcome.drill.rpoSeconds,
    rtoSeconds,
    timeToVerifiedSeconds: secondsBetween(t.createRequested, t.verified),
    keys: {
      expected: verification.expectedKeys,
      found: verification.foundKeys,
      ratio: verification.restoredKeysRatio,
      verdict: verification.verdict,
    },
    nodeType: outcome.drill.nodeType,
    shardCount: outcome.drill.shardCount,
    engine: outcome.drill.engine,
    engineVersion: outcome.drill.engineVersion,
    groupMinutes: groupSeconds === undefined ? 0 : Math.ceil(groupSeconds / 60),
    cleanup: {
      groupCreatedByThisDrill: outcome.cleanup?.deleteGroup === true,
      groupDeleted: outcome.cleanup?.deleted === true,
      error: cleanupError,
    },
    warnings: outcome.drill.warnings,
    verification,
  };
  const dimensions = [{ Name: DRILL_GROUP_DIMENSION, Value: group }];
  const metricData: Array<Record<string, unknown>> = [{ MetricName: METRIC_DRILL_SUCCEEDED, Dimensions: dimensions, Value: passed ? 1 : 0, Unit: 'Count' }];
  if (rtoSeconds !== undefined) {
    metricData.push({ MetricName: METRIC_DRILL_DURATION, Dimensions: dimensions, Value: rtoSeconds, Unit: 'Seconds' });
  }
  if (typeof verification.restoredKeysRatio === 'number') {
    metricData.push({ MetricName: METRIC_DRILL_KEYS_RATIO, Dimensions: dimensions, Value: verification.restoredKeysRatio, Unit: 'None' });
  }
  const started = Number.isNaN(Date.parse(outcome.startedAt)) ? now : new Date(outcome.startedAt);
  return { passed, reportKey: `${drillReportPrefix(group)}${compactTimestamp(started)}.json`, report, metricData };
}

/** The status check's view of a group's newest drill report. */
export interface DrillStatus {
  readonly replicationGroupId: string;
  /** Seconds since the newest report's start; undefined when there is no report. */
  readonly ageSeconds?: number;
  readonly lastSucceeded?: boolean;
}

/** Reads the status from the newest report (or its absence). */
export function drillStatus(
  replicationGroupId: string, newestReport: { readonly startedAt?: unknown; readonly verdict?: unknown } | undefined, now: Date,
): DrillStatus {
  if (!newestReport || typeof newestReport.startedAt !== 'string' || Number.isNaN(Date.parse(newestReport.startedAt))) {
    return { replicationGroupId };
  }
  return {
    replicationGroupId,
    ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(newestReport.startedAt)) / 1000)),
    lastSucceeded: newestReport.verdict === 'pass',
  };
}
