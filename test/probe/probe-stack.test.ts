import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ServiceProbeStack, ServiceProbeStackProps } from './probe-stack';

const ENV = { account: '111111111111', region: 'us-east-1' };

function synth(props: Omit<ServiceProbeStackProps, 'env'> = {}): Template {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true } });
  return Template.fromStack(new ServiceProbeStack(app, 'Probe', { env: ENV, ...props }));
}

/** The actions of every statement of the IAM policies attached to a role whose logical id starts with `prefix`. */
function roleActions(template: Template, prefix: string): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }>;
  return policies
    .filter((p) => p.Properties.Roles.some((r) => r.Ref.startsWith(prefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => ([] as string[]).concat(s.Action)));
}

describe('ServiceProbeStack', () => {
  const template = synth();

  test('a cluster-mode-disabled Valkey group of one micro primary and one replica, publishing to the probe topic', () => {
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: 'ecb-probe',
      Engine: 'valkey',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheClusters: 2,
      SnapshotRetentionLimit: 1,
      NotificationTopicArn: { Ref: Match.stringLikeRegexp('^SnapshotNotifications') },
    });
  });

  test('the group publishes to a topic with the backup plan\'s own policy', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ElastiCachePublish', Action: 'sns:Publish' })]) },
    });
  });

  test('the topic feeds one queue and an EventBridge rule for aws.elasticache feeds another', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs', Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SnsEvents'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.elasticache'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventBridgeEvents'), 'Arn'] } })],
    });
  });

  test('the two copy roles differ only by s3:GetBucketAcl and have the guide\'s caller actions', () => {
    const without = roleActions(template, 'CopyWithoutGetBucketAcl').sort();
    const withAcl = roleActions(template, 'CopyWithGetBucketAcl').sort();
    expect(without).toEqual([
      'elasticache:CopySnapshot', 's3:DeleteObject', 's3:GetBucketLocation', 's3:GetObject', 's3:ListAllMyBuckets',
      's3:ListBucket', 's3:PutObject',
    ]);
    expect(withAcl).toEqual([...without, 's3:GetBucketAcl'].sort());
  });

  test('the probe function may assume both copy roles and its environment names everything it asks about', () => {
    expect(roleActions(template, 'ProbeServiceRole')).toEqual(expect.arrayContaining([
      'sts:AssumeRole', 'elasticache:CreateSnapshot', 'elasticache:DeleteSnapshot', 'elasticache:DescribeSnapshots',
    ]));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          GROUP_ID: 'ecb-probe',
          MEMBER_IDS: 'ecb-probe-001,ecb-probe-002',
          SNAPSHOT_SOURCE_ID: 'ecb-probe-002',
          BACKUP_WINDOW: '03:00-04:00',
          ROLE_WITHOUT_ACL_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CopyWithoutGetBucketAcl'), 'Arn'] },
          ROLE_WITH_ACL_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CopyWithGetBucketAcl'), 'Arn'] },
        }),
      },
    });
  });

  test('the template holds no path of this checkout', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain(path.resolve(__dirname, '..', '..'));
  });

  test('the optional groups: a two-shard cluster-mode-enabled one, and one with retention but no snapshotting cluster', () => {
    const cme = synth({ clusterModeEnabledGroup: true });
    cme.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { ReplicationGroupId: 'ecb-probe-cme', NumNodeGroups: 2 });
    cme.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CME_GROUP_ID: 'ecb-probe-cme', CME_SHARDS: '2' }) },
    });
    const retention = synth({ retentionWithoutSnapshottingCluster: true });
    retention.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: 'ecb-probe-ret', SnapshotRetentionLimit: 1, SnapshottingClusterId: Match.absent(),
    });
  });
});
