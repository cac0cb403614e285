import { createHash } from 'crypto';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupPlan, BackupPlanProps, ProtectionOptions } from '../../lib/backup-plan/backup-plan';
import { ENV_PLAN_CONFIG } from '../../lib/backup-plan/constants';
import { BackupFreshnessMonitor } from '../../lib/backup-plan/freshness-monitor';
import { IReplicationGroup, ReplicationGroup, ReplicationGroupProps } from '../../lib/replication-group/replication-group';
import { BackupExportBucketProps } from '../../lib/storage/export-bucket';
import { logicalIdOf, twoRegionApp, TwoRegionApp } from '../storage/fixtures';
import { addNagPacks, synthFindings } from '../support/nag';

function setup(app?: App): TwoRegionApp & { group: IReplicationGroup; plan: BackupPlan } {
  const t = twoRegionApp({}, {}, app);
  const group = ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Orders', { replicationGroupId: 'orders' } as never);
  const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
  return { ...t, group, plan };
}

function reconcilers(template: Template): Record<string, any> {
  return template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [ENV_PLAN_CONFIG]: Match.anyValue() } } } });
}

function planConfig(template: Template): any {
  const raw = Object.values(reconcilers(template))[0].Properties.Environment.Variables[ENV_PLAN_CONFIG];
  return JSON.parse(typeof raw === 'string' ? raw : raw['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<token>')).join(''));
}

/** Every IAM policy statement of the stack (optionally only of the policies attached to one role). */
function policyStatements(template: Template, roleRef?: unknown): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: any) => roleRef === undefined || JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function reconcilerRoleRef(template: Template): unknown {
  return { Ref: Object.values(reconcilers(template))[0].Properties.Role['Fn::GetAtt'][0] };
}

/** The resource names after `:snapshot:` in every IAM statement of the stack. */
function snapshotPatternsIn(template: Template): string[] {
  const text = JSON.stringify(policyStatements(template));
  return [...text.matchAll(/:snapshot:([^"]+)"/g)].map((m) => m[1]);
}

/** The first 8 characters of RFC 4648 base32 (lowercase) of some bytes. */
function base32Head(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bits = [...bytes.subarray(0, 5)].map((b) => b.toString(2).padStart(8, '0')).join('');
  return Array.from({ length: 8 }, (_, i) => alphabet[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join('');
}

describe('BackupPlan', () => {
  test('one reconciler with reserved concurrency 1, a bounded timeout, a log group with retention and a dead-letter queue', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75) });
    const t = Template.fromStack(primary);
    expect(Object.keys(reconcilers(t))).toHaveLength(1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [ENV_PLAN_CONFIG]: Match.anyValue() } },
      ReservedConcurrentExecutions: 1,
      Timeout: 120,
      Runtime: 'nodejs24.x',
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('group configuration goes to the environment as JSON', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75), manualBackupRetention: Duration.days(2) });
    const config = planConfig(Template.fromStack(primary));
    // An imported group without a node type: the export timeout for an unknown node type (2 h).
    expect(config.groups).toEqual([{
      replicationGroupId: 'orders',
      intervalSeconds: 4500,
      retentionSeconds: 172800,
      rpoTargetSeconds: 8100,
      exportAutomated: true,
      exportTimeoutSeconds: 7200,
    }]);
    expect(config.exportTimeoutSeconds).toBe(7200);
    expect(config.planId).toBe(plan.planId);
  });

  test('without an interval: automatic backups only, RPO target 26 h, fallback backup after 25 h', () => {
    const { primary, group, plan } = setup();
    plan.protect(group);
    expect(planConfig(Template.fromStack(primary)).groups[0]).toEqual({
      replicationGroupId: 'orders',
      retentionSeconds: 86400,
      rpoTargetSeconds: 93600,
      exportAutomated: true,
      fallbackAfterSeconds: 90000,
      exportTimeoutSeconds: 7200,
    });
  });

  test('a schedule every 5 minutes, ElastiCache snapshot events and .rdb object-created events of the export bucket', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75) });
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.elasticache'], 'detail-type': ['Snapshot Created', 'Snapshot Creation Failed', 'Snapshot Export Failed'] },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.s3'],
        'detail-type': ['Object Created'],
        'detail': { bucket: { name: [{ Ref: Match.stringLikeRegexp('^ExportsBucket') }] }, object: { key: [{ suffix: '.rdb' }] } },
      },
    });
    // + the export verifier's two rules (verification requests, results): test/backup-plan/export-verifier.test.ts
    t.resourceCountIs('AWS::Events::Rule', 5);
  });

  test('IAM: ElastiCache actions scoped to the group\'s plan-name prefix and members; tagging and DeleteSnapshot only with the plan\'s tag', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75) });
    const arn = (r: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:us-east-1:111111111111:${r}`]] });
    const all = policyStatements(Template.fromStack(primary));
    const ec = all.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('elasticache:')));
    // The oracle for the prefix: 'ceb-' + 8 base32 characters of SHA-256('orders') + '-', computed here independently.
    const prefix = `ceb-${base32Head(createHash('sha256').update('orders').digest())}-`;
    const plans = [arn(`snapshot:${prefix}*`), arn('snapshot:orders-plan-*')];
    expect(ec).toEqual([
      {
        Sid: 'DescribeBackups',
        Effect: 'Allow',
        Action: ['elasticache:DescribeSnapshots', 'elasticache:DescribeReplicationGroups', 'elasticache:DescribeCacheClusters'],
        Resource: '*',
      },
      { Effect: 'Allow', Action: 'elasticache:CreateSnapshot', Resource: [arn('replicationgroup:orders'), arn('cluster:orders-*'), arn(`snapshot:${prefix}*`)] },
      {
        Effect: 'Allow',
        Action: 'elasticache:AddTagsToResource',
        Resource: arn(`snapshot:${prefix}*`),
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['cdk-elasticache-backup:plan'] },
          'StringEquals': { 'aws:RequestTag/cdk-elasticache-backup:plan': plan.planId },
        },
      },
      { Effect: 'Allow', Action: 'elasticache:CopySnapshot', Resource: [...plans, arn('snapshot:automatic.orders-*')] },
      { Effect: 'Allow', Action: 'elasticache:ListTagsForResource', Resource: plans },
      {
        Effect: 'Allow',
        Action: 'elasticache:DeleteSnapshot',
        Resource: plans,
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-elasticache-backup:plan': plan.planId } },
      },
    ]);
    // S3: the export bucket's own export grant, including s3:ListAllMyBuckets on arn:<partition>:s3:::*.
    expect(all.some((s: any) => [s.Action].flat().includes('s3:ListAllMyBuckets'))).toBe(true);
    expect(all.some((s: any) => [s.Action].flat().includes('cloudwatch:PutMetricData'))).toBe(false);
  });

  test('the reconciler may call s3:GetBucketAcl on the export bucket (a dependent action of CopySnapshot)', () => {
    const { primary, group, plan, exportBucket } = setup();
    plan.protect(group);
    const t = Template.fromStack(primary);
    const bucketId = logicalIdOf(exportBucket.bucket);
    const roleRef = reconcilerRoleRef(t);
    const statements = policyStatements(t, roleRef);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketAcl'],
      Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
  });

  test('no IAM resource pattern for plan snapshots is longer than the 40-character name rule, even for a 40-character group id', () => {
    const { primary, plan } = setup();
    const longId = 'a'.repeat(39) + 'b';
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(primary, 'Long', { replicationGroupId: longId }));
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(primary, 'Short', { replicationGroupId: 'orders' }));
    const names = snapshotPatternsIn(Template.fromStack(primary)).filter((n) => !n.startsWith('automatic.'));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => n.length > 40)).toEqual([]);
    // The long group's legacy pattern (47 characters) is left out; the short group's (13) is kept.
    expect(names).not.toContain(`${longId}-plan-*`);
    expect(names).toContain('orders-plan-*');
  });

  test('a group id known only at deploy time falls back to every plan name (ceb-*), still limited by the plan\'s tag for deletes', () => {
    const { primary, plan } = setup();
    const id = new CfnParameter(primary, 'GroupId', { type: 'String' }).valueAsString;
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(primary, 'Param', { replicationGroupId: id }));
    const statements = policyStatements(Template.fromStack(primary));
    const deletes = statements.filter((s: any) => s.Action === 'elasticache:DeleteSnapshot');
    expect(JSON.stringify(deletes)).toContain(':snapshot:ceb-*"');
    expect(deletes[0].Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cdk-elasticache-backup:plan': plan.planId } });
  });

  test('one group\'s plan-snapshot pattern cannot match another group\'s names (orders vs orders-eu)', () => {
    const { primary, plan } = setup();
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(primary, 'A', { replicationGroupId: 'orders' }));
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(primary, 'B', { replicationGroupId: 'orders-eu' }));
    const patterns = [...new Set(snapshotPatternsIn(Template.fromStack(primary)).filter((n) => n.startsWith('ceb-')))];
    expect(patterns).toHaveLength(2);
    const [a, b] = patterns.map((p) => p.slice(0, -1));
    expect(a.startsWith(b) || b.startsWith(a)).toBe(false);
  });

  test('alarms: export age above the RPO target (missing data breaching), failures, reconciler errors, dead letters; to an encrypted topic', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75), rpoTarget: Duration.hours(3) });
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExportAgeSeconds',
      Namespace: 'ElastiCacheBackup',
      Dimensions: [{ Name: 'ReplicationGroupId', Value: 'orders' }],
      Threshold: 10800,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Failures', Statistic: 'Sum', Threshold: 1 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CircuitOpen',
      Statistic: 'Maximum',
      Threshold: 1,
      Dimensions: [{ Name: 'ReplicationGroupId', Value: 'orders' }],
      TreatMissingData: 'notBreaching',
    });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:111111111111:alias/aws/sns']] } });
  });

  test('a given alarm topic is used and no alarm topic is defined', () => {
    const t0 = twoRegionApp();
    const topic = sns.Topic.fromTopicArn(t0.primary, 'T', 'arn:aws:sns:us-east-1:111111111111:ops');
    const plan = new BackupPlan(t0.primary, 'Plan', { exportBucket: t0.exportBucket, alarmTopic: topic, reconcileInterval: Duration.minutes(10) });
    expect(plan.alarmTopic).toBe(topic);
    const t = Template.fromStack(t0.primary);
    // Only the plan's notification topic (no KMS key) is defined, no alarm topic.
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.absent() });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
  });

  test('groups given in props and with protect() share one reconciler; metrics carry the group dimension', () => {
    const t0 = twoRegionApp();
    const a = ReplicationGroup.fromReplicationGroupAttributes(t0.primary, 'A', { replicationGroupId: 'a' } as never);
    const b = ReplicationGroup.fromReplicationGroupAttributes(t0.primary, 'B', { replicationGroupId: 'b' } as never);
    const plan = new BackupPlan(t0.primary, 'Plan', { exportBucket: t0.exportBucket, groups: [{ replicationGroup: a, interval: Duration.hours(2) }] });
    plan.protect(b);
    const t = Template.fromStack(t0.primary);
    expect(Object.keys(reconcilers(t))).toHaveLength(1);
    expect(planConfig(t).groups.map((g: any) => g.replicationGroupId)).toEqual(['a', 'b']);
    expect(plan.metricExportAge('a').dimensions).toEqual({ ReplicationGroupId: 'a' });
    expect(plan.metricFailures('b').statistic).toBe('Sum');
  });

  test('no unacknowledged cdk-nag findings on the plan (AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1)', () => {
    const app = new App();
    addNagPacks(app);
    const { plan, group } = setup(app);
    plan.protect(group, { interval: Duration.minutes(75) });
    const message = synthFindings(app);
    // Only a findings report (or nothing) is acceptable; findings on the buckets belong to the storage constructs,
    // none may point at the plan.
    expect(message === '' || /Acknowledge with/.test(message)).toBe(true);
    expect(message).not.toMatch(/Primary\/Plan\//);
  });
});

describe('BackupPlan validation', () => {
  const cases: Array<[string, ProtectionOptions, string]> = [
    ['an interval below 72 minutes', { interval: Duration.minutes(71) },
      "Primary/Plan: 'interval' of replication group 'orders' must be at least 72 minutes (ElastiCache allows 20 manual backups per node per 24 hours), got 1 hour 11 minutes"],
    ['a retention that is not whole days', { interval: Duration.minutes(75), manualBackupRetention: Duration.hours(36) },
      "Primary/Plan: 'manualBackupRetention' of replication group 'orders' must be a whole number of days, at least 1, got 1 day 12 hours"],
    ['a retention below one day', { manualBackupRetention: Duration.hours(12) },
      "Primary/Plan: 'manualBackupRetention' of replication group 'orders' must be a whole number of days, at least 1, got 12 hours"],
    ['an RPO target not longer than the interval', { interval: Duration.minutes(90), rpoTarget: Duration.minutes(90) },
      "Primary/Plan: 'rpoTarget' of replication group 'orders' must be longer than 'interval' (1 hour 30 minutes): a backup is at least one interval old before it is exported, got 1 hour 30 minutes"],
    ['nothing to export', { exportAutomatedBackups: false },
      "Primary/Plan: replication group 'orders' has nothing to export: set 'interval', or leave 'exportAutomatedBackups' on"],
  ];
  test.each(cases)('fails with %s', (_, options, message) => {
    const { group, plan } = setup();
    expect(() => plan.protect(group, options)).toThrow(message);
  });

  test('an interval of exactly 72 minutes is accepted', () => {
    const { group, plan } = setup();
    expect(() => plan.protect(group, { interval: Duration.minutes(72) })).not.toThrow();
  });

  test('fails when the same group is protected twice (same object or same id)', () => {
    const { primary, group, plan } = setup();
    plan.protect(group);
    expect(() => plan.protect(group)).toThrow("Primary/Plan: replication group 'orders' is already protected by this plan; protect each group once");
    const again = ReplicationGroup.fromReplicationGroupAttributes(primary, 'Again', { replicationGroupId: 'orders' } as never);
    expect(() => plan.protect(again)).toThrow('is already protected by this plan');
  });

  test.each([
    [{ reconcileInterval: Duration.seconds(90) }, "Primary/Plan: 'reconcileInterval' must be a whole number of minutes between 1 and 60, got 1 minute 30 seconds"],
    [{ reconcileInterval: Duration.hours(2) }, "Primary/Plan: 'reconcileInterval' must be a whole number of minutes between 1 and 60, got 2 hours"],
    [{ exportTimeout: Duration.minutes(5) }, "Primary/Plan: 'exportTimeout' must be between 10 minutes and 12 hours, got 5 minutes"],
  ])('fails with plan props %j', (props, message) => {
    const t = twoRegionApp();
    expect(() => new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, ...props })).toThrow(message);
  });
});

describe('BackupFreshnessMonitor', () => {
  test('a scheduled function reads the replica bucket and an alarm per group fires above maxAge or without data', () => {
    const { dr, replica } = twoRegionApp();
    new BackupFreshnessMonitor(dr, 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders', 'carts'], maxAge: Duration.hours(2) });
    const t = Template.fromStack(dr);
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1, Timeout: 60 });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicaBackupAgeSeconds', Dimensions: [{ Name: 'ReplicationGroupId', Value: 'carts' }], Threshold: 7200, TreatMissingData: 'breaching',
    });
  });

  test.each([
    [{ replicationGroupIds: [] }, "Dr/Freshness: 'replicationGroupIds' must name at least one replication group, got []"],
    [{ replicationGroupIds: ['a', 'a'] }, "Dr/Freshness: 'replicationGroupIds' lists 'a' twice"],
    [{ replicationGroupIds: ['a'], maxAge: Duration.minutes(5) }, "Dr/Freshness: 'maxAge' must be longer than 'checkInterval' (5 minutes), got 5 minutes"],
  ])('fails with %j', (props, message) => {
    const { dr, replica } = twoRegionApp();
    expect(() => new BackupFreshnessMonitor(dr, 'Freshness', { replicaBucket: replica, ...props })).toThrow(message);
  });

  test('no unacknowledged cdk-nag findings on the monitor', () => {
    const app = new App();
    addNagPacks(app);
    const { dr, replica } = twoRegionApp({}, {}, app);
    new BackupFreshnessMonitor(dr, 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    const message = synthFindings(app);
    expect(message === '' || /Acknowledge with/.test(message)).toBe(true);
    expect(message).not.toMatch(/Dr\/Freshness\//);
  });

  describe('optional settings are rendered', () => {
    test('backupWhenAutomaticMissed: false leaves groups without an interval to automatic backups only (no fallback backup)', () => {
      const { primary, group, plan } = setup();
      plan.protect(group, { backupWhenAutomaticMissed: false });
      const config = planConfig(Template.fromStack(primary));
      expect(config.groups[0].fallbackAfterSeconds).toBeUndefined();
      expect(config.groups[0].intervalSeconds).toBeUndefined();
    });

    test('logRetention and logEncryptionKey go to the reconciler log group', () => {
      const t = twoRegionApp();
      const key = new kms.Key(t.primary, 'LogKey', { enableKeyRotation: true });
      new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, logRetention: logs.RetentionDays.THREE_MONTHS, logEncryptionKey: key });
      Template.fromStack(t.primary).hasResourceProperties('AWS::Logs::LogGroup', {
        RetentionInDays: 90,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogKey'), 'Arn'] },
      });
    });

    test('vpc places the reconciler in the given subnets with its own security group', () => {
      const t = twoRegionApp();
      const vpc = new ec2.Vpc(t.primary, 'Vpc', { natGateways: 1, maxAzs: 2 });
      new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
      const fns = Object.values(Template.fromStack(t.primary).findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [ENV_PLAN_CONFIG]: Match.anyValue() } } },
      }));
      expect(fns).toHaveLength(1);
      const vpcConfig = fns[0].Properties.VpcConfig;
      expect(vpcConfig.SubnetIds).toHaveLength(2);
      expect(JSON.stringify(vpcConfig.SubnetIds)).toMatch(/PrivateSubnet/);
      expect(vpcConfig.SecurityGroupIds).toHaveLength(1);
    });
  });
});

describe('BackupPlan and issue 9', () => {
  function withCache(props: Partial<ReplicationGroupProps> = {}, planProps: Partial<BackupPlanProps> = {}) {
    const t = twoRegionApp();
    const vpc = new ec2.Vpc(t.primary, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cache = new ReplicationGroup(t.primary, 'Cache', { vpc, replicationGroupId: 'orders', ...props });
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, ...planProps });
    return { ...t, vpc, cache, plan };
  }

  test('an SNS topic for ElastiCache notifications: the reconciler is subscribed (Lambda) and may be invoked by it; ElastiCache may publish under either documented condition key; the EventBridge rule stays', () => {
    const { primary, plan, cache } = withCache();
    plan.protect(cache);
    const t = Template.fromStack(primary);
    const reconcilerId = Object.keys(reconcilers(t))[0];
    const topicId = logicalIdOf(plan.notificationTopic as sns.Topic);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [reconcilerId, 'Arn'] },
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'sns.amazonaws.com', SourceArn: { Ref: topicId }, FunctionName: { 'Fn::GetAtt': [reconcilerId, 'Arn'] },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'ElastiCachePublish',
          Effect: 'Allow',
          Principal: { Service: 'elasticache.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
        }), Match.objectLike({
          Sid: 'ElastiCachePublishSourceOwner',
          Effect: 'Allow',
          Principal: { Service: 'elasticache.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'AWS:SourceOwner': '111111111111' } },
        })]),
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: { source: ['aws.elasticache'] } });
  });

  test('protect() sets the plan\'s topic on a library ReplicationGroup that has none', () => {
    const { primary, plan, cache } = withCache();
    plan.protect(cache);
    expect(cache.notificationTopic).toBe(plan.notificationTopic);
    Template.fromStack(primary).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: 'orders', NotificationTopicArn: { Ref: logicalIdOf(plan.notificationTopic as sns.Topic) },
    });
  });

  test('a topic given to the plan is used, subscribed and set on the group; no topic is defined by the plan', () => {
    const t = twoRegionApp();
    const topic = new sns.Topic(t.primary, 'Events', { enforceSSL: true });
    const vpc = new ec2.Vpc(t.primary, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cache = new ReplicationGroup(t.primary, 'Cache', { vpc, replicationGroupId: 'orders', notificationTopic: topic });
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, notificationTopic: topic });
    plan.protect(cache);
    const template = Template.fromStack(t.primary);
    template.resourceCountIs('AWS::SNS::Topic', 2); // the given one and the alarm topic
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: { Ref: logicalIdOf(topic) } });
    expect(Annotations.fromStack(t.primary).findWarning('*', Match.stringLikeRegexp('notification'))).toEqual([]);
  });

  test('a group with another topic keeps it, with a warning that says what to do', () => {
    const t = twoRegionApp();
    const other = new sns.Topic(t.primary, 'Other', { enforceSSL: true });
    const vpc = new ec2.Vpc(t.primary, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cache = new ReplicationGroup(t.primary, 'Cache', { vpc, replicationGroupId: 'orders', notificationTopic: other });
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
    plan.protect(cache);
    expect(cache.notificationTopic).toBe(other);
    const warnings = Annotations.fromStack(t.primary).findWarning('/Primary/Plan', Match.stringLikeRegexp('sends its events to Primary/Other'));
    expect(warnings.map((w) => w.entry.data)).toEqual([expect.stringContaining(
      "replication group 'orders' sends its events to Primary/Other, not to the plan's topic: the plan then hears of its backups only on its schedule. "
      + "Pass that topic as the plan's 'notificationTopic', or remove 'notificationTopic' from the group")]);
  });

  test('a group in another stack of the same region gets the plan\'s topic through a stack export', () => {
    const t = twoRegionApp();
    const cacheStack = new Stack(t.app, 'Caches', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(cacheStack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cache = new ReplicationGroup(cacheStack, 'Cache', { vpc, replicationGroupId: 'orders' });
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
    plan.protect(cache);
    const rg = Template.fromStack(cacheStack).findResources('AWS::ElastiCache::ReplicationGroup');
    expect(Object.values(rg)[0].Properties.NotificationTopicArn).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Primary:ExportsOutputRefPlanSnapshotNotifications/) });
    expect(cacheStack.dependencies).toContain(t.primary);
  });

  test('an imported group is told (info) how to send its events to the plan\'s topic', () => {
    const { primary, group, plan } = setup();
    plan.protect(group);
    const infos = Annotations.fromStack(primary).findInfo('/Primary/Plan', Match.stringLikeRegexp("replication group 'orders' is imported"));
    expect(infos).toHaveLength(1);
    expect(infos[0].entry.data).toContain('modify-replication-group --notification-topic-arn');
  });

  test.each([
    ['cache.r6gd.xlarge'],
    ['cache.r7gd.2xlarge'],
  ])('protect() refuses a data tiering group (%s): synth error naming the node type and what to do', (nodeType) => {
    const { plan, cache } = withCache({ nodeType });
    expect(() => plan.protect(cache)).toThrow(`Primary/Plan: replication group 'orders' uses node type '${nodeType}', which has data tiering: `
      + 'ElastiCache cannot export its backups to Amazon S3, so a BackupPlan would take backups it can never export; '
      + 'do not protect it with a BackupPlan (its automatic backups continue: set \'backup.retention\' on the group), '
      + 'or use a node type without data tiering (for example cache.r7g.xlarge)');
  });

  test('a node type whose shards can exceed the full-verification limit gets a warning; smaller ones do not', () => {
    const big = withCache({ nodeType: 'cache.r7g.4xlarge' });
    big.plan.protect(big.cache);
    const warnings = Annotations.fromStack(big.primary).findWarning('/Primary/Plan', Match.stringLikeRegexp('verified partially'));
    expect(warnings.map((w) => w.entry.data)).toEqual([expect.stringContaining(
      "replication group 'orders' uses node type cache.r7g.4xlarge (105.81 GiB): a shard's .rdb can exceed 60 GB")]);
    const small = withCache({ nodeType: 'cache.r7g.2xlarge' });
    small.plan.protect(small.cache);
    expect(Annotations.fromStack(small.primary).findWarning('*', Match.stringLikeRegexp('verified partially'))).toEqual([]);
  });

  test('protect() refuses an imported group whose nodeType says data tiering', () => {
    const { primary, plan } = setup();
    const imported = ReplicationGroup.fromReplicationGroupAttributes(primary, 'Tiered', { replicationGroupId: 'tiered', nodeType: 'cache.r6gd.4xlarge' });
    expect(() => plan.protect(imported)).toThrow("replication group 'tiered' uses node type 'cache.r6gd.4xlarge', which has data tiering");
  });

  test('protect() refuses a group of another region', () => {
    const t = twoRegionApp();
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
    const far = ReplicationGroup.fromReplicationGroupAttributes(t.dr, 'Far', { replicationGroupId: 'far' });
    expect(() => plan.protect(far)).toThrow("Primary/Plan: replication group 'far' is in us-west-2, but the plan is in us-east-1; "
      + 'a BackupPlan protects the groups of its own region (ElastiCache takes a backup only in the group\'s region and exports it only '
      + 'to a bucket of that region): define one plan (and one export bucket) per region');
  });

  test('the export timeout defaults to 30 min + 10 min per GiB of the node type (cache.r7g.large, 13.07 GiB: 9642 s)', () => {
    const { primary, plan, cache } = withCache({ nodeType: 'cache.r7g.large' });
    plan.protect(cache);
    const other = ReplicationGroup.fromReplicationGroupAttributes(primary, 'Small', { replicationGroupId: 'small', nodeType: 'cache.t4g.micro' });
    plan.protect(other);
    const config = planConfig(Template.fromStack(primary));
    // 1800 + ceil(13.07 * 600) = 1800 + 7842; t4g.micro 0.5 GiB: 1800 + 300.
    expect(config.groups.map((g: any) => [g.replicationGroupId, g.exportTimeoutSeconds])).toEqual([['orders', 9642], ['small', 2100]]);
    expect(config.exportTimeoutSeconds).toBe(9642);
  });

  test('an exportTimeout given to the plan applies to every group', () => {
    const { primary, plan, cache } = withCache({ nodeType: 'cache.r7g.large' }, { exportTimeout: Duration.minutes(45) });
    plan.protect(cache);
    const config = planConfig(Template.fromStack(primary));
    expect(config.groups[0].exportTimeoutSeconds).toBe(2700);
    expect(config.exportTimeoutSeconds).toBe(2700);
  });

  test.each([
    ['exportRetention', { exportRetention: Duration.days(3) }, Duration.days(2), 3, 2, 4],
    ['noncurrentVersionRetention', { noncurrentVersionRetention: Duration.days(7) }, Duration.days(6), 7, 6, 8],
  ])('protect() fails when the export bucket\'s %s does not outlast manualBackupRetention plus a day', (name, bucketProps, retention, kept, planDays, suggested) => {
    const t = twoRegionApp(bucketProps as BackupExportBucketProps);
    const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
    const group = ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Orders', { replicationGroupId: 'orders' });
    expect(() => plan.protect(group, { manualBackupRetention: retention })).toThrow(
      `Primary/Plan: the export bucket Primary/Exports keeps exports for ${kept} days ('${name}'), but replication group 'orders' keeps its `
      + `manual backups for ${planDays} days ('manualBackupRetention'); the bucket must keep them longer than that plus 1 day: `
      + `set '${name}' on the bucket to at least Duration.days(${suggested}), or shorten 'manualBackupRetention'`);
  });

  test('the default lifecycle (35 days current, 7 days noncurrent) accepts up to 5 days of manual backup retention', () => {
    const { group, plan } = setup();
    expect(() => plan.protect(group, { manualBackupRetention: Duration.days(5) })).not.toThrow();
  });
});
