/*
 * Synth-time checks of a BackupPlan and of each group it protects. Internal: not exported from the package.
 */
import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { GroupConfig, MIN_INTERVAL_MINUTES } from './planner';
import { DEFAULT_FULL_VERIFY_MAX_BYTES } from './verify-core';
import { isDataTieringNodeType } from '../private/cache-rules';
import { describeValue, ValidationError } from '../private/errors';
import { nodeMemoryGiB } from '../private/node-memory';
import { IReplicationGroup } from '../replication-group/replication-group';
import { BackupExportBucket } from '../storage/export-bucket';

/**
 * How much longer than the plan keeps its backups the export bucket must keep exports (current and noncurrent
 * versions): the reconciler re-reads an export right before it deletes the backup, and a run may be late by a
 * reconcile interval plus an export timeout; a day covers both.
 */
export const LIFECYCLE_MARGIN = Duration.days(1);

/** The options `protect()` validates (mirrors `ProtectionOptions`, kept here to avoid an import cycle). */
export interface ProtectionInput {
  readonly interval?: Duration;
  readonly manualBackupRetention?: Duration;
  readonly rpoTarget?: Duration;
  readonly exportAutomatedBackups?: boolean;
  readonly backupWhenAutomaticMissed?: boolean;
}

export function validatePlanProps(scope: IConstruct, reconcileInterval: Duration, exportTimeout: Duration | undefined): void {
  if (!reconcileInterval.isUnresolved()) {
    const s = reconcileInterval.toSeconds();
    if (s % 60 !== 0 || s < 60 || s > 3600) {
      throw new ValidationError(scope, `'reconcileInterval' must be a whole number of minutes between 1 and 60, got ${reconcileInterval.toHumanString()}`);
    }
  }
  if (exportTimeout !== undefined && !exportTimeout.isUnresolved()) {
    const s = exportTimeout.toSeconds();
    if (s < 600 || s > 12 * 3600) {
      throw new ValidationError(scope, `'exportTimeout' must be between 10 minutes and 12 hours, got ${exportTimeout.toHumanString()}`);
    }
  }
}

/** Validates one group's options and turns them into the reconciler's configuration. */
export function groupConfigOf(scope: IConstruct, group: IReplicationGroup, label: string, o: ProtectionInput): GroupConfig {
  const concrete = (d: Duration | undefined) => d !== undefined && !d.isUnresolved();
  if (concrete(o.interval)) {
    const minutes = o.interval!.toSeconds() / 60;
    if (minutes < MIN_INTERVAL_MINUTES) {
      throw new ValidationError(scope, `'interval' of replication group ${describeValue(label)} must be at least ${MIN_INTERVAL_MINUTES} minutes `
        + `(ElastiCache allows 20 manual backups per node per 24 hours), got ${o.interval!.toHumanString()}`);
    }
  }
  if (concrete(o.manualBackupRetention)) {
    const s = o.manualBackupRetention!.toSeconds();
    if (s % 86_400 !== 0 || s < 86_400) {
      throw new ValidationError(scope, `'manualBackupRetention' of replication group ${describeValue(label)} must be a whole number of days, `
        + `at least 1, got ${o.manualBackupRetention!.toHumanString()}`);
    }
  }
  if (concrete(o.rpoTarget) && concrete(o.interval) && o.rpoTarget!.toSeconds() <= o.interval!.toSeconds()) {
    throw new ValidationError(scope, `'rpoTarget' of replication group ${describeValue(label)} must be longer than 'interval' `
      + `(${o.interval!.toHumanString()}): a backup is at least one interval old before it is exported, got ${o.rpoTarget!.toHumanString()}`);
  }
  if (o.interval === undefined && o.exportAutomatedBackups === false) {
    throw new ValidationError(scope, `replication group ${describeValue(label)} has nothing to export: set 'interval', or leave 'exportAutomatedBackups' on`);
  }
  const intervalSeconds = o.interval?.toSeconds();
  const rpoTargetSeconds = o.rpoTarget?.toSeconds() ?? (intervalSeconds !== undefined ? intervalSeconds + 3600 : 26 * 3600);
  return {
    replicationGroupId: group.replicationGroupId,
    intervalSeconds,
    retentionSeconds: o.manualBackupRetention?.toSeconds() ?? 86_400,
    rpoTargetSeconds,
    exportAutomated: o.exportAutomatedBackups ?? true,
    fallbackAfterSeconds: intervalSeconds === undefined && (o.backupWhenAutomaticMissed ?? true) ? 25 * 3600 : undefined,
  };
}

/**
 * A plan exports every backup it takes, and ElastiCache cannot export backups of data tiering groups: the plan would
 * pile up backups it can never export or prune.
 */
export function refuseDataTiering(scope: IConstruct, label: string, nodeType: string | undefined): void {
  if (nodeType === undefined || Token.isUnresolved(nodeType) || !isDataTieringNodeType(nodeType)) {
    return;
  }
  throw new ValidationError(scope, `replication group ${describeValue(label)} uses node type ${describeValue(nodeType)}, which has data tiering: `
    + 'ElastiCache cannot export its backups to Amazon S3, so a BackupPlan would take backups it can never export; '
    + 'do not protect it with a BackupPlan (its automatic backups continue: set \'backup.retention\' on the group), '
    + 'or use a node type without data tiering (for example cache.r7g.xlarge)');
}

/**
 * The node type of a group when this app knows it: a `ReplicationGroup`'s, or the `nodeType` an imported group was
 * given. Read by duck typing: `IReplicationGroup` does not declare it (jsii forbids a class to make an interface's
 * optional property required).
 */
export function nodeTypeOf(group: IReplicationGroup): string | undefined {
  const value = (group as { nodeType?: unknown }).nodeType;
  return typeof value === 'string' ? value : undefined;
}

/** The plan's reconciler works in its own region only. */
export function requireSameRegion(scope: IConstruct, label: string, group: IReplicationGroup): void {
  const planRegion = Stack.of(scope).region;
  const groupRegion = group.env.region;
  if (Token.isUnresolved(planRegion) || Token.isUnresolved(groupRegion) || planRegion === groupRegion) {
    return;
  }
  throw new ValidationError(scope, `replication group ${describeValue(label)} is in ${groupRegion}, but the plan is in ${planRegion}; `
    + 'a BackupPlan protects the groups of its own region: define one plan (and one export bucket) per region');
}

/**
 * Issue 8: the export bucket must keep exports, current and noncurrent versions, longer than the plan keeps the backup
 * they copy, plus a margin; otherwise the lifecycle removes the copy while the plan still counts on it.
 */
export function checkBucketOutlivesBackups(scope: IConstruct, label: string, bucket: BackupExportBucket, retentionSeconds: number): void {
  const needed = retentionSeconds + LIFECYCLE_MARGIN.toSeconds();
  const checks: Array<[string, Duration]> = [
    ['exportRetention', bucket.exportRetention],
    ['noncurrentVersionRetention', bucket.noncurrentVersionRetention],
  ];
  for (const [name, kept] of checks) {
    if (kept.isUnresolved() || kept.toSeconds() > needed) {
      continue;
    }
    throw new ValidationError(scope, `the export bucket ${bucket.node.path} keeps exports for ${kept.toDays()} days ('${name}'), `
      + `but replication group ${describeValue(label)} keeps its manual backups for ${retentionSeconds / 86_400} days ('manualBackupRetention'); `
      + `the bucket must keep them longer than that plus ${LIFECYCLE_MARGIN.toDays()} day: set '${name}' on the bucket to at least `
      + `Duration.days(${Math.floor(needed / 86_400) + 1}), or shorten 'manualBackupRetention'`);
  }
}

/**
 * Issue 8: the export verifier streams every byte of a shard up to `DEFAULT_FULL_VERIFY_MAX_BYTES` (the largest
 * shard one Lambda invocation can stream from S3; see BENCHMARKS.md). A node with more memory can write a larger
 * `.rdb`, whose export is then only partially verified (size, header, EOF opcode and trailer): worth a warning.
 */
export function warnPartialVerification(scope: IConstruct, label: string, nodeType: string | undefined): void {
  if (nodeType === undefined || Token.isUnresolved(nodeType)) {
    return;
  }
  const gib = nodeMemoryGiB(nodeType);
  if (gib === undefined || gib * 2 ** 30 <= DEFAULT_FULL_VERIFY_MAX_BYTES) {
    return;
  }
  Annotations.of(scope).addWarningV2('cdk-elasticache-backup:BackupPlan:partialVerification',
    `replication group ${describeValue(label)} uses node type ${nodeType} (${gib} GiB): a shard's .rdb can exceed `
    + `${DEFAULT_FULL_VERIFY_MAX_BYTES / 1e9} GB, the most the export verifier streams in one invocation, and such a shard is verified `
    + 'partially (size, header, EOF opcode and CRC-64 trailer present, not the content; the manifest records `verification: partial`). '
    + 'Use more shards (smaller shards are verified fully), or acknowledge this warning');
}
