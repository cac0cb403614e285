import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { ClusterMode, ReplicationGroup, ReplicationGroupGrants, ReplicationGroupProps } from '../../lib/replication-group/replication-group';
import { replicationGroupFromRef } from '../../lib/replication-group/replication-group-ref';

const ENV = { account: '111111111111', region: 'us-east-1' };
const ARN = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:us-east-1:111111111111:${resource}`]] });

function setup(props: Partial<ReplicationGroupProps> = {}): { stack: Stack; cache: ReplicationGroup; role: iam.Role } {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const cache = new ReplicationGroup(stack, 'Cache', { vpc: new ec2.Vpc(stack, 'Vpc'), replicationGroupId: 'orders', ...props });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { stack, cache, role };
}

/** The statements of the role's default policy, resolved. */
function statementsOf(stack: Stack): Array<{ Action: unknown; Resource: unknown }> {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  type Properties = { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } };
  return Object.values(policies).flatMap(p => (p.Properties as Properties).PolicyDocument.Statement);
}

describe('IReplicationGroupRef', () => {
  test('a ReplicationGroup is an IReplicationGroupRef whose L1 ARN is its own ARN', () => {
    const { stack, cache } = setup();
    const ref: elasticacheRefs.IReplicationGroupRef = cache;
    expect(ref.replicationGroupRef).toEqual({ replicationGroupId: 'orders' });
    expect(stack.resolve(elasticache.CfnReplicationGroup.arnForReplicationGroup(ref))).toEqual(stack.resolve(cache.replicationGroupArn));
  });
});

describe('grants', () => {
  test('connect grants elasticache:Connect on the group and each user (IAM authentication)', () => {
    const { stack, cache, role } = setup();
    const user = new elasticache.CfnUser(stack, 'User', { engine: 'valkey', userId: 'app', userName: 'app', authenticationMode: { Type: 'iam' } });
    cache.grants.connect(role, user);
    const [statement] = statementsOf(stack);
    expect(statement.Action).toBe('elasticache:Connect');
    expect(stack.resolve(statement.Resource)).toEqual([ARN('replicationgroup:orders'), { 'Fn::GetAtt': ['User', 'Arn'] }]);
  });

  test('connect without a user says why one is needed', () => {
    const { cache, role } = setup();
    expect(() => cache.grants.connect(role)).toThrow(
      'ReplicationGroupGrants.connect: \'users\' must name at least one ElastiCache user, got none for replication group Stack/Cache; '
      + 'IAM authentication checks elasticache:Connect on the group and on the user the client connects as');
  });

  test.each([
    ['describe', (g: ReplicationGroupGrants, r: iam.IGrantable) => g.describe(r), 'elasticache:DescribeReplicationGroups', ['replicationgroup:orders']],
    ['createSnapshot', (g: ReplicationGroupGrants, r: iam.IGrantable) => g.createSnapshot(r), 'elasticache:CreateSnapshot',
      ['replicationgroup:orders', 'cluster:orders-*', 'snapshot:*']],
    ['createSnapshot with a prefix', (g: ReplicationGroupGrants, r: iam.IGrantable) => g.createSnapshot(r, 'manual-'), 'elasticache:CreateSnapshot',
      ['replicationgroup:orders', 'cluster:orders-*', 'snapshot:manual-*']],
  ])('%s', (_name, grant, action, resources) => {
    const { stack, cache, role } = setup();
    grant(cache.grants, role);
    const [statement] = statementsOf(stack);
    expect(statement.Action).toBe(action);
    const expected = resources.map(ARN);
    expect(stack.resolve(statement.Resource)).toEqual(expected.length === 1 ? expected[0] : expected);
  });

  test('works on an L1 CfnReplicationGroup, a group referenced by id and an imported group', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const l1 = new elasticache.CfnReplicationGroup(stack, 'L1', { replicationGroupDescription: 'l1', replicationGroupId: 'legacy' });
    ReplicationGroupGrants.fromReplicationGroup(l1).describe(role);
    ReplicationGroupGrants.fromReplicationGroup(elasticache.CfnReplicationGroup.fromReplicationGroupId(stack, 'ById', 'byid')).describe(role);
    ReplicationGroupGrants.fromReplicationGroup(ReplicationGroup.fromReplicationGroupId(stack, 'Imported', 'imported')).describe(role);
    const resources = statementsOf(stack).map(s => stack.resolve(s.Resource));
    expect(resources).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:us-east-1:111111111111:replicationgroup:', { Ref: 'L1' }]] },
      ARN('replicationgroup:byid'),
      ARN('replicationgroup:imported'),
    ]);
  });
});

describe('member cluster ids and metrics', () => {
  test.each([
    [{}, ['orders-001', 'orders-002']],
    [{ replicasPerShard: 0 }, ['orders-001']],
    [{ replicasPerShard: 2 }, ['orders-001', 'orders-002', 'orders-003']],
    [{ clusterMode: ClusterMode.ENABLED, shards: 2, replicasPerShard: 1 }, ['orders-0001-001', 'orders-0001-002', 'orders-0002-001', 'orders-0002-002']],
    [{ clusterMode: ClusterMode.ENABLED, replicasPerShard: 0 }, ['orders-0001-001']],
  ] as Array<[Partial<ReplicationGroupProps>, string[]]>)('%j has members %j', (props, ids) => {
    expect(setup(props).cache.memberClusterIds).toEqual(ids);
  });

  test.each([
    ['metricDatabaseMemoryUsagePercentage', 'DatabaseMemoryUsagePercentage', 'Maximum'],
    ['metricSaveInProgress', 'SaveInProgress', 'Maximum'],
    ['metricReplicationLag', 'ReplicationLag', 'Maximum'],
    ['metricEngineCPUUtilization', 'EngineCPUUtilization', 'Maximum'],
  ] as const)('%s reads %s (%s, 5 minutes) of the backup member by CacheClusterId', (method, metricName, statistic) => {
    const { cache } = setup();
    const metric = cache[method]();
    expect(metric.namespace).toBe('AWS/ElastiCache');
    expect(metric.metricName).toBe(metricName);
    expect(metric.statistic).toBe(statistic);
    expect(metric.period.toMinutes()).toBe(5);
    expect(metric.dimensions).toEqual({ CacheClusterId: 'orders-002' });
  });

  test.each([
    [{ replicasPerShard: 0 }, 'orders-001'],
    [{ backup: { fromReplica: false } }, 'orders-001'],
    [{ clusterMode: ClusterMode.ENABLED, shards: 3 }, 'orders-0001-001'],
  ] as Array<[Partial<ReplicationGroupProps>, string]>)('with %j the default member is %s', (props, member) => {
    expect(setup(props).cache.metricSaveInProgress().dimensions).toEqual({ CacheClusterId: member });
  });

  test('a member, statistic and period can be chosen; metric() reads any metric', () => {
    const { cache } = setup({ replicasPerShard: 2 });
    const lag = cache.metricReplicationLag({ cacheClusterId: 'orders-003', statistic: 'Average', period: Duration.minutes(1) });
    expect([lag.dimensions, lag.statistic, lag.period.toMinutes()]).toEqual([{ CacheClusterId: 'orders-003' }, 'Average', 1]);
    const items = cache.metric('CurrItems');
    expect([items.metricName, items.statistic, items.dimensions]).toEqual(['CurrItems', 'Average', { CacheClusterId: 'orders-002' }]);
  });
});

describe('replicationGroupFromRef (for APIs that take an IReplicationGroupRef)', () => {
  test('returns a ReplicationGroup or an imported group unchanged', () => {
    const { stack, cache } = setup();
    const imported = ReplicationGroup.fromReplicationGroupId(stack, 'Imported', 'other');
    expect(replicationGroupFromRef(stack, 'A', cache, 'Test')).toBe(cache);
    expect(replicationGroupFromRef(stack, 'B', imported, 'Test')).toBe(imported);
  });

  test('wraps an L1 with its id, node type, ARN and environment', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const l1 = new elasticache.CfnReplicationGroup(stack, 'L1', {
      replicationGroupDescription: 'l1', replicationGroupId: 'legacy', cacheNodeType: 'cache.r6gd.xlarge',
    });
    const group = replicationGroupFromRef(stack, 'Wrapped', l1, 'Test');
    const nodeType = (group as { nodeType?: string }).nodeType;
    expect([group.replicationGroupId, nodeType, group.env.region, group.env.account]).toEqual(['legacy', 'cache.r6gd.xlarge', 'us-east-1', '111111111111']);
    expect(stack.resolve(group.replicationGroupArn)).toEqual(ARN('replicationgroup:legacy'));
  });

  test('an L1 without replicationGroupId gives its Ref as the id', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const l1 = new elasticache.CfnReplicationGroup(stack, 'L1', { replicationGroupDescription: 'l1' });
    expect(stack.resolve(replicationGroupFromRef(stack, 'Wrapped', l1, 'Test').replicationGroupId)).toEqual({ Ref: 'L1' });
  });

  test('keeps the region of a reference from another stack, and checks a plain-string id with the consumer named', () => {
    const app = new App();
    const other = new Stack(app, 'Other', { env: { account: '111111111111', region: 'eu-west-1' } });
    const here = new Stack(app, 'Here', { env: ENV });
    const ref = elasticache.CfnReplicationGroup.fromReplicationGroupId(other, 'Ref', 'remote');
    expect(replicationGroupFromRef(here, 'Wrapped', ref, 'Test').env.region).toBe('eu-west-1');
    const bad = elasticache.CfnReplicationGroup.fromReplicationGroupId(other, 'Bad', 'Bad_Id');
    expect(() => replicationGroupFromRef(here, 'WrappedBad', bad, 'BackupPlan.protect'))
      .toThrow("Here/WrappedBad: BackupPlan.protect property 'replicationGroupId' is invalid, got 'Bad_Id'");
  });
});
