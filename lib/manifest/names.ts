/**
 * The names the backup plan gives to snapshots (CreateSnapshot) and exports (CopySnapshot TargetSnapshotName).
 *
 * In the manifest layer because both the backup plan (creates, recognizes, scopes IAM) and restore (scopes the
 * `latestExport` read grant to export objects) need them. Pure: the construct calls these at synth time with a
 * literal group id, the handlers at run time. Not part of the jsii API.
 */
import { createHash, randomBytes } from 'crypto';
import { compactTimestamp } from './manifest';

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
