/**
 * Names shared by the BackupPlan construct, the reconciler, the export verifier and the freshness monitor.
 * Pure (no CDK, no I/O): the construct calls these at synth time with a literal group id, the handlers at run time.
 * Not part of the jsii API.
 */

/** CloudWatch namespace of every metric the plan publishes. */
export const METRIC_NAMESPACE = 'ElastiCacheBackup';
/** The dimension every per-group metric carries. */
export const GROUP_DIMENSION = 'ReplicationGroupId';

export const METRIC_BACKUP_AGE = 'BackupAgeSeconds';
export const METRIC_EXPORT_AGE = 'ExportAgeSeconds';
export const METRIC_EXPORTS_IN_FLIGHT = 'ExportsInFlight';
export const METRIC_FAILURES = 'Failures';
export const METRIC_REPLICA_BACKUP_AGE = 'ReplicaBackupAgeSeconds';
/** Manifests in the replica bucket newer than the restorable one that cannot be restored (Count; freshness monitor). */
export const METRIC_REPLICA_UNUSABLE_MANIFESTS = 'ReplicaUnusableManifests';
/** Backups the plan created whose export failed or was given up, and that are not exported yet (Count). */
export const METRIC_UNEXPORTED_BACKUPS = 'UnexportedBackups';
/**
 * 1 while the circuit breaker stops the plan from creating backups for a group, else 0. The reason (the last export
 * error's name) is in the log field `circuitReason` and the EMF property `CircuitReason` (not a dimension, so that an
 * alarm can query by ReplicationGroupId alone).
 */
export const METRIC_CIRCUIT_OPEN = 'CircuitOpen';
/**
 * Snapshots of the group named by the plan but tagged with another plan's id (Count): two plans protect the group, and
 * the reconciler refuses to act on it (and fails the invocation) until one is removed.
 */
export const METRIC_FOREIGN_PLAN_SNAPSHOTS = 'ForeignPlanSnapshots';
/** Manifest keys of the group dated in the future, ignored for the export age (Count): somebody wrote them. */
export const METRIC_FUTURE_MANIFESTS = 'FutureManifests';
/** Deletions of the plan's backups refused by the service or the plan-tag check, waiting for their retry (Count). */
export const METRIC_REFUSED_DELETIONS = 'RefusedDeletions';
/** 1 while pruning is held because the reconciler's and the service's clocks disagree, else 0. */
export const METRIC_PRUNING_HELD_FOR_CLOCK_SKEW = 'PruningHeldForClockSkew';
/**
 * Seconds the reconciler's clock was found behind AWS timestamps (state object, snapshots, export objects), else 0.
 * Ages are then reported from the corrected time, and pruning is held.
 */
export const METRIC_CLOCK_BEHIND = 'ClockBehindSeconds';

/** Tag put on every snapshot the plan creates; its value is the plan id. DeleteSnapshot is conditioned on it. */
export const PLAN_TAG_KEY = 'cdk-elasticache-backup:plan';

/** Environment variables of the reconciler. */
export const ENV_PLAN_CONFIG = 'BACKUP_PLAN_CONFIG';
export const ENV_EXPORT_BUCKET = 'BACKUP_EXPORT_BUCKET';
/** Environment variable of the export verifier: shards above this size (bytes) are verified partially. */
export const ENV_FULL_VERIFY_MAX_BYTES = 'FULL_VERIFY_MAX_BYTES';

/** Environment variables of the freshness monitor. */
export const ENV_FRESHNESS_CONFIG = 'FRESHNESS_CONFIG';

/** Where the reconciler keeps its per-group state in the export bucket. */
export const STATE_ROOT = 'state/';

/**
 * The state of one plan for one group: `state/<group>/<planId>/plan.json`. The plan id keeps two plans (or a plan
 * replaced by another) from sharing one record.
 */
export function stateKey(replicationGroupId: string, planId: string): string {
  if (!planId || planId.includes('/')) {
    throw new Error(`backup plan id must be a non-empty string without '/', got ${JSON.stringify(planId)}`);
  }
  return `${STATE_ROOT}${replicationGroupId}/${planId}/plan.json`;
}

/** Where versions before issue 10 kept the state (no plan id): adopted once by the plan that finds it. */
export function legacyStateKey(replicationGroupId: string): string {
  return `${STATE_ROOT}${replicationGroupId}/plan.json`;
}

// The names the plan gives to snapshots and exports live in the manifest layer (restore needs them for IAM too).
export * from '../manifest/names';
