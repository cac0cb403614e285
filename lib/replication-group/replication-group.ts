import { ArnFormat, Duration, IResource, RemovalPolicy, Resource, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BackupOptions, MaintenanceWindow } from './backup';
import { ImportedReplicationGroup } from './imported-replication-group';
import { CacheParameterGroup } from './parameter-group';
import {
  addWarnings, retainOwnHelpers, DEFAULT_NODE_TYPE, DEFAULT_PORT, DEFAULT_RETENTION_DAYS, defaultSubnets, generateAuthTokenSecret, resolveWindows,
  snapshottingMember, validateBackup, validateEncryption, validateNodeType, validatePort, validateReplicationGroupId, validateTopology,
} from './replication-group-rules';
import { CacheEngine } from '../engine';
import { generateReplicationGroupId, isDataTieringNodeType } from '../private/cache-rules';
import { ValidationError } from '../private/errors';
import { parameterGroupProblems } from '../private/parameters';

/**
 * An ElastiCache replication group (Valkey or Redis OSS), defined here or imported.
 */
export interface IReplicationGroup extends IResource, ec2.IConnectable {
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
   * @default - the AWS recommendation for the node type: 25, 30 on small burstable nodes, 50 on micro and data
   * tiering nodes (see `CacheParameterGroup.recommendedReservedMemoryPercent`)
   */
  readonly reservedMemoryPercent?: number;

  /**
   * What happens to the replication group when it is removed from the stack or replaced.
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
 * A Valkey or Redis OSS replication group, ready for backup and restore by default.
 *
 * Defines the subnet group, a security group (`connections`), a parameter group with enough reserved memory for
 * backups, encryption at rest and in transit, an AUTH token in Secrets Manager, Multi-AZ with automatic failover when
 * there is a replica, daily backups kept 15 days (taken from a replica when cluster mode is disabled), backup and
 * maintenance windows that do not overlap, and `RemovalPolicy.SNAPSHOT`. The service's rules are checked at synth.
 *
 * @example
 * declare const vpc: ec2.IVpc;
 * const cache = new ReplicationGroup(this, 'Cache', { vpc });
 */
export class ReplicationGroup extends Resource implements IReplicationGroup {
  /**
   * Imports an existing replication group.
   */
  public static fromReplicationGroupAttributes(scope: Construct, id: string, attrs: ReplicationGroupAttributes): IReplicationGroup {
    return new ImportedReplicationGroup(scope, id, attrs);
  }

  /** The replication group identifier, a plain string known at synth (lowercase). */
  public readonly replicationGroupId: string;

  /** The ARN of the replication group. */
  public readonly replicationGroupArn: string;

  /** The engine and version. */
  public readonly engine: CacheEngine;

  /** The node type. */
  public readonly nodeType: string;

  /** Whether cluster mode is enabled. */
  public readonly clusterModeEnabled: boolean;

  /** The number of shards (1 when cluster mode is disabled). */
  public readonly shardCount: number;

  /** The number of replicas in each shard. */
  public readonly replicasPerShard: number;

  /** The port the nodes listen on. */
  public readonly port: number;

  /** Network access to the nodes; the default port is `port`. */
  public readonly connections: ec2.Connections;

  /** The security groups of the nodes. */
  public readonly securityGroups: ec2.ISecurityGroup[];

  /** The parameter group of the nodes. */
  public readonly parameterGroup: CacheParameterGroup;

  /** The name of the subnet group. */
  public readonly subnetGroupName: string;

  /**
   * The secret that holds the AUTH token (its whole `SecretString`).
   *
   * @default - none when `authToken`, `userGroupIds` or no transit encryption is used
   */
  public readonly authTokenSecret?: secretsmanager.ISecret;

  /** How long automatic backups are kept. */
  public readonly backupRetention: Duration;

  /** The daily backup window (UTC), as rendered in `SnapshotWindow`. */
  public readonly backupWindow: string;

  /** The weekly maintenance window (UTC), as rendered in `PreferredMaintenanceWindow`. */
  public readonly maintenanceWindow: string;

  /**
   * The member cluster the automatic backups are taken from: the first replica (`-002`) with `fromReplica`, otherwise
   * the primary (`-001`). Always set in cluster mode disabled, because CloudFormation has refused
   * `SnapshotRetentionLimit` without `SnapshottingClusterId` (aws/aws-cdk#6256).
   *
   * @default - none in cluster mode enabled (ElastiCache does not accept one there)
   */
  public readonly snapshottingClusterId?: string;

  private readonly cfnResource: elasticache.CfnReplicationGroup;
  private topic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: ReplicationGroupProps) {
    super(scope, id);

    const engine = props.engine ?? CacheEngine.VALKEY_8_0;
    const nodeType = props.nodeType ?? DEFAULT_NODE_TYPE;
    const clusterModeEnabled = props.clusterMode === ClusterMode.ENABLED;
    const shards = props.shards ?? 1;
    const replicas = props.replicasPerShard ?? 1;
    const port = props.port ?? DEFAULT_PORT;
    const transitEncryption = props.transitEncryption ?? true;
    const atRestEncryption = props.atRestEncryption ?? true;
    const retention = props.backup?.retention ?? Duration.days(DEFAULT_RETENTION_DAYS);
    const replicationGroupId = props.replicationGroupId ?? generateReplicationGroupId(this.node.path.split('/').filter(p => p && p !== 'Default'));
    const hasReplica = !Token.isUnresolved(replicas) && replicas > 0;
    const fromReplica = props.backup?.fromReplica ?? (!clusterModeEnabled && hasReplica);

    const errors: string[] = [
      ...validateReplicationGroupId(props.replicationGroupId),
      ...validateNodeType(nodeType, clusterModeEnabled),
      ...validateTopology(props, clusterModeEnabled, shards, replicas),
      ...validateBackup(props, clusterModeEnabled, replicas, retention),
      ...validateEncryption(this, props, engine, transitEncryption, atRestEncryption),
      ...validatePort(port),
      ...parameterGroupProblems({
        family: engine.parameterGroupFamily,
        nodeType,
        clusterModeEnabled,
        reservedMemoryPercent: props.reservedMemoryPercent,
        parameters: props.parameters,
      }),
    ];
    const windows = resolveWindows(props.backup?.window, props.maintenanceWindow, errors);
    if (errors.length > 0) {
      throw new ValidationError(this, errors.length === 1 ? errors[0] : `${errors.length} invalid properties:\n- ${errors.join('\n- ')}`);
    }

    this.engine = engine;
    this.nodeType = nodeType;
    this.clusterModeEnabled = clusterModeEnabled;
    this.shardCount = clusterModeEnabled ? shards : 1;
    this.replicasPerShard = replicas;
    this.port = port;
    this.replicationGroupId = replicationGroupId;
    this.backupRetention = retention;
    this.backupWindow = windows.backup;
    this.maintenanceWindow = windows.maintenance;
    this.snapshottingClusterId = snapshottingMember(replicationGroupId, clusterModeEnabled, fromReplica, retention);
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    addWarnings(this, retention, replicas, nodeType, transitEncryption);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const subnetIds = props.vpc.selectSubnets(props.vpcSubnets ?? defaultSubnets(props.vpc)).subnetIds;
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of ElastiCache replication group ${this.node.path}`,
      subnetIds,
    });
    this.subnetGroupName = subnetGroup.ref;

    this.securityGroups = props.securityGroups ?? [
      new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `ElastiCache replication group ${this.node.path}`,
        allowAllOutbound: false,
      }),
    ];
    this.connections = new ec2.Connections({ securityGroups: this.securityGroups, defaultPort: ec2.Port.tcp(port) });

    this.parameterGroup = new CacheParameterGroup(this, 'ParameterGroup', {
      engine,
      nodeType,
      clusterModeEnabled,
      reservedMemoryPercent: props.reservedMemoryPercent,
      parameters: props.parameters,
    });

    const generateToken = !props.authToken && !props.userGroupIds && transitEncryption;
    this.authTokenSecret = props.authTokenSecret
      ?? (generateToken ? generateAuthTokenSecret(this, replicationGroupId, props.encryptionKey) : undefined);
    const authToken = props.authToken ?? this.authTokenSecret?.secretValue;

    const multiAz = props.multiAz ?? hasReplica;
    this.cfnResource = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupId,
      replicationGroupDescription: props.description ?? this.node.path,
      engine: engine.engineType,
      engineVersion: engine.engineVersion,
      cacheNodeType: nodeType,
      cacheParameterGroupName: this.parameterGroup.parameterGroupName,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: this.securityGroups.map(sg => sg.securityGroupId),
      port,
      numCacheClusters: clusterModeEnabled ? undefined : replicas + 1,
      numNodeGroups: clusterModeEnabled ? shards : undefined,
      replicasPerNodeGroup: clusterModeEnabled ? replicas : undefined,
      // Cluster mode enabled requires automatic failover, even without replicas.
      automaticFailoverEnabled: clusterModeEnabled || hasReplica,
      multiAzEnabled: multiAz,
      atRestEncryptionEnabled: atRestEncryption,
      kmsKeyId: props.encryptionKey?.keyArn,
      transitEncryptionEnabled: transitEncryption,
      transitEncryptionMode: props.transitEncryptionMode,
      authToken: authToken?.unsafeUnwrap(),
      userGroupIds: props.userGroupIds,
      snapshotRetentionLimit: retention.toDays(),
      snapshotWindow: this.backupWindow,
      snapshottingClusterId: this.snapshottingClusterId,
      preferredMaintenanceWindow: this.maintenanceWindow,
      notificationTopicArn: props.notificationTopic?.topicArn,
      dataTieringEnabled: !Token.isUnresolved(nodeType) && isDataTieringNodeType(nodeType) ? true : undefined,
    });
    this.topic = props.notificationTopic;
    this.cfnResource.applyRemovalPolicy(removalPolicy);
    if (removalPolicy === RemovalPolicy.RETAIN || removalPolicy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) {
      retainOwnHelpers(this, [subnetGroup, this.parameterGroup.node.defaultChild as elasticache.CfnParameterGroup, ...this.securityGroups,
        ...(this.authTokenSecret ? [this.authTokenSecret] : [])]);
    }
  }

  /**
   * The SNS topic that receives the group's events, when one is set.
   */
  public get notificationTopic(): sns.ITopic | undefined {
    return this.topic;
  }

  /**
   * Sets the SNS topic that receives the group's events (`NotificationTopicArn`), when none is set yet. A
   * `BackupPlan` calls it so that it hears about the group's backups.
   *
   * @param topic a topic in the group's account and region
   */
  public useNotificationTopic(topic: sns.ITopic): void {
    if (this.topic === topic) {
      return;
    }
    if (this.topic !== undefined) {
      throw new ValidationError(this, `the replication group already sends its events to ${this.topic.node.path}, got another topic `
        + `${topic.node.path}; a replication group has one notification topic: pass the same topic to both`);
    }
    this.topic = topic;
    this.cfnResource.notificationTopicArn = topic.topicArn;
  }

  /**
   * The address of the primary endpoint (reads and writes). Cluster mode disabled only.
   */
  public get primaryEndpointAddress(): string {
    this.requireClusterMode(false, 'primaryEndpointAddress', 'configurationEndpointAddress');
    return this.cfnResource.attrPrimaryEndPointAddress;
  }

  /**
   * The port of the primary endpoint. Cluster mode disabled only.
   */
  public get primaryEndpointPort(): string {
    this.requireClusterMode(false, 'primaryEndpointPort', 'configurationEndpointPort');
    return this.cfnResource.attrPrimaryEndPointPort;
  }

  /**
   * The address of the reader endpoint (reads, spread over the replicas). Cluster mode disabled only.
   */
  public get readerEndpointAddress(): string {
    this.requireClusterMode(false, 'readerEndpointAddress', 'configurationEndpointAddress');
    return this.cfnResource.attrReaderEndPointAddress;
  }

  /**
   * The port of the reader endpoint. Cluster mode disabled only.
   */
  public get readerEndpointPort(): string {
    this.requireClusterMode(false, 'readerEndpointPort', 'configurationEndpointPort');
    return this.cfnResource.attrReaderEndPointPort;
  }

  /**
   * The address of the configuration endpoint (cluster-aware clients). Cluster mode enabled only.
   */
  public get configurationEndpointAddress(): string {
    this.requireClusterMode(true, 'configurationEndpointAddress', 'primaryEndpointAddress');
    return this.cfnResource.attrConfigurationEndPointAddress;
  }

  /**
   * The port of the configuration endpoint. Cluster mode enabled only.
   */
  public get configurationEndpointPort(): string {
    this.requireClusterMode(true, 'configurationEndpointPort', 'primaryEndpointPort');
    return this.cfnResource.attrConfigurationEndPointPort;
  }

  /**
   * The address clients connect to: the primary endpoint (cluster mode disabled) or the configuration endpoint
   * (cluster mode enabled).
   */
  public get endpointAddress(): string {
    return this.clusterModeEnabled ? this.configurationEndpointAddress : this.primaryEndpointAddress;
  }

  /**
   * The port of `endpointAddress`.
   */
  public get endpointPort(): string {
    return this.clusterModeEnabled ? this.configurationEndpointPort : this.primaryEndpointPort;
  }

  private requireClusterMode(enabled: boolean, attribute: string, alternative: string): void {
    if (this.clusterModeEnabled !== enabled) {
      throw new ValidationError(this, `'${attribute}' is not available with cluster mode ${this.clusterModeEnabled ? 'enabled' : 'disabled'}; `
        + `use '${alternative}' (or 'endpointAddress'/'endpointPort', which pick the right one)`);
    }
  }
}
