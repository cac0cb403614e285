import { Duration, Lazy, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { Construct, IConstruct } from 'constructs';
import {
  ENV_EXPORT_BUCKET, ENV_PLAN_CONFIG, GROUP_DIMENSION, METRIC_BACKUP_AGE, METRIC_CIRCUIT_OPEN, METRIC_EXPORT_AGE, METRIC_EXPORTS_IN_FLIGHT,
  METRIC_FAILURES, METRIC_NAMESPACE, METRIC_UNEXPORTED_BACKUPS,
} from './constants';
import { defaultExportTimeoutSeconds, UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS } from './export-timeout';
import { ExportVerifier } from './export-verifier';
import { defineGroupAlarms, definePlanAlarms, FAILURES_PERIOD } from './plan-alarms';
import { acknowledgeCompliance } from './plan-compliance';
import { grantGroupSnapshots, tagPlanWriters } from './plan-grants';
import { defineNotificationTopic, subscribeReconciler, useTopicFor } from './plan-notifications';
import {
  checkBucketOutlivesBackups, groupConfigOf, nodeTypeOf, refuseDataTiering, requireBucketWithPlan, requireSameRegion, validatePlanProps,
  warnIntervalAtQuota, warnPartialVerification,
} from './plan-validation';
import { GroupConfig } from './planner';
import { ReconcileFunction } from './reconcile-function';
import { PlanSelfTest } from './self-test';
import { SelfTest } from './self-test-mode';
import { registerPlanProtection } from '../private/app-registry';
import { describeValue, ValidationError } from '../private/errors';
import { IReplicationGroup } from '../replication-group/replication-group';
import { replicationGroupFromRef } from '../replication-group/replication-group-ref';
import { BackupExportBucket } from '../storage/export-bucket';

/**
 * How a `BackupPlan` protects one replication group.
 */
export interface ProtectionOptions {
  /**
   * Take a manual backup when the newest backup is older than this. ElastiCache allows 20 manual backups per node per
   * 24 hours, so the interval must be at least 72 minutes.
   *
   * @default - no manual backups on a schedule: only the automatic daily backups are exported
   */
  readonly interval?: Duration;

  /**
   * How long manual backups the plan created are kept in ElastiCache. A backup is deleted only once it is older than
   * this **and** its export to S3 is committed. Whole days, at least 1.
   *
   * @default Duration.days(1)
   */
  readonly manualBackupRetention?: Duration;

  /**
   * The export age (time since the newest exported backup was taken) above which the RPO alarm fires.
   *
   * @default - `interval` + 1 hour; 26 hours without an interval
   */
  readonly rpoTarget?: Duration;

  /**
   * Whether automatic (daily) backups are exported too.
   *
   * @default true
   */
  readonly exportAutomatedBackups?: boolean;

  /**
   * Without an `interval`: take one manual backup when the newest backup is older than 25 hours, so that a missed or
   * failed automatic backup does not double the RPO.
   *
   * @default true
   */
  readonly backupWhenAutomaticMissed?: boolean;
}

/**
 * A replication group and how a `BackupPlan` protects it.
 */
export interface ProtectedReplicationGroup extends ProtectionOptions {
  /** The replication group (defined in this app or imported). */
  readonly replicationGroup: IReplicationGroup;
}

/**
 * Properties of a `BackupPlan`.
 */
export interface BackupPlanProps {
  /** The bucket, in the same region as the caches, that every backup is exported to. */
  readonly exportBucket: BackupExportBucket;

  /**
   * Replication groups to protect. More can be added with `protect()`.
   *
   * @default - none
   */
  readonly groups?: ProtectedReplicationGroup[];

  /**
   * How often the reconciler runs (it also runs on ElastiCache snapshot events and export-bucket object events).
   * Whole minutes, 1 to 60.
   *
   * @default Duration.minutes(5)
   */
  readonly reconcileInterval?: Duration;

  /**
   * An export without all its objects after this long is treated as failed and retried under a new name (never while
   * its source backup is still seen busy, and a later attempt still commits an earlier one that completes).
   * Between 10 minutes and 12 hours. Applies to every group of the plan.
   *
   * @default - per group, from its node type's memory: 30 minutes + 10 minutes per GiB, at most 12 hours
   * (cache.r7g.large, 13.07 GiB: 161 minutes); 2 hours when the node type is unknown (an imported group without
   * `nodeType`, or a type the library's memory table does not list)
   */
  readonly exportTimeout?: Duration;

  /**
   * The SNS topic ElastiCache publishes the protected groups' events to (`NotificationTopicArn`); the reconciler is
   * subscribed to it and runs when a backup completes or fails. `protect()` sets it on groups defined with this
   * library's `ReplicationGroup` that have no topic; set it yourself on imported groups (see the README).
   *
   * @default - a topic is defined (TLS only; not encrypted with a KMS key, so that ElastiCache can publish to it:
   * the messages carry only event names and cluster ids)
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * The deploy-time self-test: a custom resource that fails the deployment, with a message saying what to change,
   * when the plan cannot work in this account.
   *
   * @default SelfTest.QUICK
   */
  readonly selfTest?: SelfTest;

  /**
   * Topic for the plan's alarms.
   *
   * @default - a topic is defined, encrypted with the AWS managed key `alias/aws/sns`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of the reconciler's logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key to encrypt the reconciler's logs with (the key policy must allow CloudWatch Logs to use it).
   *
   * @default - encrypted at rest by CloudWatch Logs with its own key
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * VPC to run the reconciler in (it then needs a route to the ElastiCache and S3 APIs: NAT or VPC endpoints).
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets for the reconciler, when `vpc` is given.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

interface Protected {
  /** What the caller passed (an L1 or a reference is wrapped in `group`). */
  readonly source: elasticacheRefs.IReplicationGroupRef;
  readonly group: IReplicationGroup;
  readonly config: GroupConfig;
  readonly label: string;
}

/**
 * Backs up and exports ElastiCache replication groups on a schedule, prunes old manual backups, and reports RPO metrics
 * and alarms.
 *
 * One plan per stack (region) protects any number of replication groups with one reconciler Lambda function. Each run
 * observes every group (backups, manifests in the export bucket) and converges it: takes a backup when `interval` has
 * passed (within the quota of 20 manual backups per node per 24 hours), exports the newest backup to the export bucket
 * (`CopySnapshot` with a unique target name, at most one export per group at a time), writes the manifest once every
 * shard's `.rdb` exists and is verified, and deletes manual backups the plan created once they are past retention and
 * exported. It runs on a schedule, on the groups' SNS notifications and on EventBridge events; a deploy-time
 * self-test (`selfTest`) proves at the first deployment that it can work in the account.
 *
 * @example
 * declare const bucket: BackupExportBucket;
 * declare const cache: ReplicationGroup;
 * const plan = new BackupPlan(this, 'Plan', { exportBucket: bucket });
 * plan.protect(cache, { interval: Duration.minutes(80) });
 */
export class BackupPlan extends Construct {
  /** The reconciler function. */
  public readonly reconciler: lambda.IFunction;
  /** The export verifier function: streams each exported `.rdb` and checks it before the manifest commits it. */
  public readonly exportVerifier: lambda.IFunction;
  /** The topic the plan's alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** The topic ElastiCache publishes the protected groups' events to; the reconciler is subscribed to it. */
  public readonly notificationTopic: sns.ITopic;
  /** The id the plan tags its backups with (`cdk-elasticache-backup:plan`). */
  public readonly planId: string;
  /** Alarm on reconciler errors. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** The self-test custom resource, unless `selfTest` is `SelfTest.OFF`. */
  public readonly selfTestResource?: Construct;

  private readonly protectedGroups: Protected[] = [];
  private readonly fn: ReconcileFunction;
  private readonly exportBucket: BackupExportBucket;
  private readonly exportTimeout?: Duration;

  constructor(scope: Construct, id: string, props: BackupPlanProps) {
    super(scope, id);
    const reconcileInterval = props.reconcileInterval ?? Duration.minutes(5);
    validatePlanProps(this, reconcileInterval, props.exportTimeout);
    requireBucketWithPlan(this, props.exportBucket);
    this.exportBucket = props.exportBucket;
    this.exportTimeout = props.exportTimeout;

    this.planId = Names.uniqueResourceName(this, { maxLength: 128 });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
    });
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.fn = new ReconcileFunction(this, 'Reconciler', {
      description: 'cdk-elasticache-backup: backs up, exports and prunes ElastiCache backups (BackupPlan reconciler)',
      // One run at a time per plan: runs are idempotent anyway, this keeps them from racing.
      reservedConcurrentExecutions: 1,
      timeout: Duration.minutes(2),
      memorySize: 256,
      logGroup,
      deadLetterQueue,
      retryAttempts: 0, // the next tick retries; a failed event goes to the dead-letter queue
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      environment: {
        [ENV_EXPORT_BUCKET]: props.exportBucket.bucket.bucketName,
        [ENV_PLAN_CONFIG]: Lazy.string({
          produce: () => Stack.of(this).toJsonString({
            planId: this.planId,
            exportTimeoutSeconds: this.planExportTimeoutSeconds(),
            groups: this.protectedGroups.map((p) => p.config),
          }),
        }),
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      },
    });
    this.reconciler = this.fn;
    props.exportBucket.grantExport(this.fn);
    props.exportBucket.grantRead(this.fn);

    // DescribeSnapshots, DescribeReplicationGroups and DescribeCacheClusters are list/describe calls that the reconciler
    // (and the self-test, which runs with its role) makes with filters; they are granted on '*' as in AWS's own export
    // policy, since a resource-scoped grant would not cover the listing.
    this.fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DescribeBackups',
      actions: ['elasticache:DescribeSnapshots', 'elasticache:DescribeReplicationGroups', 'elasticache:DescribeCacheClusters'],
      resources: ['*'],
    }));
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'elasticache:DescribeSnapshots, DescribeReplicationGroups and DescribeCacheClusters are list calls made with a '
        + 'ReplicationGroupId or CacheClusterId filter; granted on * as in AWS\'s documented export policy',
    });

    // --- Export verifier (H3): every exported shard is streamed and verified before the manifest commits it. The
    // reconciler writes a request object under state/<group>/verify-requests/ (its S3 event invokes the verifier);
    // the verifier writes its result under state/<group>/verifications/ (its S3 event wakes the reconciler).
    this.exportVerifier = new ExportVerifier(this, 'ExportVerifier', {
      exportBucket: props.exportBucket,
      reconciler: this.fn,
      deadLetterQueue,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      logEncryptionKey: props.logEncryptionKey,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
    }).function;
    // --- end of the export verifier
    tagPlanWriters(props.exportBucket, [this.fn, this.exportVerifier]);

    // Schedule, events and notifications: all invoke the same function.
    const rules = this.defineRules(reconcileInterval, props.exportBucket);
    // Node-based groups publish their backup events to SNS (EventBridge is documented for serverless caches only).
    this.notificationTopic = props.notificationTopic ?? defineNotificationTopic(this);
    const subscription = subscribeReconciler(this.notificationTopic, this.fn);

    this.alarmTopic = props.alarmTopic ?? this.defineTopic();
    this.errorsAlarm = definePlanAlarms(this, this.alarmTopic,
      this.fn.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(15), statistic: 'Maximum' }));
    acknowledgeCompliance(this.fn, deadLetterQueue, { inVpc: !!props.vpc, logsEncrypted: !!props.logEncryptionKey, logGroup });

    const selfTest = props.selfTest ?? SelfTest.QUICK;
    if (selfTest !== SelfTest.OFF) {
      this.selfTestResource = this.defineSelfTest(selfTest, props.exportBucket, logGroup, [subscription, ...rules]);
    }

    for (const g of props.groups ?? []) {
      this.protect(g.replicationGroup, g);
    }
  }

  /**
   * Protects a replication group with this plan.
   *
   * Refuses (synth error) a group with a data tiering node type (`cache.r6gd.*`: ElastiCache cannot export its
   * backups), a group of another region or account, a group another `BackupPlan` of the app already protects (same id,
   * account and region), and a `manualBackupRetention` that the export bucket's lifecycle does not outlast by a day.
   * Warns (`cdk-elasticache-backup:BackupPlan:intervalAtQuota`) when the interval leaves no quota for a retry. Sets the plan's `notificationTopic` on a `ReplicationGroup` of this library that has none.
   *
   * @param group the replication group: a `ReplicationGroup` of this library (defined or imported), an L1
   * `CfnReplicationGroup`, or any aws-cdk-lib reference to one (for example `CfnReplicationGroup.fromReplicationGroupId`)
   * @param options how to protect it
   */
  public protect(group: elasticacheRefs.IReplicationGroupRef, options: ProtectionOptions = {}): void {
    const source = group;
    group = replicationGroupFromRef(this, `ProtectedRef${this.protectedGroups.length + 1}`, source, 'BackupPlan.protect');
    this.protectGroup(source, group as IReplicationGroup, options);
  }

  private protectGroup(source: elasticacheRefs.IReplicationGroupRef, group: IReplicationGroup, options: ProtectionOptions): void {
    const id = group.replicationGroupId;
    const label = Token.isUnresolved(id) ? source.node.path : id;
    for (const p of this.protectedGroups) {
      if (p.source === source || p.group === group || (!Token.isUnresolved(id) && p.group.replicationGroupId === id)) {
        throw new ValidationError(this, `replication group ${describeValue(label)} is already protected by this plan; protect each group once`);
      }
    }
    requireSameRegion(this, label, group);
    const nodeType = nodeTypeOf(group);
    refuseDataTiering(this, label, nodeType);
    warnPartialVerification(this, label, nodeType);
    const base = groupConfigOf(this, group, label, options);
    checkBucketOutlivesBackups(this, label, this.exportBucket, base.retentionSeconds);
    warnIntervalAtQuota(this, label, options.interval);
    registerPlanProtection(group, {
      plan: this,
      replicationGroupId: id,
      exportBucket: this.exportBucket,
      intervalSeconds: base.intervalSeconds,
      exportAutomated: base.exportAutomated,
      fallbackAfterSeconds: base.fallbackAfterSeconds,
    });
    const config: GroupConfig = {
      ...base,
      exportTimeoutSeconds: this.exportTimeout?.toSeconds()
        ?? (nodeType && !Token.isUnresolved(nodeType)
          ? defaultExportTimeoutSeconds(nodeType)
          : UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS),
    };
    this.protectedGroups.push({ source, group, config, label });
    grantGroupSnapshots(this.fn, group, this.planId);
    useTopicFor(this, group, this.notificationTopic, label);
    // The self-test checks the group, so it runs after the group (or the L1 passed in) exists.
    if (this.selfTestResource && Stack.of(source) === Stack.of(this)) {
      this.selfTestResource.node.addDependency(source);
    }
    defineGroupAlarms(new Construct(this, `Alarms${this.protectedGroups.length}`), this.alarmTopic, label, config, {
      exportAge: this.metricExportAge(id),
      failures: this.metricFailures(id, { period: FAILURES_PERIOD }),
      circuitOpen: this.metricCircuitOpen(id),
    });
  }

  /** The ids of the replication groups this plan protects, in the order `protect()` was called. */
  public get protectedGroupIds(): string[] {
    return this.protectedGroups.map((p) => p.group.replicationGroupId);
  }

  /**
   * The RPO target of a protected group: the export age above which its alarm fires.
   *
   * @param replicationGroupId a group this plan protects
   */
  public rpoTargetOf(replicationGroupId: string): Duration {
    const found = this.protectedGroups.find((p) => p.group.replicationGroupId === replicationGroupId);
    if (!found) {
      throw new ValidationError(this, `BackupPlan.rpoTargetOf: replication group ${describeValue(replicationGroupId)} is not protected by this plan; `
        + `it protects ${this.protectedGroupIds.map((g) => describeValue(g)).join(', ') || 'nothing yet'}`);
    }
    return Duration.seconds(found.config.rpoTargetSeconds);
  }

  /**
   * The age of the newest export of a group (seconds since its backup was taken): the RPO of the export bucket.
   *
   * @param replicationGroupId the group
   * @default - statistic Maximum, period 5 minutes
   */
  public metricExportAge(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_EXPORT_AGE, replicationGroupId, { statistic: 'Maximum', ...options });
  }

  /**
   * The age of the newest backup of a group in ElastiCache (seconds).
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricBackupAge(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_BACKUP_AGE, replicationGroupId, { statistic: 'Maximum', ...options });
  }

  /**
   * Exports in flight for a group (0 or 1).
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricExportsInFlight(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_EXPORTS_IN_FLIGHT, replicationGroupId, { statistic: 'Maximum', ...options });
  }

  /**
   * Failures of a group's backups and exports (failed backups, failed or timed-out exports, refused calls).
   *
   * @default - statistic Sum, period 5 minutes
   */
  public metricFailures(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_FAILURES, replicationGroupId, { statistic: 'Sum', ...options });
  }

  /**
   * Backups the plan created for a group and could not export.
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricUnexportedBackups(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_UNEXPORTED_BACKUPS, replicationGroupId, { statistic: 'Maximum', ...options });
  }

  /**
   * 1 while the plan's circuit breaker has stopped taking backups of a group (too many backups it could not export),
   * else 0. The reconciler's log says why (field `circuitReason`).
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricCircuitOpen(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_CIRCUIT_OPEN, replicationGroupId, { statistic: 'Maximum', ...options });
  }

  private metric(name: string, replicationGroupId: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [GROUP_DIMENSION]: replicationGroupId },
      period: Duration.minutes(5),
      ...options,
    });
  }

  /** The schedule and the EventBridge rules that invoke the reconciler. */
  private defineRules(reconcileInterval: Duration, exportBucket: BackupExportBucket): events.Rule[] {
    const target = new targets.LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) });
    return [
      new events.Rule(this, 'Schedule', {
        description: 'cdk-elasticache-backup: reconcile the backup plan',
        schedule: events.Schedule.rate(reconcileInterval),
        targets: [target],
      }),
      new events.Rule(this, 'SnapshotEvents', {
        description: 'cdk-elasticache-backup: ElastiCache snapshot events wake the backup plan',
        eventPattern: {
          source: ['aws.elasticache'],
          detailType: ['Snapshot Created', 'Snapshot Creation Failed', 'Snapshot Export Failed'],
        },
        targets: [target],
      }),
      new events.Rule(this, 'ExportObjectEvents', {
        description: 'cdk-elasticache-backup: an exported .rdb arrived: commit its manifest',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [exportBucket.bucket.bucketName] },
            object: { key: [{ suffix: '.rdb' }] },
          },
        },
        targets: [target],
      }),
    ];
  }

  /** The deploy-time self-test, run after everything the plan needs: the role's policy, its triggers, the bucket's policy. */
  private defineSelfTest(
    mode: SelfTest.QUICK | SelfTest.FULL, exportBucket: BackupExportBucket, logGroup: logs.ILogGroup, triggers: IConstruct[],
  ): PlanSelfTest {
    const test = new PlanSelfTest(this, 'SelfTest', {
      mode,
      reconciler: this.fn,
      bucketName: exportBucket.bucketName,
      bucketArn: exportBucket.bucketArn,
      planId: this.planId,
      notificationTopicArn: this.notificationTopic.topicArn,
      groupIds: () => this.protectedGroups.map((p) => p.config.replicationGroupId),
      exportTimeoutSeconds: () => this.planExportTimeoutSeconds(),
      logGroup,
    });
    test.resource.node.addDependency(this.fn, this.node.tryFindChild('ExportVerifier') ?? this.exportVerifier, ...triggers);
    if (Stack.of(exportBucket) === Stack.of(this)) {
      test.resource.node.addDependency(exportBucket);
    }
    return test;
  }

  /** The plan-wide export timeout: the one given, else the longest of the groups' defaults (2 h with no group). */
  private planExportTimeoutSeconds(): number {
    if (this.exportTimeout) {
      return this.exportTimeout.toSeconds();
    }
    const perGroup = this.protectedGroups.map((p) => p.config.exportTimeoutSeconds ?? UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS);
    return perGroup.length > 0 ? Math.max(...perGroup) : UNKNOWN_NODE_EXPORT_TIMEOUT_SECONDS;
  }

  private defineTopic(): sns.Topic {
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ElastiCache backup plan alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
  }
}
