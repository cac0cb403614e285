import { ArnFormat, Duration, Lazy, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import {
  ENV_EXPORT_BUCKET, ENV_PLAN_CONFIG, GROUP_DIMENSION, METRIC_BACKUP_AGE, METRIC_EXPORT_AGE, METRIC_EXPORTS_IN_FLIGHT, METRIC_FAILURES,
  METRIC_NAMESPACE, PLAN_TAG_KEY,
} from './constants';
import { GroupConfig, MIN_INTERVAL_MINUTES } from './planner';
import { ReconcileFunction } from './reconcile-function';
import { describeValue, ValidationError } from '../private/errors';
import { IReplicationGroup } from '../replication-group/replication-group';
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
   * An export without all its objects after this long is treated as failed and retried under a new name.
   * Between 10 minutes and 12 hours.
   *
   * @default Duration.hours(1)
   */
  readonly exportTimeout?: Duration;

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
  readonly group: IReplicationGroup;
  readonly config: GroupConfig;
  readonly label: string;
}

const ACK_REASON_SNAPSHOTS = 'ElastiCache snapshot names are chosen at run time (the plan\'s backups are <group>-plan-<time>, '
  + 'exports <group>-<time>, automatic backups automatic.<member>-<time>); the wildcard is scoped to this replication group\'s names';

/**
 * Backs up and exports ElastiCache replication groups on a schedule, prunes old manual backups, and reports RPO metrics
 * and alarms.
 *
 * One plan per stack (region) protects any number of replication groups with one reconciler Lambda function. Each run
 * observes every group (backups, manifests in the export bucket) and converges it: takes a backup when `interval` has
 * passed (within the quota of 20 manual backups per node per 24 hours), exports the newest backup to the export bucket
 * (`CopySnapshot` with a unique target name, at most one export per group at a time), writes the manifest once every
 * shard's `.rdb` exists, and deletes manual backups the plan created once they are past retention and exported.
 *
 * @example
 * declare const bucket: BackupExportBucket;
 * declare const cache: ReplicationGroup;
 * const plan = new BackupPlan(this, 'Plan', { exportBucket: bucket });
 * plan.protect(cache, { interval: Duration.minutes(75) });
 */
export class BackupPlan extends Construct {
  /** The reconciler function. */
  public readonly reconciler: lambda.IFunction;
  /** The topic the plan's alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** The id the plan tags its backups with (`cdk-elasticache-backup:plan`). */
  public readonly planId: string;
  /** Alarm on reconciler errors. */
  public readonly errorsAlarm: cloudwatch.Alarm;

  private readonly protectedGroups: Protected[] = [];
  private readonly fn: ReconcileFunction;

  constructor(scope: Construct, id: string, props: BackupPlanProps) {
    super(scope, id);
    const reconcileInterval = props.reconcileInterval ?? Duration.minutes(5);
    const exportTimeout = props.exportTimeout ?? Duration.hours(1);
    this.validatePlanProps(reconcileInterval, exportTimeout);

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
            exportTimeoutSeconds: exportTimeout.toSeconds(),
            groups: this.protectedGroups.map((p) => p.config),
          }),
        }),
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      },
    });
    this.reconciler = this.fn;
    props.exportBucket.grantExport(this.fn);
    props.exportBucket.grantRead(this.fn);

    // DescribeSnapshots and DescribeReplicationGroups are list/describe calls that the reconciler makes with filters
    // (ReplicationGroupId); they are granted on '*' as in AWS's own export policy, since a resource-scoped grant would
    // not cover the listing.
    this.fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DescribeBackups',
      actions: ['elasticache:DescribeSnapshots', 'elasticache:DescribeReplicationGroups'],
      resources: ['*'],
    }));
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'elasticache:DescribeSnapshots and elasticache:DescribeReplicationGroups are list calls made with a ReplicationGroupId filter; '
        + 'granted on * as in AWS\'s documented export policy',
    });

    // Schedule and events: all invoke the same function.
    const target = new targets.LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) });
    new events.Rule(this, 'Schedule', {
      description: 'cdk-elasticache-backup: reconcile the backup plan',
      schedule: events.Schedule.rate(reconcileInterval),
      targets: [target],
    });
    new events.Rule(this, 'SnapshotEvents', {
      description: 'cdk-elasticache-backup: ElastiCache snapshot events wake the backup plan',
      eventPattern: {
        source: ['aws.elasticache'],
        detailType: ['Snapshot Created', 'Snapshot Creation Failed', 'Snapshot Export Failed'],
      },
      targets: [target],
    });
    new events.Rule(this, 'ExportObjectEvents', {
      description: 'cdk-elasticache-backup: an exported .rdb arrived: commit its manifest',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.exportBucket.bucket.bucketName] },
          object: { key: [{ suffix: '.rdb' }] },
        },
      },
      targets: [target],
    });

    // Alarms.
    this.alarmTopic = props.alarmTopic ?? this.defineTopic();
    const action = new cwActions.SnsAction(this.alarmTopic);
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ReconcilerErrors', {
      alarmDescription: 'cdk-elasticache-backup: the backup plan reconciler failed',
      metric: this.fn.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm.addAlarmAction(action);
    const dlqAlarm = new cloudwatch.Alarm(this, 'DeadLetters', {
      alarmDescription: 'cdk-elasticache-backup: reconciler invocations failed and were dead-lettered',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(15), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    dlqAlarm.addAlarmAction(action);
    acknowledgeCompliance(this.fn, deadLetterQueue, { inVpc: !!props.vpc, logsEncrypted: !!props.logEncryptionKey, logGroup });

    for (const g of props.groups ?? []) {
      this.protect(g.replicationGroup, g);
    }
  }

  /**
   * Protects a replication group with this plan.
   *
   * @param group the replication group (defined in this app or imported)
   * @param options how to protect it
   */
  public protect(group: IReplicationGroup, options: ProtectionOptions = {}): void {
    const id = group.replicationGroupId;
    const label = Token.isUnresolved(id) ? group.node.path : id;
    const config = this.validateProtection(group, label, options);
    this.protectedGroups.push({ group, config, label });
    this.grantFor(group);
    this.alarmsFor(group, label, config);
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

  private metric(name: string, replicationGroupId: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [GROUP_DIMENSION]: replicationGroupId },
      period: Duration.minutes(5),
      ...options,
    });
  }

  private defineTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ElastiCache backup plan alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    return topic;
  }

  private validatePlanProps(reconcileInterval: Duration, exportTimeout: Duration): void {
    if (!reconcileInterval.isUnresolved()) {
      const s = reconcileInterval.toSeconds();
      if (s % 60 !== 0 || s < 60 || s > 3600) {
        throw new ValidationError(this, `'reconcileInterval' must be a whole number of minutes between 1 and 60, got ${reconcileInterval.toHumanString()}`);
      }
    }
    if (!exportTimeout.isUnresolved()) {
      const s = exportTimeout.toSeconds();
      if (s < 600 || s > 12 * 3600) {
        throw new ValidationError(this, `'exportTimeout' must be between 10 minutes and 12 hours, got ${exportTimeout.toHumanString()}`);
      }
    }
  }

  private validateProtection(group: IReplicationGroup, label: string, o: ProtectionOptions): GroupConfig {
    for (const p of this.protectedGroups) {
      if (p.group === group || (!Token.isUnresolved(group.replicationGroupId) && p.group.replicationGroupId === group.replicationGroupId)) {
        throw new ValidationError(this, `replication group ${describeValue(label)} is already protected by this plan; protect each group once`);
      }
    }
    const concrete = (d: Duration | undefined) => d !== undefined && !d.isUnresolved();
    if (concrete(o.interval)) {
      const minutes = o.interval!.toSeconds() / 60;
      if (minutes < MIN_INTERVAL_MINUTES) {
        throw new ValidationError(this, `'interval' of replication group ${describeValue(label)} must be at least ${MIN_INTERVAL_MINUTES} minutes `
          + `(ElastiCache allows 20 manual backups per node per 24 hours), got ${o.interval!.toHumanString()}`);
      }
    }
    if (concrete(o.manualBackupRetention)) {
      const s = o.manualBackupRetention!.toSeconds();
      if (s % 86_400 !== 0 || s < 86_400) {
        throw new ValidationError(this, `'manualBackupRetention' of replication group ${describeValue(label)} must be a whole number of days, `
          + `at least 1, got ${o.manualBackupRetention!.toHumanString()}`);
      }
    }
    if (concrete(o.rpoTarget) && concrete(o.interval) && o.rpoTarget!.toSeconds() <= o.interval!.toSeconds()) {
      throw new ValidationError(this, `'rpoTarget' of replication group ${describeValue(label)} must be longer than 'interval' `
        + `(${o.interval!.toHumanString()}): a backup is at least one interval old before it is exported, got ${o.rpoTarget!.toHumanString()}`);
    }
    if (o.interval === undefined && o.exportAutomatedBackups === false) {
      throw new ValidationError(this, `replication group ${describeValue(label)} has nothing to export: set 'interval', or leave 'exportAutomatedBackups' on`);
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

  private grantFor(group: IReplicationGroup): void {
    const stack = Stack.of(this);
    const id = group.replicationGroupId;
    const arn = (resource: string, resourceName: string) => stack.formatArn({
      service: 'elasticache', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const planSnapshots = arn('snapshot', `${id}-plan-*`);
    const groupSnapshots = arn('snapshot', `${id}-*`);
    const automatedSnapshots = arn('snapshot', `automatic.${id}-*`);
    const members = arn('cluster', `${id}-*`);
    const statements = [
      new iam.PolicyStatement({
        // Backups from a replica member (cluster mode disabled) or from the group (cluster mode enabled), named <group>-plan-<time>.
        actions: ['elasticache:CreateSnapshot'],
        resources: [group.replicationGroupArn, members, planSnapshots],
      }),
      new iam.PolicyStatement({
        // CreateSnapshot with Tags: the plan's tag marks the backups it may delete.
        actions: ['elasticache:AddTagsToResource'],
        resources: [planSnapshots],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [PLAN_TAG_KEY] } },
      }),
      new iam.PolicyStatement({
        // Export: the source is one of the group's backups, the target name is <group>-<time>[-aN].
        actions: ['elasticache:CopySnapshot'],
        resources: [groupSnapshots, automatedSnapshots],
      }),
      new iam.PolicyStatement({
        // Read the tag before deleting (the reconciler double-checks it).
        actions: ['elasticache:ListTagsForResource'],
        resources: [planSnapshots],
      }),
      new iam.PolicyStatement({
        // Prune: only backups this plan created and tagged.
        actions: ['elasticache:DeleteSnapshot'],
        resources: [planSnapshots],
        conditions: { StringEquals: { [`aws:ResourceTag/${PLAN_TAG_KEY}`]: this.planId } },
      }),
    ];
    for (const s of statements) {
      this.fn.addToRolePolicy(s);
    }
    for (const resource of [planSnapshots, groupSnapshots, automatedSnapshots, members]) {
      Validations.of(this.fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagFlatten(stack, resource)}]`, reason: ACK_REASON_SNAPSHOTS });
    }
  }

  private alarmsFor(group: IReplicationGroup, label: string, config: GroupConfig): void {
    const scope = new Construct(this, `Alarms${this.protectedGroups.length}`);
    const action = new cwActions.SnsAction(this.alarmTopic);
    const rpo = new cloudwatch.Alarm(scope, 'ExportAge', {
      alarmDescription: `cdk-elasticache-backup: the newest export of ${label} is older than its RPO target (${config.rpoTargetSeconds} s)`,
      metric: this.metricExportAge(group.replicationGroupId),
      threshold: config.rpoTargetSeconds,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means the reconciler is not reporting: that is as bad as an old export.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    rpo.addAlarmAction(action);
    const failures = new cloudwatch.Alarm(scope, 'Failures', {
      alarmDescription: `cdk-elasticache-backup: a backup or export of ${label} failed`,
      metric: this.metricFailures(group.replicationGroupId, { period: Duration.minutes(15) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    failures.addAlarmAction(action);
  }
}

/** How cdk-nag renders a (possibly tokenized) resource ARN in a finding id. */
function nagFlatten(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) {
      return '';
    }
    if (typeof node === 'string') {
      return node.replace(/\${/g, '<').replace(/}/g, '>');
    }
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::Sub']) {
      return visit(n['Fn::Sub']);
    }
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Fn::ImportValue']) {
      return visit(n['Fn::ImportValue']);
    }
    if (n.Ref) {
      return `<${visit(n.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/** Compliance-pack findings on the reconciler that are by design, with the reason. */
function acknowledgeCompliance(fn: IConstruct, dlq: IConstruct, o: { inVpc: boolean; logsEncrypted: boolean; logGroup: IConstruct }): void {
  const ack = (c: IConstruct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason });
  ack(dlq, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the reconciler function');
  ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
  ack(fn, 'AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 22), matching the bundle target');
  for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
    ack(fn, id, 'The role belongs to this one function; every protected group adds statements scoped to its own snapshots, '
      + 'and CDK renders grants as the role\'s own policy');
  }
  if (!o.inVpc) {
    const reason = 'The reconciler only calls the ElastiCache and S3 APIs and reads no cache data; pass `vpc` to run it in one';
    for (const id of ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC']) {
      ack(fn, id, reason);
    }
  }
  if (!o.logsEncrypted) {
    for (const id of ['HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', 'PCI.DSS.321-CloudWatchLogGroupEncrypted']) {
      ack(o.logGroup, id, 'The log holds backup names, object keys and counts, no cache data; CloudWatch Logs encrypts it at rest. '
        + 'Pass `logEncryptionKey` for a customer managed key');
    }
  }
}
