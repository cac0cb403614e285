import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupPlan, ProtectionOptions } from '../../lib/backup-plan/backup-plan';
import { ENV_PLAN_CONFIG } from '../../lib/backup-plan/constants';
import { BackupFreshnessMonitor } from '../../lib/backup-plan/freshness-monitor';
import { IReplicationGroup, ReplicationGroup } from '../../lib/replication-group/replication-group';
import { twoRegionApp, TwoRegionApp } from '../storage/fixtures';
import { addNagPacks, synthFindings } from '../support/nag';

function setup(app?: App): TwoRegionApp & { group: IReplicationGroup; plan: BackupPlan } {
  const t = twoRegionApp({}, {}, app);
  const group = ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Orders', { replicationGroupId: 'orders' } as never);
  const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
  return { ...t, group, plan };
}

function planConfig(template: Template): any {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [ENV_PLAN_CONFIG]: Match.anyValue() } } } });
  const raw = Object.values(fns)[0].Properties.Environment.Variables[ENV_PLAN_CONFIG];
  return JSON.parse(typeof raw === 'string' ? raw : raw['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<token>')).join(''));
}

describe('BackupPlan', () => {
  test('one reconciler with reserved concurrency 1, a bounded timeout, a log group with retention and a dead-letter queue', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75) });
    const t = Template.fromStack(primary);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: 120,
      Runtime: 'nodejs22.x',
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
    expect(config.groups).toEqual([{
      replicationGroupId: 'orders', intervalSeconds: 4500, retentionSeconds: 172800, rpoTargetSeconds: 8100, exportAutomated: true,
    }]);
    expect(config.exportTimeoutSeconds).toBe(3600);
    expect(config.planId).toBe(plan.planId);
  });

  test('without an interval: automatic backups only, RPO target 26 h, fallback backup after 25 h', () => {
    const { primary, group, plan } = setup();
    plan.protect(group);
    expect(planConfig(Template.fromStack(primary)).groups[0]).toEqual({
      replicationGroupId: 'orders', retentionSeconds: 86400, rpoTargetSeconds: 93600, exportAutomated: true, fallbackAfterSeconds: 90000,
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
    t.resourceCountIs('AWS::Events::Rule', 3);
  });

  test('IAM: ElastiCache actions scoped to the group\'s snapshots and members; DeleteSnapshot only with the plan\'s tag', () => {
    const { primary, group, plan } = setup();
    plan.protect(group, { interval: Duration.minutes(75) });
    const arn = (r: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:us-east-1:111111111111:${r}`]] });
    const statements = Template.fromStack(primary).findResources('AWS::IAM::Policy');
    const all = Object.values(statements).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const ec = all.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('elasticache:')));
    expect(ec).toEqual([
      { Sid: 'DescribeBackups', Effect: 'Allow', Action: ['elasticache:DescribeSnapshots', 'elasticache:DescribeReplicationGroups'], Resource: '*' },
      { Effect: 'Allow', Action: 'elasticache:CreateSnapshot', Resource: [arn('replicationgroup:orders'), arn('cluster:orders-*'), arn('snapshot:orders-plan-*')] },
      {
        Effect: 'Allow',
        Action: 'elasticache:AddTagsToResource',
        Resource: arn('snapshot:orders-plan-*'),
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['cdk-elasticache-backup:plan'] } },
      },
      { Effect: 'Allow', Action: 'elasticache:CopySnapshot', Resource: [arn('snapshot:orders-*'), arn('snapshot:automatic.orders-*')] },
      { Effect: 'Allow', Action: 'elasticache:ListTagsForResource', Resource: arn('snapshot:orders-plan-*') },
      {
        Effect: 'Allow',
        Action: 'elasticache:DeleteSnapshot',
        Resource: arn('snapshot:orders-plan-*'),
        Condition: { StringEquals: { 'aws:ResourceTag/cdk-elasticache-backup:plan': plan.planId } },
      },
    ]);
    // S3: the export bucket's own export grant, including s3:ListAllMyBuckets on arn:<partition>:s3:::*.
    expect(all.some((s: any) => [s.Action].flat().includes('s3:ListAllMyBuckets'))).toBe(true);
    expect(all.some((s: any) => [s.Action].flat().includes('cloudwatch:PutMetricData'))).toBe(false);
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
    t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:111111111111:alias/aws/sns']] } });
  });

  test('a given alarm topic is used and no topic is defined', () => {
    const t0 = twoRegionApp();
    const topic = sns.Topic.fromTopicArn(t0.primary, 'T', 'arn:aws:sns:us-east-1:111111111111:ops');
    const plan = new BackupPlan(t0.primary, 'Plan', { exportBucket: t0.exportBucket, alarmTopic: topic, reconcileInterval: Duration.minutes(10) });
    expect(plan.alarmTopic).toBe(topic);
    const t = Template.fromStack(t0.primary);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
  });

  test('groups given in props and with protect() share one reconciler; metrics carry the group dimension', () => {
    const t0 = twoRegionApp();
    const a = ReplicationGroup.fromReplicationGroupAttributes(t0.primary, 'A', { replicationGroupId: 'a' } as never);
    const b = ReplicationGroup.fromReplicationGroupAttributes(t0.primary, 'B', { replicationGroupId: 'b' } as never);
    const plan = new BackupPlan(t0.primary, 'Plan', { exportBucket: t0.exportBucket, groups: [{ replicationGroup: a, interval: Duration.hours(2) }] });
    plan.protect(b);
    const t = Template.fromStack(t0.primary);
    t.resourceCountIs('AWS::Lambda::Function', 1);
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
