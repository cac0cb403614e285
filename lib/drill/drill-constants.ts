/**
 * Names shared by the RestoreDrill construct, its state machine and its step Lambda (pure: no aws-cdk-lib, no I/O).
 * Not part of the jsii API.
 */
import { groupNameHash } from '../manifest/names';

/** CloudWatch namespace of the drill's metrics (the same as the backup plan's). */
export const DRILL_METRIC_NAMESPACE = 'ElastiCacheBackup';
/** The dimension every per-group metric carries (the drilled source group's id). */
export const DRILL_GROUP_DIMENSION = 'ReplicationGroupId';

/** 1 when a drill restored, verified and cleaned up; 0 otherwise (published at the end of every drill). */
export const METRIC_DRILL_SUCCEEDED = 'RestoreDrillSucceeded';
/** Seconds from CreateReplicationGroup to `available`: the RTO of a restore of this size. */
export const METRIC_DRILL_DURATION = 'RestoreDurationSeconds';
/** Keys found in the restored group / keys the manifest recorded. */
export const METRIC_DRILL_KEYS_RATIO = 'RestoredKeysRatio';
/** Seconds since the newest drill report (published daily by the status check). */
export const METRIC_DRILL_AGE = 'RestoreDrillAgeSeconds';
/** 1 when the newest drill report passed, else 0 (published daily by the status check). */
export const METRIC_LAST_DRILL_SUCCEEDED = 'LastRestoreDrillSucceeded';

/**
 * Tag on every resource a drill creates; its value is the drill's id. IAM allows deleting only resources carrying it
 * (`aws:ResourceTag`) and creating only with it (`aws:RequestTag`).
 */
export const DRILL_TAG_KEY = 'cdk-elasticache-backup:drill';
/** Second tag on the temporary group: which group it is a drill of (for people reading the console). */
export const DRILL_SOURCE_TAG_KEY = 'cdk-elasticache-backup:drill-source';

/** Every temporary group id starts with this; IAM scopes create/describe/delete to `replicationgroup:<prefix>*`. */
export const DRILL_GROUP_PREFIX = 'ceb-drill-';

/** Drill reports live under this prefix of the replica bucket: `drills/<group>/<start time>.json`. */
export const DRILL_REPORT_ROOT = 'drills/';

/** Environment variable holding the step Lambda's configuration (JSON). */
export const ENV_DRILL_CONFIG = 'DRILL_CONFIG';

/**
 * The temporary group's id for drills of `replicationGroupId`: `ceb-drill-<8 base32 chars of the id's hash>` (18
 * characters, within the 40-character rule). Deterministic, so two drills of one group at the same time collide on
 * it: that is how the drill keeps to one at a time per group. Never equal to a source id that does not start with the
 * prefix, and the prefix is what IAM allows.
 */
export function drillGroupId(replicationGroupId: string): string {
  return `${DRILL_GROUP_PREFIX}${groupNameHash(replicationGroupId)}`;
}

/** The folder of a group's drill reports. */
export function drillReportPrefix(replicationGroupId: string): string {
  return `${DRILL_REPORT_ROOT}${replicationGroupId}/`;
}

/** Configuration of the step Lambda (rendered by the construct, parsed by the handler). */
export interface DrillConfig {
  readonly bucket: string;
  readonly partition: string;
  readonly region: string;
  /** The drill's id (the value of its tag). */
  readonly drillId: string;
  /** The groups this drill may restore, with an optional node type override each. */
  readonly groups: ReadonlyArray<{ readonly replicationGroupId: string; readonly nodeType?: string }>;
  /** The largest node type a drill may use (compared by memory). */
  readonly maxNodeType: string;
  /** Seconds between two DescribeReplicationGroups while waiting for `available`. */
  readonly pollIntervalSeconds: number;
  /** The longest a drill may wait for `available` before it gives up and cleans up. */
  readonly maxWaitSeconds: number;
  /** The state machine's own timeout: a drill group older than this belongs to no running drill (an orphan). */
  readonly executionTimeoutSeconds: number;
  /** The schedule's interval in seconds (the status check's "too old" is twice this). */
  readonly scheduleSeconds: number;
  /** Keys the verifier samples for their type (0: none). */
  readonly sampleKeys: number;
}
