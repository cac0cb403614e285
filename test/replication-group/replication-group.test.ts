import { App, CfnParameter, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CacheEngine } from '../../lib/engine';
import { BackupWindow, DayOfWeek, MaintenanceWindow } from '../../lib/replication-group/backup';
import {
  ClusterMode,
  ReplicationGroup,
  ReplicationGroupProps,
  TransitEncryptionMode,
} from '../../lib/replication-group/replication-group';

const ENV = { account: '111111111111', region: 'us-east-1' };
const RG = 'AWS::ElastiCache::ReplicationGroup';

function setup(): { stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc');
  return { stack, vpc };
}

function define(props: Partial<ReplicationGroupProps> = {}): { stack: Stack; cache: ReplicationGroup; template: Template } {
  const { stack, vpc } = setup();
  const cache = new ReplicationGroup(stack, 'Cache', { vpc, ...props });
  return { stack, cache, template: Template.fromStack(stack) };
}

/** The message of the error `fn` throws; fails the test when it throws nothing. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}

function rgProperties(template: Template): Record<string, unknown> {
  const resources = template.findResources(RG);
  const ids = Object.keys(resources);
  expect(ids).toHaveLength(1);
  return resources[ids[0]].Properties;
}

describe('defaults', () => {
  const { stack, cache, template } = define();

  test('renders a Valkey 8.0 replication group with one replica on cache.r7g.large', () => {
    template.hasResourceProperties(RG, {
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.r7g.large',
      NumCacheClusters: 2,
      NumNodeGroups: Match.absent(),
      ReplicasPerNodeGroup: Match.absent(),
      Port: 6379,
    });
  });

  test('turns on Multi-AZ and automatic failover', () => {
    template.hasResourceProperties(RG, { MultiAZEnabled: true, AutomaticFailoverEnabled: true });
  });

  test('encrypts at rest with the AWS managed key and in transit', () => {
    template.hasResourceProperties(RG, {
      AtRestEncryptionEnabled: true,
      KmsKeyId: Match.absent(),
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: Match.absent(),
    });
  });

  test('keeps automatic backups 15 days in 03:00-05:00 with maintenance on sun:05:00-sun:06:00', () => {
    template.hasResourceProperties(RG, {
      SnapshotRetentionLimit: 15,
      SnapshotWindow: '03:00-05:00',
      PreferredMaintenanceWindow: 'sun:05:00-sun:06:00',
    });
  });

  test('generates a valid replication group id and takes backups from its second member', () => {
    const props = rgProperties(template);
    expect(props.ReplicationGroupId).toMatch(/^stack-cache-[0-9a-f]{8}$/);
    expect(props.SnapshottingClusterId).toBe(`${props.ReplicationGroupId}-002`);
    expect(cache.replicationGroupId).toBe(props.ReplicationGroupId);
    expect(cache.snapshottingClusterId).toBe(props.SnapshottingClusterId);
  });

  test('takes a final snapshot on delete and on replacement', () => {
    template.hasResource(RG, { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  test('defines a subnet group in the private subnets', () => {
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [
        { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') },
        { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet2') },
        { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet3') },
      ],
    });
    template.hasResourceProperties(RG, { CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('^CacheSubnetGroup') } });
  });

  test('defines a security group without ingress and without egress', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'ElastiCache replication group Stack/Cache',
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
    });
    template.hasResourceProperties(RG, { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSecurityGroup'), 'GroupId'] }] });
  });

  test('defines a valkey8 parameter group with the recommended reserved-memory-percent', () => {
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: { 'reserved-memory-percent': '25' },
    });
    template.hasResourceProperties(RG, { CacheParameterGroupName: { Ref: Match.stringLikeRegexp('^CacheParameterGroup') } });
    expect(cache.parameterGroup.parameters).toEqual({ 'reserved-memory-percent': '25' });
  });

  test('generates the AUTH token in Secrets Manager, without the characters ElastiCache rejects', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        PasswordLength: 64,
        ExcludeCharacters: '"%\'()*+,./:;=?@[\\]_`{|}~',
        IncludeSpace: false,
        RequireEachIncludedType: true,
      },
    });
    template.hasResourceProperties(RG, {
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^CacheAuthToken') }, ':SecretString:::}}']] },
    });
    expect(cache.authTokenSecret).toBeDefined();
  });

  test('has no notification topic and no user groups', () => {
    template.hasResourceProperties(RG, { NotificationTopicArn: Match.absent(), UserGroupIds: Match.absent(), DataTieringEnabled: Match.absent() });
  });

  test('exposes the ARN, the settings and the CfnReplicationGroup as the default child', () => {
    expect(stack.resolve(cache.replicationGroupArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:us-east-1:111111111111:replicationgroup:${cache.replicationGroupId}`]],
    });
    expect(cache.node.defaultChild).toBeInstanceOf(elasticache.CfnReplicationGroup);
    expect(cache.node.defaultChild!.node.id).toBe('Resource');
    expect({
      engine: cache.engine.toString(),
      nodeType: cache.nodeType,
      clusterModeEnabled: cache.clusterModeEnabled,
      shardCount: cache.shardCount,
      replicasPerShard: cache.replicasPerShard,
      port: cache.port,
      backupRetentionDays: cache.backupRetention.toDays(),
      backupWindow: cache.backupWindow,
      maintenanceWindow: cache.maintenanceWindow,
      securityGroups: cache.securityGroups.length,
    }).toEqual({
      engine: 'valkey 8.0',
      nodeType: 'cache.r7g.large',
      clusterModeEnabled: false,
      shardCount: 1,
      replicasPerShard: 1,
      port: 6379,
      backupRetentionDays: 15,
      backupWindow: '03:00-05:00',
      maintenanceWindow: 'sun:05:00-sun:06:00',
      securityGroups: 1,
    });
  });

  test('exposes the primary and reader endpoints', () => {
    expect(stack.resolve(cache.primaryEndpointAddress)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'PrimaryEndPoint.Address'] });
    expect(stack.resolve(cache.primaryEndpointPort)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'PrimaryEndPoint.Port'] });
    expect(stack.resolve(cache.readerEndpointAddress)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'ReaderEndPoint.Address'] });
    expect(stack.resolve(cache.readerEndpointPort)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'ReaderEndPoint.Port'] });
    expect(stack.resolve(cache.endpointAddress)).toEqual(stack.resolve(cache.primaryEndpointAddress));
    expect(stack.resolve(cache.endpointPort)).toEqual(stack.resolve(cache.primaryEndpointPort));
  });

  test('refuses the configuration endpoint with cluster mode disabled', () => {
    expect(errorOf(() => cache.configurationEndpointAddress)).toBe(
      'Stack/Cache: \'configurationEndpointAddress\' is not available with cluster mode disabled; '
      + 'use \'primaryEndpointAddress\' (or \'endpointAddress\'/\'endpointPort\', which pick the right one)');
  });

  test('gives no warnings', () => {
    Annotations.fromStack(stack).hasNoWarning('/Stack/Cache', Match.anyValue());
  });
});

describe('options', () => {
  test('an explicit replicationGroupId is used as is and for the snapshotting member', () => {
    const { template, cache } = define({ replicationGroupId: 'orders' });
    template.hasResourceProperties(RG, { ReplicationGroupId: 'orders', SnapshottingClusterId: 'orders-002' });
    expect(cache.snapshottingClusterId).toBe('orders-002');
  });

  test('cluster mode enabled renders shards, replicas and cluster-enabled yes, without a snapshotting member', () => {
    const { template, cache, stack } = define({ clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 2 });
    template.hasResourceProperties(RG, {
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      NumCacheClusters: Match.absent(),
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      SnapshottingClusterId: Match.absent(),
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'reserved-memory-percent': '25', 'cluster-enabled': 'yes' },
    });
    expect([cache.clusterModeEnabled, cache.shardCount, cache.replicasPerShard, cache.snapshottingClusterId]).toEqual([true, 3, 2, undefined]);
    expect(stack.resolve(cache.configurationEndpointAddress)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'ConfigurationEndPoint.Address'] });
    expect(stack.resolve(cache.configurationEndpointPort)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'ConfigurationEndPoint.Port'] });
    expect(stack.resolve(cache.endpointAddress)).toEqual(stack.resolve(cache.configurationEndpointAddress));
  });

  test('cluster mode enabled refuses the primary and reader endpoints', () => {
    const { cache } = define({ clusterMode: ClusterMode.ENABLED });
    expect(errorOf(() => cache.primaryEndpointAddress)).toBe('Stack/Cache: \'primaryEndpointAddress\' is not available with cluster mode enabled; '
      + 'use \'configurationEndpointAddress\' (or \'endpointAddress\'/\'endpointPort\', which pick the right one)');
    expect(errorOf(() => cache.readerEndpointAddress)).toContain('\'readerEndpointAddress\' is not available with cluster mode enabled');
  });

  test('cluster mode enabled without replicas keeps automatic failover (required) but not Multi-AZ', () => {
    const { template } = define({ clusterMode: ClusterMode.ENABLED, shards: 2, replicasPerShard: 0 });
    template.hasResourceProperties(RG, { NumNodeGroups: 2, ReplicasPerNodeGroup: 0, AutomaticFailoverEnabled: true, MultiAZEnabled: false });
  });

  test('no replica: one node, no failover, no Multi-AZ, backups from the primary named explicitly (-001)', () => {
    const { template, cache } = define({ replicasPerShard: 0 });
    const id = cache.replicationGroupId;
    template.hasResourceProperties(RG, {
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      MultiAZEnabled: false,
      SnapshotRetentionLimit: 15,
      SnapshottingClusterId: `${id}-001`,
    });
    expect(cache.snapshottingClusterId).toBe(`${id}-001`);
  });

  test('fromReplica false with retention on names the primary (-001): retention without a snapshotting cluster failed at create', () => {
    const { template, cache } = define({ backup: { fromReplica: false, retention: Duration.days(3) } });
    const id = cache.replicationGroupId;
    template.hasResourceProperties(RG, { SnapshottingClusterId: `${id}-001`, SnapshotRetentionLimit: 3 });
    expect(cache.snapshottingClusterId).toBe(`${id}-001`);
  });

  test('cluster mode enabled never renders a snapshotting cluster, whatever the retention', () => {
    const { template, cache } = define({ clusterMode: ClusterMode.ENABLED, shards: 2, backup: { retention: Duration.days(35) } });
    template.hasResourceProperties(RG, { SnapshottingClusterId: Match.absent(), SnapshotRetentionLimit: 35 });
    expect(cache.snapshottingClusterId).toBeUndefined();
  });

  test('multiAz false with a replica keeps automatic failover', () => {
    const { template } = define({ multiAz: false });
    template.hasResourceProperties(RG, { MultiAZEnabled: false, AutomaticFailoverEnabled: true });
  });

  test('a Redis OSS 7.1 engine uses the redis7 family', () => {
    const { template } = define({ engine: CacheEngine.REDIS_7_1 });
    template.hasResourceProperties(RG, { Engine: 'redis', EngineVersion: '7.1' });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { CacheParameterGroupFamily: 'redis7' });
  });

  test('a KMS key encrypts at rest', () => {
    const { stack, vpc } = setup();
    const key = new kms.Key(stack, 'Key');
    new ReplicationGroup(stack, 'Cache', { vpc, encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties(RG, { AtRestEncryptionEnabled: true, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
  });

  test('a notification topic receives the events', () => {
    const { stack, vpc } = setup();
    const topic = new sns.Topic(stack, 'Topic');
    new ReplicationGroup(stack, 'Cache', { vpc, notificationTopic: topic });
    Template.fromStack(stack).hasResourceProperties(RG, { NotificationTopicArn: { Ref: Match.stringLikeRegexp('^Topic') } });
  });

  test('a given secret is used as the AUTH token and none is generated', () => {
    const { stack, vpc } = setup();
    const secret = new secretsmanager.Secret(stack, 'Token');
    const cache = new ReplicationGroup(stack, 'Cache', { vpc, authTokenSecret: secret });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties(RG, {
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^Token') }, ':SecretString:::}}']] },
    });
    expect(cache.authTokenSecret).toBe(secret);
  });

  test('a given token is rendered and no secret is generated', () => {
    const { template, cache } = define({ authToken: SecretValue.unsafePlainText('Abcdefgh12345678-!') });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties(RG, { AuthToken: 'Abcdefgh12345678-!' });
    expect(cache.authTokenSecret).toBeUndefined();
  });

  test('RBAC user groups replace the AUTH token', () => {
    const { template } = define({ userGroupIds: ['app-users'] });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties(RG, { UserGroupIds: ['app-users'], AuthToken: Match.absent(), TransitEncryptionEnabled: true });
  });

  test('without transit encryption there is no AUTH token', () => {
    const { template } = define({ transitEncryption: false });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties(RG, { TransitEncryptionEnabled: false, AuthToken: Match.absent() });
  });

  test('the transit encryption mode is rendered', () => {
    const { template } = define({ transitEncryptionMode: TransitEncryptionMode.PREFERRED });
    template.hasResourceProperties(RG, { TransitEncryptionMode: 'preferred' });
  });

  test('given security groups are used and connections open the port', () => {
    const { stack, vpc } = setup();
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc });
    const cache = new ReplicationGroup(stack, 'Cache', { vpc, securityGroups: [sg], port: 6380 });
    cache.connections.allowDefaultPortFrom(client);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
    template.hasResourceProperties(RG, { Port: 6380, SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380,
      ToPort: 6380,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
    });
  });

  test('a VPC with only isolated subnets uses them by default', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Vpc', { subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    new ReplicationGroup(stack, 'Cache', { vpc });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcDataSubnet1') }]),
    });
  });

  test('vpcSubnets selects the subnets', () => {
    const { template } = define({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcPublicSubnet1') }]),
    });
  });

  test('parameters and reservedMemoryPercent go into the parameter group', () => {
    const { template } = define({ reservedMemoryPercent: 40, parameters: { 'maxmemory-policy': 'allkeys-lru' } });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'reserved-memory-percent': '40', 'maxmemory-policy': 'allkeys-lru' },
    });
  });

  test('reserved-memory-percent may be set through parameters', () => {
    const { template } = define({ parameters: { 'reserved-memory-percent': '35' } });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: { 'reserved-memory-percent': '35' } });
  });

  test('a small burstable node type reserves 30 percent', () => {
    const { template } = define({ nodeType: 'cache.t4g.small' });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: { 'reserved-memory-percent': '30' } });
  });

  test('a data tiering node type turns data tiering on and reserves 25 percent (AWS: 50 only for write-heavy workloads)', () => {
    const { template } = define({ nodeType: 'cache.r6gd.xlarge' });
    template.hasResourceProperties(RG, { DataTieringEnabled: true, CacheNodeType: 'cache.r6gd.xlarge' });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: { 'reserved-memory-percent': '25' } });
  });

  test('a write-heavy data tiering group reserves 50 percent', () => {
    const { template } = define({ nodeType: 'cache.r6gd.xlarge', writeHeavy: true });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', { Properties: { 'reserved-memory-percent': '50' } });
  });

  test('RemovalPolicy.RETAIN retains the group and everything it needs', () => {
    const { template } = define({ removalPolicy: RemovalPolicy.RETAIN });
    for (const type of [RG, 'AWS::ElastiCache::SubnetGroup', 'AWS::ElastiCache::ParameterGroup', 'AWS::SecretsManager::Secret', 'AWS::EC2::SecurityGroup']) {
      template.hasResource(type, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('RemovalPolicy.DESTROY deletes the group without a snapshot', () => {
    const { template } = define({ removalPolicy: RemovalPolicy.DESTROY });
    template.hasResource(RG, { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('a description is rendered', () => {
    const { template } = define({ description: 'Orders cache' });
    template.hasResourceProperties(RG, { ReplicationGroupDescription: 'Orders cache' });
  });
});

describe('windows', () => {
  test('both windows are rendered as given', () => {
    const { template } = define({
      backup: { retention: Duration.days(35), window: BackupWindow.fromString('22:00-23:30') },
      maintenanceWindow: MaintenanceWindow.fromString('sun:23:30-mon:01:30'),
    });
    template.hasResourceProperties(RG, { SnapshotRetentionLimit: 35, SnapshotWindow: '22:00-23:30', PreferredMaintenanceWindow: 'sun:23:30-mon:01:30' });
  });

  test('typed windows are rendered in ElastiCache format', () => {
    const { template } = define({
      backup: { window: BackupWindow.startingAt({ hour: 1, minute: 30 }, Duration.hours(2)) },
      maintenanceWindow: MaintenanceWindow.startingAt({ day: DayOfWeek.SATURDAY, hour: 23 }, Duration.minutes(90)),
    });
    template.hasResourceProperties(RG, { SnapshotWindow: '01:30-03:30', PreferredMaintenanceWindow: 'sat:23:00-sun:00:30' });
  });

  test('only a maintenance window: the default backup window avoids it', () => {
    const { template, cache } = define({ maintenanceWindow: MaintenanceWindow.fromString('wed:02:00-wed:06:00') });
    template.hasResourceProperties(RG, { SnapshotWindow: '06:00-08:00', PreferredMaintenanceWindow: 'wed:02:00-wed:06:00' });
    expect(cache.backupWindow).toBe('06:00-08:00');
  });

  test('only a maintenance window that leaves 03:00-05:00 free: the default backup window is kept', () => {
    const { template } = define({ maintenanceWindow: MaintenanceWindow.fromString('sun:23:00-mon:01:30') });
    template.hasResourceProperties(RG, { SnapshotWindow: '03:00-05:00' });
  });

  test('only a backup window that covers Sunday 05:00: the maintenance window starts when it ends', () => {
    const { template, cache } = define({ backup: { window: BackupWindow.fromString('04:00-07:00') } });
    template.hasResourceProperties(RG, { SnapshotWindow: '04:00-07:00', PreferredMaintenanceWindow: 'sun:07:00-sun:08:00' });
    expect(cache.maintenanceWindow).toBe('sun:07:00-sun:08:00');
  });
});

describe('deploy-time values', () => {
  test('tokens skip the synth-time checks and are rendered', () => {
    const { stack, vpc } = setup();
    const str = (name: string) => new CfnParameter(stack, name, { type: 'String' }).valueAsString;
    const num = (name: string) => new CfnParameter(stack, name, { type: 'Number' }).valueAsNumber;
    new ReplicationGroup(stack, 'Cache', {
      vpc,
      replicationGroupId: str('Id'),
      nodeType: str('NodeType'),
      port: num('Port'),
      reservedMemoryPercent: num('Reserved'),
      parameters: { 'cluster-enabled': str('ClusterEnabled') },
      authToken: SecretValue.ssmSecure('/cache/token'),
      backup: { retention: Duration.days(num('Retention')), window: BackupWindow.fromString(str('BackupWindow')) },
      maintenanceWindow: MaintenanceWindow.fromString(str('MaintenanceWindow')),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties(RG, {
      ReplicationGroupId: { Ref: 'Id' },
      CacheNodeType: { Ref: 'NodeType' },
      Port: { Ref: 'Port' },
      AuthToken: '{{resolve:ssm-secure:/cache/token}}',
      SnapshotRetentionLimit: { Ref: 'Retention' },
      SnapshotWindow: { Ref: 'BackupWindow' },
      PreferredMaintenanceWindow: { Ref: 'MaintenanceWindow' },
      SnapshottingClusterId: { 'Fn::Join': ['', [{ Ref: 'Id' }, '-002']] },
    });
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'reserved-memory-percent': { Ref: 'Reserved' }, 'cluster-enabled': { Ref: 'ClusterEnabled' } },
    });
  });

  test('a token backup window keeps the default maintenance window', () => {
    const { stack, vpc } = setup();
    const window = new CfnParameter(stack, 'BackupWindow', { type: 'String' }).valueAsString;
    new ReplicationGroup(stack, 'Cache', { vpc, backup: { window: BackupWindow.fromString(window) } });
    Template.fromStack(stack).hasResourceProperties(RG, { SnapshotWindow: { Ref: 'BackupWindow' }, PreferredMaintenanceWindow: 'sun:05:00-sun:06:00' });
  });

  test('a Secrets Manager reference as authToken is not checked as text', () => {
    const { template } = define({ authToken: SecretValue.secretsManager('cache/token') });
    template.hasResourceProperties(RG, { AuthToken: '{{resolve:secretsmanager:cache/token:SecretString:::}}' });
  });
});

describe('warnings', () => {
  test('retention under 15 days', () => {
    const { stack, template } = define({ backup: { retention: Duration.days(7) } });
    template.hasResourceProperties(RG, { SnapshotRetentionLimit: 7 });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp(
      'Automatic backups are kept 7 days, under the 15 days that cdk-nag\'s ElastiCacheRedisClusterAutomaticBackup rule asks for'));
  });

  test('no replica', () => {
    const { stack } = define({ replicasPerShard: 0 });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('The replication group has no replica: no Multi-AZ, no automatic failover'));
  });

  test('burstable node type', () => {
    const { stack } = define({ nodeType: 'cache.t4g.medium' });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('Node type cache.t4g.medium is burstable'));
  });

  test('data tiering node type cannot export backups', () => {
    const { stack } = define({ nodeType: 'cache.r6gd.xlarge' });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('Node type cache.r6gd.xlarge uses data tiering: its backups cannot be exported to Amazon S3'));
  });

  test('transit encryption off', () => {
    const { stack } = define({ transitEncryption: false });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('Transit encryption is off'));
  });

  test('warnings carry acknowledgeable ids', () => {
    const { stack } = define({ replicasPerShard: 0 });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('\\[ack: cdk-elasticache-backup:noReplica\\]'));
  });
});

describe('validation', () => {
  const longToken = 'A1'.repeat(65);
  test.each<[string, Partial<ReplicationGroupProps>, string]>([
    ['fails with retention of 36 days', { backup: { retention: Duration.days(36) } },
      '\'backup.retention\' is out of range, got 36 days; ElastiCache keeps automatic backups for 1 to 35 days'],
    ['fails with retention of 0 days', { backup: { retention: Duration.days(0) } },
      '\'backup.retention\' is out of range, got 0 days; ElastiCache keeps automatic backups for 1 to 35 days'],
    ['fails with retention that is not whole days', { backup: { retention: Duration.hours(36) } },
      '\'backup.retention\' must be a whole number of days, got 1 day 12 hours; use Duration.days(n) with n from 1 to 35'],
    ['fails with a 30-minute backup window', { backup: { window: BackupWindow.fromString('05:00-05:30') } },
      '\'backup.window\' must be at least 60 minutes long, got \'05:00-05:30\' (30 minutes); for example \'03:00-04:00\''],
    ['fails with a backup window without leading zeros', { backup: { window: BackupWindow.fromString('5:00-6:00') } },
      '\'backup.window\' must have the format hh24:mi-hh24:mi (UTC), got \'5:00-6:00\'; for example \'03:00-05:00\''],
    ['fails with a backup window at hour 24', { backup: { window: BackupWindow.fromString('24:00-01:00') } },
      '\'backup.window\' must have the format hh24:mi-hh24:mi (UTC), got \'24:00-01:00\'; for example \'03:00-05:00\''],
    ['fails with a backup window of zero length', { backup: { window: BackupWindow.fromString('05:00-05:00') } },
      '\'backup.window\' must be at least 60 minutes long, got \'05:00-05:00\' (0 minutes); for example \'03:00-04:00\''],
    ['fails with a backup window overlapping the maintenance window',
      { backup: { window: BackupWindow.fromString('04:00-06:00') }, maintenanceWindow: MaintenanceWindow.fromString('sun:05:00-sun:07:00') },
      '\'backup.window\' overlaps \'maintenanceWindow\', got \'04:00-06:00\' and \'sun:05:00-sun:07:00\'; '
      + 'ElastiCache requires the daily backup window and the weekly maintenance window not to overlap'],
    ['fails with windows overlapping across midnight',
      { backup: { window: BackupWindow.fromString('23:00-01:00') }, maintenanceWindow: MaintenanceWindow.fromString('sat:23:30-sun:00:30') },
      '\'backup.window\' overlaps \'maintenanceWindow\', got \'23:00-01:00\' and \'sat:23:30-sun:00:30\'; '
      + 'ElastiCache requires the daily backup window and the weekly maintenance window not to overlap'],
    ['fails with a backup window that leaves no room for the maintenance window', { backup: { window: BackupWindow.fromString('06:00-05:30') } },
      '\'backup.window\' leaves no 60-minute gap for the default maintenance window, got \'06:00-05:30\' (23 hours 30 minutes); '
      + 'shorten it or set \'maintenanceWindow\''],
    ['fails with a maintenance window that leaves no room for the backup window', { maintenanceWindow: MaintenanceWindow.fromString('mon:00:00-mon:23:30') },
      '\'maintenanceWindow\' leaves no 60-minute daily gap for the default backup window, got \'mon:00:00-mon:23:30\' (23 hours 30 minutes); '
      + 'shorten it or set \'backup.window\''],
    ['fails with a maintenance window with full day names', { maintenanceWindow: MaintenanceWindow.fromString('sunday:05:00-sunday:06:00') },
      '\'maintenanceWindow\' must have the format ddd:hh24:mi-ddd:hh24:mi (UTC, ddd one of sun mon tue wed thu fri sat), '
      + 'got \'sunday:05:00-sunday:06:00\'; for example \'sun:23:00-mon:01:30\''],
    ['fails with a maintenance window without days', { maintenanceWindow: MaintenanceWindow.fromString('05:00-06:00') },
      '\'maintenanceWindow\' must have the format ddd:hh24:mi-ddd:hh24:mi (UTC, ddd one of sun mon tue wed thu fri sat), '
      + 'got \'05:00-06:00\'; for example \'sun:23:00-mon:01:30\''],
    ['fails with a 30-minute maintenance window', { maintenanceWindow: MaintenanceWindow.fromString('sun:05:00-sun:05:30') },
      '\'maintenanceWindow\' must be 60 minutes to 24 hours long, got \'sun:05:00-sun:05:30\' (30 minutes); for example \'sun:05:00-sun:06:00\''],
    ['fails with fromReplica and cluster mode enabled', { clusterMode: ClusterMode.ENABLED, backup: { fromReplica: true } },
      '\'backup.fromReplica\' cannot be used with cluster mode enabled, got true; '
      + 'ElastiCache does not accept a snapshotting cluster for cluster mode enabled: remove \'backup.fromReplica\''],
    ['fails with fromReplica without a replica', { replicasPerShard: 0, backup: { fromReplica: true } },
      '\'backup.fromReplica\' needs a replica, got true with \'replicasPerShard\' 0; set \'replicasPerShard\' to 1 or more, or remove \'backup.fromReplica\''],
    ['fails with backups on cache.t1.micro', { nodeType: 'cache.t1.micro' },
      '\'nodeType\' does not support backups with cluster mode disabled, got \'cache.t1.micro\'; choose a current node type, for example \'cache.t4g.micro\''],
    ['fails with a node type without the cache. prefix', { nodeType: 'r7g.large' },
      '\'nodeType\' must look like cache.<family>.<size>, got \'r7g.large\'; for example \'cache.r7g.large\''],
    ['fails with a Memcached-only parameter', { parameters: { max_item_size: '1048576' } },
      '\'parameters\' contains a Memcached-only parameter, got \'max_item_size\'; a valkey8 parameter group accepts only Valkey and Redis OSS parameters'],
    ['fails with 0 shards', { clusterMode: ClusterMode.ENABLED, shards: 0 },
      '\'shards\' must be an integer from 1 to 500, got 0'],
    ['fails with 501 shards', { clusterMode: ClusterMode.ENABLED, shards: 501, replicasPerShard: 0 },
      '\'shards\' must be an integer from 1 to 500, got 501'],
    ['fails with a fractional shard count', { clusterMode: ClusterMode.ENABLED, shards: 1.5 },
      '\'shards\' must be an integer from 1 to 500, got 1.5'],
    ['fails with shards and cluster mode disabled', { shards: 3 },
      '\'shards\' requires cluster mode enabled, got 3 with cluster mode disabled; set \'clusterMode\' to ClusterMode.ENABLED or remove \'shards\''],
    ['fails with 6 replicas', { replicasPerShard: 6 },
      '\'replicasPerShard\' must be an integer from 0 to 5, got 6'],
    ['fails with -1 replicas', { replicasPerShard: -1 },
      '\'replicasPerShard\' must be an integer from 0 to 5, got -1'],
    ['fails with more than 500 nodes', { clusterMode: ClusterMode.ENABLED, shards: 100, replicasPerShard: 5 },
      '\'shards\' and \'replicasPerShard\' give too many nodes, got 100 shards x 6 nodes = 600; a replication group has at most 500 nodes'],
    ['fails with multiAz without a replica', { replicasPerShard: 0, multiAz: true },
      '\'multiAz\' needs a replica in every shard, got true with \'replicasPerShard\' 0; set \'replicasPerShard\' to 1 or more'],
    ['fails with an AUTH token of 10 characters', { authToken: SecretValue.unsafePlainText('Abcdefgh12') },
      '\'authToken\' must be 16 to 128 characters long, got 10 characters'],
    ['fails with an AUTH token of 130 characters', { authToken: SecretValue.unsafePlainText(longToken) },
      '\'authToken\' must be 16 to 128 characters long, got 130 characters'],
    ['fails with an AUTH token containing @ and /', { authToken: SecretValue.unsafePlainText('Abcdefgh12345678@/') },
      '\'authToken\' contains characters ElastiCache rejects, got \'@\', \'/\'; only letters, digits and ! & # $ ^ < > - are allowed'],
    ['fails with an AUTH token containing a space', { authToken: SecretValue.unsafePlainText('Abcdefgh 12345678') },
      '\'authToken\' contains characters ElastiCache rejects, got space; only letters, digits and ! & # $ ^ < > - are allowed'],
    ['fails with an AUTH token containing a non-ASCII character', { authToken: SecretValue.unsafePlainText('Abcdefgh12345678é') },
      '\'authToken\' contains characters ElastiCache rejects, got non-ASCII or non-printable; only letters, digits and ! & # $ ^ < > - are allowed'],
    ['fails with an AUTH token without transit encryption', { transitEncryption: false, authToken: SecretValue.unsafePlainText('Abcdefgh12345678') },
      '\'authToken\' requires transit encryption, got \'transitEncryption\' false; set \'transitEncryption\' to true or remove \'authToken\''],
    ['fails with user groups without transit encryption', { transitEncryption: false, userGroupIds: ['users'] },
      '\'userGroupIds\' requires transit encryption, got \'transitEncryption\' false; set \'transitEncryption\' to true'],
    ['fails with user groups and an AUTH token', { userGroupIds: ['users'], authToken: SecretValue.unsafePlainText('Abcdefgh12345678') },
      '\'userGroupIds\' cannot be combined with \'authToken\'; use either RBAC user groups or an AUTH token'],
    ['fails with a transit encryption mode without transit encryption', { transitEncryption: false, transitEncryptionMode: TransitEncryptionMode.REQUIRED },
      '\'transitEncryptionMode\' requires transit encryption, got \'required\' with \'transitEncryption\' false; '
      + 'remove \'transitEncryptionMode\' or set \'transitEncryption\' to true'],
    ['fails with a transit encryption mode on Redis OSS 6.2', { engine: CacheEngine.REDIS_6_2, transitEncryptionMode: TransitEncryptionMode.PREFERRED },
      '\'transitEncryptionMode\' needs Valkey 7.2+ or Redis OSS 7.0+, got redis 6.2; remove \'transitEncryptionMode\' or choose a newer engine'],
    ['fails with a replication group id starting with a digit', { replicationGroupId: '1cache' },
      'ReplicationGroup property \'replicationGroupId\' is invalid, got \'1cache\': it must start with a lowercase letter; use 1 to 40 lowercase letters, '
      + 'digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'],
    ['fails with a replication group id of 41 characters', { replicationGroupId: 'a'.repeat(41) },
      `ReplicationGroup property 'replicationGroupId' is invalid, got '${'a'.repeat(41)}': it must be 1 to 40 characters long (it has 41); use 1 to 40 lowercase letters, `
      + 'digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'],
    ['fails with a replication group id with two consecutive hyphens', { replicationGroupId: 'my--cache' },
      'ReplicationGroup property \'replicationGroupId\' is invalid, got \'my--cache\': it must not contain two consecutive hyphens; use 1 to 40 lowercase letters, '
      + 'digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'],
    ['fails with a replication group id ending with a hyphen', { replicationGroupId: 'my-cache-' },
      'ReplicationGroup property \'replicationGroupId\' is invalid, got \'my-cache-\': it must not end with a hyphen; use 1 to 40 lowercase letters, '
      + 'digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'],
    ['fails with a replication group id in upper case', { replicationGroupId: 'Orders' },
      'ReplicationGroup property \'replicationGroupId\' is invalid, got \'Orders\': it may only contain lowercase letters, digits and hyphens, must start with a lowercase letter; '
      + 'use 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen'],
    ['fails with reservedMemoryPercent 101', { reservedMemoryPercent: 101 },
      '\'reservedMemoryPercent\' must be an integer from 0 to 100, got 101'],
    ['fails with a fractional reservedMemoryPercent', { reservedMemoryPercent: 12.5 },
      '\'reservedMemoryPercent\' must be an integer from 0 to 100, got 12.5'],
    ['fails with reserved-memory-percent set twice', { reservedMemoryPercent: 30, parameters: { 'reserved-memory-percent': '40' } },
      '\'parameters\' sets \'reserved-memory-percent\', got \'40\', and \'reservedMemoryPercent\' is also set, got 30; set it in one place'],
    ['fails with reserved-memory in parameters', { parameters: { 'reserved-memory': '1000000' } },
      '\'parameters\' sets \'reserved-memory\', got \'1000000\'; it cannot be combined with \'reserved-memory-percent\', which this construct always sets: '
      + 'use \'reservedMemoryPercent\' instead'],
    ['fails with cluster-enabled no and cluster mode enabled', { clusterMode: ClusterMode.ENABLED, parameters: { 'cluster-enabled': 'no' } },
      '\'parameters\' sets \'cluster-enabled\' against the cluster mode, got \'no\' with cluster mode enabled; remove it, the construct sets it from \'clusterMode\''],
    ['fails with cluster-enabled yes and cluster mode disabled', { parameters: { 'cluster-enabled': 'yes' } },
      '\'parameters\' sets \'cluster-enabled\' against the cluster mode, got \'yes\' with cluster mode disabled; remove it, the construct sets it from \'clusterMode\''],
    ['fails with an encryption key without encryption at rest', { atRestEncryption: false, encryptionKey: kms.Key.fromKeyArn(new Stack(), 'K', 'arn:aws:kms:us-east-1:111111111111:key/k') },
      '\'encryptionKey\' requires encryption at rest, got \'atRestEncryption\' false; remove \'encryptionKey\' or set \'atRestEncryption\' to true'],
    ['fails with port 0', { port: 0 },
      '\'port\' must be an integer from 1 to 65535, got 0'],
    ['fails with port 70000', { port: 70000 },
      '\'port\' must be an integer from 1 to 65535, got 70000'],
  ])('%s', (_name, props, message) => {
    const { stack, vpc } = setup();
    expect(errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, ...props }))).toBe(`Stack/Cache: ${message}`);
  });

  test('fails with both authToken and authTokenSecret', () => {
    const { stack, vpc } = setup();
    const secret = new secretsmanager.Secret(stack, 'Token');
    expect(errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, authToken: SecretValue.unsafePlainText('Abcdefgh12345678'), authTokenSecret: secret })))
      .toBe('Stack/Cache: \'authToken\' and \'authTokenSecret\' are both set; set only one');
  });

  test('fails with a deploy-time shard count', () => {
    const { stack, vpc } = setup();
    const shards = new CfnParameter(stack, 'Shards', { type: 'Number' }).valueAsNumber;
    expect(errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, clusterMode: ClusterMode.ENABLED, shards })))
      .toMatch(/^Stack\/Cache: 'shards' cannot be a deploy-time value, got .+; the node layout and the snapshotting cluster are chosen from it at synth time$/);
  });

  test('fails listing every problem at once', () => {
    const { stack, vpc } = setup();
    expect(errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, replicasPerShard: 6, port: 0, backup: { retention: Duration.days(36) } }))).toBe([
      'Stack/Cache: 3 invalid properties:',
      '- \'replicasPerShard\' must be an integer from 0 to 5, got 6',
      '- \'backup.retention\' is out of range, got 36 days; ElastiCache keeps automatic backups for 1 to 35 days',
      '- \'port\' must be an integer from 1 to 65535, got 0',
    ].join('\n'));
  });

  test('fails before defining any child construct', () => {
    const { stack, vpc } = setup();
    errorOf(() => new ReplicationGroup(stack, 'Cache', { vpc, port: 0 }));
    const cache = stack.node.tryFindChild('Cache');
    expect(cache?.node.children ?? []).toEqual([]);
  });
});

describe('fromReplicationGroupAttributes', () => {
  test('imports a group with its ARN and connections', () => {
    const { stack, vpc } = setup();
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc });
    const imported = ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: 'orders', securityGroups: [sg] });
    imported.connections.allowDefaultPortFrom(client);
    expect(imported.replicationGroupId).toBe('orders');
    expect(stack.resolve(imported.replicationGroupArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:us-east-1:111111111111:replicationgroup:orders']],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379 });
  });

  test('accepts a deploy-time id', () => {
    const { stack } = setup();
    const id = new CfnParameter(stack, 'Id', { type: 'String' }).valueAsString;
    const imported = ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: id, port: 6380 });
    expect(stack.resolve(imported.replicationGroupId)).toEqual({ Ref: 'Id' });
    expect(imported.connections.defaultPort?.toString()).toBe('6380');
  });

  test('fails with an invalid id', () => {
    const { stack } = setup();
    expect(errorOf(() => ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: 'my_cache' }))).toBe(
      'Stack/Imported: ReplicationGroup.fromReplicationGroupAttributes property \'replicationGroupId\' is invalid, got \'my_cache\': it may only contain lowercase letters, digits and hyphens; '
      + 'use 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without \'--\' and without a trailing hyphen');
  });
});

describe('notification topic', () => {
  test('useNotificationTopic sets NotificationTopicArn on a group without one, and is idempotent for the same topic', () => {
    const { stack, vpc } = setup();
    const cache = new ReplicationGroup(stack, 'Cache', { vpc });
    expect(cache.notificationTopic).toBeUndefined();
    const topic = new sns.Topic(stack, 'Topic');
    cache.useNotificationTopic(topic);
    cache.useNotificationTopic(topic);
    expect(cache.notificationTopic).toBe(topic);
    const topicId = Stack.of(topic).resolve((topic.node.defaultChild as sns.CfnTopic).logicalId);
    Template.fromStack(stack).hasResourceProperties(RG, { NotificationTopicArn: { Ref: topicId } });
  });

  test('useNotificationTopic refuses a second, different topic', () => {
    const { stack, vpc } = setup();
    const first = new sns.Topic(stack, 'First');
    const cache = new ReplicationGroup(stack, 'Cache', { vpc, notificationTopic: first });
    expect(cache.notificationTopic).toBe(first);
    expect(errorOf(() => cache.useNotificationTopic(new sns.Topic(stack, 'Second')))).toBe('Stack/Cache: the replication group already sends its '
      + 'events to Stack/First, got another topic Stack/Second; a replication group has one notification topic: pass the same topic to both');
  });
});

describe('imported nodeType', () => {
  test('is kept for the backup plan', () => {
    const { stack } = setup();
    // Read the way the backup plan reads it (IReplicationGroup does not declare it).
    const nodeTypeOf = (g: object) => (g as { nodeType?: string }).nodeType;
    expect(nodeTypeOf(ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: 'orders', nodeType: 'cache.m7g.large' })))
      .toBe('cache.m7g.large');
    expect(nodeTypeOf(ReplicationGroup.fromReplicationGroupAttributes(stack, 'Other', { replicationGroupId: 'other' }))).toBeUndefined();
  });

  test('fails when it is not a node type name', () => {
    const { stack } = setup();
    expect(errorOf(() => ReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', { replicationGroupId: 'orders', nodeType: 'r7g.large' }))).toBe(
      "Stack/Imported: 'nodeType' must look like cache.<family>.<size>, got 'r7g.large'; for example 'cache.r7g.large'");
  });
});
