/**
 * The backup plan's reconciler: a thin AWS SDK shell around reconcile-core.ts (observe, plan, execute, persist).
 *
 * Invoked every few minutes by a schedule and, to react faster, by ElastiCache snapshot events and S3 object-created
 * events of the export bucket. Reserved concurrency 1; every run is idempotent, so a repeated or overlapping event
 * costs nothing, and a missed one costs one tick.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import {
  CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand,
  ElastiCacheClient, ListTagsForResourceCommand, Snapshot,
} from '@aws-sdk/client-elasticache';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ENV_EXPORT_BUCKET, ENV_PLAN_CONFIG, GROUP_DIMENSION, METRIC_BACKUP_AGE, METRIC_CIRCUIT_OPEN, METRIC_EXPORT_AGE,
  METRIC_CLOCK_BEHIND, METRIC_EXPORTS_IN_FLIGHT, METRIC_FAILURES, METRIC_FUTURE_MANIFESTS, METRIC_PRUNING_HELD_FOR_CLOCK_SKEW,
  METRIC_REFUSED_DELETIONS, METRIC_FOREIGN_PLAN_SNAPSHOTS, METRIC_NAMESPACE, METRIC_UNEXPORTED_BACKUPS,
} from './constants';
import { groupsForEvent, InvocationEvent, signalsForEvent } from './event-routing';
import { isSnsEvent, parseNotificationEvent } from './notification-events';
import { DEFAULT_SETTINGS, GroupConfig, ObjectInfo, PlannerSettings } from './planner';
import {
  ForeignPlanError, GroupDescription, GroupRunResult, reconcileGroup, ReconcileIo, SnapshotDescription, VersionedText, WriteCondition,
} from './reconcile-core';

/** The plan's configuration, as the construct serializes it into the environment. */
export interface PlanConfig {
  readonly planId: string;
  readonly groups: GroupConfig[];
  readonly exportTimeoutSeconds?: number;
  /** Stop creating backups for a group with this many backups the plan could not export (default 3). */
  readonly circuitBreakerThreshold?: number;
  /** Stop starting new work when less than this is left of the invocation. */
  readonly safetyMarginSeconds?: number;
}

export interface AwsIoOptions {
  readonly elasticache: ElastiCacheClient;
  readonly s3: S3Client;
  readonly region: string;
  readonly bucketName: string;
  /** The account and partition, for snapshot ARNs (ListTagsForResource). */
  readonly account: string;
  readonly partition?: string;
}

/** `ReconcileIo` on the AWS SDK. */
export class AwsReconcileIo implements ReconcileIo {
  public readonly region: string;
  public readonly bucketName: string;
  /** API calls made through this object (for logs and benchmarks). */
  public calls = 0;

  constructor(private readonly o: AwsIoOptions) {
    this.region = o.region;
    this.bucketName = o.bucketName;
  }

  public async describeSnapshots(replicationGroupId: string): Promise<SnapshotDescription[]> {
    return this.listSnapshots({ ReplicationGroupId: replicationGroupId });
  }

  public async describeClusterSnapshots(cacheClusterId: string): Promise<SnapshotDescription[]> {
    return this.listSnapshots({ CacheClusterId: cacheClusterId });
  }

  private async listSnapshots(filter: { ReplicationGroupId?: string; CacheClusterId?: string }): Promise<SnapshotDescription[]> {
    const out: SnapshotDescription[] = [];
    let marker: string | undefined;
    do {
      this.calls++;
      const page = await this.o.elasticache.send(new DescribeSnapshotsCommand({ ...filter, Marker: marker, MaxRecords: 50 }));
      for (const s of page.Snapshots ?? []) {
        out.push(toDescription(s));
      }
      marker = page.Marker;
    } while (marker);
    return out;
  }

  public async describeGroup(replicationGroupId: string): Promise<GroupDescription | undefined> {
    this.calls++;
    try {
      const res = await this.o.elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: replicationGroupId }));
      const g = res.ReplicationGroups?.[0];
      if (!g) {
        return undefined;
      }
      const clusterModeEnabled = g.ClusterEnabled === true || (g.NodeGroups?.length ?? 1) > 1;
      // Cluster mode disabled: back up from a replica (spares the primary), as ElastiCache recommends.
      const replica = clusterModeEnabled ? undefined
        : g.NodeGroups?.[0]?.NodeGroupMembers?.find((m) => m.CurrentRole === 'replica')?.CacheClusterId;
      return {
        status: g.Status ?? 'unknown',
        clusterModeEnabled,
        snapshotClusterId: replica,
        engine: g.Engine,
        nodeType: g.CacheNodeType,
        memberClusterIds: g.MemberClusters ?? [],
      };
    } catch (e) {
      if ((e as Error).name === 'ReplicationGroupNotFoundFault') {
        return undefined;
      }
      throw e;
    }
  }

  public async listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      this.calls++;
      const page = await this.o.s3.send(new ListObjectsV2Command({
        Bucket: this.bucketName, Prefix: prefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token,
      }));
      for (const o of page.Contents ?? []) {
        if (o.Key) {
          out.push({ key: o.Key, sizeBytes: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  public async headObject(key: string): Promise<ObjectInfo | undefined> {
    this.calls++;
    try {
      const res = await this.o.s3.send(new HeadObjectCommand({ Bucket: this.bucketName, Key: key }));
      return {
        key,
        sizeBytes: res.ContentLength ?? 0,
        versionId: res.VersionId,
        etag: res.ETag,
        lastModified: res.LastModified,
        ...(res.ReplicationStatus ? { replicationStatus: res.ReplicationStatus } : {}),
      };
    } catch (e) {
      if (isNotFound(e)) {
        return undefined;
      }
      throw e;
    }
  }

  public async getText(key: string): Promise<string | undefined> {
    this.calls++;
    try {
      const res = await this.o.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
      return await res.Body?.transformToString();
    } catch (e) {
      if (isNotFound(e)) {
        return undefined;
      }
      throw e;
    }
  }

  public async putText(key: string, body: string): Promise<void> {
    this.calls++;
    await this.o.s3.send(new PutObjectCommand({ Bucket: this.bucketName, Key: key, Body: body, ContentType: 'application/json' }));
  }

  public async getVersionedText(key: string): Promise<VersionedText | undefined> {
    this.calls++;
    try {
      const res = await this.o.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
      const text = (await res.Body?.transformToString()) ?? '';
      if (!res.ETag) {
        throw new Error(`GetObject s3://${this.bucketName}/${key} returned no ETag: the state cannot be written conditionally`);
      }
      return { text, etag: res.ETag, lastModified: res.LastModified };
    } catch (e) {
      if (isNotFound(e)) {
        return undefined;
      }
      throw e;
    }
  }

  /** PutObject with If-Match / If-None-Match (S3 conditional writes): 412 PreconditionFailed or 409 ConditionalRequestConflict. */
  public async putTextIf(key: string, body: string, condition: WriteCondition): Promise<string> {
    this.calls++;
    const res = await this.o.s3.send(new PutObjectCommand({
      Bucket: this.bucketName, Key: key, Body: body, ContentType: 'application/json', IfMatch: condition.ifMatch, IfNoneMatch: condition.ifNoneMatch,
    }));
    if (!res.ETag) {
      throw new Error(`PutObject s3://${this.bucketName}/${key} returned no ETag: the next write of the state could not be conditioned`);
    }
    return res.ETag;
  }

  public async readRange(key: string, length: number): Promise<Uint8Array> {
    this.calls++;
    const res = await this.o.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key, Range: `bytes=0-${length - 1}` }));
    return (await res.Body?.transformToByteArray()) ?? new Uint8Array();
  }

  public async createSnapshot(r: {
    replicationGroupId: string; cacheClusterId?: string; snapshotName: string; tags: Record<string, string>;
  }): Promise<void> {
    this.calls++;
    await this.o.elasticache.send(new CreateSnapshotCommand({
      ...(r.cacheClusterId ? { CacheClusterId: r.cacheClusterId } : { ReplicationGroupId: r.replicationGroupId }),
      SnapshotName: r.snapshotName,
      Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  public async copySnapshot(r: { sourceSnapshotName: string; targetSnapshotName: string; targetBucket: string }): Promise<void> {
    this.calls++;
    await this.o.elasticache.send(new CopySnapshotCommand({
      SourceSnapshotName: r.sourceSnapshotName, TargetSnapshotName: r.targetSnapshotName, TargetBucket: r.targetBucket,
    }));
  }

  public async snapshotTag(snapshotName: string, tagKey: string): Promise<string | undefined> {
    this.calls++;
    const arn = `arn:${this.o.partition ?? 'aws'}:elasticache:${this.region}:${this.o.account}:snapshot:${snapshotName}`;
    const res = await this.o.elasticache.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    return res.TagList?.find((t) => t.Key === tagKey)?.Value;
  }

  public async deleteSnapshot(snapshotName: string): Promise<void> {
    this.calls++;
    await this.o.elasticache.send(new DeleteSnapshotCommand({ SnapshotName: snapshotName }));
  }
}

function isNotFound(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404;
}

function toDescription(s: Snapshot): SnapshotDescription {
  const times = (s.NodeSnapshots ?? []).map((n) => n.SnapshotCreateTime?.getTime()).filter((t): t is number => t !== undefined);
  const shards = new Set((s.NodeSnapshots ?? []).map((n) => n.NodeGroupId ?? n.CacheClusterId));
  const clusterModeEnabled = (s.NumNodeGroups ?? 1) > 1 || s.AutomaticFailover === 'enabled' && (s.NumNodeGroups ?? 0) > 1;
  return {
    name: s.SnapshotName ?? '',
    source: s.SnapshotSource === 'automated' ? 'automated' : 'manual',
    status: s.SnapshotStatus ?? 'unknown',
    // The point in time the backup restores to: the earliest shard's snapshot time.
    createTime: s.SnapshotStatus === 'creating' || times.length === 0 ? undefined : new Date(Math.min(...times)),
    shardCount: Math.max(1, s.NumNodeGroups ?? shards.size),
    meta: {
      engine: s.Engine ?? 'unknown',
      engineVersion: s.EngineVersion ?? 'unknown',
      nodeType: s.CacheNodeType ?? 'unknown',
      clusterModeEnabled,
    },
  };
}

export { groupsForEvent, signalsForEvent } from './event-routing';
export type { InvocationEvent } from './event-routing';

export interface HandlerDeps {
  readonly io: ReconcileIo;
  readonly config: PlanConfig;
  readonly logger: Logger;
  /** A fresh Metrics instance (one EMF document per group). */
  readonly newMetrics: () => Metrics;
  readonly remainingMs: () => number;
  readonly now?: () => Date;
  /** Export-name suffixes (8 lowercase base32 characters). @default - cryptographic random */
  readonly random?: () => string;
}

type MetricValue = [name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number | undefined];

/**
 * Publishes a group's metrics as one EMF document whose only dimension is ReplicationGroupId (no `service` dimension:
 * the alarms query by ReplicationGroupId alone).
 */
export function publishGroupMetrics(m: Metrics, replicationGroupId: string, values: MetricValue[], metadata?: Record<string, string>): void {
  m.clearDefaultDimensions();
  m.addDimension(GROUP_DIMENSION, replicationGroupId);
  for (const [key, value] of Object.entries(metadata ?? {})) {
    m.addMetadata(key, value);
  }
  for (const [name, unit, value] of values) {
    if (value !== undefined) {
      m.addMetric(name, unit, value);
    }
  }
  m.publishStoredMetrics();
}

/**
 * The groups an invocation is about and the export failures it signals: from an SNS notification (node-based groups
 * publish their events to the plan's topic) or from an EventBridge event (schedule, snapshot events, S3 objects).
 */
function routeEvent(event: InvocationEvent | undefined, groups: readonly GroupConfig[], now: Date, logger: Logger) {
  if (isSnsEvent(event)) {
    const run = parseNotificationEvent(event, groups, now);
    if (run.notices.length > 0) {
      logger.info('ElastiCache notifications', { notices: run.notices });
    }
    return { targets: run.groups, signals: run.exportFailureSignals };
  }
  // An event that cannot be decoded runs every group (never fails the invocation).
  const targets = groupsForEvent(event, groups, (problem) => logger.warn('event not routed: running every group', { ...problem }));
  return { targets, signals: signalsForEvent(event, now) };
}

/** The body of the handler, with its dependencies injected (tests call this directly). */
export async function runPlan(event: InvocationEvent | undefined, deps: HandlerDeps): Promise<GroupRunResult[]> {
  const { config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const settings: PlannerSettings = {
    ...DEFAULT_SETTINGS,
    exportTimeoutSeconds: config.exportTimeoutSeconds ?? DEFAULT_SETTINGS.exportTimeoutSeconds,
    circuitBreakerThreshold: config.circuitBreakerThreshold ?? DEFAULT_SETTINGS.circuitBreakerThreshold,
  };
  const marginMs = (config.safetyMarginSeconds ?? 30) * 1000;
  const outOfTime = () => deps.remainingMs() < marginMs;
  const { targets, signals } = routeEvent(event, config.groups, now(), logger);
  // Rotate the starting group, so that a slow group cannot starve the ones after it run after run.
  const start = targets.length ? Math.floor(now().getTime() / 60_000) % targets.length : 0;
  const ordered = [...targets.slice(start), ...targets.slice(0, start)];
  const results: GroupRunResult[] = [];
  let errors = 0;
  const loud: string[] = [];
  for (const group of ordered) {
    if (outOfTime()) {
      logger.warn('out of time: groups left for the next run', { replicationGroupId: group.replicationGroupId });
      continue;
    }
    try {
      const result = await reconcileGroup(deps.io, group, { planId: config.planId, settings, now, outOfTime, signals, random: deps.random });
      results.push(result);
      logger.info('reconciled', {
        replicationGroupId: group.replicationGroupId,
        notes: result.decision.notes,
        ...(result.rebuiltFromTags ? { rebuiltFromTags: result.rebuiltFromTags } : {}),
        ...(result.stateAttempts > 1 ? { stateAttempts: result.stateAttempts } : {}),
        actions: result.executed.map((x) => ({ kind: x.action.kind, outcome: x.outcome, error: x.error })),
        metrics: result.decision.metrics,
        ...(result.decision.metrics.circuitOpen ? { circuitReason: result.decision.metrics.circuitReason } : {}),
      });
      const m = result.decision.metrics;
      publishGroupMetrics(deps.newMetrics(), group.replicationGroupId, [
        [METRIC_BACKUP_AGE, MetricUnit.Seconds, m.backupAgeSeconds],
        [METRIC_EXPORT_AGE, MetricUnit.Seconds, m.exportAgeSeconds],
        [METRIC_EXPORTS_IN_FLIGHT, MetricUnit.Count, m.exportsInFlight],
        [METRIC_FAILURES, MetricUnit.Count, result.failures],
        [METRIC_UNEXPORTED_BACKUPS, MetricUnit.Count, m.unexportedBackups],
        [METRIC_CIRCUIT_OPEN, MetricUnit.Count, m.circuitOpen],
        [METRIC_FUTURE_MANIFESTS, MetricUnit.Count, m.futureManifests],
        [METRIC_REFUSED_DELETIONS, MetricUnit.Count, m.refusedDeletions],
        [METRIC_PRUNING_HELD_FOR_CLOCK_SKEW, MetricUnit.Count, m.pruningHeldForClockSkew],
        [METRIC_CLOCK_BEHIND, MetricUnit.Seconds, m.clockBehindSeconds ?? 0],
      ], m.circuitOpen ? { CircuitReason: m.circuitReason ?? 'unknown' } : undefined);
    } catch (e) {
      errors++;
      const foreign = e instanceof ForeignPlanError ? e.foreign.length : undefined;
      if ((e as { loud?: boolean }).loud) {
        // Unreadable state, another plan's snapshots, or lost state writes: the invocation fails (Errors alarm) once
        // every group had its turn.
        loud.push(`${group.replicationGroupId}: ${(e as Error).message}`);
      }
      logger.error('reconcile failed', { replicationGroupId: group.replicationGroupId, error: e as Error });
      publishGroupMetrics(deps.newMetrics(), group.replicationGroupId, [
        [METRIC_FAILURES, MetricUnit.Count, 1],
        [METRIC_FOREIGN_PLAN_SNAPSHOTS, MetricUnit.Count, foreign],
      ]);
    }
  }
  if (loud.length > 0) {
    throw new Error(`reconcile failed for ${loud.length} of ${ordered.length} groups (the others ran): ${loud.join(' | ')}`);
  }
  if (errors > 0 && errors === ordered.length) {
    // Nothing worked: fail the invocation, so the Errors alarm sees it.
    throw new Error(`reconcile failed for all ${errors} groups; see the logs`);
  }
  return results;
}

const logger = new Logger({ serviceName: 'elasticache-backup-plan' });
let io: AwsReconcileIo | undefined;

/** The part of the Lambda context the handler uses. */
export interface InvocationContext {
  readonly invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export async function handler(event: InvocationEvent, context: InvocationContext): Promise<void> {
  const config = JSON.parse(process.env[ENV_PLAN_CONFIG] ?? '') as PlanConfig;
  const bucketName = process.env[ENV_EXPORT_BUCKET];
  if (!bucketName) {
    throw new Error(`No value specified for required environment variable: ${ENV_EXPORT_BUCKET}`);
  }
  const arn = context.invokedFunctionArn.split(':');
  const region = process.env.AWS_REGION ?? arn[3];
  io ??= new AwsReconcileIo({
    elasticache: new ElastiCacheClient({ region }), s3: new S3Client({ region }), region, bucketName, account: arn[4], partition: arn[1],
  });
  logger.appendKeys({ trigger: event?.['detail-type'] ?? 'unknown' });
  await runPlan(event, {
    io, config, logger, newMetrics: () => new Metrics({ namespace: METRIC_NAMESPACE }), remainingMs: () => context.getRemainingTimeInMillis(),
  });
}
