import { ArnFormat, Duration, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import { ImportedReplicationGroup } from './imported-replication-group';
import { CacheParameterGroup } from './parameter-group';
import { ReplicationGroupGrants } from './replication-group-grants';
import { memberClusterIds, memberMetric } from './replication-group-metrics';
import {
  ClusterMode, IReplicationGroup, ReplicationGroupAttributes, ReplicationGroupMetricOptions, ReplicationGroupProps,
} from './replication-group-props';
import {
  addRiskWarnings, addWarnings, retainOwnHelpers, DEFAULT_NODE_TYPE, DEFAULT_PORT, DEFAULT_RETENTION_DAYS, defaultSubnets, generateAuthTokenSecret,
  resolveWindows, replicationGroupIdErrors, snapshottingMember, validateBackup, validateEncryption, validateNodeType, validatePort, validateTopology,
} from './replication-group-rules';
import { CacheEngine } from '../engine';
import { registerReplicationGroupId } from '../private/app-registry';
import { generateReplicationGroupId, isDataTieringNodeType } from '../private/cache-rules';
import { ValidationError } from '../private/errors';
import { parameterGroupProblems } from '../private/parameters';

// The public shapes and the grants class live in their own files; re-exported here so existing import paths keep working.
export * from './replication-group-props';
export * from './replication-group-grants';

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

  /**
   * Imports an existing replication group by its identifier (checked like `replicationGroupId`; tokens pass).
   */
  public static fromReplicationGroupId(scope: Construct, id: string, replicationGroupId: string): IReplicationGroup {
    return new ImportedReplicationGroup(scope, id, { replicationGroupId }, 'ReplicationGroup.fromReplicationGroupId');
  }

  /** Grant methods: `connect` (IAM authentication), `describe`, `createSnapshot`, `actions`. */
  public readonly grants: ReplicationGroupGrants;

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
    const s = resolveSettings(this, props);

    this.engine = s.engine;
    this.nodeType = s.nodeType;
    this.clusterModeEnabled = s.clusterModeEnabled;
    this.shardCount = s.clusterModeEnabled ? s.shards : 1;
    this.replicasPerShard = s.replicas;
    this.port = s.port;
    this.replicationGroupId = s.replicationGroupId;
    registerReplicationGroupId(this, 'ReplicationGroup', s.replicationGroupId);
    this.backupRetention = s.retention;
    this.backupWindow = s.windows.backup;
    this.maintenanceWindow = s.windows.maintenance;
    this.snapshottingClusterId = snapshottingMember(s.replicationGroupId, s.clusterModeEnabled, s.fromReplica, s.retention);
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: s.replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    addWarnings(this, s.retention, s.replicas, s.nodeType, s.transitEncryption);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    addRiskWarnings(this, s.parameterInput, removalPolicy);
    this.grants = ReplicationGroupGrants.fromReplicationGroup(this);
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of ElastiCache replication group ${this.node.path}`,
      subnetIds: props.vpc.selectSubnets(props.vpcSubnets ?? defaultSubnets(props.vpc)).subnetIds,
    });
    this.subnetGroupName = subnetGroup.ref;
    this.securityGroups = props.securityGroups ?? [
      new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `ElastiCache replication group ${this.node.path}`,
        allowAllOutbound: false,
      }),
    ];
    this.connections = new ec2.Connections({ securityGroups: this.securityGroups, defaultPort: ec2.Port.tcp(s.port) });
    this.parameterGroup = new CacheParameterGroup(this, 'ParameterGroup', {
      engine: s.engine,
      nodeType: s.nodeType,
      clusterModeEnabled: s.clusterModeEnabled,
      reservedMemoryPercent: props.reservedMemoryPercent,
      parameters: props.parameters,
      writeHeavy: props.writeHeavy,
    });

    const generateToken = !props.authToken && !props.userGroupIds && s.transitEncryption;
    this.authTokenSecret = props.authTokenSecret
      ?? (generateToken ? generateAuthTokenSecret(this, s.replicationGroupId, props.encryptionKey) : undefined);

    this.cfnResource = new elasticache.CfnReplicationGroup(this, 'Resource', {
      ...replicationGroupResourceProps(s, props),
      replicationGroupDescription: props.description ?? this.node.path,
      cacheParameterGroupName: this.parameterGroup.parameterGroupName,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: this.securityGroups.map(sg => sg.securityGroupId),
      authToken: (props.authToken ?? this.authTokenSecret?.secretValue)?.unsafeUnwrap(),
      snapshottingClusterId: this.snapshottingClusterId,
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

  /** The reference aws-cdk-lib's L1 helpers take (`IReplicationGroupRef`). */
  public get replicationGroupRef(): elasticacheRefs.ReplicationGroupReference {
    return { replicationGroupId: this.replicationGroupId };
  }

  /**
   * The member cache cluster ids as created: `<id>-001`, `<id>-002`, ... (cluster mode disabled) or `<id>-0001-001`, ...
   * (cluster mode enabled). These are the `CacheClusterId` dimension values of the group's CloudWatch metrics.
   */
  public get memberClusterIds(): string[] {
    return memberClusterIds(this.replicationGroupId, this.clusterModeEnabled, this.shardCount, this.replicasPerShard);
  }

  /**
   * A metric of one member node (namespace `AWS/ElastiCache`, dimension `CacheClusterId`; ElastiCache has no
   * replication-group-wide dimension for node metrics). Average over 5 minutes unless given.
   *
   * @param metricName the metric, for example `CurrItems`
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html
   */
  public metric(metricName: string, props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return memberMetric(metricName, 'Average', this.defaultMetricMember, props);
  }

  /**
   * `DatabaseMemoryUsagePercentage` of a member: the memory used by data, as a percent of what is available after
   * `reserved-memory-percent`. Backups need headroom. Maximum over 5 minutes unless given.
   */
  public metricDatabaseMemoryUsagePercentage(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return memberMetric('DatabaseMemoryUsagePercentage', 'Maximum', this.defaultMetricMember, props);
  }

  /**
   * `SaveInProgress` of a member: 1 while a background save (backup or replica sync) runs, else 0. Maximum over
   * 5 minutes unless given.
   */
  public metricSaveInProgress(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return memberMetric('SaveInProgress', 'Maximum', this.defaultMetricMember, props);
  }

  /**
   * `ReplicationLag` of a replica, in seconds (published by replicas only). Maximum over 5 minutes unless given.
   */
  public metricReplicationLag(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return memberMetric('ReplicationLag', 'Maximum', this.defaultMetricMember, props);
  }

  /**
   * `EngineCPUUtilization` of a member: the engine thread's CPU, in percent. Maximum over 5 minutes unless given.
   */
  public metricEngineCPUUtilization(props?: ReplicationGroupMetricOptions): cloudwatch.Metric {
    return memberMetric('EngineCPUUtilization', 'Maximum', this.defaultMetricMember, props);
  }

  private get defaultMetricMember(): string {
    return this.snapshottingClusterId ?? this.memberClusterIds[0];
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

/** The properties with their defaults applied, after every synth-time rule passed. */
interface ResolvedSettings {
  readonly engine: CacheEngine;
  readonly nodeType: string;
  readonly clusterModeEnabled: boolean;
  readonly shards: number;
  readonly replicas: number;
  readonly port: number;
  readonly transitEncryption: boolean;
  readonly atRestEncryption: boolean;
  readonly retention: Duration;
  readonly replicationGroupId: string;
  readonly hasReplica: boolean;
  readonly fromReplica: boolean;
  readonly parameterInput: {
    readonly family: string;
    readonly nodeType: string;
    readonly clusterModeEnabled: boolean;
    readonly reservedMemoryPercent?: number;
    readonly parameters?: Record<string, string>;
    readonly writeHeavy?: boolean;
  };
  readonly windows: { readonly backup: string; readonly maintenance: string };
}

/**
 * Applies the defaults and checks every rule at once, so that one synth names every invalid property (a single
 * `ValidationError` listing them all) rather than the first one.
 */
function resolveSettings(scope: Construct, props: ReplicationGroupProps): ResolvedSettings {
  const engine = props.engine ?? CacheEngine.VALKEY_8_0;
  const nodeType = props.nodeType ?? DEFAULT_NODE_TYPE;
  const clusterModeEnabled = props.clusterMode === ClusterMode.ENABLED;
  const shards = props.shards ?? 1;
  const replicas = props.replicasPerShard ?? 1;
  const port = props.port ?? DEFAULT_PORT;
  const transitEncryption = props.transitEncryption ?? true;
  const atRestEncryption = props.atRestEncryption ?? true;
  const retention = props.backup?.retention ?? Duration.days(DEFAULT_RETENTION_DAYS);
  const replicationGroupId = props.replicationGroupId
    ?? generateReplicationGroupId(scope.node.path.split('/').filter(p => p && p !== 'Default'));
  const hasReplica = !Token.isUnresolved(replicas) && replicas > 0;
  const fromReplica = props.backup?.fromReplica ?? (!clusterModeEnabled && hasReplica);
  const parameterInput = {
    family: engine.parameterGroupFamily,
    nodeType,
    clusterModeEnabled,
    reservedMemoryPercent: props.reservedMemoryPercent,
    parameters: props.parameters,
    writeHeavy: props.writeHeavy,
  };
  const errors: string[] = [
    ...replicationGroupIdErrors(props.replicationGroupId, 'ReplicationGroup'),
    ...validateNodeType(nodeType, clusterModeEnabled),
    ...validateTopology(props, clusterModeEnabled, shards, replicas),
    ...validateBackup(props, clusterModeEnabled, replicas, retention),
    ...validateEncryption(scope, props, engine, transitEncryption, atRestEncryption),
    ...validatePort(port),
    ...parameterGroupProblems(parameterInput),
  ];
  const windows = resolveWindows(props.backup?.window, props.maintenanceWindow, errors);
  if (errors.length > 0) {
    throw new ValidationError(scope, errors.length === 1 ? errors[0] : `${errors.length} invalid properties:\n- ${errors.join('\n- ')}`);
  }
  return {
    engine,
    nodeType,
    clusterModeEnabled,
    shards,
    replicas,
    port,
    transitEncryption,
    atRestEncryption,
    retention,
    replicationGroupId,
    hasReplica,
    fromReplica,
    parameterInput,
    windows,
  };
}

/** The replication group's own settings in CloudFormation terms (the helpers' references are added by the caller). */
function replicationGroupResourceProps(s: ResolvedSettings, props: ReplicationGroupProps) {
  return {
    replicationGroupId: s.replicationGroupId,
    engine: s.engine.engineType,
    engineVersion: s.engine.engineVersion,
    cacheNodeType: s.nodeType,
    port: s.port,
    numCacheClusters: s.clusterModeEnabled ? undefined : s.replicas + 1,
    numNodeGroups: s.clusterModeEnabled ? s.shards : undefined,
    replicasPerNodeGroup: s.clusterModeEnabled ? s.replicas : undefined,
    // Cluster mode enabled requires automatic failover, even without replicas.
    automaticFailoverEnabled: s.clusterModeEnabled || s.hasReplica,
    multiAzEnabled: props.multiAz ?? s.hasReplica,
    atRestEncryptionEnabled: s.atRestEncryption,
    kmsKeyId: props.encryptionKey?.keyArn,
    transitEncryptionEnabled: s.transitEncryption,
    transitEncryptionMode: props.transitEncryptionMode,
    userGroupIds: props.userGroupIds,
    snapshotRetentionLimit: s.retention.toDays(),
    snapshotWindow: s.windows.backup,
    preferredMaintenanceWindow: s.windows.maintenance,
    notificationTopicArn: props.notificationTopic?.topicArn,
    dataTieringEnabled: !Token.isUnresolved(s.nodeType) && isDataTieringNodeType(s.nodeType) ? true : undefined,
  };
}
