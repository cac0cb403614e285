import { Annotations, ArnFormat, Duration, IResource, RemovalPolicy, Resource, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BackupOptions, BackupWindow, MaintenanceWindow } from './backup';
import { CacheParameterGroup } from './parameter-group';
import { CacheEngine, EngineType } from '../engine';
import {
  AUTH_TOKEN_EXCLUDED_CHARACTERS,
  authTokenProblems,
  generateReplicationGroupId,
  isBurstableNodeType,
  isDataTieringNodeType,
  NODE_TYPE_PATTERN,
  replicationGroupIdProblems,
} from '../private/cache-rules';
import { describeValue, ValidationError } from '../private/errors';
import { parameterGroupProblems } from '../private/parameters';
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
  MIN_WINDOW_MINUTES,
  parseDailyWindow,
  parseWeeklyWindow,
} from '../private/windows';

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
}

const DEFAULT_PORT = 6379;
const DEFAULT_NODE_TYPE = 'cache.r7g.large';
const DEFAULT_RETENTION_DAYS = 15;
const MIN_RETENTION_DAYS = 1;
const MAX_RETENTION_DAYS = 35;
const MAX_SHARDS = 500;
const MAX_REPLICAS = 5;
const MAX_NODES = 500;
const RECOMMENDED_RETENTION_DAYS = 15;
const WARNING_PREFIX = 'cdk-elasticache-backup';

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
   * The member cluster the automatic backups are taken from.
   *
   * @default - none: ElastiCache chooses (cluster mode enabled, no replica, or `fromReplica: false`)
   */
  public readonly snapshottingClusterId?: string;

  private readonly cfnResource: elasticache.CfnReplicationGroup;

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
    this.snapshottingClusterId = fromReplica ? `${replicationGroupId}-002` : undefined;
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.addWarnings(retention, replicas, nodeType, transitEncryption);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const retainHelpers = removalPolicy === RemovalPolicy.RETAIN || removalPolicy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

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

    let authToken = props.authToken;
    if (props.authTokenSecret) {
      this.authTokenSecret = props.authTokenSecret;
    } else if (!authToken && !props.userGroupIds && transitEncryption) {
      const generated = new secretsmanager.Secret(this, 'AuthToken', {
        description: `AUTH token of ElastiCache replication group ${replicationGroupId}`,
        // The token protects the same data as the cache, so it shares the cache's customer managed key when one is given.
        encryptionKey: props.encryptionKey,
        generateSecretString: {
          passwordLength: 64,
          excludeCharacters: AUTH_TOKEN_EXCLUDED_CHARACTERS,
          includeSpace: false,
          requireEachIncludedType: true,
        },
      });
      acknowledgeAuthTokenSecret(generated, props.encryptionKey !== undefined);
      this.authTokenSecret = generated;
    }
    authToken = authToken ?? this.authTokenSecret?.secretValue;

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
    this.cfnResource.applyRemovalPolicy(removalPolicy);
    if (retainHelpers) {
      subnetGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);
      (this.parameterGroup.node.defaultChild as elasticache.CfnParameterGroup).applyRemovalPolicy(RemovalPolicy.RETAIN);
      for (const sg of this.securityGroups) {
        if (sg instanceof ec2.SecurityGroup && this.node.children.includes(sg)) {
          sg.applyRemovalPolicy(RemovalPolicy.RETAIN);
        }
      }
      if (this.authTokenSecret instanceof secretsmanager.Secret && this.node.children.includes(this.authTokenSecret)) {
        this.authTokenSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
      }
    }
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

  private addWarnings(retention: Duration, replicas: number, nodeType: string, transitEncryption: boolean): void {
    const annotations = Annotations.of(this);
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
}

class ImportedReplicationGroup extends Resource implements IReplicationGroup {
  public readonly replicationGroupId: string;
  public readonly replicationGroupArn: string;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, attrs: ReplicationGroupAttributes) {
    super(scope, id);
    const errors = [...validateReplicationGroupId(attrs.replicationGroupId), ...validatePort(attrs.port ?? DEFAULT_PORT)];
    if (errors.length > 0) {
      throw new ValidationError(this, errors.join('\n'));
    }
    this.replicationGroupId = attrs.replicationGroupId;
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: attrs.replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.connections = new ec2.Connections({
      securityGroups: attrs.securityGroups,
      defaultPort: ec2.Port.tcp(attrs.port ?? DEFAULT_PORT),
    });
  }
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return { subnetType: vpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
}

function isConcrete(value: unknown): boolean {
  return value !== undefined && !Token.isUnresolved(value);
}

function validateReplicationGroupId(id: string | undefined): string[] {
  if (id === undefined || Token.isUnresolved(id)) {
    return [];
  }
  const problems = replicationGroupIdProblems(id);
  if (problems.length === 0) {
    return [];
  }
  return [`'replicationGroupId' is invalid, got ${describeValue(id)}: it ${problems.join(', ')}; use 1 to 40 lowercase letters, `
    + 'digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'];
}

function validateNodeType(nodeType: string, clusterModeEnabled: boolean): string[] {
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

function validateTopology(props: ReplicationGroupProps, clusterModeEnabled: boolean, shards: number, replicas: number): string[] {
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

function validateBackup(props: ReplicationGroupProps, clusterModeEnabled: boolean, replicas: number, retention: Duration): string[] {
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

function validateEncryption(
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

function supportsTransitEncryptionMode(engine: CacheEngine): boolean {
  return engine.engineType === EngineType.VALKEY || engine.majorVersion >= 7;
}

function validatePort(port: number): string[] {
  if (isConcrete(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    return [`'port' must be an integer from 1 to 65535, got ${describeValue(port)}`];
  }
  return [];
}

interface ResolvedWindows {
  readonly backup: string;
  readonly maintenance: string;
}

/**
 * Checks the windows that were given and chooses the ones that were not, so that they never overlap.
 * Adds error messages to `errors`; the windows returned are meaningless when it did.
 */
function resolveWindows(backupWindow: BackupWindow | undefined, maintenanceWindow: MaintenanceWindow | undefined, errors: string[]): ResolvedWindows {
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

function checkDailyWindow(text: string, errors: string[]): Arc | undefined {
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

function checkWeeklyWindow(text: string, errors: string[]): Arc | undefined {
  const arc = parseWeeklyWindow(text);
  if (!arc) {
    errors.push('\'maintenanceWindow\' must have the format ddd:hh24:mi-ddd:hh24:mi (UTC, ddd one of sun mon tue wed thu fri sat), '
      + `got ${describeValue(text)}; for example 'sun:23:00-mon:01:30'`);
    return undefined;
  }
  if (arc.duration < MIN_WINDOW_MINUTES) {
    errors.push(`'maintenanceWindow' must be at least 60 minutes long, got ${describeValue(text)} (${describeMinutes(arc.duration)}); `
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
function acknowledgeAuthTokenSecret(secret: secretsmanager.Secret, customerKey: boolean): void {
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
