/*
 * Synth-time checks of a BackupPlan and of each group it protects. Internal: not exported from the package.
 */
import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { GroupConfig, MIN_INTERVAL_MINUTES } from './planner';
import { DEFAULT_SETTINGS, MANUAL_BACKUPS_PER_NODE_PER_DAY } from './planner/types';
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

/** Two values known at synth that differ (a deploy-time value never differs: only the service can tell). */
function concreteAndDifferent(a: string, b: string): boolean {
  return !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
}

/**
 * The plan's reconciler works in its own region and account only: ElastiCache backs up a group only in the group's
 * region, and exports a backup only to a bucket of the backup's region.
 */
export function requireSameRegion(scope: IConstruct, label: string, group: IReplicationGroup): void {
  const plan = Stack.of(scope);
  if (concreteAndDifferent(plan.region, group.env.region)) {
    throw new ValidationError(scope, `replication group ${describeValue(label)} is in ${group.env.region}, but the plan is in ${plan.region}; `
      + 'a BackupPlan protects the groups of its own region (ElastiCache takes a backup only in the group\'s region and exports it only '
      + 'to a bucket of that region): define one plan (and one export bucket) per region');
  }
  if (concreteAndDifferent(plan.account, group.env.account)) {
    throw new ValidationError(scope, `replication group ${describeValue(label)} is in account ${group.env.account}, but the plan is in account `
      + `${plan.account}; a BackupPlan protects the groups of its own account (its role calls CreateSnapshot and CopySnapshot, which `
      + 'work on the caller\'s own account): define the plan in a stack of account ' + group.env.account);
  }
}

/**
 * The export bucket must be in the plan's region and account: ElastiCache's CopySnapshot refuses a target bucket of
 * another region, and the plan grants its roles on the bucket through their own policies, which reach only buckets
 * of their account (and a cross-environment reference would otherwise fail with aws-cdk-lib's generic advice to give
 * the bucket a physical name, which would not make the export valid).
 */
export function requireBucketWithPlan(scope: IConstruct, bucket: BackupExportBucket): void {
  const plan = Stack.of(scope);
  const where = Stack.of(bucket);
  if (concreteAndDifferent(plan.region, where.region)) {
    throw new ValidationError(scope, `BackupPlan property 'exportBucket' is the bucket ${bucket.node.path} in ${where.region}, but the plan is in `
      + `${plan.region}; ElastiCache exports a backup only to a bucket in the backup's own region (CopySnapshot with TargetBucket refuses `
      + `any other), so the export bucket must be in ${plan.region}: define a BackupExportBucket in a stack of ${plan.region} and `
      + `replicate it to ${where.region} with 'replicateTo'`);
  }
  if (concreteAndDifferent(plan.account, where.account)) {
    throw new ValidationError(scope, `BackupPlan property 'exportBucket' is the bucket ${bucket.node.path} in account ${where.account}, but the `
      + `plan is in account ${plan.account}; the plan's roles export to, read and write the bucket with their own IAM policies, which `
      + `only reach buckets of their account: define the export bucket in a stack of account ${plan.account} (replicate it to another `
      + 'account with a BackupReplicaBucket there)');
  }
}

/**
 * Issue 12: with an interval so short that a 24-hour window (plus the planner's margin) already holds 20 of the plan's
 * backups, a failed backup leaves no slot for its retry: the next backup waits until a slot frees, an interval later.
 */
export function warnIntervalAtQuota(scope: IConstruct, label: string, interval: Duration | undefined): void {
  if (interval === undefined || interval.isUnresolved()) {
    return;
  }
  const windowSeconds = 86_400 + DEFAULT_SETTINGS.quotaMarginSeconds;
  const scheduled = Math.ceil(windowSeconds / interval.toSeconds());
  if (scheduled + 1 <= MANUAL_BACKUPS_PER_NODE_PER_DAY) {
    return;
  }
  const minimumMinutes = Math.floor(windowSeconds / 60 / (MANUAL_BACKUPS_PER_NODE_PER_DAY - 1)) + 1;
  Annotations.of(scope).addWarningV2('cdk-elasticache-backup:BackupPlan:intervalAtQuota',
    `'interval' of replication group ${describeValue(label)} is ${interval.toHumanString()}: ${scheduled} of the plan's backups fall in the `
    + `24 hours (plus the plan's ${DEFAULT_SETTINGS.quotaMarginSeconds / 60}-minute margin) that the quota of ${MANUAL_BACKUPS_PER_NODE_PER_DAY} `
    + 'manual backups per node counts, so a failed backup leaves no slot for its retry and costs an interval of RPO. '
    + `Use an interval of at least ${minimumMinutes} minutes, or acknowledge this warning`);
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
