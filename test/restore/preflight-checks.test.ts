import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { evaluateSeedAccess, wildcardMatch } from '../../lib/restore/bucket-policy';
import { checkSize, checkSnapshot, formatFailure, MAX_REASON_LENGTH, parseS3ObjectArn } from '../../lib/restore/preflight-checks';
import { parsePreflightProperties, PreflightRequest, PropertiesError } from '../../lib/restore/preflight-properties';
import { createHandler } from '../../lib/restore/preflight.lambda';

const base = {
  Region: 'us-west-2',
  Engine: 'valkey',
  EngineVersion: '8.0',
  NewestReadableRdbVersion: '11',
  RdbCompatibilityCertain: 'true',
  NodeType: 'cache.t4g.micro',
  ShardCount: '2',
  ClusterModeEnabled: 'true',
  ReservedMemoryPercent: '50',
  SourceKind: 'snapshot',
  SnapshotName: 'snap',
};
const request = (overrides: Record<string, unknown> = {}): PreflightRequest => parsePreflightProperties({ ...base, ...overrides });

describe('parsePreflightProperties', () => {
  test('reads stringified scalars', () => {
    expect(request()).toMatchObject({
      shardCount: 2, clusterModeEnabled: true, reservedMemoryPercent: 50, verifyBucketPolicy: true, engine: { newestReadableRdbVersion: 11 },
    });
  });

  test('fails on a property it cannot read, naming it', () => {
    expect(() => request({ ShardCount: 'two' })).toThrow(new PropertiesError("property 'ShardCount' must be an integer, got \"two\""));
  });
});

describe('checkSize', () => {
  test('fails when the files exceed the data memory of all shards, and says how much there is', () => {
    // 2 x 0.5 GiB x (1 - 50%) = 0.5 GiB
    expect(checkSize(request(), 0.6 * 1024 ** 3)).toEqual({
      severity: 'failure',
      message: 'the .rdb objects total 0.600 GiB but 2 shard(s) of cache.t4g.micro hold about 0.500 GiB of data (0.5 GiB per node, 50% reserved memory); '
        + 'ElastiCache would leave the group in restore-failed: choose a larger node type or more shards',
    });
  });

  test('warns above half of the data memory', () => {
    expect(checkSize(request(), 0.3 * 1024 ** 3)?.severity).toBe('warning');
  });

  test('passes small backups', () => {
    expect(checkSize(request(), 1024)).toBeUndefined();
  });

  test('counts one shard with cluster mode disabled (replicas hold copies)', () => {
    expect(checkSize(request({ ClusterModeEnabled: 'false' }), 0.3 * 1024 ** 3)?.severity).toBe('failure');
  });

  test('warns for a node type the table does not list', () => {
    expect(checkSize(request({ NodeType: 'cache.x9.huge' }), 1024)).toEqual({
      severity: 'warning',
      message: "node type cache.x9.huge is not in the preflight's memory table; the backup size (0.000 GiB) was not checked against it",
    });
  });
});

describe('checkSnapshot', () => {
  const found = { status: 'found' as const, snapshotStatus: 'available', engine: 'valkey', engineVersion: '8.0.1', numNodeGroups: 2 };

  test('passes an available snapshot of the same engine version', () => {
    expect(checkSnapshot(request(), 'snap', found)).toEqual({ failures: [], warnings: [] });
  });

  test.each([
    ['a missing snapshot', { status: 'missing' as const }, 'snapshot snap does not exist in us-west-2: check the name (DescribeSnapshots), or copy the snapshot to us-west-2'],
    ['a snapshot still being created', { ...found, snapshotStatus: 'creating' }, "snapshot snap is 'creating', not 'available': wait until it is available and deploy again"],
    ['a newer engine', { ...found, engineVersion: '8.1.0' },
      'snapshot snap was taken on valkey 8.1.0, newer than the target valkey 8.0, and an engine cannot load a backup from a newer version: choose engine version 8.1 or newer'],
    ['a data tiering snapshot', { ...found, dataTiering: 'enabled' },
      'snapshot snap comes from a data-tiering (r6gd) group, and ElastiCache restores it only into r6gd nodes: choose a cache.r6gd node type'],
  ])('fails for %s', (_name, observed, message) => {
    expect(checkSnapshot(request(), 'snap', observed).failures).toEqual([message]);
  });

  test('fails for a Valkey snapshot into Redis OSS', () => {
    expect(checkSnapshot(request({ Engine: 'redis', EngineVersion: '7.1' }), 'snap', found).failures).toEqual([
      'snapshot snap is a Valkey 8.0.1 backup and the target engine is redis 7.1: restore it into a Valkey group',
    ]);
  });
});

describe('fromSnapshotName through the handler (ElastiCache mocked)', () => {
  const elastiCache = mockClient(ElastiCacheClient);
  afterEach(() => elastiCache.reset());
  const event = { RequestType: 'Create', LogicalResourceId: 'Preflight', ResourceProperties: { ServiceToken: 'x', ...base } } as unknown as CloudFormationCustomResourceEvent;
  const handler = () => createHandler({ s3: new S3Client({ region: 'us-west-2' }), elastiCache: () => new ElastiCacheClient({ region: 'us-west-2' }), log: () => undefined });

  test('passes for an available snapshot and asks DescribeSnapshots for that name only', async () => {
    elastiCache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotName: 'snap', SnapshotStatus: 'available', Engine: 'valkey', EngineVersion: '8.0.1', NumNodeGroups: 2 }] });
    await expect(handler()(event)).resolves.toEqual({ PhysicalResourceId: 'restore-preflight:Preflight', Data: { WarningCount: '0' } });
    expect(elastiCache.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotName: 'snap' }]);
  });

  test('fails for a snapshot that does not exist', async () => {
    elastiCache.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('Snapshot snap not found.'), { name: 'SnapshotNotFoundFault' }));
    await expect(handler()(event)).rejects.toThrow(
      'restore preflight failed, nothing was created (1 problem(s)): [1] snapshot snap does not exist in us-west-2: check the name (DescribeSnapshots), or copy the snapshot to us-west-2',
    );
  });
});

describe('bucket policy evaluation', () => {
  const principal = 'us-west-2.elasticache-snapshot.amazonaws.com';
  const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });

  test('wildcards in actions and resources grant access', () => {
    const verdict = evaluateSeedAccess(doc({ Effect: 'Allow', Principal: { Service: [principal] }, Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Allow', Principal: { Service: principal }, Action: ['S3:List*', 's3:GetBucketAcl'], Resource: 'arn:aws:s3:::b' }), principal, 'arn:aws:s3:::b', ['arn:aws:s3:::b/x-0001.rdb']);
    expect(verdict).toEqual({ missingBucketActions: [], unreadableObjectArns: [], deniedBy: [] });
  });

  test('another region\'s principal does not count', () => {
    const verdict = evaluateSeedAccess(doc({ Effect: 'Allow', Principal: { Service: 'us-east-1.elasticache-snapshot.amazonaws.com' }, Action: 's3:*', Resource: '*' }),
      principal, 'arn:aws:s3:::b', ['arn:aws:s3:::b/k']);
    expect(verdict.missingBucketActions).toEqual(['s3:ListBucket', 's3:GetBucketAcl']);
    expect(verdict.unreadableObjectArns).toEqual(['arn:aws:s3:::b/k']);
  });

  test('an unconditional Deny for everyone wins and is named', () => {
    const verdict = evaluateSeedAccess(doc(
      { Effect: 'Allow', Principal: { Service: principal }, Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] },
      { Sid: 'NoReads', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    ), principal, 'arn:aws:s3:::b', ['arn:aws:s3:::b/k']);
    expect(verdict.deniedBy).toEqual(['NoReads']);
  });

  test.each([
    ['s3:get*', 's3:GetObject', true, true],
    ['arn:aws:s3:::b/x-????.rdb', 'arn:aws:s3:::b/x-0001.rdb', false, true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::c/k', false, false],
    ['arn:aws:s3:::B/*', 'arn:aws:s3:::b/k', false, false],
    ['*', 'anything', false, true],
  ])('wildcardMatch(%s, %s)', (pattern, value, ignoreCase, expected) => {
    expect(wildcardMatch(pattern, value, ignoreCase)).toBe(expected);
  });
});

describe('messages', () => {
  test('the failure text stays under the CloudFormation limit and says how many problems were left out', () => {
    const text = formatFailure({ failures: Array.from({ length: 100 }, (_, i) => `problem ${i} ${'x'.repeat(200)}`), warnings: [] });
    expect(text.length).toBeLessThan(MAX_REASON_LENGTH + 100);
    expect(text).toMatch(/\.\.\. and \d+ more problem\(s\): see the preflight function's log$/);
  });

  test('the failure text is measured in bytes as written in JSON: quotes and non-ASCII characters count for what they take', () => {
    // A problem of 300 characters that takes 600 bytes in JSON (a quote is written backslash-quote), and one of 2- and 3-byte characters.
    const quoted = '"'.repeat(300);
    const wide = '\u00e9\u20ac'.repeat(200);
    const bytesOf = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;
    // Counted in characters, two quoted problems (2 x 300) would fit in 1000; in bytes only one does.
    const quotedText = formatFailure({ failures: Array(10).fill(quoted), warnings: [] }, 1000);
    expect(bytesOf(quotedText)).toBeLessThanOrEqual(1000);
    expect(quotedText).toMatch(/ \[1\] "{300} \.\.\. and 9 more problem\(s\): see the preflight function's log$/);
    // One wide problem takes 1000 bytes (400 characters): it is cut to fit, with an ellipsis.
    const wideText = formatFailure({ failures: Array(10).fill(wide), warnings: [] }, 1000);
    expect(bytesOf(wideText)).toBeLessThanOrEqual(1000);
    expect(bytesOf(wideText)).toBeGreaterThan(990);
    expect(wideText).toMatch(/ \[1\] (\u00e9\u20ac)+\u00e9?\.\.\. \.\.\. and 9 more problem\(s\): see the preflight function's log$/);
  });

  test('a single problem too long for the room is cut, with an ellipsis', () => {
    const text = formatFailure({ failures: ['x'.repeat(5000)], warnings: [] }, 500);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(500);
    expect(text).toMatch(/^restore preflight failed, nothing was created \(1 problem\(s\)\): \[1\] x+\.\.\.$/);
  });

  test('parseS3ObjectArn names what is wrong', () => {
    expect(parseS3ObjectArn('arn:aws-cn:s3:::b/k.rdb')).toEqual({ partition: 'aws-cn', bucket: 'b', key: 'k.rdb' });
    expect(parseS3ObjectArn('arn:aws:s3:::b')).toBe("'arn:aws:s3:::b' is not an S3 object ARN (arn:<partition>:s3:::<bucket>/<key>.rdb)");
  });
});
