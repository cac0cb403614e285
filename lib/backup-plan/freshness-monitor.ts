import { Annotations, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
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
import { nagFlatten } from './plan-grants';
import { PlanProtection, planProtections } from '../private/app-registry';
import { describeValue, ValidationError } from '../private/errors';
import { validateReplicationGroupId } from '../private/replication-group-id';
import { BackupReplicaBucket } from '../storage/replica-bucket';

/**
 * Properties of a `BackupFreshnessMonitor`.
 */
export interface BackupFreshnessMonitorProps {
  /**
   * The replica bucket that the exports are replicated to. It must be in this stack's region and account (a synth
   * error otherwise): the monitor measures what ElastiCache there could restore. It may be in another stack.
   */
  readonly replicaBucket: BackupReplicaBucket;

  /** Ids of the replication groups whose backups to watch (checked with the `ReplicationGroup` id rule). */
  readonly replicationGroupIds: string[];

  /**
   * Alarm when the newest complete backup in the replica bucket is older than this: the RPO a disaster would see.
   * Warns (`cdk-elasticache-backup:BackupFreshnessMonitor:maxAgeBelowPlan`) when a `BackupPlan` of the app that
   * replicates to this bucket takes backups of a group less often than `maxAge` minus `checkInterval`.
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
  /** The replication groups whose exports the monitor measures. */
  public readonly replicationGroupIds: string[];

  constructor(scope: Construct, id: string, props: BackupFreshnessMonitorProps) {
    super(scope, id);
    this.replicationGroupIds = [...props.replicationGroupIds];
    const maxAge = props.maxAge ?? Duration.hours(3);
    const checkInterval = props.checkInterval ?? Duration.minutes(5);
    if (props.replicationGroupIds.length === 0) {
      throw new ValidationError(this, '\'replicationGroupIds\' must name at least one replication group, got []');
    }
    requireMonitorWithBucket(this, props.replicaBucket);
    const seen = new Set<string>();
    for (const [i, g] of props.replicationGroupIds.entries()) {
      validateReplicationGroupId(this, 'BackupFreshnessMonitor', `replicationGroupIds[${i}]`, g);
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
    acknowledgeCrossStackRead(fn, props.replicaBucket);
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

    this.node.addValidation({ validate: () => warnMaxAgeBelowPlans(this, props.replicaBucket, props.replicationGroupIds, maxAge, checkInterval) });

    const ack = (rule: string, reason: string) => Validations.of(this).acknowledge({ id: rule, reason });
    ack('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
    ack('AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 24), matching the bundle target');
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

/**
 * The monitor measures what ElastiCache in the replica bucket's region could restore: ElastiCache seeds a new cluster
 * only from a bucket of its own region, and the monitor's S3 client and its metrics and alarms are regional.
 */
function requireMonitorWithBucket(monitor: Construct, bucket: BackupReplicaBucket): void {
  const here = Stack.of(monitor);
  const differ = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differ(here.region, bucket.region)) {
    throw new ValidationError(monitor, `BackupFreshnessMonitor property 'replicaBucket' is the bucket ${bucket.node.path} in ${bucket.region}, but `
      + `the monitor is in ${here.region}; the monitor measures what ElastiCache could restore from that bucket, and ElastiCache seeds a `
      + 'new cluster only from a bucket of its own region (the monitor\'s alarms belong with the restore): define the monitor in a stack '
      + `of ${bucket.region}, next to the replica bucket`);
  }
  if (differ(here.account, bucket.account)) {
    throw new ValidationError(monitor, `BackupFreshnessMonitor property 'replicaBucket' is the bucket ${bucket.node.path} in account `
      + `${bucket.account}, but the monitor is in account ${here.account}; the monitor reads the bucket with its role's own policy, `
      + `which reaches only buckets of its account: define the monitor in a stack of account ${bucket.account}`);
  }
}

/**
 * In another stack than the bucket, the read grant names the bucket through an import whose name aws-cdk-lib
 * generates, and cdk-nag's AwsSolutions-IAM5 finding id contains it. The reference is rendered only once the app is
 * prepared, so the acknowledgement is added then, on the function (a stable place the user never has to name).
 */
function acknowledgeCrossStackRead(fn: lambda.Function, bucket: BackupReplicaBucket): void {
  const stack = Stack.of(fn);
  if (Stack.of(bucket) === stack) {
    return;
  }
  fn.node.addValidation({
    validate: () => {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagFlatten(stack, bucket.bucket.arnForObjects('*'))}]`,
        reason: 'Backups are .rdb objects and manifests whose keys are chosen at run time; the monitor reads every object of this one '
          + 'replica bucket (defined in another stack, so its ARN is imported)',
      });
      return [];
    },
  });
}

/** What the plans of the app can achieve for a group, as a worst-case age of its newest backup when all goes well. */
function achievableAgeSeconds(p: PlanProtection): { seconds: number; cadence: string } {
  if (p.intervalSeconds !== undefined) {
    return { seconds: p.intervalSeconds, cadence: `a backup every ${Duration.seconds(p.intervalSeconds).toHumanString()} ('interval')` };
  }
  return { seconds: 86_400, cadence: 'one backup a day (the automatic backup; no \'interval\')' };
}

/**
 * Issue 12: a `maxAge` below what the plan can achieve makes the alarm fire on every cycle even when everything
 * works. The plans are found through the app registry: those whose export bucket replicates to this replica bucket.
 * Run at synth (after every plan has protected its groups); adds warnings, never errors.
 */
function warnMaxAgeBelowPlans(
  monitor: BackupFreshnessMonitor, replica: BackupReplicaBucket, groupIds: readonly string[], maxAge: Duration, checkInterval: Duration,
): string[] {
  if (maxAge.isUnresolved() || checkInterval.isUnresolved()) {
    return [];
  }
  for (const p of planProtections(monitor)) {
    const replicas = (p.exportBucket as { replicas?: readonly unknown[] }).replicas ?? [];
    if (!groupIds.includes(p.replicationGroupId) || !replicas.includes(replica)) {
      continue;
    }
    const { seconds, cadence } = achievableAgeSeconds(p);
    const floor = seconds + checkInterval.toSeconds();
    if (maxAge.toSeconds() >= floor) {
      continue;
    }
    Annotations.of(monitor).addWarningV2('cdk-elasticache-backup:BackupFreshnessMonitor:maxAgeBelowPlan',
      `'maxAge' is ${maxAge.toHumanString()}, but the BackupPlan ${p.plan.node.path} takes ${cadence} of replication group `
      + `${describeValue(p.replicationGroupId)}: the newest backup in the replica bucket is up to ${Duration.seconds(floor).toHumanString()} old `
      + '(that plus \'checkInterval\', before any export and replication time) even when everything works, so the alarm would fire on '
      + `every cycle. Set maxAge to more than ${Duration.seconds(floor).toHumanString()}, shorten the plan's interval, or acknowledge this warning`);
  }
  return [];
}
