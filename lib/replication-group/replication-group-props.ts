import { IResource, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { BackupOptions, MaintenanceWindow } from './backup';
import { CacheEngine } from '../engine';

/*
 * The public shapes of a replication group: its interface, props, attributes and enums. Kept apart from the construct
 * so that replication-group.ts stays readable; replication-group.ts re-exports them.
 */

/**
 * An ElastiCache replication group (Valkey or Redis OSS), defined here or imported.
 *
 * Extends aws-cdk-lib's `IReplicationGroupRef`, so it can be passed wherever aws-cdk-lib takes a replication group
 * reference (for example `CfnReplicationGroup.arnForReplicationGroup`).
 */
export interface IReplicationGroup extends IResource, ec2.IConnectable, elasticacheRefs.IReplicationGroupRef {
  /**
   * The replication group identifier.
   *
   * @attribute
   */
  readonly replicationGroupId: string;

  /**
   * The ARN of the replication group.
   *
   * @attribute
   */
  readonly replicationGroupArn: string;
}

/**
 * Whether the keyspace is split into shards (Valkey/Redis OSS cluster mode).
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Replication.Redis-RedisCluster.html
 */
export enum ClusterMode {
  /** One shard: a primary and its replicas. Backups can be taken from a replica. */
  DISABLED = 'disabled',
  /** Several shards, each a primary and its replicas; clients must support cluster mode. */
  ENABLED = 'enabled',
}

/**
 * Whether clients must use TLS when transit encryption is on.
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html
 */
export enum TransitEncryptionMode {
  /** Clients may connect with or without TLS (for migrating clients to TLS). */
  PREFERRED = 'preferred',
  /** Clients must connect with TLS. */
  REQUIRED = 'required',
}

/**
 * Properties of a `ReplicationGroup`.
 */
export interface ReplicationGroupProps {
  /**
   * The VPC to place the nodes in.
   */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets for the subnet group.
   *
   * @default - the VPC's private subnets with egress, or its isolated subnets when it has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of the nodes.
   *
   * @default - one new security group with no ingress and no egress rules; allow clients with `connections`
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The port the nodes listen on.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * The engine and version.
   *
   * @default CacheEngine.VALKEY_8_0
   */
  readonly engine?: CacheEngine;

  /**
   * The node type.
   *
   * Burstable (`cache.t*`) types give a warning; data tiering types (`cache.r6gd.*`) turn data tiering on and give a
   * warning (their backups cannot be exported to S3).
   *
   * @default 'cache.r7g.large'
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html
   */
  readonly nodeType?: string;

  /**
   * Whether the keyspace is split into shards.
   *
   * @default ClusterMode.DISABLED
   */
  readonly clusterMode?: ClusterMode;

  /**
   * The number of shards (node groups), 1 to 500. Only with `ClusterMode.ENABLED`.
   *
   * @default 1
   */
  readonly shards?: number;

  /**
   * The number of replicas in each shard, 0 to 5. A group has at most 500 nodes (shards x (replicas + 1)).
   *
   * With at least one replica, Multi-AZ and automatic failover are turned on.
   *
   * @default 1
   */
  readonly replicasPerShard?: number;

  /**
   * Whether to place replicas in other Availability Zones than their primary and fail over across zones.
   *
   * @default - true when there is at least one replica per shard
   */
  readonly multiAz?: boolean;

  /**
   * Whether the data on disk (backups, swap) is encrypted.
   *
   * @default true
   */
  readonly atRestEncryption?: boolean;

  /**
   * The KMS key for encryption at rest.
   *
   * @default - the AWS managed key for ElastiCache
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether connections use TLS.
   *
   * @default true
   */
  readonly transitEncryption?: boolean;

  /**
   * Whether clients must use TLS. Needs Valkey 7.2+ or Redis OSS 7.0+.
   *
   * @default - TransitEncryptionMode.REQUIRED (the service default when transit encryption is on)
   */
  readonly transitEncryptionMode?: TransitEncryptionMode;

  /**
   * The AUTH token (password), 16 to 128 characters: letters, digits and `! & # $ ^ < > -`.
   *
   * Prefer `authTokenSecret` or the generated secret; a plain-text value ends up in the template.
   *
   * @default - a token generated in Secrets Manager (see `authTokenSecret`)
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
   */
  readonly authToken?: SecretValue;

  /**
   * A Secrets Manager secret whose whole `SecretString` is the AUTH token.
   *
   * @default - when transit encryption is on and neither `authToken` nor `userGroupIds` is given, a secret is
   * generated (64 characters from letters, digits and `! & # $ ^ < > -`)
   */
  readonly authTokenSecret?: secretsmanager.ISecret;

  /**
   * RBAC user groups to associate instead of an AUTH token. Needs transit encryption.
   *
   * @default - no user groups; an AUTH token is used
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html
   */
  readonly userGroupIds?: string[];

  /**
   * The weekly maintenance window (UTC). Must not overlap the backup window.
   *
   * @default - sun:05:00-sun:06:00 UTC, or when the backup window overlaps it, one hour on Sunday starting when
   * the backup window ends
   */
  readonly maintenanceWindow?: MaintenanceWindow;

  /**
   * The SNS topic that receives the group's events (backups, failovers, maintenance). It must be in the same account.
   *
   * @default - no notifications
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * The replication group identifier: 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without
   * `--` and without a trailing hyphen.
   *
   * @default - generated from the construct path (readable part plus a hash), stable as long as the path is
   */
  readonly replicationGroupId?: string;

  /**
   * The description of the replication group.
   *
   * @default - the construct path
   */
  readonly description?: string;

  /**
   * Further engine parameters for the parameter group, by name.
   *
   * @default - none besides `reserved-memory-percent` and, with cluster mode, `cluster-enabled`
   */
  readonly parameters?: Record<string, string>;

  /**
   * The percent of memory reserved for backups, replication and failover, integer 0 to 100.
   *
   * A value under the AWS recommendation for the node type gives a warning.
   *
   * @default - the AWS recommendation for the node type: 25, 30 on small burstable nodes, 50 on micro nodes and on
   * data tiering nodes with `writeHeavy` (see `CacheParameterGroup.recommendedReservedMemoryPercent`)
   */
  readonly reservedMemoryPercent?: number;

  /**
   * Whether the workload is write-heavy. On data tiering node types (`cache.r6gd.*`) AWS recommends reserving up to
   * 50 % of memory for write-heavy workloads, so the default `reservedMemoryPercent` becomes 50 there. No effect on
   * other node types.
   *
   * @default false
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html
   */
  readonly writeHeavy?: boolean;

  /**
   * What happens to the replication group when it is removed from the stack or replaced.
   *
   * `RemovalPolicy.DESTROY` gives a warning: the group is deleted without a final backup.
   *
   * @default RemovalPolicy.SNAPSHOT - a final backup is taken, then the group is deleted
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Automatic backup settings.
   *
   * @default - daily backups kept 15 days, in a window that does not overlap the maintenance window, taken from a
   * replica when cluster mode is disabled and there is one
   */
  readonly backup?: BackupOptions;
}

/**
 * Attributes of an existing replication group, for `ReplicationGroup.fromReplicationGroupAttributes`.
 */
export interface ReplicationGroupAttributes {
  /**
   * The replication group identifier.
   */
  readonly replicationGroupId: string;

  /**
   * The security groups of the nodes, for `connections`.
   *
   * @default - no security groups
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The port the nodes listen on, the default port of `connections`.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * The group's node type, for example `cache.r7g.large`. Lets a `BackupPlan` refuse data tiering groups at synth
   * time and derive the export timeout from the node's memory.
   *
   * @default - unknown: the plan checks the node type at deploy time (self-test) and uses the default export timeout
   */
  readonly nodeType?: string;
}

/**
 * Options for a replication group metric.
 */
export interface ReplicationGroupMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The member cache cluster (node) to read, for example `<replicationGroupId>-002` or, in cluster mode enabled,
   * `<replicationGroupId>-0001-002`. ElastiCache publishes node-based Valkey and Redis OSS metrics per member cluster
   * (dimension `CacheClusterId`); there is no replication-group-wide dimension.
   *
   * @default - the member automatic backups are taken from (`snapshottingClusterId`), or in cluster mode enabled the
   * first node of the first shard (`<replicationGroupId>-0001-001`)
   */
  readonly cacheClusterId?: string;
}
