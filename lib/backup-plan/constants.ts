/**
 * Names shared by the BackupPlan construct, the reconciler, the export verifier and the freshness monitor.
 * Pure (no CDK, no I/O): the construct calls these at synth time with a literal group id, the handlers at run time.
 * Not part of the jsii API.
 */
import { createHash, randomBytes } from 'crypto';
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

export function stateKey(replicationGroupId: string): string {
  return `${STATE_ROOT}${replicationGroupId}/plan.json`;
}

// ---------------------------------------------------------------------------------------------------------------
// Names the plan gives to snapshots (CreateSnapshot) and exports (CopySnapshot TargetSnapshotName)
// ---------------------------------------------------------------------------------------------------------------

/**
 * The longest snapshot name ElastiCache documents (an older guide says 1 to 40 characters; whether longer names are
 * refused is not settled, so the plan stays within it).
 */
export const MAX_SNAPSHOT_NAME_LENGTH = 40;

/** The fixed tag every plan name starts with (`ceb`: cdk-elasticache-backup). */
export const PLAN_NAME_TAG = 'ceb';

/** Lowercase RFC 4648 base32: letters and digits only, as snapshot names require. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array, length: number): string {
  const bits = Array.from(bytes, (b) => b.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i + 5 <= bits.length && out.length < length; i += 5) {
    out += BASE32[parseInt(bits.slice(i, i + 5), 2)];
  }
  return out;
}

/** 8 base32 characters (40 bits) of SHA-256 of the lowercased group id (ElastiCache lowercases ids). */
export function groupNameHash(replicationGroupId: string): string {
  return base32(createHash('sha256').update(replicationGroupId.toLowerCase()).digest(), 8);
}

/**
 * The prefix of every name the plan creates for a group: `ceb-<8 base32 chars of the group id's hash>-` (13 chars).
 * Fixed length and ending in `-`, so one group's prefix is never a prefix of another's (unlike `orders-*`, which
 * matches `orders-eu-...`), short enough for the 40-character names, and computable at synth time.
 */
export function planNamePrefix(replicationGroupId: string): string {
  return `${PLAN_NAME_TAG}-${groupNameHash(replicationGroupId)}-`;
}

/**
 * The IAM resource-name pattern (`snapshot:<pattern>`) covering every backup and export name the plan creates for a
 * group: `ceb-<hash>-*` (14 characters, within the 40-character name rule).
 */
export function planNamePattern(replicationGroupId: string): string {
  return `${planNamePrefix(replicationGroupId)}*`;
}

/** The pattern of backups named by earlier versions (`<group>-plan-<time>`): still recognized, and pruned. */
export function legacyPlanNamePattern(replicationGroupId: string): string {
  return `${replicationGroupId.toLowerCase()}-plan-*`;
}

/** 8 base32 characters from a cryptographic random source (export names must not be guessable). */
export function randomSuffix(): string {
  return base32(randomBytes(5), 8);
}

/** Name of a backup the plan creates: `ceb-<hash>-b<yyyymmddthhmmssz>` (30 characters). */
export function planSnapshotName(replicationGroupId: string, time: Date): string {
  return `${planNamePrefix(replicationGroupId)}b${compactTimestamp(time)}`;
}

/**
 * The `TargetSnapshotName` of an export: `ceb-<hash>-x<snapshot time>-<random>` (39 characters). The random suffix
 * makes it unguessable, so that nobody can plant an object under it before the export writes it.
 */
export function planExportName(replicationGroupId: string, snapshotCreateTime: Date, suffix: string): string {
  if (!/^[a-z2-7]{8}$/.test(suffix)) {
    throw new Error(`export name suffix must be 8 lowercase base32 characters, got ${JSON.stringify(suffix)}`);
  }
  return `${planNamePrefix(replicationGroupId)}x${compactTimestamp(snapshotCreateTime)}-${suffix}`;
}

/** Whether a snapshot name is one the plan creates for this group (current or legacy format). */
export function isPlanSnapshotName(replicationGroupId: string, name: string): boolean {
  const legacy = legacyPlanNamePattern(replicationGroupId).slice(0, -1);
  return /^b\d{8}t\d{6}z$/.test(name.slice(planNamePrefix(replicationGroupId).length)) && name.startsWith(planNamePrefix(replicationGroupId))
    || name.startsWith(legacy) && /^\d{8}t\d{6}z$/.test(name.slice(legacy.length));
}

/** Whether an object key or name belongs to this group's plan names (for routing S3 events to a group). */
export function hasPlanNamePrefix(replicationGroupId: string, keyOrName: string): boolean {
  return keyOrName.startsWith(planNamePrefix(replicationGroupId));
}
