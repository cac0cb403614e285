import { ArnFormat, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DRILL_GROUP_DIMENSION, DRILL_GROUP_PREFIX, DRILL_METRIC_NAMESPACE, DRILL_REPORT_ROOT, DRILL_SOURCE_TAG_KEY, DRILL_TAG_KEY,
  DrillConfig, ENV_DRILL_CONFIG,
  METRIC_DRILL_AGE, METRIC_DRILL_DURATION, METRIC_DRILL_KEYS_RATIO, METRIC_DRILL_SUCCEEDED, METRIC_LAST_DRILL_SUCCEEDED,
} from './drill-constants';
import { nodeTypesUpTo } from './drill-plan';
import { DRILL_PORT, drillDefinition } from './drill-state-machine';
import { DrillStepsFunction } from './drill-steps-function';
import { VerifyKeyspaceFunction } from './verify-keyspace-function';
import { manifestPrefix } from '../manifest/manifest';
import { planNamePrefix } from '../manifest/names';
import { replicationGroupIdProblems } from '../private/cache-rules';
import { describeValue, ValidationError } from '../private/errors';
import { nagRendering } from '../private/nag-rendering';
import { nodeMemoryGiB } from '../private/node-memory';

/**
 * A replication group a `RestoreDrill` restores.
 */
export interface RestoreDrillGroup {
  /** Id of the backed-up replication group (the folder of its manifests in the replica bucket). */
  readonly replicationGroupId: string;

  /**
   * Node type of the temporary group. The restore preflight's size check must pass with it (the data must fit), and
   * it may not be larger than the drill's `maxNodeType`.
   *
   * @default - the source's node type, as recorded in the export's manifest
   */
  readonly nodeType?: string;
}

/**
 * Properties of a `RestoreDrill`.
 */
export interface RestoreDrillProps {
  /**
   * The bucket holding the exports in this stack's region (typically `BackupReplicaBucket.bucket`). Drill reports are
   * written under `drills/` in it.
   */
  readonly replicaBucket: s3.IBucket;

  /** The replication groups to drill; each drill restores the newest verified export of one group. */
  readonly groups: RestoreDrillGroup[];

  /** The VPC the temporary groups and the verifier run in. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the temporary groups and the verifier (no internet access needed).
   *
   * @default - the VPC's private subnets (isolated ones when there are no private subnets with egress)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * When drills run (one execution per group). The state machine can also be started by hand with
   * `{"replicationGroupId": "<group>"}`.
   *
   * @default events.Schedule.rate(Duration.days(7))
   */
  readonly schedule?: events.Schedule;

  /**
   * The alarm fires when a group's newest drill is older than this (or failed).
   *
   * @default - twice the schedule's rate; required when `schedule` is a cron expression
   */
  readonly maxDrillAge?: Duration;

  /**
   * The largest node type a drill may create (compared by memory). A drill whose node type is larger is refused before
   * anything is created; IAM allows only node types up to this one.
   *
   * @default 'cache.r7g.xlarge'
   */
  readonly maxNodeType?: string;

  /**
   * How long a drill may run from its start to the end of the data check. Waiting for `available` stops 15 minutes
   * before it; the cleanup runs after it (the state machine's timeout leaves 90 minutes for the cleanup).
   *
   * @default Duration.hours(2)
   */
  readonly maxDuration?: Duration;

  /**
   * Time between two checks of the temporary group's status.
   *
   * @default Duration.minutes(1)
   */
  readonly pollInterval?: Duration;

  /**
   * Keys whose type the verifier samples (`RANDOMKEY` + `TYPE`) and compares with the manifest.
   *
   * @default 0
   */
  readonly sampleKeys?: number;

  /**
   * Topic for the alarms.
   *
   * @default - a topic is defined, encrypted with the AWS managed key `alias/aws/sns`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of the drill's logs (state machine and functions).
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

const DEFAULT_MAX_NODE_TYPE = 'cache.r7g.xlarge';
/** Budget of the verifier (connect, INFO, CLUSTER, samples). */
const VERIFIER_TIMEOUT = Duration.minutes(2);
/** Time the state machine keeps after `maxDuration` for the cleanup (delete retries while a group is still creating). */
const CLEANUP_BUDGET = Duration.minutes(90);
/** The wait for `available` stops this long before `maxDuration` (the data check and the resolve step fit in it). */
const CHECK_BUDGET = Duration.minutes(15);

/**
 * Proves on a schedule that the newest backup of each group restores in this (DR) region, and measures how long it
 * takes.
 *
 * A Step Functions state machine, per group: resolves the newest verified export in the replica bucket and runs the
 * restore preflight's checks on it; creates a temporary replication group (`ceb-drill-<hash>`, tagged with the drill's
 * id, one node per shard, the source's engine, version and shard count, encrypted at rest and in transit, with a
 * generated AUTH token) seeded from the export's `.rdb` objects; waits for it to become available (the RTO of a restore
 * of this size); checks its keys against the manifest with a verifier function in the VPC (the only client its
 * security group admits); deletes it, always, even after a failure or a timeout; and writes a report to
 * `drills/<group>/<time>.json` in the replica bucket. Metrics `RestoreDrillSucceeded`, `RestoreDurationSeconds` and
 * `RestoredKeysRatio` (namespace `ElastiCacheBackup`, dimension `ReplicationGroupId`); an alarm per group when the
 * newest drill failed or is older than `maxDrillAge`.
 *
 * The state machine's role can create only groups named `ceb-drill-*` with the drill's tag, encryption and an AUTH
 * token, and delete only groups carrying the drill's tag: never the source group.
 *
 * @example
 * declare const replica: BackupReplicaBucket;
 * declare const vpc: ec2.IVpc;
 * new RestoreDrill(this, 'Drill', { replicaBucket: replica.bucket, vpc, groups: [{ replicationGroupId: 'orders' }] });
 */
export class RestoreDrill extends Construct {
  /** The drill's state machine; start it with `{"replicationGroupId": "<group>"}` for a drill on demand. */
  public readonly stateMachine: sfn.StateMachine;
  /** The topic the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** The alarms, one per group, in the order of `groups`. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The security group of the temporary groups (admits only the verifier). */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The value of the `cdk-elasticache-backup:drill` tag on every resource this drill creates. */
  public readonly drillId: string;
  /** The replication groups this construct drills. */
  public readonly replicationGroupIds: string[];

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    this.replicationGroupIds = props.groups.map((g) => g.replicationGroupId);
    const settings = validateProps(this, props);
    this.drillId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).toLowerCase();
    const stack = Stack.of(this);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const subnets = props.vpcSubnets ?? { subnets: props.vpc.privateSubnets.length > 0 ? props.vpc.privateSubnets : props.vpc.isolatedSubnets };

    const { verifierSg, drillSg, subnetGroup } = this.defineNetwork(props.vpc, subnets);
    this.securityGroup = drillSg;
    const verifier = new VerifyKeyspaceFunction(this, 'Verifier', {
      description: 'cdk-elasticache-backup: checks the keys of a restore drill group against the export manifest',
      vpc: props.vpc,
      vpcSubnets: subnets,
      securityGroups: [verifierSg],
      timeout: VERIFIER_TIMEOUT,
      memorySize: 256,
      reservedConcurrentExecutions: 2,
      logGroup: new logs.LogGroup(this, 'VerifierLogs', { retention: logRetention }),
    });
    const config: DrillConfig = {
      bucket: props.replicaBucket.bucketName,
      partition: stack.partition,
      region: stack.region,
      drillId: this.drillId,
      groups: props.groups.map((g) => ({ replicationGroupId: g.replicationGroupId, nodeType: g.nodeType })),
      maxNodeType: settings.maxNodeType,
      pollIntervalSeconds: settings.pollInterval.toSeconds(),
      maxWaitSeconds: settings.maxDuration.toSeconds() - CHECK_BUDGET.toSeconds(),
      executionTimeoutSeconds: settings.maxDuration.plus(CLEANUP_BUDGET).toSeconds(),
      scheduleSeconds: settings.maxDrillAge.toSeconds() / 2,
      sampleKeys: props.sampleKeys ?? 0,
    };
    const steps = new DrillStepsFunction(this, 'Steps', {
      description: 'cdk-elasticache-backup: restore drill steps (resolve the export, summarize, status)',
      timeout: Duration.minutes(5),
      memorySize: 512,
      reservedConcurrentExecutions: 5,
      logGroup: new logs.LogGroup(this, 'StepsLogs', { retention: logRetention }),
      environment: { [ENV_DRILL_CONFIG]: stack.toJsonString(config) },
    });
    this.grantStepsFunction(steps, props);

    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('states.amazonaws.com'), description: 'cdk-elasticache-backup restore drill state machine' });
    const definition = drillDefinition(this, {
      stepsFunction: steps,
      verifierFunction: verifier,
      verifierTimeout: VERIFIER_TIMEOUT,
      replicaBucket: props.replicaBucket,
      drillId: this.drillId,
      subnetGroupName: subnetGroup.ref,
      securityGroupId: drillSg.securityGroupId,
      pollInterval: settings.pollInterval,
      stepTimeout: Duration.minutes(5),
    });
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention });
    // The role is passed without policy updates, so the tasks' default statements (without tag conditions) are
    // dropped: every permission of the state machine is the one written in `grantStateMachine`.
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: role.withoutPolicyUpdates(),
      timeout: settings.maxDuration.plus(CLEANUP_BUDGET),
      tracingEnabled: true,
      // The execution data holds the drill group's AUTH token: keep it out of the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'cdk-elasticache-backup restore drill: restore the newest verified export, check it, measure the RTO, clean up',
    });
    this.grantStateMachine(role, props, subnetGroup, settings.maxNodeType, [steps, verifier]);

    props.groups.forEach((g, i) => {
      new events.Rule(this, `Schedule${i}`, {
        description: `cdk-elasticache-backup: restore drill of ${g.replicationGroupId}`,
        schedule: settings.schedule,
        targets: [new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ replicationGroupId: g.replicationGroupId }), retryAttempts: 2,
        })],
      });
    });
    new events.Rule(this, 'StatusSchedule', {
      description: 'cdk-elasticache-backup: publish the age and verdict of the newest restore drill per group',
      schedule: events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(steps, { event: events.RuleTargetInput.fromObject({ action: 'status' }), retryAttempts: 2 })],
    });

    this.alarmTopic = props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ElastiCache restore drill alarms', masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'), enforceSSL: true,
    });
    this.defineAlarms(props.groups, settings.maxDrillAge);
    acknowledgeFindings(this, steps);
  }

  /** The verifier's and the drill groups' security groups (the groups admit only the verifier) and the subnet group. */
  private defineNetwork(vpc: ec2.IVpc, subnets: ec2.SubnetSelection) {
    const verifierSg = new ec2.SecurityGroup(this, 'VerifierSecurityGroup', {
      vpc: vpc, allowAllOutbound: false, description: 'cdk-elasticache-backup restore drill verifier (connects only to the drill groups)',
    });
    const drillSg = new ec2.SecurityGroup(this, 'DrillGroupSecurityGroup', {
      vpc: vpc, allowAllOutbound: false, description: 'cdk-elasticache-backup restore drill groups (admits only the verifier)',
    });
    drillSg.addIngressRule(verifierSg, ec2.Port.tcp(DRILL_PORT), 'the drill verifier');
    verifierSg.addEgressRule(drillSg, ec2.Port.tcp(DRILL_PORT), 'the drill groups');
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'cdk-elasticache-backup restore drill groups',
      subnetIds: vpc.selectSubnets(subnets).subnetIds,
    });

    return { verifierSg, drillSg, subnetGroup };
  }

  /** Newest drill of a group: age in seconds (published every 6 hours). @default - statistic Maximum, period 1 day */
  public metricDrillAge(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_DRILL_AGE, replicationGroupId, 'Maximum', options);
  }

  /** 1 when the newest drill of a group passed, else 0 (published every 6 hours). @default - statistic Minimum, period 1 day */
  public metricLastDrillSucceeded(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_LAST_DRILL_SUCCEEDED, replicationGroupId, 'Minimum', options);
  }

  /** 1 per passed drill, 0 per failed one. @default - statistic Minimum, period 1 day */
  public metricDrillSucceeded(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_DRILL_SUCCEEDED, replicationGroupId, 'Minimum', options);
  }

  /** Seconds from CreateReplicationGroup to `available` (the measured RTO). @default - statistic Maximum, period 1 day */
  public metricRestoreDuration(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_DRILL_DURATION, replicationGroupId, 'Maximum', options);
  }

  /** Keys found / keys expected. @default - statistic Minimum, period 1 day */
  public metricRestoredKeysRatio(replicationGroupId: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(METRIC_DRILL_KEYS_RATIO, replicationGroupId, 'Minimum', options);
  }

  private metric(name: string, replicationGroupId: string, statistic: string, options: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DRILL_METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [DRILL_GROUP_DIMENSION]: replicationGroupId },
      statistic,
      period: Duration.days(1),
      ...options,
    });
  }

  /** One alarm per group: the newest drill failed, is older than `maxDrillAge`, or no status was published. */
  private defineAlarms(groups: RestoreDrillGroup[], maxDrillAge: Duration): void {
    const action = new cwActions.SnsAction(this.alarmTopic);
    groups.forEach((g, i) => {
      const alarm = new cloudwatch.Alarm(this, `Alarm${i}`, {
        alarmDescription: `cdk-elasticache-backup: the newest restore drill of ${g.replicationGroupId} failed, is older than ${maxDrillAge.toHumanString()}, or no drill has run yet`,
        metric: new cloudwatch.MathExpression({
          expression: `IF(age > ${maxDrillAge.toSeconds()} || last < 1, 1, 0)`,
          usingMetrics: { age: this.metricDrillAge(g.replicationGroupId), last: this.metricLastDrillSucceeded(g.replicationGroupId) },
          period: Duration.days(1),
          label: `restore drill of ${g.replicationGroupId} failed or overdue`,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    });
  }

  private grantStepsFunction(steps: lambda.Function, props: RestoreDrillProps): void {
    const bucket = props.replicaBucket;
    const add = (s: iam.PolicyStatementProps) => {
      steps.addToRolePolicy(new iam.PolicyStatement(s));
      acknowledgeWildcards(steps.role!, s.resources ?? [], 'The step function reads the drilled groups\' manifests and export objects by prefix, the drill reports '
        + 'under drills/, and describes only ceb-drill-* groups');
    };
    add({ actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketPolicy'], resources: [bucket.bucketArn] });
    add({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [
        bucket.arnForObjects(`${DRILL_REPORT_ROOT}*`), ...props.groups.map((g) => bucket.arnForObjects(`${manifestPrefix(g.replicationGroupId)}*`)),
        ...props.groups.flatMap((g) => exportObjectPatterns(bucket, g.replicationGroupId)),
      ],
    });
    add({ actions: ['elasticache:DescribeReplicationGroups'], resources: [this.drillGroupArn()] });
  }

  private grantStateMachine(
    role: iam.Role, props: RestoreDrillProps, subnetGroup: elasticache.CfnSubnetGroup, maxNodeType: string, functions: lambda.IFunction[],
  ): void {
    const stack = Stack.of(this);
    const ecArn = (resource: string, name: string) => stack.formatArn({ service: 'elasticache', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const requestTag = { [`aws:RequestTag/${DRILL_TAG_KEY}`]: this.drillId };
    const add = (s: iam.PolicyStatementProps) => {
      role.addToPrincipalPolicy(new iam.PolicyStatement(s));
      acknowledgeWildcards(role, s.resources ?? [], `${s.sid}: ${WILDCARD_REASON}`);
    };
    add({ sid: 'InvokeDrillFunctions', actions: ['lambda:InvokeFunction'], resources: functions.flatMap((f) => [f.functionArn, `${f.functionArn}:*`]) });
    add({
      sid: 'CreateOnlyTaggedEncryptedDrillGroups',
      actions: ['elasticache:CreateReplicationGroup'],
      resources: [this.drillGroupArn()],
      conditions: {
        'StringEquals': { ...requestTag, 'elasticache:CacheNodeType': nodeTypesUpTo(maxNodeType) },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [DRILL_TAG_KEY, DRILL_SOURCE_TAG_KEY] },
        'Bool': { 'elasticache:TransitEncryptionEnabled': 'true', 'elasticache:AtRestEncryptionEnabled': 'true', 'elasticache:AuthTokenEnabled': 'true' },
      },
    });
    add({
      sid: 'TagOnlyWithTheDrillTag',
      actions: ['elasticache:AddTagsToResource'],
      resources: [this.drillGroupArn(), ecArn('cluster', `${DRILL_GROUP_PREFIX}*`)],
      conditions: { 'StringEquals': requestTag, 'ForAllValues:StringEquals': { 'aws:TagKeys': [DRILL_TAG_KEY, DRILL_SOURCE_TAG_KEY] } },
    });
    add({ sid: 'CreateOnlyTaggedDrillNodes', actions: ['elasticache:CreateReplicationGroup'], resources: [ecArn('cluster', `${DRILL_GROUP_PREFIX}*`)], conditions: { StringEquals: requestTag } });
    add({
      sid: 'CreateDrillGroupsInTheDrillSubnetsWithDefaultParameters',
      actions: ['elasticache:CreateReplicationGroup'],
      resources: [ecArn('subnetgroup', subnetGroup.ref), ecArn('parametergroup', 'default.*')],
    });
    add({ sid: 'WatchDrillGroups', actions: ['elasticache:DescribeReplicationGroups'], resources: [this.drillGroupArn()] });
    add({
      sid: 'DeleteOnlyTaggedDrillGroups',
      actions: ['elasticache:DeleteReplicationGroup'],
      resources: [this.drillGroupArn()],
      conditions: { StringEquals: { [`aws:ResourceTag/${DRILL_TAG_KEY}`]: this.drillId } },
    });
    // CreateReplicationGroup with SnapshotArns may check the caller's read access to the .rdb objects (service-behaviour #10).
    add({ sid: 'ReadExportsToSeed', actions: ['s3:GetObject'], resources: props.groups.flatMap((g) => exportObjectPatterns(props.replicaBucket, g.replicationGroupId)) });
    add({ sid: 'WriteDrillReports', actions: ['s3:PutObject'], resources: [props.replicaBucket.arnForObjects(`${DRILL_REPORT_ROOT}*`)] });
    // GetRandomPassword has no resource type; PutMetricData has none either, so it is limited by namespace.
    add({ sid: 'GenerateAuthTokens', actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] });
    add({ sid: 'PublishDrillMetrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': DRILL_METRIC_NAMESPACE } } });
    add({
      sid: 'DeliverLogsAndTraces',
      actions: [
        'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
        'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
        'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
      ],
      resources: ['*'],
    });
    this.stateMachine.node.addDependency(role);
  }

  private drillGroupArn(): string {
    return Stack.of(this).formatArn({ service: 'elasticache', resource: 'replicationgroup', resourceName: `${DRILL_GROUP_PREFIX}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }
}

const WILDCARD_REASON = 'drill groups are ceb-drill-* (created only with the drill tag, deleted only with it), their nodes ceb-drill-*, AWS default '
  + 'parameter groups default.*, the drilled groups\' export objects by prefix, reports under drills/, function versions; GetRandomPassword, '
  + 'PutMetricData (limited by namespace), log delivery and X-Ray have no resource type';


/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 for each wildcard resource granted to a role, once references are resolved
 * (a bucket from another stack becomes an import whose name CDK chooses while preparing the app).
 */
function acknowledgeWildcards(role: iam.IRole, resources: string[], reason: string): void {
  const construct = role as unknown as Construct;
  construct.node.addValidation({
    validate: () => {
      for (const resource of resources) {
        const rendered = nagRendering(Stack.of(construct).resolve(resource));
        if (rendered !== undefined && rendered.includes('*')) {
          Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
        }
      }
      return [];
    },
  });
}

/** The export objects of a group: named by the backup plan (`ceb-<hash>-*`) or by earlier versions (`<group>-*`). */
function exportObjectPatterns(bucket: s3.IBucket, replicationGroupId: string): string[] {
  return [bucket.arnForObjects(`${planNamePrefix(replicationGroupId)}*`), bucket.arnForObjects(`${replicationGroupId}-*`)];
}

interface DrillSettings {
  readonly schedule: events.Schedule;
  readonly maxDrillAge: Duration;
  readonly maxNodeType: string;
  readonly maxDuration: Duration;
  readonly pollInterval: Duration;
}

/** Every prop rule, checked before anything is defined; all problems are reported at once. */
function validateProps(scope: Construct, props: RestoreDrillProps): DrillSettings {
  const problems: string[] = [];
  if (props.groups.length === 0) {
    problems.push("'groups' must name at least one replication group, got []");
  }
  const seen = new Set<string>();
  props.groups.forEach((g, i) => {
    if (Token.isUnresolved(g.replicationGroupId)) {
      problems.push(`'groups[${i}].replicationGroupId' cannot be a deploy-time value: it names the manifest folder and the drill's schedule`);
      return;
    }
    const idProblems = replicationGroupIdProblems(g.replicationGroupId);
    if (idProblems.length > 0) {
      problems.push(`'groups[${i}].replicationGroupId' is invalid, got ${describeValue(g.replicationGroupId)}: it ${idProblems.join(', ')}`);
    }
    if (seen.has(g.replicationGroupId)) {
      problems.push(`'groups' lists ${describeValue(g.replicationGroupId)} twice`);
    }
    seen.add(g.replicationGroupId);
  });
  const maxNodeType = props.maxNodeType ?? DEFAULT_MAX_NODE_TYPE;
  const maxMemory = nodeMemoryGiB(maxNodeType);
  if (maxMemory === undefined) {
    problems.push(`'maxNodeType' must be a node type the library knows the memory of (for example 'cache.r7g.xlarge'), got ${describeValue(maxNodeType)}`);
  }
  props.groups.forEach((g, i) => {
    if (g.nodeType === undefined || maxMemory === undefined) {
      return;
    }
    const memory = nodeMemoryGiB(g.nodeType);
    if (memory === undefined) {
      problems.push(`'groups[${i}].nodeType' must be a node type the library knows the memory of, got ${describeValue(g.nodeType)}`);
    } else if (memory > maxMemory) {
      problems.push(`'groups[${i}].nodeType' ${g.nodeType} (${memory} GiB) is larger than 'maxNodeType' ${maxNodeType} (${maxMemory} GiB): raise maxNodeType or choose a smaller node type`);
    }
  });
  const maxDuration = props.maxDuration ?? Duration.hours(2);
  if (!maxDuration.isUnresolved() && (maxDuration.toMinutes({ integral: false }) < 30 || maxDuration.toHours({ integral: false }) > 12)) {
    problems.push(`'maxDuration' must be from 30 minutes to 12 hours, got ${maxDuration.toHumanString()}`);
  }
  const pollInterval = props.pollInterval ?? Duration.minutes(1);
  if (!pollInterval.isUnresolved() && (pollInterval.toSeconds() < 10 || pollInterval.toSeconds() > 900)) {
    problems.push(`'pollInterval' must be from 10 seconds to 15 minutes, got ${pollInterval.toHumanString()}`);
  }
  if (props.sampleKeys !== undefined && (!Number.isInteger(props.sampleKeys) || props.sampleKeys < 0 || props.sampleKeys > 1000)) {
    problems.push(`'sampleKeys' must be an integer from 0 to 1000, got ${describeValue(props.sampleKeys)}`);
  }
  const schedule = props.schedule ?? events.Schedule.rate(Duration.days(7));
  const rate = scheduleRate(schedule.expressionString);
  const maxDrillAge = props.maxDrillAge ?? (rate ? Duration.seconds(rate.toSeconds() * 2) : undefined);
  if (maxDrillAge === undefined) {
    problems.push(`'maxDrillAge' is required with a cron schedule (${schedule.expressionString}): set it to about twice the time between drills`);
  } else if (maxDrillAge.toSeconds() < Duration.days(1).toSeconds()) {
    problems.push(`'maxDrillAge' must be at least 1 day (the status is published every 6 hours), got ${maxDrillAge.toHumanString()}`);
  }
  if (problems.length > 0) {
    throw new ValidationError(scope, `RestoreDrill: ${problems.join('; ')}`);
  }
  return { schedule, maxDrillAge: maxDrillAge!, maxNodeType, maxDuration, pollInterval };
}

/** The interval of a `rate(...)` expression; undefined for cron. */
function scheduleRate(expression: string): Duration | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) {
    return undefined;
  }
  const n = Number(match[1]);
  return match[2].startsWith('minute') ? Duration.minutes(n) : match[2].startsWith('hour') ? Duration.hours(n) : Duration.days(n);
}

function acknowledgeFindings(scope: Construct, steps: lambda.IFunction): void {
  const ack = (target: Construct, id: string, reason: string) => Validations.of(target).acknowledge({ id, reason });
  ack(scope, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
  ack(scope, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    'The verifier runs in the VPC; this managed policy (ENI management) is what aws-cdk-lib attaches to a VPC function role');
  ack(scope, 'AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers, matching the bundle target');
  for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
    ack(scope, `${pack}-IAMNoInlinePolicy`, 'Each role belongs to one function or the state machine; CDK renders its grants as the role\'s own policy');
    ack(steps, `${pack}-LambdaInsideVPC`, 'The step function only calls the S3 and ElastiCache APIs (manifests, reports, group status), no cache data');
    ack(scope, `${pack}-LambdaDLQ`, 'Invoked synchronously by the state machine (which catches every failure) or by a schedule whose next run replaces a failed one');
    ack(scope, `${pack}-CloudWatchLogGroupEncrypted`, 'The logs hold manifest keys, counts and step names, no cache data or tokens; CloudWatch Logs encrypts them at rest');
  }
}
