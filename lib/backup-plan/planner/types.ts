/**
 * The planner's vocabulary: configuration, what a run observes, what it persists, and the actions it decides.
 * Pure types and defaults. Not part of the jsii API.
 */
import { SnapshotSource } from '../../manifest/manifest';
import type { VerificationResult } from '../verify-core';

/** The service quota: manual backups per node per contiguous 24 hours. */
export const MANUAL_BACKUPS_PER_NODE_PER_DAY = 20;

/** The shortest interval the quota can sustain: 24 h / 20 = 72 minutes. */
export const MIN_INTERVAL_MINUTES = (24 * 60) / MANUAL_BACKUPS_PER_NODE_PER_DAY;

/** What the construct tells the reconciler about one protected group (serialized into the Lambda environment). */
export interface GroupConfig {
  readonly replicationGroupId: string;
  /** Take a manual backup when the newest backup is older than this. Absent: automatic backups only. */
  readonly intervalSeconds?: number;
  /** Manual backups the plan created are deleted once older than this and exported. */
  readonly retentionSeconds: number;
  /** The export age above which the group is out of its RPO target (for reporting). */
  readonly rpoTargetSeconds: number;
  /** Whether automatic (daily) backups are exported. */
  readonly exportAutomated: boolean;
  /**
   * Without an interval: take one manual backup when the newest backup is older than this (a missed or failed
   * automatic backup). Absent: never.
   */
  readonly fallbackAfterSeconds?: number;
  /** This group's export timeout (see `defaultExportTimeoutSeconds`). Absent: `PlannerSettings.exportTimeoutSeconds`. */
  readonly exportTimeoutSeconds?: number;
}

/** Tuning shared by all groups of a plan. */
export interface PlannerSettings {
  /** An export without all its objects after this long (source not busy) is retried under a new name. */
  readonly exportTimeoutSeconds: number;
  /** Give up exporting one snapshot after this many attempts (the snapshot is then never pruned by the plan). */
  readonly maxExportAttempts: number;
  /** The quota the plan stays under (20 in every region today). */
  readonly quotaPerNode: number;
  /** Count manual backups in a window this much longer than 24 h, to stay clear of clock skew. */
  readonly quotaMarginSeconds: number;
  /** After a backup the plan created failed, wait this long before creating another one. */
  readonly failedBackupCooldownSeconds: number;
  /** At most this many deletions per group per run. */
  readonly maxDeletionsPerRun: number;
  /** Ask for a shard's verification again when no result appeared this long after the request. */
  readonly verifyTimeoutSeconds: number;
  /** An export whose shard got this many verification requests without a result fails. */
  readonly maxVerifyRequests: number;
  /** An export object last modified more than this before the export's CopySnapshot call is not the export's. */
  readonly objectTimeSkewSeconds: number;
  /** Stop creating backups for a group with this many backups the plan created and could not export. */
  readonly circuitBreakerThreshold: number;
  /**
   * Clock skew tolerated between the reconciler and ElastiCache when pruning: nothing is deleted before retention plus
   * this, and nothing at all while the clocks disagree by more than this. @default 600
   */
  readonly clockSkewMarginSeconds?: number;
  /** A deletion the service or the tag check refused is tried again after this long (once per period). @default 7 days */
  readonly refusedDeletionRetrySeconds?: number;
}

export const DEFAULT_SETTINGS: Required<PlannerSettings> = {
  exportTimeoutSeconds: 3600,
  maxExportAttempts: 5,
  quotaPerNode: MANUAL_BACKUPS_PER_NODE_PER_DAY,
  quotaMarginSeconds: 600,
  failedBackupCooldownSeconds: 900,
  maxDeletionsPerRun: 5,
  verifyTimeoutSeconds: 20 * 60,
  maxVerifyRequests: 3,
  objectTimeSkewSeconds: 300,
  circuitBreakerThreshold: 3,
  clockSkewMarginSeconds: 600,
  refusedDeletionRetrySeconds: 7 * 86_400,
};

/** Facts about a snapshot the manifest needs (taken from DescribeSnapshots). */
export interface SnapshotMeta {
  readonly engine: string;
  readonly engineVersion: string;
  readonly nodeType: string;
  readonly clusterModeEnabled: boolean;
}

export interface ObservedSnapshot {
  readonly name: string;
  readonly source: SnapshotSource;
  /** creating | available | failed | deleting | copying | exporting | restoring | ... */
  readonly status: string;
  /** When the snapshot was taken; absent while it is being created. */
  readonly createTime?: Date;
  /** Whether the plan created it (the reconciler's own record; deletion also checks the snapshot's tag). */
  readonly createdByPlan: boolean;
  /** Number of shards (one `.rdb` per shard on export) = nodes snapshotted. */
  readonly shardCount: number;
  readonly meta?: SnapshotMeta;
}

export interface ObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
  /** The current version (HeadObject; ListObjectsV2 does not return it). */
  readonly versionId?: string;
  /** Quoted, as S3 returns it. */
  readonly etag?: string;
  readonly lastModified?: Date;
  /**
   * HeadObject's `x-amz-replication-status` on the source bucket: `PENDING`, `COMPLETED` or `FAILED` when the bucket
   * replicates the object, absent otherwise.
   */
  readonly replicationStatus?: string;
}

/** A signal from an event that an export failed (the event text, for matching, and its time). */
export interface ExportFailureSignal {
  readonly text: string;
  readonly time: Date;
}

/** A verification the plan asked for (write-ahead: recorded before the request object is written). */
export interface VerifyRecord {
  readonly key: string;
  readonly versionId?: string;
  /** ISO time of the latest request. */
  readonly at: string;
  /** Requests made for this key and version. */
  readonly requests: number;
}

/** The export in flight, as persisted between runs. */
export interface InFlightExport {
  readonly snapshotName: string;
  readonly snapshotSource: SnapshotSource;
  /** ISO time. */
  readonly snapshotCreateTime: string;
  readonly shardCount: number;
  readonly meta?: SnapshotMeta;
  readonly exportName: string;
  readonly attempt: number;
  /** ISO time CopySnapshot was (or was about to be) called. */
  readonly startedAt: string;
  /** False until CopySnapshot returned success: an unconfirmed export is re-issued under the same name. */
  readonly confirmed: boolean;
  /**
   * True once a run after the confirmed CopySnapshot saw the source snapshot in a status other than `available`
   * (`copying`, `exporting`, ...). Whether ElastiCache shows such a status during an export is not documented; only
   * when it has been seen does the snapshot returning to `available` mean that the export ended.
   */
  readonly sourceBusySeen?: boolean;
  /**
   * ISO time of the run that first saw the source back in `available` (after `sourceBusySeen`) while objects were
   * missing. A later run that still sees them missing declares the export failed (one run of grace for the listing).
   */
  readonly sourceIdleSince?: string;
  /** Verifications asked for, per shard object. */
  readonly verifications?: readonly VerifyRecord[];
}

/** A CreateSnapshot call the plan made (write-ahead: recorded before the call). */
export interface CreatedRecord {
  readonly name: string;
  /** ISO time of the call. */
  readonly at: string;
  /** The call was refused (throttled, quota, ...): counted for the quota, but no snapshot exists. */
  readonly refused?: boolean;
  /** The snapshot failed and the failure was reported. */
  readonly failureNoted?: boolean;
}

/** A CopySnapshot call the plan made (for the quota count once exports are known to count). */
export interface ExportCallRecord {
  readonly name: string;
  /** ISO time of the call. */
  readonly at: string;
}

/**
 * A call the service refused for the quota although the plan counted free slots: at least `hidden` uses of the quota
 * were invisible to the plan then (a lost record, a deleted backup of somebody else). They happened before `at`, so
 * they are gone 24 hours after it; until then the plan counts them, and is not refused again for the same reason.
 */
export interface QuotaRefusalRecord {
  /** ISO time of the refusal. */
  readonly at: string;
  /** Slots the plan counted as free before the call (at least 1). */
  readonly hidden: number;
}

/** Export failures of one snapshot (for the circuit breaker). */
export interface ExportFailureRecord {
  readonly failures: number;
  /** Name of the last error (`SnapshotFeatureNotSupportedFault`, `ExportTimedOut`, `ShardCorrupt`, ...). */
  readonly lastError: string;
  /** ISO time of the last failure. */
  readonly at?: string;
}

/**
 * A deletion the service or the reconciler's tag check refused. Remembered so that the snapshot does not take one of
 * the run's deletion slots (and is not reported) again in every run; tried again after `refusedDeletionRetrySeconds`.
 */
export interface RefusedDeletionRecord {
  readonly name: string;
  /** The service error's name or the reconciler's reason (at most `MAX_REFUSAL_REASON_CHARS`). */
  readonly reason: string;
  /** ISO time of the latest refusal. */
  readonly at: string;
  /** Refusals so far (1 after the first). */
  readonly refusals: number;
}

/** The longest refusal reason kept in the state. */
export const MAX_REFUSAL_REASON_CHARS = 300;

/** What the reconciler persists per group (S3 `state/<group>/plan.json`). */
export interface GroupState {
  readonly formatVersion: 1;
  readonly inFlight?: InFlightExport;
  /**
   * Confirmed attempts that timed out, still watched: their objects may yet arrive, and are committed when they
   * complete and verify (dropped once their snapshot is committed or gone, or a day after they started).
   */
  readonly lateAttempts?: readonly InFlightExport[];
  /** Export attempts started per snapshot name (the next attempt gets a new, unique TargetSnapshotName). */
  readonly exportAttempts: Readonly<Record<string, number>>;
  /** Failed export attempts per snapshot name. */
  readonly exportFailures?: Readonly<Record<string, ExportFailureRecord>>;
  readonly created: readonly CreatedRecord[];
  /** CopySnapshot calls in the quota window (kept only while they may count). */
  readonly exportCalls?: readonly ExportCallRecord[];
  /** Learned: a CopySnapshot was refused with SnapshotQuotaExceededFault, so exports count against the quota. */
  readonly exportsCountAgainstQuota?: boolean;
  /** Quota refusals of the last 24 hours (kept only while they may count). */
  readonly quotaRefusals?: readonly QuotaRefusalRecord[];
  /** Manifest keys that failed the integrity check before a deletion: their snapshots are exported again. */
  readonly distrustedManifests?: readonly string[];
  /** ISO time until which no ElastiCache write call is made (throttling). */
  readonly backoffUntil?: string;
  /** ISO time until which no backup is created (SnapshotQuotaExceededFault). */
  readonly createBackoffUntil?: string;
  /** ISO time until which no export is started (SnapshotQuotaExceededFault on CopySnapshot). */
  readonly exportBackoffUntil?: string;
  readonly consecutiveThrottles: number;
  /** Deletions refused for snapshots that are still listed (absent when none). */
  readonly refusedDeletions?: readonly RefusedDeletionRecord[];
}

export function emptyState(): GroupState {
  return { formatVersion: 1, exportAttempts: {}, created: [], consecutiveThrottles: 0 };
}

export interface ObservedGroup {
  readonly replicationGroupId: string;
  /** False while the group is not `available` (modifying, snapshotting, ...): no backup is created then. */
  readonly groupAvailable: boolean;
  /** Every snapshot of the group (listed by group and by member cluster, merged by name; automated and manual). */
  readonly snapshots: readonly ObservedSnapshot[];
  /** Manifest keys present for the group (at least those of every existing snapshot, and the newest one). */
  readonly manifestKeys: readonly string[];
  /** Objects under the names of the export in flight and of the late attempts (versionId from HEAD). */
  readonly exportObjects: readonly ObjectInfo[];
  /** Verification results found for those objects. */
  readonly verificationResults?: readonly VerificationResult[];
  readonly state: GroupState;
  readonly exportFailureSignals: readonly ExportFailureSignal[];
  /**
   * Seconds the reconciler's clock was found behind the AWS timestamps it observed (`now` is already corrected by
   * this much). Pruning is held while it is above 0: a correction must never make a deletion earlier. @default 0
   */
  readonly clockBehindSeconds?: number;
}

export interface CreateSnapshotAction {
  readonly kind: 'CreateSnapshot';
  readonly snapshotName: string;
  /**
   * The plan's count of manual backups alone left room under the quota. A SnapshotQuotaExceededFault then means that
   * something the plan does not count as a backup uses the quota: its exports (learned, like a refused CopySnapshot).
   */
  readonly roomWithoutExports?: boolean;
  /** Slots of the quota the plan counted as free before this call (exports included); see `QuotaRefusalRecord`. */
  readonly quotaFreeBefore?: number;
}

export interface StartExportAction {
  readonly kind: 'StartExport';
  readonly snapshotName: string;
  readonly exportName: string;
  readonly attempt: number;
  /** True when re-issuing an unconfirmed CopySnapshot (after a crash or an unknown error). */
  readonly reissue: boolean;
  /** Slots of the quota the plan counted as free before this call (exports included); see `QuotaRefusalRecord`. */
  readonly quotaFreeBefore?: number;
}

export interface VerifyShardAction {
  readonly kind: 'VerifyShard';
  readonly exportName: string;
  readonly object: ObjectInfo;
  /** The n-th request for this object version (request objects get a new key each time). */
  readonly request: number;
}

export interface CommitManifestAction {
  readonly kind: 'CommitManifest';
  readonly export: InFlightExport;
  readonly manifestKey: string;
  /** Shard objects in shard order. */
  readonly objects: readonly ObjectInfo[];
  /** The verification of each shard, in shard order (same version as `objects`). */
  readonly verifications: readonly VerificationResult[];
  /** The key held a manifest that failed an integrity check; this commit replaces it. */
  readonly replacesDistrusted?: boolean;
}

export interface DeleteSnapshotAction {
  readonly kind: 'DeleteSnapshot';
  readonly snapshotName: string;
  /** The manifest the deletion relies on: re-read and checked against the objects before the call. */
  readonly manifestKey: string;
}

export type PlanAction = CreateSnapshotAction | StartExportAction | VerifyShardAction | CommitManifestAction | DeleteSnapshotAction;

export interface GroupMetrics {
  /** Seconds since the newest available backup was taken; undefined when there is none. */
  readonly backupAgeSeconds?: number;
  /** Seconds since the snapshot of the newest committed export was taken; undefined when there is none. */
  readonly exportAgeSeconds?: number;
  readonly exportsInFlight: number;
  /** Failures noticed in this run (failed export, failed backup, refused call). */
  readonly failures: number;
  /** Manual backups (and, once learned, exports) counted against the quota in the last 24 h (+ margin). */
  readonly manualBackupsLast24h: number;
  /** Backups the plan created that it could not export (failed or given-up attempts) and that are not exported. */
  readonly unexportedBackups: number;
  /** 1 while the circuit breaker stops new backups. */
  readonly circuitOpen: 0 | 1;
  /** Why the circuit is open: the last export error's name. */
  readonly circuitReason?: string;
  /**
   * Manifest keys dated more than `FUTURE_TOLERANCE_MS` after now: ignored for the newest committed export (so that
   * the export age keeps rising and the RPO alarm can fire) and reported.
   */
  readonly futureManifests: number;
  /** Deletions refused by the service or the tag check, remembered and not retried before their retry time. */
  readonly refusedDeletions: number;
  /**
   * 1 when pruning was skipped because the clocks disagree by more than `clockSkewMarginSeconds`: a snapshot is dated
   * after now, or the plan's newest backup is dated before the CreateSnapshot call that made it.
   */
  readonly pruningHeldForClockSkew: 0 | 1;
  /** Seconds the reconciler's clock was found behind AWS (0 when it was not); see `ObservedGroup.clockBehindSeconds`. */
  readonly clockBehindSeconds?: number;
}

export interface Decision {
  /** Actions in execution order. */
  readonly actions: readonly PlanAction[];
  /** The state to persist before executing (write-ahead), assuming every action succeeds. */
  readonly state: GroupState;
  readonly metrics: GroupMetrics;
  /** Human-readable reasons, for the logs. */
  readonly notes: readonly string[];
  /** A backup was due but not created because the quota (less the retry reserve) was used up. */
  readonly backupBlockedByQuota?: boolean;
}

/** How an executed action ended. */
export type OutcomeKind =
  | 'ok'
  /** the name is taken: for a re-issued StartExport, the export was already started; for a first one, not ours. */
  | 'already-exists'
  | 'throttled'
  | 'quota-exceeded'
  | 'not-found'
  /** a definite refusal (invalid state, invalid parameter, access denied, ...) */
  | 'refused'
  /** DeleteSnapshot refused by the reconciler: the manifest or its objects are no longer intact */
  | 'integrity-failed'
  /** unknown whether the call took effect (timeout, 5xx, crash) */
  | 'unknown'
  /** not executed (the run ran out of time) */
  | 'skipped';
