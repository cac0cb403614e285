import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV_FRESHNESS_CONFIG, GROUP_DIMENSION, METRIC_NAMESPACE, METRIC_REPLICA_BACKUP_AGE, METRIC_REPLICA_UNUSABLE_MANIFESTS } from './constants';
import { FreshnessFunction } from './freshness-function';
import { describeValue, ValidationError } from '../private/errors';
import { BackupReplicaBucket } from '../storage/replica-bucket';

/**
 * Properties of a `BackupFreshnessMonitor`.
 */
export interface BackupFreshnessMonitorProps {
  /** The replica bucket (in this stack's region) that the exports are replicated to. */
  readonly replicaBucket: BackupReplicaBucket;

  /** Ids of the replication groups whose backups to watch. */
  readonly replicationGroupIds: string[];

  /**
   * Alarm when the newest complete backup in the replica bucket is older than this: the RPO a disaster would see.
   *
   * @default Duration.hours(3)
   */
  readonly maxAge?: Duration;

  /**
   * How often to measure.
   *
   * @default Duration.minutes(5)
   */
  readonly checkInterval?: Duration;

  /**
   * Topic for the alarms.
   *
   * @default - a topic is defined, encrypted with the AWS managed key `alias/aws/sns`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of the monitor's logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Watches, in the DR region, how old the newest restorable backup of each replication group is.
 *
 * A scheduled function finds the newest export per group in the replica bucket that could be restored now: its
 * manifest is verified, stored under the key its content names and not dated in the future, and every `.rdb` object
 * it lists has arrived and is still the version that was verified, with the same size. It publishes that export's
 * age, measured from its snapshot time, as `ReplicaBackupAgeSeconds` (namespace `ElastiCacheBackup`, dimension
 * `ReplicationGroupId`); an alarm per group fires above `maxAge`, or when no age is published at all. Newer manifests
 * that fail a check are logged with the reason and counted in `ReplicaUnusableManifests`.
 *
 * @example
 * declare const replica: BackupReplicaBucket;
 * new BackupFreshnessMonitor(this, 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
 */
export class BackupFreshnessMonitor extends Construct {
  /** The topic the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** The alarms, one per replication group, in the order of `replicationGroupIds`. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The measuring function. */
  public readonly monitorFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: BackupFreshnessMonitorProps) {
    super(scope, id);
    const maxAge = props.maxAge ?? Duration.hours(3);
    const checkInterval = props.checkInterval ?? Duration.minutes(5);
    if (props.replicationGroupIds.length === 0) {
      throw new ValidationError(this, '\'replicationGroupIds\' must name at least one replication group, got []');
    }
    const seen = new Set<string>();
    for (const g of props.replicationGroupIds) {
      if (seen.has(g)) {
        throw new ValidationError(this, `'replicationGroupIds' lists ${describeValue(g)} twice`);
      }
      seen.add(g);
    }
    if (!checkInterval.isUnresolved() && (checkInterval.toSeconds() % 60 !== 0 || checkInterval.toSeconds() < 60)) {
      throw new ValidationError(this, `'checkInterval' must be a whole number of minutes, at least 1, got ${checkInterval.toHumanString()}`);
    }
    if (!maxAge.isUnresolved() && !checkInterval.isUnresolved() && maxAge.toSeconds() <= checkInterval.toSeconds()) {
      throw new ValidationError(this, `'maxAge' must be longer than 'checkInterval' (${checkInterval.toHumanString()}), got ${maxAge.toHumanString()}`);
    }

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR });
    const fn = new FreshnessFunction(this, 'Function', {
      description: 'cdk-elasticache-backup: age of the newest restorable backup in the replica bucket',
      timeout: Duration.minutes(1),
      reservedConcurrentExecutions: 1,
      logGroup,
      environment: {
        [ENV_FRESHNESS_CONFIG]: Stack.of(this).toJsonString({
          bucketName: props.replicaBucket.bucket.bucketName,
          replicationGroupIds: props.replicationGroupIds,
        }),
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      },
    });
    this.monitorFunction = fn;
    props.replicaBucket.grantRead(fn);
    new events.Rule(this, 'Schedule', {
      description: 'cdk-elasticache-backup: measure the age of the newest restorable backup',
      schedule: events.Schedule.rate(checkInterval),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });

    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ElastiCache DR backup freshness alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    const action = new cwActions.SnsAction(this.alarmTopic);
    props.replicationGroupIds.forEach((group, i) => {
      const alarm = new cloudwatch.Alarm(this, `Alarm${i}`, {
        alarmDescription: `cdk-elasticache-backup: the newest restorable backup of ${group} in the DR region is older than ${maxAge.toHumanString()}`,
        metric: this.metricReplicaBackupAge(group, { period: checkInterval }),
        threshold: maxAge.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    });

    const ack = (rule: string, reason: string) => Validations.of(this).acknowledge({ id: rule, reason });
    ack('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
    ack('AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 22), matching the bundle target');
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      ack(`${pack}-IAMNoInlinePolicy`, 'The role belongs to this one function and only reads the replica bucket; CDK renders grants as the role\'s own policy');
      ack(`${pack}-LambdaInsideVPC`, 'The monitor only calls the S3 API and reads manifests, no cache data');
      ack(`${pack}-LambdaDLQ`, 'A scheduled measurement: a failed run is replaced by the next one, and missing data fires the alarm');
      ack(`${pack}-CloudWatchLogGroupEncrypted`, 'The log holds manifest keys and ages, no cache data; CloudWatch Logs encrypts it at rest');
    }
  }

  /**
   * Manifests of a group in the replica bucket, newer than the restorable one, that cannot be restored: unverified,
   * stored under a key that does not match their content, dated in the future, or whose objects were deleted,
   * overwritten or changed in size (objects still arriving by replication count only after an hour).
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricUnusableManifests(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC_REPLICA_UNUSABLE_MANIFESTS,
      dimensionsMap: { [GROUP_DIMENSION]: replicationGroupId },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...options,
    });
  }

  /**
   * Age of the newest restorable backup of a group in the replica bucket, in seconds.
   *
   * @default - statistic Maximum, period 5 minutes
   */
  public metricReplicaBackupAge(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC_REPLICA_BACKUP_AGE,
      dimensionsMap: { [GROUP_DIMENSION]: replicationGroupId },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...options,
    });
  }
}
