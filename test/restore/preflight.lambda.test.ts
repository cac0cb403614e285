import * as fs from 'fs';
import * as path from 'path';
import { BucketLocationConstraint, CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { BackupManifest, exportObjectKey, manifestKey, serializeManifest } from '../../lib/manifest/manifest';
import { createHandler, PreflightResponse } from '../../lib/restore/preflight.lambda';
import { MotoS3 } from '../support/moto';

/**
 * The preflight handler against a real HTTP S3 (moto_server on 127.0.0.1). SSE-KMS objects are stored with
 * `x-amz-server-side-encryption: aws:kms` headers, which moto accepts without a KMS key, so no KMS endpoint is involved.
 */
const REGION = 'us-west-2';
const fixtures = path.join(__dirname, '..', 'fixtures', 'rdb');
const redisRdb = fs.readFileSync(path.join(fixtures, 'redis-7.0.rdb'));
const valkeyRdb = fs.readFileSync(path.join(fixtures, 'valkey-8.0.rdb'));
const PRINCIPAL = `${REGION}.elasticache-snapshot.amazonaws.com`;

let moto: MotoS3;
let s3: S3Client;
const logs: string[] = [];

beforeAll(async () => {
  moto = await MotoS3.start();
  s3 = moto.client(REGION);
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  logs.length = 0;
});

const handler = () => createHandler({
  s3,
  elastiCache: () => { throw new Error('ElastiCache is not used by S3 sources'); },
  log: (level, message) => { logs.push(`${level}: ${message}`); },
});

function event(properties: Record<string, unknown>, requestType: 'Create' | 'Update' | 'Delete' = 'Create', extra: Record<string, unknown> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-west-2:111111111111:function:provider',
    ResponseURL: 'http://127.0.0.1:1/unused',
    StackId: 'arn:aws:cloudformation:us-west-2:111111111111:stack/restore/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Preflight',
    ResourceType: 'Custom::ElastiCacheRestorePreflight',
    ResourceProperties: { ServiceToken: 'x', ...properties },
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

/** Properties as CloudFormation delivers them: every scalar a string. */
function props(source: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Region: REGION,
    Partition: 'aws',
    Engine: 'valkey',
    EngineVersion: '8.0',
    NewestReadableRdbVersion: '11',
    RdbCompatibilityCertain: 'true',
    NodeType: 'cache.r7g.large',
    ShardCount: '1',
    ClusterModeEnabled: 'false',
    ReservedMemoryPercent: '25',
    FailOnUncertainCompatibility: 'false',
    VerifyBucketPolicy: 'true',
    ...source,
    ...overrides,
  };
}

const REDIS_7_0 = { Engine: 'redis', EngineVersion: '7.0', NewestReadableRdbVersion: '10', RdbCompatibilityCertain: 'true' };
const REDIS_7_1 = { Engine: 'redis', EngineVersion: '7.1', NewestReadableRdbVersion: '10', RdbCompatibilityCertain: 'false' };
const arns = (bucketName: string, ...keys: string[]) => ({
  SourceKind: 'rdbArns',
  SnapshotArns: keys.map((k) => `arn:aws:s3:::${bucketName}/${k}`),
});

async function bucket(name: string, region = REGION, withPolicy = true): Promise<void> {
  const client = region === REGION ? s3 : moto.client(region);
  await client.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }));
  if (region !== REGION) {
    client.destroy();
  }
  if (withPolicy) {
    await policy(name, [{
      Effect: 'Allow',
      Principal: { Service: `${region}.elasticache-snapshot.amazonaws.com` },
      Action: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketAcl'],
      Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
    }]);
  }
}

async function policy(bucketName: string, statements: unknown[]): Promise<void> {
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucketName, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
}

async function put(bucketName: string, key: string, body: Buffer | string, kms = false): Promise<void> {
  await s3.send(new PutObjectCommand({
    Bucket: bucketName,
    Key: key,
    Body: body,
    ...(kms ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: `arn:aws:kms:${REGION}:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab` } : { ServerSideEncryption: 'AES256' }),
  }));
}

async function failureOf(promise: Promise<PreflightResponse>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the preflight to fail');
}

function manifest(group: string, time: Date, shardKeys: string[], sizes: number[], clusterModeEnabled = shardKeys.length > 1): BackupManifest {
  return {
    formatVersion: 1,
    replicationGroupId: group,
    region: 'us-east-1',
    bucket: 'primary-export-bucket',
    snapshotName: `automatic.${group}-${time.toISOString().slice(0, 10)}`,
    snapshotSource: 'automated',
    snapshotCreateTime: time.toISOString(),
    exportName: shardKeys[0].replace(/-\d{4}\.rdb$/, ''),
    exportTime: new Date(time.getTime() + 600_000).toISOString(),
    engine: 'valkey',
    engineVersion: '8.0',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled,
    shardCount: shardKeys.length,
    shards: shardKeys.map((key, i) => ({ key, sizeBytes: sizes[i], rdbVersion: 10 })),
  };
}

async function putExport(
  name: string, group: string, time: Date, shards: number, deliver: (i: number) => boolean = () => true,
): Promise<{ key: string; keys: string[] }> {
  const exportName = `${group}-${time.toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
  const keys = Array.from({ length: shards }, (_, i) => exportObjectKey(exportName, i + 1));
  for (let i = 0; i < shards; i++) {
    if (deliver(i)) {
      await put(name, keys[i], redisRdb);
    }
  }
  const key = manifestKey(group, time, `automatic.${group}`);
  await put(name, key, serializeManifest(manifest(group, time, keys, keys.map(() => redisRdb.length))));
  return { key, keys };
}

describe('rdbArns source', () => {
  test('passes for an SSE-S3 RDB 10 object readable by ElastiCache, restoring into valkey 8.0', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', redisRdb);
    const response = await handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')), 'Create'));
    expect(response).toEqual({
      PhysicalResourceId: 'restore-preflight:Preflight',
      Data: { ObjectCount: '1', TotalBytes: String(redisRdb.length), Warnings: '' },
    });
  });

  test('fails for a missing object and names it', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', redisRdb);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb', 'backup-0002.rdb'), { ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] 1 .rdb object(s) do not exist: s3://seed-bucket/backup-0002.rdb: '
      + 'check the object keys, or wait until S3 replication has delivered them and deploy again',
    );
  });

  test('fails for an SSE-KMS object and says how to re-encrypt it with SSE-S3', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', redisRdb, true);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] 1 .rdb object(s) are encrypted with SSE-KMS (aws:kms): s3://seed-bucket/backup-0001.rdb; '
      + 'ElastiCache seeds only from SSE-S3 (AES256) objects: copy each object over itself with SSE-S3 '
      + "(aws s3 cp s3://seed-bucket/backup-0001.rdb s3://seed-bucket/backup-0001.rdb --sse AES256) and make SSE-S3 the bucket's default encryption",
    );
  });

  test('fails for a bucket in another region', async () => {
    await bucket('primary-bucket', 'us-east-2');
    await policy('primary-bucket', [{
      Effect: 'Allow', Principal: { Service: PRINCIPAL }, Action: 's3:*', Resource: ['arn:aws:s3:::primary-bucket', 'arn:aws:s3:::primary-bucket/*'],
    }]);
    await put('primary-bucket', 'backup-0001.rdb', redisRdb);
    const message = await failureOf(handler()(event(props(arns('primary-bucket', 'backup-0001.rdb')))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] bucket primary-bucket is in us-east-2 but the replication group is created in us-west-2, '
      + 'and ElastiCache seeds only from a bucket in its own region: copy or replicate the objects to a bucket in us-west-2 '
      + '(a BackupReplicaBucket there does this) and restore from that bucket',
    );
  });

  test('fails for a bucket without a policy and prints the exact statement to add', async () => {
    await bucket('seed-bucket', REGION, false);
    await put('seed-bucket', 'backup-0001.rdb', redisRdb);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')))));
    const statement = {
      Sid: 'ElastiCacheSeedRead',
      Effect: 'Allow',
      Principal: { Service: 'us-west-2.elasticache-snapshot.amazonaws.com' },
      Action: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketAcl'],
      Resource: ['arn:aws:s3:::seed-bucket', 'arn:aws:s3:::seed-bucket/backup-0001.rdb'],
    };
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] bucket seed-bucket has no bucket policy, so ElastiCache '
      + `(us-west-2.elasticache-snapshot.amazonaws.com) cannot read the .rdb objects: add this statement to the bucket policy: ${JSON.stringify(statement)}`,
    );
  });

  test('fails for a policy that grants the service GetObject but not GetBucketAcl, and says what is missing', async () => {
    await bucket('seed-bucket', REGION, false);
    // Written before the policy: moto applies the conditional Deny below to the test's own PutObject.
    await put('seed-bucket', 'backup-0001.rdb', redisRdb);
    await policy('seed-bucket', [
      { Effect: 'Allow', Principal: { Service: PRINCIPAL }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::seed-bucket', 'arn:aws:s3:::seed-bucket/*'] },
      // A conditional Deny does not count against the service.
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::seed-bucket/*',
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
      },
    ]);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')))));
    expect(message).toContain('[1] the bucket policy of seed-bucket does not let ElastiCache (us-west-2.elasticache-snapshot.amazonaws.com) read the .rdb objects (missing: s3:GetBucketAcl on the bucket): add this statement to the bucket policy: {"Sid":"ElastiCacheSeedRead"');
  });

  test('fails for an RDB 11 file (valkey 8.0) restored into redis 7.0', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', valkeyRdb);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb'), REDIS_7_0))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] s3://seed-bucket/backup-0001.rdb: RDB version 11 is newer than redis 7.0 can load '
      + '(it reads up to RDB 10; the engine would fail with "Can\'t handle RDB format version 11"): '
      + 'choose an engine that reads RDB 11 (Valkey 7.2 or newer) or restore from a backup written by redis 7.0 or older',
    );
  });

  test('passes with a warning for an RDB 11 file into redis 7.1 (uncertain), and fails when failOnUncertainCompatibility is set', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', valkeyRdb);
    const response = await handler()(event(props(arns('seed-bucket', 'backup-0001.rdb'), REDIS_7_1)));
    expect(response.Data!.Warnings).toMatch(/^s3:\/\/seed-bucket\/backup-0001\.rdb: RDB version 11 may be too new for redis 7\.1/);
    expect(logs).toContainEqual(expect.stringMatching(/^warn: s3:\/\/seed-bucket\/backup-0001\.rdb: RDB version 11 may be too new/));
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb'), { ...REDIS_7_1, FailOnUncertainCompatibility: 'true' }))));
    expect(message).toMatch(/\[1\] s3:\/\/seed-bucket\/backup-0001\.rdb: RDB version 11 may be too new for redis 7\.1 .* \(failOnUncertainCompatibility is set\)$/);
  });

  test('fails for an object that is not an RDB file', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', 'PK\u0003\u0004 zip archive');
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')))));
    expect(message).toBe(
      "restore preflight failed, nothing was created (1 problem(s)): [1] s3://seed-bucket/backup-0001.rdb is not an RDB file: expected the header to start with 'REDIS' or 'VALKEY', got 'PK\\x03\\x04 zip archive'",
    );
  });

  test('fails for several .rdb objects into a cluster-mode-disabled group', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'b-0001.rdb', redisRdb);
    await put('seed-bucket', 'b-0002.rdb', redisRdb);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'b-0001.rdb', 'b-0002.rdb')))));
    expect(message).toContain('[1] the backup has 2 .rdb objects (one per shard of a cluster-mode-enabled group), but the new replication group has cluster mode disabled');
  });

  test('reports every problem at once', async () => {
    await bucket('seed-bucket', REGION, false);
    await put('seed-bucket', 'backup-0001.rdb', valkeyRdb, false);
    const message = await failureOf(handler()(event(props(arns('seed-bucket', 'backup-0001.rdb', 'backup-0002.rdb'), { ...REDIS_7_0, ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toMatch(/^restore preflight failed, nothing was created \(3 problem\(s\)\): \[1\] bucket seed-bucket has no bucket policy.* \[2\] 1 \.rdb object\(s\) do not exist.* \[3\] s3:\/\/seed-bucket\/backup-0001\.rdb: RDB version 11 is newer than redis 7\.0/);
  });

  test('a Delete is a no-op that touches nothing', async () => {
    const response = await handler()(event(props(arns('no-such-bucket', 'x.rdb')), 'Delete', { PhysicalResourceId: 'restore-preflight:Preflight' }));
    expect(response).toEqual({ PhysicalResourceId: 'restore-preflight:Preflight' });
  });

  test('an Update with the same source skips the checks (the group exists already)', async () => {
    const p = props(arns('no-such-bucket', 'x.rdb'));
    const response = await handler()(event({ ...p, NodeType: 'cache.r7g.xlarge' }, 'Update', { PhysicalResourceId: 'restore-preflight:Preflight', OldResourceProperties: p }));
    expect(response).toEqual({ PhysicalResourceId: 'restore-preflight:Preflight', Data: {} });
  });
});

describe('latestExport source', () => {
  const latest = (group: string, max = 20) => ({ SourceKind: 'latestExport', Bucket: 'replica-bucket', ReplicationGroupId: group, MaxSourceShards: String(max) });
  const t1 = new Date('2026-11-20T03:15:00Z');
  const t2 = new Date('2026-11-21T03:15:00Z');

  test('resolves the newest complete manifest and returns its ARNs', async () => {
    await bucket('replica-bucket');
    await putExport('replica-bucket', 'orders', t1, 2);
    const newest = await putExport('replica-bucket', 'orders', t2, 2);
    const response = await handler()(event(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '3' })));
    expect(response.PhysicalResourceId).toBe(`restore-preflight:${newest.key}`);
    expect(response.Data).toEqual({
      SnapshotArns: newest.keys.map((k) => `arn:aws:s3:::replica-bucket/${k}`).join(','),
      ManifestKey: newest.key,
      SnapshotCreateTime: t2.toISOString(),
      ObjectCount: '2',
      TotalBytes: String(2 * redisRdb.length),
      Warnings: '',
    });
  });

  test('fails when the only manifest points at an absent object', async () => {
    await bucket('replica-bucket');
    const only = await putExport('replica-bucket', 'orders', t2, 2, (i) => i === 0);
    const message = await failureOf(handler()(event(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] no complete export of orders in s3://replica-bucket/manifests/orders/: '
      + `${only.key}: 1 of 2 object(s) missing (s3://replica-bucket/${only.keys[1]}), S3 replication may still be in flight: `
      + 'wait for S3 replication to finish and deploy again, or restore a specific backup with BackupSource.fromRdbObjects',
    );
  });

  test('falls back to the newest complete manifest and warns about the skipped one', async () => {
    await bucket('replica-bucket');
    const older = await putExport('replica-bucket', 'orders', t1, 2);
    const newer = await putExport('replica-bucket', 'orders', t2, 2, (i) => i === 1);
    const response = await handler()(event(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '2' })));
    expect(response.Data!.ManifestKey).toBe(older.key);
    expect(response.Data!.Warnings).toBe(
      `restoring the export of ${t1.toISOString()} (${older.key}) because newer manifests are not usable: `
      + `${newer.key}: 1 of 2 object(s) missing (s3://replica-bucket/${newer.keys[0]}), S3 replication may still be in flight`,
    );
  });

  test('fails when no export was ever committed for the group', async () => {
    await bucket('replica-bucket');
    const message = await failureOf(handler()(event(props(latest('orders')))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] no export of orders is committed in s3://replica-bucket/manifests/orders/ (no manifest): '
      + 'check that the backup plan exports orders and that S3 replication reaches bucket replica-bucket',
    );
  });

  test('fails for a multi-shard export into a cluster-mode-disabled group', async () => {
    await bucket('replica-bucket');
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    const message = await failureOf(handler()(event(props(latest('orders')))));
    expect(message).toContain(`[1] the latest export (${exp.key}) comes from cluster-mode-enabled group orders (2 shard(s)), and ElastiCache cannot seed a cluster-mode-disabled group from it: enable cluster mode on the new group`);
  });

  test('fails when the export has more shards than the restore was synthesized for', async () => {
    await bucket('replica-bucket');
    const exp = await putExport('replica-bucket', 'orders', t2, 3);
    const message = await failureOf(handler()(event(props(latest('orders', 2), { ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] the latest export (${exp.key}) has 3 .rdb objects, but this restore was synthesized for at most 2 `
      + "(BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to 3 or more and deploy again",
    );
  });

  test('a 500-shard manifest of 500 small objects passes; the ARNs come back in chunks of 20', async () => {
    await bucket('replica-bucket');
    const exp = await putExport('replica-bucket', 'big', t2, 500);
    const response = await handler()(event(props(latest('big', 500), { ClusterModeEnabled: 'true', ShardCount: '500', NodeType: 'cache.t4g.micro' })));
    expect(response.Data!.ObjectCount).toBe('500');
    expect(response.Data!.Warnings).toBe('');
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(4096);
    const allArns = exp.keys.map((k) => `arn:aws:s3:::replica-bucket/${k}`);
    const chunks = [response.Data!.SnapshotArns];
    for (let i = 1; i < 25; i++) {
      const chunk = await handler()(event({ SourceKind: 'latestExportChunk', Partition: 'aws', Bucket: 'replica-bucket', ManifestKey: exp.key, ChunkIndex: String(i) }));
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThan(4096);
      chunks.push(chunk.Data!.SnapshotArns);
    }
    // What CloudFormation computes: Fn::Split(',', Fn::Join('', chunks)).
    expect(chunks.join('').split(',')).toEqual(allArns);
  });

  test('an ARN chunk beyond the export is empty', async () => {
    await bucket('replica-bucket');
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    const chunk = await handler()(event({ SourceKind: 'latestExportChunk', Partition: 'aws', Bucket: 'replica-bucket', ManifestKey: exp.key, ChunkIndex: '1' }));
    expect(chunk).toEqual({ PhysicalResourceId: `restore-preflight:${exp.key}:1`, Data: { SnapshotArns: '' } });
  });

  test('an Update with the same source keeps the export chosen at creation, even when a newer one exists', async () => {
    await bucket('replica-bucket');
    const first = await putExport('replica-bucket', 'orders', t1, 1);
    await putExport('replica-bucket', 'orders', t2, 1);
    const p = props(latest('orders'));
    const response = await handler()(event({ ...p, NodeType: 'cache.r7g.xlarge' }, 'Update', { PhysicalResourceId: `restore-preflight:${first.key}`, OldResourceProperties: p }));
    expect(response.PhysicalResourceId).toBe(`restore-preflight:${first.key}`);
    expect(response.Data!.SnapshotArns).toBe(`arn:aws:s3:::replica-bucket/${first.keys[0]}`);
  });
});
