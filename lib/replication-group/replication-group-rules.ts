/*
 * The synth-time rules of a ReplicationGroup: defaults, validation of its properties, the snapshotting member and the
 * backup/maintenance windows. Internal: not exported from the package.
 */
import { Annotations, CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BackupWindow, MaintenanceWindow } from './backup';
import type { ReplicationGroupProps } from './replication-group';
import { CacheEngine, EngineType } from '../engine';
import {
  AUTH_TOKEN_EXCLUDED_CHARACTERS, authTokenProblems, isBurstableNodeType, isDataTieringNodeType, NODE_TYPE_PATTERN,
} from '../private/cache-rules';
import { describeValue } from '../private/errors';
import { ParameterGroupInput, reservedMemoryBelowRecommendation } from '../private/parameters';
import { replicationGroupIdError } from '../private/replication-group-id';
import {
  Arc,
  backupOverlapsMaintenance,
  chooseBackupWindow,
  chooseMaintenanceWindow,
  DEFAULT_BACKUP_WINDOW,
  DEFAULT_MAINTENANCE_WINDOW,
  describeMinutes,
  formatDailyWindow,
  formatWeeklyWindow,
  MAX_MAINTENANCE_WINDOW_MINUTES,
  MIN_WINDOW_MINUTES,
  parseDailyWindow,
  parseWeeklyWindow,
} from '../private/windows';

export const DEFAULT_PORT = 6379;
export const DEFAULT_NODE_TYPE = 'cache.r7g.large';
export const DEFAULT_RETENTION_DAYS = 15;
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 35;
export const MAX_SHARDS = 500;
export const MAX_REPLICAS = 5;
export const MAX_NODES = 500;
export const RECOMMENDED_RETENTION_DAYS = 15;
export const WARNING_PREFIX = 'cdk-elasticache-backup';

/**
 * The member automatic backups are taken from. Cluster mode disabled always names one when retention is on: a
 * `SnapshotRetentionLimit` without `SnapshottingClusterId` failed at create in the past (aws/aws-cdk#6256), so with no
 * replica or `fromReplica: false` it is the primary, `<id>-001`. A deploy-time retention is assumed on (1 to 35 days).
 */
export function snapshottingMember(
  replicationGroupId: string, clusterModeEnabled: boolean, fromReplica: boolean, retention: Duration,
): string | undefined {
  if (clusterModeEnabled) {
    return undefined;
  }
  if (fromReplica) {
    return `${replicationGroupId}-002`;
  }
  const retentionOn = retention.isUnresolved() || retention.toSeconds() > 0;
  return retentionOn ? `${replicationGroupId}-001` : undefined;
}

export function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return { subnetType: vpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
}

export function isConcrete(value: unknown): boolean {
  return value !== undefined && !Token.isUnresolved(value);
}

/** The id errors (none or one) of a replication group id given to `constructName`; tokens pass. */
export function replicationGroupIdErrors(id: string | undefined, constructName: string): string[] {
  const error = replicationGroupIdError(constructName, 'replicationGroupId', id);
  return error === undefined ? [] : [error];
}

export function validateNodeType(nodeType: string, clusterModeEnabled: boolean): string[] {
  if (Token.isUnresolved(nodeType)) {
    return [];
  }
  if (!NODE_TYPE_PATTERN.test(nodeType)) {
    return [`'nodeType' must look like cache.<family>.<size>, got ${describeValue(nodeType)}; for example 'cache.r7g.large'`];
  }
  if (nodeType === 'cache.t1.micro' && !clusterModeEnabled) {
    return [`'nodeType' does not support backups with cluster mode disabled, got ${describeValue(nodeType)}; `
      + 'choose a current node type, for example \'cache.t4g.micro\''];
  }
  return [];
}

export function validateTopology(props: ReplicationGroupProps, clusterModeEnabled: boolean, shards: number, replicas: number): string[] {
  const errors: string[] = [];
  for (const [name, value] of [['shards', props.shards], ['replicasPerShard', props.replicasPerShard]] as const) {
    if (value !== undefined && Token.isUnresolved(value)) {
      errors.push(`'${name}' cannot be a deploy-time value, got ${Token.asString(value)}; the node layout and the snapshotting `
        + 'cluster are chosen from it at synth time');
    }
  }
  if (errors.length > 0) {
    return errors;
  }
  if (props.shards !== undefined && !clusterModeEnabled) {
    errors.push(`'shards' requires cluster mode enabled, got ${describeValue(props.shards)} with cluster mode disabled; `
      + 'set \'clusterMode\' to ClusterMode.ENABLED or remove \'shards\'');
  } else if (isConcrete(shards) && (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)) {
    errors.push(`'shards' must be an integer from 1 to ${MAX_SHARDS}, got ${describeValue(shards)}`);
  }
  const replicasValid = !isConcrete(replicas) || (Number.isInteger(replicas) && replicas >= 0 && replicas <= MAX_REPLICAS);
  if (!replicasValid) {
    errors.push(`'replicasPerShard' must be an integer from 0 to ${MAX_REPLICAS}, got ${describeValue(replicas)}`);
  }
  if (errors.length === 0 && clusterModeEnabled && isConcrete(shards) && isConcrete(replicas) && shards * (replicas + 1) > MAX_NODES) {
    errors.push(`'shards' and 'replicasPerShard' give too many nodes, got ${shards} shards x ${replicas + 1} nodes = `
      + `${shards * (replicas + 1)}; a replication group has at most ${MAX_NODES} nodes`);
  }
  if (props.multiAz === true && isConcrete(replicas) && replicas === 0) {
    errors.push('\'multiAz\' needs a replica in every shard, got true with \'replicasPerShard\' 0; set \'replicasPerShard\' to 1 or more');
  }
  return errors;
}

export function validateBackup(props: ReplicationGroupProps, clusterModeEnabled: boolean, replicas: number, retention: Duration): string[] {
  const errors: string[] = [];
  if (!retention.isUnresolved()) {
    const days = retention.toSeconds() / 86400;
    if (!Number.isInteger(days)) {
      errors.push(`'backup.retention' must be a whole number of days, got ${retention.toHumanString()}; `
        + `use Duration.days(n) with n from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`);
    } else if (days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS) {
      errors.push(`'backup.retention' is out of range, got ${retention.toHumanString()}; `
        + `ElastiCache keeps automatic backups for ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} days`);
    }
  }
  if (props.backup?.fromReplica === true && clusterModeEnabled) {
    errors.push('\'backup.fromReplica\' cannot be used with cluster mode enabled, got true; '
      + 'ElastiCache does not accept a snapshotting cluster for cluster mode enabled: remove \'backup.fromReplica\'');
  } else if (props.backup?.fromReplica === true && isConcrete(replicas) && replicas === 0) {
    errors.push('\'backup.fromReplica\' needs a replica, got true with \'replicasPerShard\' 0; '
      + 'set \'replicasPerShard\' to 1 or more, or remove \'backup.fromReplica\'');
  }
  return errors;
}

export function validateEncryption(
  scope: Construct,
  props: ReplicationGroupProps,
  engine: CacheEngine,
  transitEncryption: boolean,
  atRestEncryption: boolean,
): string[] {
  const errors: string[] = [];
  if (props.encryptionKey && !atRestEncryption) {
    errors.push('\'encryptionKey\' requires encryption at rest, got \'atRestEncryption\' false; '
      + 'remove \'encryptionKey\' or set \'atRestEncryption\' to true');
  }
  if (props.transitEncryptionMode !== undefined && !transitEncryption) {
    errors.push(`'transitEncryptionMode' requires transit encryption, got ${describeValue(props.transitEncryptionMode)} with `
      + '\'transitEncryption\' false; remove \'transitEncryptionMode\' or set \'transitEncryption\' to true');
  } else if (props.transitEncryptionMode !== undefined && !supportsTransitEncryptionMode(engine)) {
    errors.push(`'transitEncryptionMode' needs Valkey 7.2+ or Redis OSS 7.0+, got ${engine.toString()}; `
      + 'remove \'transitEncryptionMode\' or choose a newer engine');
  }
  if (props.authToken && props.authTokenSecret) {
    errors.push('\'authToken\' and \'authTokenSecret\' are both set; set only one');
  }
  for (const [name, given] of [['authToken', props.authToken], ['authTokenSecret', props.authTokenSecret]] as const) {
    if (given && !transitEncryption) {
      errors.push(`'${name}' requires transit encryption, got 'transitEncryption' false; set 'transitEncryption' to true or remove '${name}'`);
    }
    if (given && props.userGroupIds) {
      errors.push(`'userGroupIds' cannot be combined with '${name}'; use either RBAC user groups or an AUTH token`);
    }
  }
  if (props.userGroupIds && !transitEncryption) {
    errors.push('\'userGroupIds\' requires transit encryption, got \'transitEncryption\' false; set \'transitEncryption\' to true');
  }
  if (props.authToken) {
    const resolved = Stack.of(scope).resolve(props.authToken);
    if (typeof resolved === 'string' && !resolved.startsWith('{{resolve:')) {
      for (const problem of authTokenProblems(resolved)) {
        errors.push(`'authToken' ${problem}`);
      }
    }
  }
  return errors;
}

export function supportsTransitEncryptionMode(engine: CacheEngine): boolean {
  return engine.engineType === EngineType.VALKEY || engine.majorVersion >= 7;
}

export function validatePort(port: number): string[] {
  if (isConcrete(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    return [`'port' must be an integer from 1 to 65535, got ${describeValue(port)}`];
  }
  return [];
}

export interface ResolvedWindows {
  readonly backup: string;
  readonly maintenance: string;
}

/**
 * Checks the windows that were given and chooses the ones that were not, so that they never overlap.
 * Adds error messages to `errors`; the windows returned are meaningless when it did.
 */
export function resolveWindows(
  backupWindow: BackupWindow | undefined, maintenanceWindow: MaintenanceWindow | undefined, errors: string[],
): ResolvedWindows {
  const backupText = backupWindow?.value;
  const maintenanceText = maintenanceWindow?.value;
  const backup = backupText === undefined || Token.isUnresolved(backupText) ? undefined : checkDailyWindow(backupText, errors);
  const maintenance = maintenanceText === undefined || Token.isUnresolved(maintenanceText) ? undefined : checkWeeklyWindow(maintenanceText, errors);

  if (backup && maintenance) {
    if (backupOverlapsMaintenance(backup, maintenance)) {
      errors.push(`'backup.window' overlaps 'maintenanceWindow', got ${describeValue(backupText)} and ${describeValue(maintenanceText)}; `
        + 'ElastiCache requires the daily backup window and the weekly maintenance window not to overlap');
    }
    return { backup: backupText!, maintenance: maintenanceText! };
  }
  if (backup && maintenanceText === undefined) {
    const chosen = chooseMaintenanceWindow(backup);
    if (!chosen) {
      errors.push(`'backup.window' leaves no 60-minute gap for the default maintenance window, got ${describeValue(backupText)} `
        + `(${describeMinutes(backup.duration)}); shorten it or set 'maintenanceWindow'`);
    }
    return { backup: backupText!, maintenance: formatWeeklyWindow(chosen ?? DEFAULT_MAINTENANCE_WINDOW) };
  }
  if (maintenance && backupText === undefined) {
    const chosen = chooseBackupWindow(maintenance);
    if (!chosen) {
      errors.push(`'maintenanceWindow' leaves no 60-minute daily gap for the default backup window, got ${describeValue(maintenanceText)} `
        + `(${describeMinutes(maintenance.duration)}); shorten it or set 'backup.window'`);
    }
    return { backup: formatDailyWindow(chosen ?? DEFAULT_BACKUP_WINDOW), maintenance: maintenanceText! };
  }
  // Neither given, or one is invalid or a deploy-time value: keep what was given, default the rest.
  return {
    backup: backupText ?? formatDailyWindow(DEFAULT_BACKUP_WINDOW),
    maintenance: maintenanceText ?? formatWeeklyWindow(DEFAULT_MAINTENANCE_WINDOW),
  };
}

export function checkDailyWindow(text: string, errors: string[]): Arc | undefined {
  const arc = parseDailyWindow(text);
  if (!arc) {
    errors.push(`'backup.window' must have the format hh24:mi-hh24:mi (UTC), got ${describeValue(text)}; for example '03:00-05:00'`);
    return undefined;
  }
  if (arc.duration < MIN_WINDOW_MINUTES) {
    errors.push(`'backup.window' must be at least 60 minutes long, got ${describeValue(text)} (${describeMinutes(arc.duration)}); `
      + 'for example \'03:00-04:00\'');
    return undefined;
  }
  return arc;
}

export function checkWeeklyWindow(text: string, errors: string[]): Arc | undefined {
  const arc = parseWeeklyWindow(text);
  if (!arc) {
    errors.push('\'maintenanceWindow\' must have the format ddd:hh24:mi-ddd:hh24:mi (UTC, ddd one of sun mon tue wed thu fri sat), '
      + `got ${describeValue(text)}; for example 'sun:23:00-mon:01:30'`);
    return undefined;
  }
  if (arc.duration < MIN_WINDOW_MINUTES || arc.duration > MAX_MAINTENANCE_WINDOW_MINUTES) {
    errors.push(`'maintenanceWindow' must be 60 minutes to 24 hours long, got ${describeValue(text)} (${describeMinutes(arc.duration)}); `
      + 'for example \'sun:05:00-sun:06:00\'');
    return undefined;
  }
  return arc;
}

/**
 * The generated AUTH token cannot follow the packs' rotation rules: Secrets Manager has no hosted rotation for
 * ElastiCache AUTH tokens (rotating means ModifyReplicationGroup with AuthTokenUpdateStrategy ROTATE, then SET),
 * so a rotation schedule would change the secret without changing the token and lock clients out.
 */
export function acknowledgeAuthTokenSecret(secret: secretsmanager.Secret, customerKey: boolean): void {
  const rotationReason = 'ElastiCache AUTH tokens have no hosted rotation; a Secrets Manager rotation schedule would change the secret '
    + 'without changing the token. Rotate with ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE then SET), or use RBAC userGroupIds';
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: rotationReason });
  Validations.of(secret).acknowledge({ id: 'HIPAA.Security-SecretsManagerRotationEnabled', reason: rotationReason });
  Validations.of(secret).acknowledge({ id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: rotationReason });
  if (!customerKey) {
    const keyReason = 'Encrypted with the AWS managed key aws/secretsmanager; pass encryptionKey to encrypt the cache and its AUTH token '
      + 'with a customer managed key';
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      Validations.of(secret).acknowledge({ id: `${pack}-SecretsManagerUsingKMSKey`, reason: keyReason });
    }
  }
}

/**
 * Synth warnings about risky but legal settings: memory reserved under the AWS recommendation, and a removal policy
 * that deletes the group without a final backup. Acknowledgeable like the others.
 */
export function addRiskWarnings(scope: Construct, parameters: ParameterGroupInput, removalPolicy: RemovalPolicy): void {
  const annotations = Annotations.of(scope);
  const low = reservedMemoryBelowRecommendation(parameters);
  if (low) {
    annotations.addWarningV2(`${WARNING_PREFIX}:lowReservedMemory`,
      `reserved-memory-percent is ${low.given}, under the ${low.recommended} AWS recommends for ${parameters.nodeType}`
      + `${parameters.writeHeavy ? ' with a write-heavy workload' : ''}: backups and replica syncs may fail or fall back to a slower `
      + `forkless save when memory runs short; set 'reservedMemoryPercent' to ${low.recommended} or more, or acknowledge this warning`);
  }
  if (removalPolicy === RemovalPolicy.DESTROY) {
    annotations.addWarningV2(`${WARNING_PREFIX}:noFinalSnapshot`,
      'removalPolicy is RemovalPolicy.DESTROY: removing or replacing the replication group deletes it and its automatic backups '
      + 'without a final backup; use RemovalPolicy.SNAPSHOT (the default) or RETAIN for data you need, or acknowledge this warning');
  }
}

/** Synth warnings about settings that work but make backups or operations worse. */
export function addWarnings(scope: Construct, retention: Duration, replicas: number, nodeType: string, transitEncryption: boolean): void {
  const annotations = Annotations.of(scope);
  if (!retention.isUnresolved() && retention.toDays() < RECOMMENDED_RETENTION_DAYS) {
    annotations.addWarningV2(`${WARNING_PREFIX}:shortBackupRetention`,
      `Automatic backups are kept ${retention.toHumanString()}, under the ${RECOMMENDED_RETENTION_DAYS} days that cdk-nag's `
      + 'ElastiCacheRedisClusterAutomaticBackup rule asks for; set \'backup.retention\' to Duration.days(15) or more');
  }
  if (!Token.isUnresolved(replicas) && replicas === 0) {
    annotations.addWarningV2(`${WARNING_PREFIX}:noReplica`,
      'The replication group has no replica: no Multi-AZ, no automatic failover, and automatic backups run on the primary '
      + '(latency and memory impact); set \'replicasPerShard\' to 1 or more for production');
  }
  if (!Token.isUnresolved(nodeType) && isBurstableNodeType(nodeType)) {
    annotations.addWarningV2(`${WARNING_PREFIX}:burstableNodeType`,
      `Node type ${nodeType} is burstable: CPU credits and little memory make backups slow or fail under load; `
      + 'use a non-burstable node type (for example cache.r7g.large) for production');
  }
  if (!Token.isUnresolved(nodeType) && isDataTieringNodeType(nodeType)) {
    annotations.addWarningV2(`${WARNING_PREFIX}:dataTieringNoExport`,
      `Node type ${nodeType} uses data tiering: its backups cannot be exported to Amazon S3 and can only be restored to `
      + 'data tiering (r6gd) node types');
  }
  if (!transitEncryption) {
    annotations.addWarningV2(`${WARNING_PREFIX}:noTransitEncryption`,
      'Transit encryption is off: connections are not encrypted and there is no AUTH token or user group');
  }
}

/** The AUTH token secret generated when none is given (transit encryption on, no user groups). */
export function generateAuthTokenSecret(scope: Construct, replicationGroupId: string, encryptionKey: kms.IKey | undefined): secretsmanager.Secret {
  const generated = new secretsmanager.Secret(scope, 'AuthToken', {
    description: `AUTH token of ElastiCache replication group ${replicationGroupId}`,
    // The token protects the same data as the cache, so it shares the cache's customer managed key when one is given.
    encryptionKey,
    generateSecretString: {
      passwordLength: 64,
      excludeCharacters: AUTH_TOKEN_EXCLUDED_CHARACTERS,
      includeSpace: false,
      requireEachIncludedType: true,
    },
  });
  acknowledgeAuthTokenSecret(generated, encryptionKey !== undefined);
  return generated;
}

/**
 * With a retaining removal policy, the group's own helpers (subnet group, parameter group, and the security group and
 * AUTH token secret it defined) are retained too: a retained group still needs them. Helpers passed in are left alone.
 */
export function retainOwnHelpers(group: Construct, helpers: ReadonlyArray<unknown>): void {
  for (const helper of helpers) {
    if (helper instanceof CfnResource) {
      helper.applyRemovalPolicy(RemovalPolicy.RETAIN);
    } else if ((helper instanceof ec2.SecurityGroup || helper instanceof secretsmanager.Secret) && group.node.children.includes(helper)) {
      helper.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }
}
