import { App, CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CacheEngine } from '../../lib/engine';
import { ClusterMode, ReplicationGroup } from '../../lib/replication-group/replication-group';
import { BackupSource, RdbContentVerification } from '../../lib/restore/backup-source';
import { ReplicationGroupFromBackup, ReplicationGroupFromBackupProps } from '../../lib/restore/replication-group-from-backup';

function setup() {
  const app = new App();
  const stack = new Stack(app, 'Restore', { env: { account: '111111111111', region: 'us-west-2' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const bucket = new s3.Bucket(stack, 'Replica');
  return { app, stack, vpc, bucket };
}

type Extra = Omit<ReplicationGroupFromBackupProps, 'vpc'>;
function restore(extra: Extra) {
  const ctx = setup();
  const group = new ReplicationGroupFromBackup(ctx.stack, 'Restored', { vpc: ctx.vpc, replicationGroupId: 'orders-dr', ...extra });
  return { ...ctx, group, template: Template.fromStack(ctx.stack) };
}

const preflightId = (template: Template) => Object.keys(template.findResources('Custom::ElastiCacheRestorePreflight'))[0];
const groupResource = (template: Template) => Object.values(template.findResources('AWS::ElastiCache::ReplicationGroup'))[0];
const bucketRef = (stack: Stack, bucket: s3.Bucket) => stack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId);

describe('SnapshotArns / SnapshotName rendering', () => {
  test('fromRdbArns renders SnapshotArns and the group depends on the preflight', () => {
    const { template } = restore({ source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) });
    const rg = groupResource(template);
    expect(rg.Properties.SnapshotArns).toEqual(['arn:aws:s3:::seed-bucket/orders-0001.rdb']);
    expect(rg.Properties.SnapshotName).toBeUndefined();
    expect(rg.DependsOn).toContain(preflightId(template));
    template.hasResourceProperties('Custom::ElastiCacheRestorePreflight', {
      Region: 'us-west-2',
      Partition: { Ref: 'AWS::Partition' },
      Engine: 'valkey',
      EngineVersion: '8.0',
      NewestReadableRdbVersion: 11,
      RdbCompatibilityCertain: true,
      NodeType: 'cache.r7g.large',
      ShardCount: 1,
      ClusterModeEnabled: false,
      ReservedMemoryPercent: '25',
      FailOnUncertainCompatibility: false,
      VerifyBucketPolicy: true,
      SourceKind: 'rdbArns',
      SnapshotArns: ['arn:aws:s3:::seed-bucket/orders-0001.rdb'],
    });
  });

  test('fromRdbObjects renders the bucket ARN of each key', () => {
    const { stack, vpc, bucket } = setup();
    new ReplicationGroupFromBackup(stack, 'Restored', {
      vpc,
      replicationGroupId: 'orders-dr',
      clusterMode: ClusterMode.ENABLED,
      shards: 2,
      source: BackupSource.fromRdbObjects(bucket, ['orders-0001.rdb', 'orders-0002.rdb']),
    });
    const template = Template.fromStack(stack);
    const id = bucketRef(stack, bucket);
    expect(groupResource(template).Properties.SnapshotArns).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/orders-0001.rdb']] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/orders-0002.rdb']] },
    ]);
  });

  test('fromSnapshotName renders SnapshotName and no SnapshotArns', () => {
    const { template } = restore({ source: BackupSource.fromSnapshotName('orders-before-migration') });
    const rg = groupResource(template);
    expect(rg.Properties.SnapshotName).toBe('orders-before-migration');
    expect(rg.Properties.SnapshotArns).toBeUndefined();
    expect(rg.DependsOn).toContain(preflightId(template));
  });

  test('latestExport renders SnapshotArns as Fn::Split of the preflight attribute', () => {
    const { template } = restore({ source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), 'orders') });
    expect(groupResource(template).Properties.SnapshotArns).toEqual({ 'Fn::Split': [',', { 'Fn::GetAtt': [preflightId(template), 'SnapshotArns'] }] });
    template.hasResourceProperties('Custom::ElastiCacheRestorePreflight', {
      SourceKind: 'latestExport', Bucket: 'replica-bucket', ReplicationGroupId: 'orders', MaxSourceShards: 1,
    });
    template.resourceCountIs('Custom::ElastiCacheRestoreArns', 0);
  });

  test('latestExport with more than 20 possible shards joins ARN chunks from extra resources', () => {
    const ctx = setup();
    const group = new ReplicationGroupFromBackup(ctx.stack, 'Restored', {
      vpc: ctx.vpc,
      replicationGroupId: 'orders-dr',
      clusterMode: ClusterMode.ENABLED,
      shards: 2,
      replicasPerShard: 0,
      source: BackupSource.latestExport(ctx.bucket, 'orders', { maxSourceShards: 45 }),
    });
    const template = Template.fromStack(ctx.stack);
    const pre = preflightId(template);
    const chunks = Object.keys(template.findResources('Custom::ElastiCacheRestoreArns'));
    expect(chunks).toHaveLength(2);
    expect(groupResource(template).Properties.SnapshotArns).toEqual({
      'Fn::Split': [',', { 'Fn::Join': ['', [{ 'Fn::GetAtt': [pre, 'SnapshotArns'] }, ...chunks.map((c) => ({ 'Fn::GetAtt': [c, 'SnapshotArns'] }))]] }],
    });
    template.hasResourceProperties('Custom::ElastiCacheRestoreArns', {
      SourceKind: 'latestExportChunk', ChunkIndex: 2, ManifestKey: { 'Fn::GetAtt': [pre, 'ManifestKey'] }, Bucket: { Ref: bucketRef(ctx.stack, ctx.bucket) },
    });
    expect(ctx.stack.resolve(group.restoredManifestKey)).toEqual({ 'Fn::GetAtt': [pre, 'ManifestKey'] });
  });
});

describe('NodeGroupConfiguration', () => {
  test('cluster mode enabled: one node group per new shard with an even slot split, regardless of the number of files', () => {
    const { template } = restore({
      clusterMode: ClusterMode.ENABLED,
      shards: 3,
      replicasPerShard: 2,
      source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb', 'arn:aws:s3:::seed-bucket/orders-0002.rdb']),
    });
    const rg = groupResource(template);
    expect(rg.Properties.NodeGroupConfiguration).toEqual([
      { NodeGroupId: '0001', Slots: '0-5460', ReplicaCount: 2 },
      { NodeGroupId: '0002', Slots: '5461-10921', ReplicaCount: 2 },
      { NodeGroupId: '0003', Slots: '10922-16383', ReplicaCount: 2 },
    ]);
    // cfn-lint's E3026 requires NumNodeGroups on a cluster-mode group; it must equal the number of node groups.
    expect(rg.Properties.NumNodeGroups).toBe(3);
    expect(rg.Properties.ReplicasPerNodeGroup).toBeUndefined();
  });

  test('cluster mode disabled: no NodeGroupConfiguration', () => {
    const { template } = restore({ source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) });
    expect(groupResource(template).Properties.NodeGroupConfiguration).toBeUndefined();
  });
});

describe('preflight provider', () => {
  test('one provider per stack, shared by two restores', () => {
    const ctx = setup();
    for (const id of ['A', 'B']) {
      new ReplicationGroupFromBackup(ctx.stack, id, { vpc: ctx.vpc, source: BackupSource.fromSnapshotName(`snap-${id.toLowerCase()}`) });
    }
    const template = Template.fromStack(ctx.stack);
    template.resourceCountIs('Custom::ElastiCacheRestorePreflight', 2);
    template.resourceCountIs('AWS::Lambda::Function', 2); // the preflight function + the framework's onEvent function
    // 14 minutes and one full vCPU (1769 MB): time and CPU to stream .rdb files through the verifier.
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Timeout: 840, MemorySize: 1769, Handler: 'index.handler' });
  });

  test('the preflight function may read exactly the seed objects and their bucket', () => {
    const { template } = restore({
      clusterMode: ClusterMode.ENABLED,
      shards: 2,
      source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb', 'arn:aws:s3:::seed-bucket/orders-0002.rdb']),
    });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RestorePreflightProviderOnEvent') } });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetBucketPolicy', 's3:ListBucket'], Resource: 'arn:aws:s3:::seed-bucket' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::seed-bucket/orders-0001.rdb', 'arn:aws:s3:::seed-bucket/orders-0002.rdb'] },
    ]);
  });

  test('latestExport: the manifest folder and the group\'s export objects only', () => {
    const ctx = setup();
    new ReplicationGroupFromBackup(ctx.stack, 'Restored', { vpc: ctx.vpc, source: BackupSource.latestExport(ctx.bucket, 'orders') });
    const template = Template.fromStack(ctx.stack);
    const arn = { 'Fn::GetAtt': [bucketRef(ctx.stack, ctx.bucket), 'Arn'] };
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RestorePreflightProviderOnEvent') } });
    expect(Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetBucketPolicy', 's3:ListBucket'], Resource: arn },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        // ceb-<first 8 base32 characters of sha256('orders')>-: the names BackupPlan gives exports (computed here with
        // Python's base64.b32encode, not with the library); `orders-` is the name earlier versions gave them.
        Resource: [
          { 'Fn::Join': ['', [arn, '/manifests/orders/*']] },
          { 'Fn::Join': ['', [arn, '/ceb-dqlivwya-*']] },
          { 'Fn::Join': ['', [arn, '/orders-*']] },
        ],
      },
    ]);
  });

  test('fromSnapshotName: DescribeSnapshots on that snapshot only', () => {
    const { template } = restore({ source: BackupSource.fromSnapshotName('orders-before-migration') });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RestorePreflightProviderOnEvent') } });
    expect(Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'elasticache:DescribeSnapshots',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:us-west-2:111111111111:snapshot:orders-before-migration']] },
      },
    ]);
  });

  test('verifyContent reaches the preflight only when set (the default, AUTO, leaves the template as it was)', () => {
    const full = restore({ source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb'], { verifyContent: RdbContentVerification.FULL }) });
    full.template.hasResourceProperties('Custom::ElastiCacheRestorePreflight', { SourceKind: 'rdbArns', VerifyContent: 'full' });
    const ctx = setup();
    new ReplicationGroupFromBackup(ctx.stack, 'Restored', {
      vpc: ctx.vpc, source: BackupSource.fromRdbObjects(ctx.bucket, ['orders-0001.rdb'], { verifyContent: RdbContentVerification.ENVELOPE_ONLY }),
    });
    Template.fromStack(ctx.stack).hasResourceProperties('Custom::ElastiCacheRestorePreflight', { VerifyContent: 'envelope-only' });
    const auto = restore({ source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) });
    auto.template.hasResourceProperties('Custom::ElastiCacheRestorePreflight', { SourceKind: 'rdbArns', VerifyContent: Match.absent() });
  });

  test('the target engine\'s RDB table entry reaches the preflight', () => {
    const { template } = restore({ engine: CacheEngine.REDIS_7_1, source: BackupSource.fromSnapshotName('s'), failOnUncertainCompatibility: true });
    template.hasResourceProperties('Custom::ElastiCacheRestorePreflight', {
      Engine: 'redis', EngineVersion: '7.1', NewestReadableRdbVersion: 10, RdbCompatibilityCertain: false, FailOnUncertainCompatibility: true,
    });
  });
});

describe('validation', () => {
  test.each<[string, Extra, string]>([
    ['fails with an empty ARN list', { source: BackupSource.fromRdbArns([]) },
      "Restore/Restored: 'source' fromRdbArns must list at least one .rdb object, got an empty list"],
    ['fails with a comma in a key', { source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/a,b-0001.rdb']) },
      "Restore/Restored: 'source' fromRdbArns[0] 'arn:aws:s3:::seed-bucket/a,b-0001.rdb': the object key contains a comma, which ElastiCache does not accept in a seed ARN: rename the object"],
    ['fails with a bad ARN', { source: BackupSource.fromRdbArns(['s3://seed-bucket/orders-0001.rdb']) },
      "Restore/Restored: 'source' fromRdbArns[0] must be an S3 object ARN (arn:<partition>:s3:::<bucket>/<key>.rdb), got 's3://seed-bucket/orders-0001.rdb'"],
    ['fails with a bucket ARN without a key', { source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket']) },
      "Restore/Restored: 'source' fromRdbArns[0] must be an S3 object ARN (arn:<partition>:s3:::<bucket>/<key>.rdb), got 'arn:aws:s3:::seed-bucket'"],
    ['fails with a duplicate ARN', { clusterMode: ClusterMode.ENABLED, shards: 2, source: BackupSource.fromRdbArns(['arn:aws:s3:::b-1/k.rdb', 'arn:aws:s3:::b-1/k.rdb']) },
      "Restore/Restored: 'source' fromRdbArns lists 'arn:aws:s3:::b-1/k.rdb' more than once"],
    ['fails with several ARNs into cluster mode disabled', { source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/o-0001.rdb', 'arn:aws:s3:::seed-bucket/o-0002.rdb']) },
      "Restore/Restored: 'source' lists 2 .rdb objects (a multi-shard backup), but a cluster-mode-disabled replication group can only be seeded from one: set 'clusterMode: ClusterMode.ENABLED', or restore a single-shard backup"],
    ['fails with a bad snapshot name', { source: BackupSource.fromSnapshotName('-bad name') },
      "Restore/Restored: 'source' fromSnapshotName must be an ElastiCache snapshot name (letters, digits, '.' and '-', up to 255 characters), got '-bad name'"],
    ['fails with maxSourceShards over 1 into cluster mode disabled', { source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), 'orders', { maxSourceShards: 3 }) },
      "Restore/Restored: 'source' latestExport maxSourceShards is 3, but a cluster-mode-disabled replication group can only be seeded from one .rdb object"],
    ['fails with an unknown verifyContent', { source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/o-0001.rdb'], { verifyContent: 'always' as RdbContentVerification }) },
      "Restore/Restored: 'source' fromRdbArns verifyContent must be one of RdbContentVerification.AUTO, FULL or ENVELOPE_ONLY, got 'always'"],
    ['fails with a bad replication group id', { source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), '1orders') },
      "Restore/Restored: BackupSource.latestExport property 'replicationGroupId' is invalid, got '1orders': it must start with a lowercase letter; "
      + "use 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without '--' and without a trailing hyphen"],
    ['fails with an uppercase replication group id (ElastiCache stores ids in lowercase)',
      { source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), 'Orders--eu-') },
      "Restore/Restored: BackupSource.latestExport property 'replicationGroupId' is invalid, got 'Orders--eu-': it may only contain lowercase letters, digits and hyphens, "
      + 'must start with a lowercase letter, must not contain two consecutive hyphens, must not end with a hyphen; '
      + "use 1 to 40 lowercase letters, digits or hyphens, starting with a letter, without '--' and without a trailing hyphen"],
  ])('%s', (_name, extra, message) => {
    expect(() => restore(extra)).toThrow(message);
  });

  test('fails with an empty key list and a comma in a key, reporting both', () => {
    const ctx = setup();
    expect(() => new ReplicationGroupFromBackup(ctx.stack, 'Restored', {
      vpc: ctx.vpc, clusterMode: ClusterMode.ENABLED, shards: 2, source: BackupSource.fromRdbObjects(ctx.bucket, ['a,b.rdb', '/c.rdb']),
    })).toThrow("Restore/Restored: 2 invalid properties:\n- 'source' fromRdbObjects keys[0] 'a,b.rdb' contains a comma, which ElastiCache does not accept in a seed ARN: rename the object\n"
      + "- 'source' fromRdbObjects keys[1] must be an object key without a leading '/', got '/c.rdb'");
  });

  test('deploy-time ARNs pass synth and are checked by the preflight', () => {
    const ctx = setup();
    const arn = ctx.bucket.arnForObjects('orders-0001.rdb');
    new ReplicationGroupFromBackup(ctx.stack, 'Restored', { vpc: ctx.vpc, source: BackupSource.fromRdbArns([arn]) });
    const template = Template.fromStack(ctx.stack);
    expect(groupResource(template).Properties.SnapshotArns).toHaveLength(1);
  });
});

describe('latestExport replicationGroupId: the same rule as ReplicationGroup.replicationGroupId', () => {
  // Judged against what ElastiCache accepts (1-40 lowercase letters, digits, hyphens; a letter first; no '--'; no
  // trailing hyphen), written out here, and against ReplicationGroup itself.
  const cases: Array<[string, boolean]> = [
    ['orders', true], ['o', true], ['orders-eu-1', true], ['a'.repeat(40), true],
    ['a'.repeat(41), false], ['Orders', false], ['1orders', false], ['orders--eu', false], ['orders-', false], ['orders_eu', false], ['', false],
  ];
  test.each(cases)('%p valid: %p', (id, valid) => {
    const latest = () => restore({
      replicationGroupId: 'orders-dr',
      source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), id),
    });
    const group = () => {
      const ctx = setup();
      new ReplicationGroup(ctx.stack, 'Group', { vpc: ctx.vpc, replicationGroupId: id });
    };
    if (valid) {
      expect(latest).not.toThrow();
      expect(group).not.toThrow();
    } else {
      expect(latest).toThrow(/BackupSource.latestExport property 'replicationGroupId' is invalid/);
      expect(group).toThrow(/'replicationGroupId' is invalid/);
    }
  });

  test('a deploy-time id is refused with its own message (it names the folder the preflight may read), not by the id rule', () => {
    const ctx = setup();
    const id = new CfnParameter(ctx.stack, 'GroupId').valueAsString;
    expect(() => new ReplicationGroupFromBackup(ctx.stack, 'Restored', {
      vpc: ctx.vpc, source: BackupSource.latestExport(ctx.bucket, id),
    })).toThrow("Restore/Restored: 'source' latestExport replicationGroupId cannot be a deploy-time value");
  });
});

describe('a failed preflight creates nothing', () => {
  /** Every logical id `id` depends on, through DependsOn, Ref, Fn::GetAtt and Fn::Sub, transitively (read from the template). */
  function dependenciesOf(resources: Record<string, any>, id: string): Set<string> {
    const direct = (logicalId: string): string[] => {
      const r = resources[logicalId];
      const found = new Set<string>([r.DependsOn ?? []].flat());
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) {
          v.forEach(walk);
        } else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if (k === 'Ref' && typeof x === 'string') {
              found.add(x);
            } else if (k === 'Fn::GetAtt') {
              found.add(Array.isArray(x) ? String(x[0]) : String(x).split('.')[0]);
            } else if (k === 'Fn::Sub') {
              for (const m of JSON.stringify(x).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) {
                found.add(m[1]);
              }
              walk(x);
            } else {
              walk(x);
            }
          }
        }
      };
      walk(r.Properties);
      return [...found].filter((d) => d in resources);
    };
    const seen = new Set<string>();
    const queue = [id];
    while (queue.length > 0) {
      for (const d of direct(queue.shift()!)) {
        if (!seen.has(d)) {
          seen.add(d);
          queue.push(d);
        }
      }
    }
    return seen;
  }

  test.each<[string, Extra]>([
    ['fromRdbArns, cluster mode disabled, generated auth token', { source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) }],
    ['latestExport, cluster mode enabled, 25 possible shards', {
      clusterMode: ClusterMode.ENABLED, shards: 3, source: BackupSource.latestExport(s3.Bucket.fromBucketName(new Stack(), 'B', 'replica-bucket'), 'orders', { maxSourceShards: 25 }),
    }],
    ['fromSnapshotName with parameters', { source: BackupSource.fromSnapshotName('orders-before-migration'), parameters: { 'maxmemory-policy': 'allkeys-lru' } }],
  ])('%s: every resource of the group, and every resource it references, waits for the preflight', (_name, extra) => {
    const { stack, group, template } = restore(extra);
    const resources = template.toJSON().Resources as Record<string, any>;
    const preflight = preflightId(template);
    const groupId = Object.keys(template.findResources('AWS::ElastiCache::ReplicationGroup'))[0];
    const own = group.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource).map((c) => stack.resolve(c.logicalId) as string);
    // What the group uses: its direct references (subnet group, security group, parameter group, secret).
    const used = [...new Set(JSON.stringify(resources[groupId].Properties).match(/"(Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)"/g) ?? [])]
      .map((m) => /"([A-Za-z0-9]+)"$/.exec(m)![1]).filter((id) => id in resources && id !== preflight);
    const mustWait = [...new Set([...own, ...used])].filter((id) => id !== preflight);
    const types = mustWait.map((id) => resources[id].Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::ElastiCache::SubnetGroup', 'AWS::EC2::SecurityGroup', 'AWS::ElastiCache::ParameterGroup']));
    const notWaiting = mustWait.filter((id) => !dependenciesOf(resources, id).has(preflight));
    expect(notWaiting).toEqual([]);
  });

  test('the generated auth token secret waits for the preflight', () => {
    const { template } = restore({ source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) });
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(1);
    expect(Object.values(secrets)[0].DependsOn).toContain(preflightId(template));
  });
});

describe('the group\'s create-only properties reach the preflight', () => {
  test('a change to one of them changes the preflight\'s properties (so the preflight checks the source again)', () => {
    const props = (port: number) => restore({ port, source: BackupSource.fromRdbArns(['arn:aws:s3:::seed-bucket/orders-0001.rdb']) }).template;
    const createOnly = (template: Template) => Object.values(template.findResources('Custom::ElastiCacheRestorePreflight'))[0].Properties.ReplicationGroupCreateOnly;
    expect(createOnly(props(6379))).toEqual({ ReplicationGroupId: 'orders-dr', Port: 6379, AtRestEncryptionEnabled: true });
    expect(createOnly(props(6380))).toEqual({ ReplicationGroupId: 'orders-dr', Port: 6380, AtRestEncryptionEnabled: true });
  });
});
