/**
 * The live service probe (issue 9, "For maintainers with an AWS account"): a tiny cluster-mode-disabled replication
 * group, an export bucket, the two event channels (SNS topic -> SQS, EventBridge rule -> SQS), two CopySnapshot
 * roles that differ only by s3:GetBucketAcl, and the probe function that asks the questions of
 * docs/service-behaviour.md. Deployed by maintainers only; synthesized and snapshot-tested offline.
 */
import * as path from 'path';
import { Annotations, ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROBE_PREFIX } from './probe-state';
import { BackupExportBucket, BackupWindow, CacheEngine, ClusterMode, ReplicationGroup } from '../../lib';
import { defineNotificationTopic } from '../../lib/backup-plan/plan-notifications';

/** The probe's replication group id (short: the probe's 40- and 41-character snapshot names do not depend on it). */
export const PROBE_GROUP_ID = 'ecb-probe';
export const PROBE_CME_GROUP_ID = 'ecb-probe-cme';
export const PROBE_CME_SHARDS = 2;
const PROBE_NODE_TYPE = 'cache.t4g.micro';
/** The daily backup window (UTC): the first automatic backup, for the automatic-listing question, is taken then. */
const PROBE_BACKUP_WINDOW = BackupWindow.startingAt({ hour: 3 }, Duration.hours(1));

export interface ServiceProbeStackProps extends StackProps {
  /**
   * Also deploy a two-shard cluster-mode-enabled group, for the multi-shard export naming question.
   *
   * @default false
   */
  readonly clusterModeEnabledGroup?: boolean;

  /**
   * Also deploy a cluster-mode-disabled group with `SnapshotRetentionLimit` and no `SnapshottingClusterId` (item 6):
   * whether the deployment succeeds is the answer.
   *
   * @default false
   */
  readonly retentionWithoutSnapshottingCluster?: boolean;
}

export class ServiceProbeStack extends Stack {
  public readonly probe: nodejs.NodejsFunction;
  public readonly group: ReplicationGroup;
  public readonly exportBucket: BackupExportBucket;

  constructor(scope: Construct, id: string, props: ServiceProbeStackProps = {}) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    // The backup plan's own topic (same policy), so that the probe tells whether ElastiCache publishes to it.
    const topic = defineNotificationTopic(this);
    const snsQueue = probeQueue(this, 'SnsEvents');
    topic.addSubscription(new subscriptions.SqsSubscription(snsQueue));
    const eventBridgeQueue = probeQueue(this, 'EventBridgeEvents');
    new events.Rule(this, 'ElastiCacheEvents', {
      description: 'Every aws.elasticache event, to learn whether node-based groups publish snapshot events here',
      eventPattern: { source: ['aws.elasticache'] },
      targets: [new targets.SqsQueue(eventBridgeQueue)],
    });

    this.group = new ReplicationGroup(this, 'Group', {
      vpc,
      replicationGroupId: PROBE_GROUP_ID,
      engine: CacheEngine.VALKEY_8_0,
      nodeType: PROBE_NODE_TYPE,
      replicasPerShard: 1,
      notificationTopic: topic,
      removalPolicy: RemovalPolicy.DESTROY,
      backup: { retention: Duration.days(1), window: PROBE_BACKUP_WINDOW },
    });
    // A short-lived probe: one day of automatic backups and a burstable micro node are what it should cost.
    Annotations.of(this.group).acknowledgeWarning('cdk-elasticache-backup:shortBackupRetention', 'probe: one automatic backup is enough');
    Annotations.of(this.group).acknowledgeWarning('cdk-elasticache-backup:burstableNodeType', 'probe: the cheapest node type');
    Annotations.of(this.group).acknowledgeWarning('cdk-elasticache-backup:noFinalSnapshot', 'probe: its data is disposable');
    this.exportBucket = new BackupExportBucket(this, 'Exports', {
      exportRetention: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Annotations.of(this.exportBucket).acknowledgeWarning('cdk-elasticache-backup:BackupExportBucket:noReplicas', 'probe: measures the export path only');
    const cme = props.clusterModeEnabledGroup ? new ReplicationGroup(this, 'ShardedGroup', {
      vpc,
      replicationGroupId: PROBE_CME_GROUP_ID,
      engine: CacheEngine.VALKEY_8_0,
      nodeType: PROBE_NODE_TYPE,
      clusterMode: ClusterMode.ENABLED,
      shards: PROBE_CME_SHARDS,
      replicasPerShard: 0,
      removalPolicy: RemovalPolicy.DESTROY,
    }) : undefined;
    if (cme) {
      Annotations.of(cme).acknowledgeWarning('cdk-elasticache-backup:noFinalSnapshot', 'probe: its data is disposable');
    }
    if (props.retentionWithoutSnapshottingCluster) {
      retentionWithoutSnapshottingCluster(this, this.group);
    }

    this.probe = this.probeFunction(snsQueue, eventBridgeQueue, cme);
    new CfnOutput(this, 'ProbeFunctionName', { value: this.probe.functionName });
    new CfnOutput(this, 'ExportBucketName', { value: this.exportBucket.bucket.bucketName });
  }

  /** Isolated subnets in two zones resolved by CloudFormation, so the probe synthesizes without lookups. */
  public get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }

  private probeFunction(snsQueue: sqs.Queue, eventBridgeQueue: sqs.Queue, cme?: ReplicationGroup): nodejs.NodejsFunction {
    const bucket = this.exportBucket.bucket;
    const memberIds = [`${PROBE_GROUP_ID}-001`, `${PROBE_GROUP_ID}-002`];
    const probe = new nodejs.NodejsFunction(this, 'Probe', {
      description: 'Asks ElastiCache the open questions of docs/service-behaviour.md; invoked by maintainers only',
      entry: path.join(__dirname, 'probe-handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(15),
      bundling: { externalModules: ['@aws-sdk/*'], sourceMap: false, minify: false, logLevel: nodejs.LogLevel.WARNING },
      logGroup: new logs.LogGroup(this, 'ProbeLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      environment: {
        GROUP_ID: PROBE_GROUP_ID,
        MEMBER_IDS: memberIds.join(','),
        SNAPSHOT_SOURCE_ID: memberIds[1],
        BUCKET: bucket.bucketName,
        BACKUP_WINDOW: this.group.backupWindow,
        SNS_QUEUE_URL: snsQueue.queueUrl,
        EVENTS_QUEUE_URL: eventBridgeQueue.queueUrl,
        ...(cme ? { CME_GROUP_ID: PROBE_CME_GROUP_ID, CME_SHARDS: String(PROBE_CME_SHARDS) } : {}),
      },
    });
    probe.node.addDependency(this.group);
    const role = probe.role!;
    grantSnapshotCalls(this, role, cme !== undefined);
    snsQueue.grantConsumeMessages(role);
    eventBridgeQueue.grantConsumeMessages(role);
    bucket.grantRead(role);
    bucket.grantPut(role, 'service-probe/*');
    const without = copyRole(this, 'CopyWithoutGetBucketAcl', role, bucket.bucketArn, false);
    const withAcl = copyRole(this, 'CopyWithGetBucketAcl', role, bucket.bucketArn, true);
    probe.addEnvironment('ROLE_WITHOUT_ACL_ARN', without.roleArn);
    probe.addEnvironment('ROLE_WITH_ACL_ARN', withAcl.roleArn);
    return probe;
  }
}

function probeQueue(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** CreateSnapshot and DeleteSnapshot on the probe's own snapshots and groups; the Describe (list) calls on `*`. */
function grantSnapshotCalls(stack: Stack, role: iam.IRole, withCme: boolean): void {
  const arn = (type: string, name: string) => stack.formatArn({ service: 'elasticache', resource: type, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const groups = withCme ? [PROBE_GROUP_ID, PROBE_CME_GROUP_ID] : [PROBE_GROUP_ID];
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['elasticache:DescribeSnapshots', 'elasticache:DescribeCacheClusters'],
    resources: ['*'],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['elasticache:CreateSnapshot'],
    resources: [
      arn('snapshot', `${PROBE_PREFIX}-*`),
      ...groups.map((g) => arn('replicationgroup', g)),
      arn('cluster', `${PROBE_GROUP_ID}-*`),
    ],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['elasticache:DeleteSnapshot'],
    resources: [arn('snapshot', `${PROBE_PREFIX}-*`)],
  }));
}

/**
 * A role for CopySnapshot with exactly the caller policy of the ElastiCache guide ("Required IAM permissions for the
 * caller"), plus s3:GetBucketAcl when `getBucketAcl` is true. Written out here, not taken from the library, so the
 * question stays the same whatever the library grants.
 */
function copyRole(scope: Construct, id: string, assumer: iam.IRole, bucketArn: string, getBucketAcl: boolean): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ArnPrincipal(assumer.roleArn),
    description: `CopySnapshot caller ${getBucketAcl ? 'with' : 'without'} s3:GetBucketAcl (service probe)`,
  });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['elasticache:CopySnapshot'], resources: ['*'] }));
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
    resources: [`${bucketArn}/*`],
  }));
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['s3:ListBucket', 's3:GetBucketLocation', ...(getBucketAcl ? ['s3:GetBucketAcl'] : [])],
    resources: [bucketArn],
  }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['arn:aws:s3:::*'] }));
  role.grantAssumeRole(assumer);
  return role;
}

/**
 * Item 6: a group with automatic backups on and no `SnapshottingClusterId` (raw CloudFormation: the library always
 * renders it). The deployment failing with "Must specify both SnapshotRetentionLimit and SnapshottingClusterId"
 * answers the question one way; the stack completing answers it the other way.
 */
function retentionWithoutSnapshottingCluster(scope: Construct, group: ReplicationGroup): void {
  const bare = new elasticache.CfnReplicationGroup(scope, 'RetentionWithoutSnapshottingCluster', {
    replicationGroupId: `${PROBE_GROUP_ID}-ret`,
    replicationGroupDescription: 'service probe: SnapshotRetentionLimit without SnapshottingClusterId',
    engine: 'valkey',
    engineVersion: '8.0',
    cacheNodeType: PROBE_NODE_TYPE,
    numCacheClusters: 2,
    automaticFailoverEnabled: true,
    cacheSubnetGroupName: group.subnetGroupName,
    securityGroupIds: group.securityGroups.map((sg) => sg.securityGroupId),
    atRestEncryptionEnabled: true,
    transitEncryptionEnabled: true,
    snapshotRetentionLimit: 1,
    snapshotWindow: '04:00-05:00',
  });
  bare.applyRemovalPolicy(RemovalPolicy.DESTROY);
}
