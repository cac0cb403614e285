/**
 * The restore drill's state machine definition (aws-cdk-lib Step Functions, SDK-call tasks for every service call).
 *
 * Resolve the export (Lambda) -> another drill running? -> AUTH token (GetRandomPassword) -> CreateReplicationGroup
 * (tagged, encrypted, seeded from the `.rdb` objects) -> poll DescribeReplicationGroups until `available`, a failed
 * status, or the poll budget -> verify the keyspace (Lambda in the VPC) -> CLEANUP -> summary (Lambda, pure) ->
 * PutObject of the report -> PutMetricData -> verdict.
 *
 * Every path that can fail after the start goes to the cleanup: every task has a catch for `States.ALL`, and the
 * failed-status and timeout branches go there too. Only Pass and Choice states read paths that may be absent at run
 * time, and `Init` defines all of them first (a missing path is a `States.Runtime` error, which no catch handles).
 * The cleanup deletes the temporary group only when this execution may have created it (`$.cleanup.deleteGroup`),
 * retries while the group is still being created, and its role may delete only groups carrying the drill's tag.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { DRILL_METRIC_NAMESPACE, DRILL_SOURCE_TAG_KEY, DRILL_TAG_KEY } from './drill-constants';
import { DRILL_CONNECT_ERROR, DRILL_TIMEOUT_ERROR } from './keyspace-check';

/** Group statuses after which waiting longer cannot make the group available. */
export const FAILED_GROUP_STATUSES = ['create-failed', 'restore-failed', 'incompatible-network', 'deleting', 'deleted'];

/** The port of every temporary group (the engines' default). */
export const DRILL_PORT = 6379;

export interface DrillDefinitionProps {
  readonly stepsFunction: lambda.IFunction;
  readonly verifierFunction: lambda.IFunction;
  readonly verifierTimeout: Duration;
  readonly replicaBucket: s3.IBucket;
  readonly drillId: string;
  readonly subnetGroupName: string;
  readonly securityGroupId: string;
  readonly pollInterval: Duration;
  /** Budget of one SDK call or Lambda step. */
  readonly stepTimeout: Duration;
}

/** The ElastiCache error names a catch matches: Step Functions adds `Exception`; the API reference says `Fault`. */
function elastiCacheErrors(...names: string[]): string[] {
  return names.flatMap((n) => [`ElastiCache.${n}Exception`, `ElastiCache.${n}Fault`, `ElastiCache.${n}`]);
}

const EMPTY_ERROR = { Error: '', Cause: '' };

/** Builds the definition. States are named for what they do; tests walk the rendered graph by these names. */
export function drillDefinition(scope: Construct, props: DrillDefinitionProps): sfn.IChainable {
  const timeout = sfn.Timeout.duration(props.stepTimeout);
  const cleanup = cleanupStates(scope, props, timeout);
  const catchAll = (state: sfn.TaskStateBase, resultPath = '$.failure') => state.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath });

  const init = new sfn.Pass(scope, 'Init', {
    comment: 'Defines every path later states read, so that no state can fail on a missing path',
    parameters: {
      'input.$': '$',
      'executionName.$': '$$.Execution.Name',
      'startedAt.$': '$$.Execution.StartTime',
      'drill': {},
      'timings': {},
      'verification': {},
      'failure': EMPTY_ERROR,
      'cleanup': { deleteGroup: false, deleted: false, error: EMPTY_ERROR },
      'poll': { count: 0 },
      'auth': {},
      'group': {},
      'endpoint': {},
      'reportError': EMPTY_ERROR,
    },
  });

  const resolve = new tasks.LambdaInvoke(scope, 'ResolveExport', {
    comment: 'Newest verified export in the replica bucket, the restore preflight checks, the node type cap, another drill running',
    lambdaFunction: props.stepsFunction,
    payload: sfn.TaskInput.fromObject({ action: 'resolve', input: sfn.JsonPath.objectAt('$.input') }),
    payloadResponseOnly: true,
    resultPath: '$.drill',
    taskTimeout: timeout,
  });
  catchAll(resolve);

  const alreadyRunning = new sfn.Pass(scope, 'DrillAlreadyRunning', {
    parameters: { 'Error': 'DrillAlreadyRunning', 'Cause.$': "States.Format('a drill of this group is running (temporary group {} exists): this one stops without touching it', $.drill.drillGroupId)" },
    resultPath: '$.failure',
  }).next(cleanup);
  const orphanFailure = new sfn.Pass(scope, 'OrphanFound', {
    parameters: { 'Error': 'DrillOrphanRemoved', 'Cause.$': "States.Format('temporary group {} was left by a drill that was stopped; it is deleted now, and the next drill runs', $.drill.drillGroupId)" },
    resultPath: '$.failure',
  });
  const ownOrphan = new sfn.Pass(scope, 'DeleteOrphan', { result: sfn.Result.fromObject({ deleteGroup: true, deleted: false, error: EMPTY_ERROR }), resultPath: '$.cleanup' });
  orphanFailure.next(ownOrphan).next(cleanup);

  const token = new tasks.CallAwsService(scope, 'GenerateAuthToken', {
    comment: 'The AUTH token of the temporary group; it lives only in that group and dies with it',
    service: 'secretsmanager',
    action: 'getRandomPassword',
    parameters: { PasswordLength: 64, ExcludePunctuation: true },
    iamResources: ['*'],
    resultSelector: { 'token.$': '$.RandomPassword' },
    resultPath: '$.auth',
    taskTimeout: timeout,
  });
  catchAll(token);

  const creation = createStates(scope, props, timeout, cleanup);
  token.next(creation);

  return init.next(resolve).next(new sfn.Choice(scope, 'AnotherDrillRunning?')
    .when(sfn.Condition.stringEquals('$.drill.existing', 'running'), alreadyRunning)
    .when(sfn.Condition.stringEquals('$.drill.existing', 'orphan'), orphanFailure)
    .otherwise(token));
}

/** CreateReplicationGroup (two shapes), then the wait loop and the verifier. */
function createStates(scope: Construct, props: DrillDefinitionProps, timeout: sfn.Timeout, cleanup: sfn.IChainable): sfn.IChainable {
  const common = {
    'ReplicationGroupId.$': '$.drill.drillGroupId',
    'ReplicationGroupDescription.$': "States.Format('cdk-elasticache-backup restore drill of {}', $.drill.sourceGroupId)",
    'Engine.$': '$.drill.engine',
    'EngineVersion.$': '$.drill.engineVersion',
    'CacheNodeType.$': '$.drill.nodeType',
    'SnapshotArns.$': '$.drill.snapshotArns',
    'CacheSubnetGroupName': props.subnetGroupName,
    'SecurityGroupIds': [props.securityGroupId],
    'Port': DRILL_PORT,
    'AtRestEncryptionEnabled': true,
    'TransitEncryptionEnabled': true,
    'AuthToken.$': '$.auth.token',
    'SnapshotRetentionLimit': 0,
    'Tags': [
      { Key: DRILL_TAG_KEY, Value: props.drillId },
      { 'Key': DRILL_SOURCE_TAG_KEY, 'Value.$': '$.drill.sourceGroupId' },
    ],
  };
  const createTask = (id: string, parameters: Record<string, unknown>) => new tasks.CallAwsService(scope, id, {
    comment: 'Only this call creates anything; IAM allows it only for ceb-drill-* ids carrying the drill tag, encrypted, with an AUTH token',
    service: 'elasticache',
    action: 'createReplicationGroup',
    parameters: { ...common, ...parameters },
    iamResources: ['*'],
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: timeout,
  });
  const single = createTask('CreateDrillGroup', { NumCacheClusters: 1, AutomaticFailoverEnabled: false, MultiAZEnabled: false });
  const sharded = createTask('CreateShardedDrillGroup', {
    'NumNodeGroups.$': '$.drill.shardCount',
    'ReplicasPerNodeGroup': 0,
    'NodeGroupConfiguration.$': '$.drill.nodeGroupConfiguration',
    'CacheParameterGroupName.$': '$.drill.cacheParameterGroupName',
    'AutomaticFailoverEnabled': true,
    'MultiAZEnabled': false,
  });

  // Another execution created the same temporary id between its check and ours: it owns the group, we leave it alone.
  const raceLost = new sfn.Pass(scope, 'CreateRaceLost', {
    parameters: { 'Error': 'DrillAlreadyRunning', 'Cause.$': '$.createError.Cause' },
    resultPath: '$.failure',
  });
  const notOurs = new sfn.Pass(scope, 'GroupNotOurs', { result: sfn.Result.fromObject({ deleteGroup: false, deleted: false, error: EMPTY_ERROR }), resultPath: '$.cleanup' });
  raceLost.next(notOurs).next(cleanup);
  for (const create of [single, sharded]) {
    create.addCatch(raceLost, { errors: elastiCacheErrors('ReplicationGroupAlreadyExists'), resultPath: '$.createError' });
    create.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  }

  const wait = pollStates(scope, props, timeout, cleanup);
  single.next(wait);
  sharded.next(wait);

  const owned = new sfn.Pass(scope, 'MarkGroupOwned', {
    comment: 'From here on this execution may have created the group: the cleanup deletes it',
    result: sfn.Result.fromObject({ deleteGroup: true, deleted: false, error: EMPTY_ERROR }),
    resultPath: '$.cleanup',
  });
  const requested = new sfn.Pass(scope, 'RecordCreateRequested', { parameters: { 'at.$': '$$.State.EnteredTime' }, resultPath: '$.timings.createRequested' });
  return owned.next(requested).next(new sfn.Choice(scope, 'ClusterMode?')
    .when(sfn.Condition.booleanEquals('$.drill.clusterModeEnabled', true), sharded)
    .otherwise(single));
}

/** The wait loop: poll the group's status until available (then the verifier), a failed status, or the poll budget. */
function pollStates(scope: Construct, props: DrillDefinitionProps, timeout: sfn.Timeout, cleanup: sfn.IChainable): sfn.Wait {
  const wait = new sfn.Wait(scope, 'WaitForGroup', { time: sfn.WaitTime.duration(props.pollInterval) });
  const describe = new tasks.CallAwsService(scope, 'DescribeDrillGroup', {
    service: 'elasticache',
    action: 'describeReplicationGroups',
    parameters: { 'ReplicationGroupId.$': '$.drill.drillGroupId' },
    iamResources: ['*'],
    resultSelector: { 'Status.$': '$.ReplicationGroups[0].Status', 'description.$': '$.ReplicationGroups[0]' },
    resultPath: '$.group',
    taskTimeout: timeout,
  });
  describe.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(10), maxAttempts: 3, backoffRate: 2 });
  describe.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const count = new sfn.Pass(scope, 'CountPoll', { parameters: { 'count.$': 'States.MathAdd($.poll.count, 1)' }, resultPath: '$.poll' });

  const createFailed = new sfn.Pass(scope, 'GroupCreateFailed', {
    parameters: { 'Error': 'DrillRestoreFailed', 'Cause.$': "States.Format('temporary group {} ended in status {}: ElastiCache could not restore the export (see the group events)', $.drill.drillGroupId, $.group.Status)" },
    resultPath: '$.failure',
  }).next(cleanup);
  const timedOut = new sfn.Pass(scope, 'WaitTimedOut', {
    parameters: { 'Error': 'DrillTimeout', 'Cause.$': "States.Format('temporary group {} was not available after {} polls (status {}): raise maxDuration, or check the group events', $.drill.drillGroupId, $.poll.count, $.group.Status)" },
    resultPath: '$.failure',
  }).next(cleanup);

  const available = new sfn.Pass(scope, 'RecordAvailable', { parameters: { 'at.$': '$$.State.EnteredTime' }, resultPath: '$.timings.available' });
  const verify = verifyStates(scope, props, cleanup);
  available.next(new sfn.Choice(scope, 'ClusterEndpoint?')
    .when(sfn.Condition.booleanEquals('$.drill.clusterModeEnabled', true), new sfn.Pass(scope, 'UseConfigurationEndpoint', {
      parameters: { 'host.$': '$.group.description.ConfigurationEndpoint.Address', 'port.$': '$.group.description.ConfigurationEndpoint.Port' },
      resultPath: '$.endpoint',
    }).next(verify))
    .otherwise(new sfn.Pass(scope, 'UsePrimaryEndpoint', {
      parameters: { 'host.$': '$.group.description.NodeGroups[0].PrimaryEndpoint.Address', 'port.$': '$.group.description.NodeGroups[0].PrimaryEndpoint.Port' },
      resultPath: '$.endpoint',
    }).next(verify)));

  const status = new sfn.Choice(scope, 'GroupAvailable?')
    .when(sfn.Condition.stringEquals('$.group.Status', 'available'), available)
    .when(sfn.Condition.or(...FAILED_GROUP_STATUSES.map((s) => sfn.Condition.stringEquals('$.group.Status', s))), createFailed)
    .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.poll.count', '$.drill.maxPolls'), timedOut)
    .otherwise(wait);
  wait.next(describe).next(count).next(status);
  return wait;
}

/** The verifier Lambda (in the VPC), then the cleanup. */
function verifyStates(scope: Construct, props: DrillDefinitionProps, cleanup: sfn.IChainable): sfn.IChainable {
  const verify = new tasks.LambdaInvoke(scope, 'VerifyKeyspace', {
    comment: 'Key counts per database against the manifest, allowing for keys that expired since the backup',
    lambdaFunction: props.verifierFunction,
    payload: sfn.TaskInput.fromObject({
      endpoints: sfn.JsonPath.stringAt('States.Array($.endpoint)'),
      clusterMode: sfn.JsonPath.stringAt('$.drill.clusterModeEnabled'),
      tls: true,
      authToken: sfn.JsonPath.stringAt('$.auth.token'),
      manifest: sfn.JsonPath.objectAt('$.drill.manifest'),
      sampleKeys: sfn.JsonPath.numberAt('$.drill.sampleKeys'),
      timeoutMs: props.verifierTimeout.toMilliseconds() - 10_000,
    }),
    payloadResponseOnly: true,
    resultPath: '$.verification',
    taskTimeout: sfn.Timeout.duration(props.verifierTimeout.plus(Duration.seconds(30))),
  });
  // A group that just became available may still refuse connections for a moment.
  verify.addRetry({ errors: [DRILL_CONNECT_ERROR], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });
  verify.addRetry({ errors: [DRILL_TIMEOUT_ERROR], interval: Duration.seconds(10), maxAttempts: 2, backoffRate: 2 });
  verify.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
  const verified = new sfn.Pass(scope, 'RecordVerified', { parameters: { 'at.$': '$$.State.EnteredTime' }, resultPath: '$.timings.verified' });
  return verify.next(verified).next(cleanup);
}

/** The cleanup (always reached), then the report, the metrics and the verdict. */
function cleanupStates(scope: Construct, props: DrillDefinitionProps, timeout: sfn.Timeout): sfn.Choice {
  const del = new tasks.CallAwsService(scope, 'DeleteDrillGroup', {
    comment: 'IAM allows deleting only ceb-drill-* groups that carry this drill\'s tag',
    service: 'elasticache',
    action: 'deleteReplicationGroup',
    parameters: { 'ReplicationGroupId.$': '$.drill.drillGroupId', 'RetainPrimaryCluster': false },
    iamResources: ['*'],
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: timeout,
  });
  // A group still being created cannot be deleted yet: wait for it (up to an hour), then retry other errors a few times.
  del.addRetry({ errors: elastiCacheErrors('InvalidReplicationGroupState'), interval: Duration.minutes(1), maxAttempts: 60, backoffRate: 1 });
  del.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(15), maxAttempts: 5, backoffRate: 2 });
  const deleted = new sfn.Pass(scope, 'MarkGroupDeleted', { result: sfn.Result.fromObject({ deleteGroup: true, deleted: true, error: EMPTY_ERROR }), resultPath: '$.cleanup' });
  const cleanedUp = new sfn.Pass(scope, 'RecordCleanedUp', { parameters: { 'at.$': '$$.State.EnteredTime' }, resultPath: '$.timings.cleanedUp' });
  del.addCatch(deleted, { errors: elastiCacheErrors('ReplicationGroupNotFound'), resultPath: sfn.JsonPath.DISCARD });
  del.addCatch(cleanedUp, { errors: [sfn.Errors.ALL], resultPath: '$.cleanup.error' });
  del.next(deleted).next(cleanedUp);

  const summarize = new tasks.LambdaInvoke(scope, 'SummarizeDrill', {
    lambdaFunction: props.stepsFunction,
    payload: sfn.TaskInput.fromObject({
      action: 'summarize',
      outcome: {
        input: sfn.JsonPath.objectAt('$.input'),
        executionName: sfn.JsonPath.stringAt('$.executionName'),
        startedAt: sfn.JsonPath.stringAt('$.startedAt'),
        drill: sfn.JsonPath.objectAt('$.drill'),
        timings: sfn.JsonPath.objectAt('$.timings'),
        verification: sfn.JsonPath.objectAt('$.verification'),
        failure: sfn.JsonPath.objectAt('$.failure'),
        cleanup: sfn.JsonPath.objectAt('$.cleanup'),
      },
    }),
    payloadResponseOnly: true,
    resultPath: '$.summary',
    taskTimeout: timeout,
  });
  const reportFailed = new sfn.Fail(scope, 'ReportFailed', { error: 'RestoreDrillReportFailed', cause: 'the drill ran and was cleaned up, but its report could not be built: see the SummarizeDrill step' });
  summarize.addCatch(reportFailed, { errors: [sfn.Errors.ALL], resultPath: '$.reportError' });

  const write = new tasks.CallAwsService(scope, 'WriteReport', {
    service: 's3',
    action: 'putObject',
    parameters: {
      'Bucket': props.replicaBucket.bucketName,
      'Key.$': '$.summary.reportKey',
      'Body.$': '$.summary.report',
      'ContentType': 'application/json',
    },
    iamResources: [props.replicaBucket.arnForObjects('drills/*')],
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: timeout,
  });
  write.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
  const metrics = new tasks.CallAwsService(scope, 'PublishMetrics', {
    service: 'cloudwatch',
    action: 'putMetricData',
    parameters: { 'Namespace': DRILL_METRIC_NAMESPACE, 'MetricData.$': '$.summary.metricData' },
    iamResources: ['*'],
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: timeout,
  });
  metrics.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
  write.addCatch(metrics, { errors: [sfn.Errors.ALL], resultPath: '$.reportError' });
  const verdict = new sfn.Choice(scope, 'Verdict')
    .when(sfn.Condition.and(
      sfn.Condition.booleanEquals('$.summary.passed', true),
      sfn.Condition.stringEquals('$.reportError.Error', '')),
    new sfn.Succeed(scope, 'DrillPassed'))
    .otherwise(new sfn.Fail(scope, 'DrillFailed', { error: 'RestoreDrillFailed', cause: 'the drill failed or its report was not written: see drills/<group>/ in the replica bucket and the execution history' }));
  metrics.addCatch(verdict, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });

  const skipped = new sfn.Fail(scope, 'DrillSkipped', { error: 'DrillAlreadyRunning', cause: 'another drill of this group holds its temporary group; nothing was created or deleted, and no report was written' });
  cleanedUp.next(new sfn.Choice(scope, 'ReportOrSkip?')
    .when(sfn.Condition.stringEquals('$.failure.Error', 'DrillAlreadyRunning'), skipped)
    .otherwise(summarize.next(write).next(metrics).next(verdict)));

  return new sfn.Choice(scope, 'Cleanup', { comment: 'Every path ends here: deletes the temporary group when this execution may have created it' })
    .when(sfn.Condition.booleanEquals('$.cleanup.deleteGroup', true), del)
    .otherwise(cleanedUp);
}
