import * as fs from 'fs';
import * as path from 'path';
import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { makeDump } from './engine-server';
import { BackupManifest, serializeManifest } from '../../lib/manifest/manifest';
import { createHandler, PreflightDependencies, PreflightResponse } from '../../lib/restore/preflight.lambda';
import { asV1, manifestV2, verifiedShard } from '../manifest/fixtures';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

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
  details.length = 0;
});

const details: Array<Record<string, unknown> | undefined> = [];
/** The warnings the handler logged (they are not returned: only their count is). */
const warnings = () => logs.filter((l) => l.startsWith('warn: ')).map((l) => l.slice('warn: '.length));
const handler = (overrides: Partial<PreflightDependencies> = {}) => createHandler({
  s3,
  elastiCache: () => { throw new Error('ElastiCache is not used by S3 sources'); },
  log: (level, message, d) => { logs.push(`${level}: ${message}`); details.push(d); },
  ...overrides,
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

async function bucket(name: string, region = REGION, withPolicy = true, versioned = false): Promise<void> {
  const client = region === REGION ? s3 : moto.client(region);
  await client.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }));
  if (versioned) {
    await client.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  }
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

async function put(bucketName: string, key: string, body: Buffer | string | Uint8Array, kms = false): Promise<{ versionId?: string; etag?: string }> {
  const out = await s3.send(new PutObjectCommand({
    Bucket: bucketName,
    Key: key,
    Body: body,
    ...(kms ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: `arn:aws:kms:${REGION}:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab` } : { ServerSideEncryption: 'AES256' }),
  }));
  return { versionId: out.VersionId, etag: out.ETag };
}

async function failureOf(promise: Promise<PreflightResponse>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the preflight to fail');
}

/** `manifests/<group>/<yyyymmddthhmmssz>_<snapshot name>.json`, written out here rather than computed by the library. */
function keyOf(group: string, time: Date, snapshotName: string): string {
  const compact = time.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();
  return `manifests/${group}/${compact}_${snapshotName}.json`;
}

interface ExportOptions {
  /** Which shards (0-based) to upload; the others are listed but absent. */
  readonly deliver?: (i: number) => boolean;
  /** Changes the manifest before it is stored. */
  readonly edit?: (m: BackupManifest) => BackupManifest;
  /** Stores the manifest under this key instead of the one its content names. */
  readonly key?: string;
}

/**
 * Uploads the shards of an export and a verified (format 2) manifest pinned to the versions S3 returned, the way the
 * backup plan commits one.
 */
async function putExport(
  name: string, group: string, time: Date, shards: number, options: ExportOptions = {},
): Promise<{ key: string; keys: string[]; manifest: BackupManifest }> {
  const exportName = `ceb-test-x${time.toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
  const keys = Array.from({ length: shards }, (_, i) => `${exportName}-${String(i + 1).padStart(4, '0')}.rdb`);
  const pinned = [];
  for (let i = 0; i < shards; i++) {
    const version = (options.deliver ?? (() => true))(i) ? await put(name, keys[i], redisRdb) : { versionId: 'never-delivered', etag: '"0"' };
    pinned.push(verifiedShard(keys[i], redisRdb.length, version.versionId!, version.etag!));
  }
  const snapshotName = `automatic.${group}`;
  const base = manifestV2({ group, time, snapshotName, exportName, shards: pinned });
  const manifest = options.edit ? options.edit(base) : base;
  const key = options.key ?? keyOf(group, time, snapshotName);
  await put(name, key, serializeManifest(manifest));
  return { key, keys, manifest };
}

describe('rdbArns source', () => {
  test('passes for an SSE-S3 RDB 10 object readable by ElastiCache, restoring into valkey 8.0', async () => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', redisRdb);
    const response = await handler()(event(props(arns('seed-bucket', 'backup-0001.rdb')), 'Create'));
    expect(response).toEqual({
      PhysicalResourceId: 'restore-preflight:Preflight',
      Data: { ObjectCount: '1', TotalBytes: String(redisRdb.length), WarningCount: '0' },
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
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()[0]).toMatch(/^s3:\/\/seed-bucket\/backup-0001\.rdb: RDB version 11 may be too new for redis 7\.1/);
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
    expect(response).toEqual({ PhysicalResourceId: 'restore-preflight:Preflight', Data: { WarningCount: '0' } });
  });
});

describe('latestExport source', () => {
  const latest = (group: string, max = 20) => ({ SourceKind: 'latestExport', Bucket: 'replica-bucket', ReplicationGroupId: group, MaxSourceShards: String(max) });
  const t1 = new Date('2026-11-20T03:15:00Z');
  const t2 = new Date('2026-11-21T03:15:00Z');
  const DELETED_HINT = ' (if they were deleted, the versions the manifest verified may still be listed by aws s3api list-object-versions: '
    + 'delete the delete marker to bring one back)';
  // The replica bucket is versioned, as S3 replication requires.
  const replica = () => bucket('replica-bucket', REGION, true, true);

  test('resolves the newest complete manifest and returns its ARNs', async () => {
    await replica();
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
      WarningCount: '0',
    });
  });

  test('fails when the only manifest points at an absent object', async () => {
    await replica();
    const only = await putExport('replica-bucket', 'orders', t2, 2, { deliver: (i) => i === 0 });
    const message = await failureOf(handler()(event(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] no complete, verified export of orders in s3://replica-bucket/manifests/orders/: '
      + `${only.key}: 1 of 2 object(s) missing (s3://replica-bucket/${only.keys[1]}), S3 replication may still be in flight${DELETED_HINT}: `
      + 'wait for S3 replication to finish and deploy again, repair the export as described, or restore a specific backup with BackupSource.fromRdbObjects',
    );
  });

  test('falls back to the newest complete manifest and warns about the skipped one', async () => {
    await replica();
    const older = await putExport('replica-bucket', 'orders', t1, 2);
    const newer = await putExport('replica-bucket', 'orders', t2, 2, { deliver: (i) => i === 1 });
    const response = await handler()(event(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '2' })));
    expect(response.Data!.ManifestKey).toBe(older.key);
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()).toEqual([
      `restoring the export of ${t1.toISOString()} (${older.key}) because newer manifests are not usable: `
      + `${newer.key}: 1 of 2 object(s) missing (s3://replica-bucket/${newer.keys[0]}), S3 replication may still be in flight${DELETED_HINT}`,
    ]);
  });

  test('fails when no export was ever committed for the group', async () => {
    await replica();
    const message = await failureOf(handler()(event(props(latest('orders')))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] no export of orders is committed in s3://replica-bucket/manifests/orders/ (no manifest): '
      + 'check that the backup plan exports orders and that S3 replication reaches bucket replica-bucket',
    );
  });

  test('fails for a multi-shard export into a cluster-mode-disabled group', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    const message = await failureOf(handler()(event(props(latest('orders')))));
    expect(message).toContain(`[1] the latest export (${exp.key}) comes from cluster-mode-enabled group orders (2 shard(s)), and ElastiCache cannot seed a cluster-mode-disabled group from it: enable cluster mode on the new group`);
  });

  test('fails when the export has more shards than the restore was synthesized for', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 3);
    const message = await failureOf(handler()(event(props(latest('orders', 2), { ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] the latest export (${exp.key}) has 3 .rdb objects, but this restore was synthesized for at most 2 `
      + "(BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to 3 or more and deploy again",
    );
  });

  test('a 500-shard manifest of 500 small objects passes; the ARNs come back in chunks of 20', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'big', t2, 500);
    const response = await handler()(event(props(latest('big', 500), { ClusterModeEnabled: 'true', ShardCount: '500', NodeType: 'cache.t4g.micro' })));
    expect(response.Data!.ObjectCount).toBe('500');
    expect(response.Data!.WarningCount).toBe('0');
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
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    const chunk = await handler()(event({ SourceKind: 'latestExportChunk', Partition: 'aws', Bucket: 'replica-bucket', ManifestKey: exp.key, ChunkIndex: '1' }));
    expect(chunk).toEqual({ PhysicalResourceId: `restore-preflight:${exp.key}:1`, Data: { SnapshotArns: '' } });
  });

  test('an Update with the same source keeps the export chosen at creation, even when a newer one exists', async () => {
    await replica();
    const first = await putExport('replica-bucket', 'orders', t1, 1);
    await putExport('replica-bucket', 'orders', t2, 1);
    const p = props(latest('orders'));
    const response = await handler()(event({ ...p, NodeType: 'cache.r7g.xlarge' }, 'Update', { PhysicalResourceId: `restore-preflight:${first.key}`, OldResourceProperties: p }));
    expect(response.PhysicalResourceId).toBe(`restore-preflight:${first.key}`);
    expect(response.Data!.SnapshotArns).toBe(`arn:aws:s3:::replica-bucket/${first.keys[0]}`);
  });
});

describe('latestExport source: only a verified export whose objects are still the verified versions', () => {
  const latest = (group: string, max = 20) => ({ SourceKind: 'latestExport', Bucket: 'replica-bucket', ReplicationGroupId: group, MaxSourceShards: String(max) });
  const t1 = new Date('2026-11-20T03:15:00Z');
  const t2 = new Date('2026-11-21T03:15:00Z');
  const NOW = new Date('2026-11-22T00:00:00Z');
  const cme = { ClusterModeEnabled: 'true', ShardCount: '2' };
  const replica = () => bucket('replica-bucket', REGION, true, true);
  const run = (properties: Record<string, unknown>) => handler({ now: () => NOW })(event(properties));

  test('an object overwritten after the commit: the export is refused, and the message names the version to copy back', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    const pinned = exp.manifest.shards[1].versionId!;
    const overwrite = await put('replica-bucket', exp.keys[1], valkeyRdb);
    const message = await failureOf(run(props(latest('orders'), cme)));
    expect(message).toContain(
      `[1] no complete, verified export of orders in s3://replica-bucket/manifests/orders/: ${exp.key}: s3://replica-bucket/${exp.keys[1]}: `
      + `current version is ${overwrite.versionId} (${valkeyRdb.length} bytes), but the manifest verified version ${pinned} (${redisRdb.length} bytes): `
      + `the object was overwritten after the commit. Version ${pinned} is the one to copy back: make it current again by deleting the newer version `
      + `(aws s3api delete-object --bucket replica-bucket --key ${exp.keys[1]} --version-id ${overwrite.versionId};`,
    );
    expect(message).toContain(`--copy-source "replica-bucket/${exp.keys[1]}?versionId=${pinned}"`);
  });

  test('an overwrite with an object of the same size is caught by the version, not the size', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 1);
    const sameSize = Buffer.from(redisRdb);
    sameSize[100] = (sameSize[100] + 1) % 256;
    await put('replica-bucket', exp.keys[0], sameSize);
    const message = await failureOf(run(props(latest('orders'))));
    expect(message).toContain(`but the manifest verified version ${exp.manifest.shards[0].versionId} (${redisRdb.length} bytes): the object was overwritten after the commit`);
  });

  test('falls back past an export with an overwritten object, and the warning names the version to copy back', async () => {
    await replica();
    const older = await putExport('replica-bucket', 'orders', t1, 2);
    const newer = await putExport('replica-bucket', 'orders', t2, 2);
    await put('replica-bucket', newer.keys[0], Buffer.alloc(0));
    const response = await run(props(latest('orders'), cme));
    expect(response.Data!.ManifestKey).toBe(older.key);
    const warning = logs.find((l) => l.startsWith('warn: restoring the export of'));
    expect(warning).toContain(`because newer manifests are not usable: ${newer.key}: s3://replica-bucket/${newer.keys[0]}: current version is `);
    expect(warning).toContain(`Version ${newer.manifest.shards[0].versionId} is the one to copy back`);
  });

  test('an object deleted after the commit: the export is refused, and the message says how to bring the verified version back', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 2);
    await s3.send(new DeleteObjectCommand({ Bucket: 'replica-bucket', Key: exp.keys[0] }));
    const message = await failureOf(run(props(latest('orders'), cme)));
    expect(message).toContain(
      `${exp.key}: 1 of 2 object(s) missing (s3://replica-bucket/${exp.keys[0]}), S3 replication may still be in flight (if they were deleted, the versions the manifest `
      + 'verified may still be listed by aws s3api list-object-versions: delete the delete marker to bring one back)',
    );
  });

  test('a manifest dated in the future is skipped with the reason; the newest honest one is restored', async () => {
    await replica();
    const honest = await putExport('replica-bucket', 'orders', t1, 1);
    const future = new Date(NOW.getTime() + 2 * 86_400_000);
    const planted = await putExport('replica-bucket', 'orders', future, 1, { edit: (m) => ({ ...m, exportTime: future.toISOString() }) });
    const response = await run(props(latest('orders')));
    expect(response.Data!.ManifestKey).toBe(honest.key);
    expect(response.Data!.SnapshotCreateTime).toBe(t1.toISOString());
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()).toEqual([
      `restoring the export of ${t1.toISOString()} (${honest.key}) because newer manifests are not usable: `
      + `${planted.key}: not used: its snapshot time ${future.toISOString()} is in the future (now ${NOW.toISOString()})`,
    ]);
  });

  test('a planted manifest whose content does not match its key is skipped with the reason', async () => {
    await replica();
    const honest = await putExport('replica-bucket', 'orders', t1, 1);
    // The honest export's manifest, copied under a key that claims a newer snapshot.
    const plantedKey = keyOf('orders', t2, 'automatic.orders');
    await put('replica-bucket', plantedKey, serializeManifest(honest.manifest));
    const response = await run(props(latest('orders')));
    expect(response.Data!.ManifestKey).toBe(honest.key);
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()).toEqual([
      `restoring the export of ${t1.toISOString()} (${honest.key}) because newer manifests are not usable: `
      + `${plantedKey}: not used: its content (group orders, snapshot automatic.orders taken ${t1.toISOString()}) belongs under ${honest.key}, not under this key`,
    ]);
  });

  test('a format 1 manifest is skipped as unverified, and the preflight fails when nothing else is there', async () => {
    await replica();
    const v1 = await putExport('replica-bucket', 'orders', t2, 1, { edit: asV1 });
    const message = await failureOf(run(props(latest('orders'))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] no complete, verified export of orders in s3://replica-bucket/manifests/orders/: '
      + `${v1.key}: not verified (a format 1 manifest, written before exports were verified), so nothing proves its objects are intact; `
      + 'restore it explicitly with BackupSource.fromRdbObjects and its keys (the preflight then verifies the objects themselves): '
      + 'wait for S3 replication to finish and deploy again, repair the export as described, or restore a specific backup with BackupSource.fromRdbObjects',
    );
  });

  test('a verified export whose shard recorded keys in two databases cannot seed a cluster-mode-enabled group', async () => {
    await replica();
    const exp = await putExport('replica-bucket', 'orders', t2, 1, {
      edit: (m) => ({
        ...m,
        clusterModeEnabled: false,
        shards: [{ ...m.shards[0], databases: [{ db: 0, keys: 1, keysWithExpiry: 1 }, { db: 2, keys: 1, keysWithExpiry: 0 }] }],
      }),
    });
    const message = await failureOf(run(props(latest('orders'), { ClusterModeEnabled: 'true', ShardCount: '1' })));
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] s3://replica-bucket/${exp.keys[0]} holds keys in 2 databases (db 0: 1 key(s), db 2: 1 key(s)); `
      + 'a cluster-mode-enabled group has only database 0: ElastiCache refuses to restore one from a file that references more than one database, '
      + 'and a cluster does not load keys of any other database: restore into a cluster-mode-disabled group, or move the keys into database 0 on the source '
      + '(MOVE, or a migration tool) and take a new backup',
    );
  });
});

describe('rdbArns source: content checks', () => {
  const seed = async (body: Buffer) => {
    await bucket('seed-bucket');
    await put('seed-bucket', 'backup-0001.rdb', body);
  };
  const source = (verifyContent?: string) => ({ ...arns('seed-bucket', 'backup-0001.rdb'), ...(verifyContent ? { VerifyContent: verifyContent } : {}) });
  const URI = 's3://seed-bucket/backup-0001.rdb';
  /** The fixture with one byte of a value changed: header, size, EOF opcode and trailer are all still in place. */
  const corrupted = () => {
    const copy = Buffer.from(redisRdb);
    copy[200] = (copy[200] + 1) % 256;
    return copy;
  };

  test('a real dump is verified in full by default: the log reports its 5 keys (as redis-check-rdb counts them)', async () => {
    await seed(redisRdb);
    const response = await handler()(event(props(source())));
    expect(response.Data!.WarningCount).toBe('0');
    expect(details[logs.indexOf('info: restore preflight passed')]).toMatchObject({ verification: 'full', verifyContent: 'auto', verifiedObjects: 1, verifiedKeys: 5 });
  });

  test('an empty object fails, named', async () => {
    await seed(Buffer.alloc(0));
    const message = await failureOf(handler()(event(props(source()))));
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] 1 .rdb object(s) are empty: ${URI}: the export or upload did not complete; restore from another backup`,
    );
  });

  test('a truncated dump fails the envelope check, naming the byte offset', async () => {
    await seed(redisRdb.subarray(0, 200));
    const message = await failureOf(handler()(event(props(source('envelope-only')))));
    const match = new RegExp(`^restore preflight failed, nothing was created \\(1 problem\\(s\\)\\): \\[1\\] ${URI.replace(/[/.]/g, '\\$&')} \\(200 bytes\\) `
      + 'is not a complete RDB file: at byte (\\d+): .+; the upload or copy was cut short or the object was damaged, and the engine would refuse to load it: '
      + 'upload the whole file again, or restore from another backup$').exec(message);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeLessThanOrEqual(200);
  });

  test('a dump cut just before its trailer fails the envelope check too', async () => {
    await seed(redisRdb.subarray(0, redisRdb.length - 8));
    const message = await failureOf(handler()(event(props(source('envelope-only')))));
    expect(message).toMatch(/\[1\] s3:\/\/seed-bucket\/backup-0001\.rdb \(\d+ bytes\) is not a complete RDB file: at byte \d+: /);
  });

  test('one changed byte inside a value passes the envelope check but fails full verification, naming the offset', async () => {
    await seed(corrupted());
    const response = await handler()(event(props(source('envelope-only'))));
    expect(response.Data!.ObjectCount).toBe('1');
    const message = await failureOf(handler()(event(props(source()))));
    expect(message).toMatch(/^restore preflight failed, nothing was created \(1 problem\(s\)\): \[1\] s3:\/\/seed-bucket\/backup-0001\.rdb is corrupt: at byte \d+: .+; the engine would refuse to load it/);
  });

  test('AUTO above the time budget checks only the envelope, and says so in a warning', async () => {
    await seed(corrupted());
    const response = await handler({ verifyBudgetSeconds: 0 })(event(props(source())));
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()[0]).toMatch(new RegExp('^the 1 \\.rdb object\\(s\\) total 0\\.000 GiB: verifying them in full would take about 1 s, '
      + 'more than the 0 s the preflight gives it, so only their size, header, EOF marker and CRC-64 trailer were checked: set verifyContent: RdbContentVerification\\.FULL'));
    expect(details[logs.indexOf('info: restore preflight passed')]).toMatchObject({ verification: 'envelope', verifiedObjects: 0 });
  });

  test('FULL ignores the budget and verifies anyway', async () => {
    await seed(corrupted());
    const message = await failureOf(handler({ verifyBudgetSeconds: 0 })(event(props(source('full')))));
    expect(message).toContain(`[1] ${URI} is corrupt: `);
  });

  test('FULL that runs out of time fails, saying how far it got, instead of timing out', async () => {
    await seed(redisRdb);
    const message = await failureOf(handler()(event(props(source('full'))), { getRemainingTimeInMillis: () => 0 }));
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] the preflight ran out of time after verifying 0 of the ${redisRdb.length} bytes of ${URI} `
      + '(verifyContent is FULL): verify the files beforehand with npx cdk-elasticache-backup verify and deploy with '
      + 'verifyContent: RdbContentVerification.ENVELOPE_ONLY, or restore fewer or smaller files',
    );
  });

  test('an Update that only changes VerifyContent does not check again (the group exists already)', async () => {
    const old = props(arns('no-such-bucket', 'x.rdb'));
    const response = await handler()(event({ ...old, VerifyContent: 'full' }, 'Update', { PhysicalResourceId: 'restore-preflight:Preflight', OldResourceProperties: old }));
    expect(response).toEqual({ PhysicalResourceId: 'restore-preflight:Preflight', Data: { WarningCount: '0' } });
  });

  test('an unknown VerifyContent value is refused, naming the allowed ones', async () => {
    const message = await failureOf(handler()(event(props(source('everything')))));
    expect(message).toBe("property 'VerifyContent' must be 'auto', 'full', 'envelope-only', got \"everything\"");
  });
});

describeWithTool('redis-server')('rdbArns source: databases of a cluster-mode-enabled restore (dump written by redis-server)', () => {
  test('a file with keys in databases 0 and 3 fails into a cluster-mode-enabled group (with the per-database counts) and passes into a disabled one', async () => {
    const dump = await makeDump('redis-server', [['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3'], ['MOVE', 'c', '3']]);
    await bucket('seed-bucket');
    await put('seed-bucket', 'multi-0001.rdb', dump);
    const source = arns('seed-bucket', 'multi-0001.rdb');
    const message = await failureOf(handler()(event(props(source, { ...REDIS_7_0, ClusterModeEnabled: 'true', ShardCount: '2' }))));
    expect(message).toBe(
      'restore preflight failed, nothing was created (1 problem(s)): [1] s3://seed-bucket/multi-0001.rdb holds keys in 2 databases (db 0: 2 key(s), db 3: 1 key(s)); '
      + 'a cluster-mode-enabled group has only database 0: ElastiCache refuses to restore one from a file that references more than one database, '
      + 'and a cluster does not load keys of any other database: restore into a cluster-mode-disabled group, or move the keys into database 0 on the source '
      + '(MOVE, or a migration tool) and take a new backup',
    );
    const response = await handler()(event(props(source, REDIS_7_0)));
    expect(response.Data!.ObjectCount).toBe('1');
  });

  test('the same check with verifyContent ENVELOPE_ONLY cannot see the databases: it warns instead', async () => {
    const dump = await makeDump('redis-server', [['SET', 'c', '3'], ['MOVE', 'c', '3']]);
    await bucket('seed-bucket');
    await put('seed-bucket', 'multi-0001.rdb', dump);
    const target = { ...REDIS_7_0, ClusterModeEnabled: 'true', ShardCount: '1' };
    // Verified in full (the default), the file fails: its only key is in database 3.
    expect(await failureOf(handler()(event(props(arns('seed-bucket', 'multi-0001.rdb'), target)))))
      .toContain('s3://seed-bucket/multi-0001.rdb holds keys in a database other than 0 (db 3: 1 key(s))');
    const response = await handler()(event(props({ ...arns('seed-bucket', 'multi-0001.rdb'), VerifyContent: 'envelope-only' }, target)));
    expect(response.Data!.WarningCount).toBe('1');
    expect(warnings()).toEqual([
      'the databases used by 1 .rdb object(s) were not checked because their content was not verified in full; '
      + 'ElastiCache fails a cluster-mode-enabled restore from a file with keys in a database other than 0',
    ]);
  });
});
