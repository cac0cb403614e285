/**
 * Names shared by the BackupPlan construct, the reconciler handler and the freshness monitor.
 * Not part of the jsii API.
 */
import { compactTimestamp } from '../manifest/manifest';

/** CloudWatch namespace of every metric the plan publishes. */
export const METRIC_NAMESPACE = 'ElastiCacheBackup';
/** The dimension every per-group metric carries. */
export const GROUP_DIMENSION = 'ReplicationGroupId';

export const METRIC_BACKUP_AGE = 'BackupAgeSeconds';
export const METRIC_EXPORT_AGE = 'ExportAgeSeconds';
export const METRIC_EXPORTS_IN_FLIGHT = 'ExportsInFlight';
export const METRIC_FAILURES = 'Failures';
export const METRIC_REPLICA_BACKUP_AGE = 'ReplicaBackupAgeSeconds';

/** Tag put on every snapshot the plan creates; its value is the plan id. DeleteSnapshot is conditioned on it. */
export const PLAN_TAG_KEY = 'cdk-elasticache-backup:plan';

/** Environment variables of the reconciler. */
export const ENV_PLAN_CONFIG = 'BACKUP_PLAN_CONFIG';
export const ENV_EXPORT_BUCKET = 'BACKUP_EXPORT_BUCKET';

/** Environment variables of the freshness monitor. */
export const ENV_FRESHNESS_CONFIG = 'FRESHNESS_CONFIG';

/** Where the reconciler keeps its per-group state in the export bucket. */
export const STATE_ROOT = 'state/';

export function stateKey(replicationGroupId: string): string {
  return `${STATE_ROOT}${replicationGroupId}/plan.json`;
}

/** Name of a snapshot the plan creates: `<group>-plan-<compact time>`. */
export function planSnapshotName(replicationGroupId: string, time: Date): string {
  return `${replicationGroupId}-plan-${compactTimestamp(time)}`.toLowerCase();
}
