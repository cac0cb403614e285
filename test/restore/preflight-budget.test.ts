import * as fs from 'fs';
import * as path from 'path';
import {
  BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { BackupManifest, serializeManifest } from '../../lib/manifest/manifest';
import { createHandler, PreflightDependencies, PreflightResponse } from '../../lib/restore/preflight.lambda';
import { manifestV2, verifiedShard } from '../manifest/fixtures';
import { MotoS3 } from '../support/moto';

/**
 * Finding 6 of issue 10: the whole CloudFormation answer fits in 4096 bytes, the search for an export is bounded before
 * any object is looked at, and an Update re-checks the source exactly when the group would be replaced.
 *
 * The size oracle is aws-cdk-lib's own Provider framework (custom-resources/lib/provider-framework/runtime): the test
 * runs its onEvent with the preflight as the user function and measures the body it PUTs to CloudFormation.
 */
const REGION = 'us-west-2';
const redisRdb = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'rdb', 'redis-7.0.rdb'));
const LIMIT = 4096;

let moto: MotoS3;
let s3: S3Client;
const requests = new Map<string, number>();
const logs: string[] = [];

beforeAll(async () => {
  moto = await MotoS3.start();
  s3 = moto.client(REGION);
  // Counts every request the preflight (and the fixtures) send.
  s3.middlewareStack.add((next, context) => async (args) => {
    const name = context.commandName ?? 'unknown';
    requests.set(name, (requests.get(name) ?? 0) + 1);
    return next(args);
  }, { step: 'initialize', name: 'countRequests' });
});
afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  logs.length = 0;
});

const handler = (overrides: Partial<PreflightDependencies> = {}) => createHandler({
  s3,
  elastiCache: () => { throw new Error('ElastiCache is not used by S3 sources'); },
  log: (level, message) => { logs.push(`${level}: ${message}`); },
  now: () => new Date('2026-11-22T00:00:00Z'),
  ...overrides,
});
const warnings = () => logs.filter((l) => l.startsWith('warn: '));

/** A stack name of 128 characters (the longest CloudFormation allows) and a long construct path. */
const STACK_ID = `arn:aws:cloudformation:${REGION}:111111111111:stack/${'dr-restore-orders-platform-'.repeat(5).slice(0, 128)}/8f2c3a10-9b4e-11ef-a1b2-0a1b2c3d4e5f`;
const LOGICAL_ID = 'DisasterRecoveryOrdersPlatformEuCentralRestoredOrdersReplicationGroupFromBackupPreflight8A1B2C3D';

function event(properties: Record<string, unknown>, requestType: 'Create' | 'Update' = 'Create', extra: Record<string, unknown> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: `arn:aws:lambda:${REGION}:111111111111:function:framework`,
    ResponseURL: 'https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/unused',
    StackId: STACK_ID,
    RequestId: '3c1a7d52-5f0e-4b8e-9a61-2f8d9e0c4b7a',
    LogicalResourceId: LOGICAL_ID,
    ResourceType: 'Custom::ElastiCacheRestorePreflight',
    ResourceProperties: { ServiceToken: 'x', ...properties },
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

const CREATE_ONLY = { ReplicationGroupId: 'orders-dr', Port: '6379', AtRestEncryptionEnabled: 'true' };

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
    ShardCount: '20',
    ClusterModeEnabled: 'true',
    ReservedMemoryPercent: '25',
    FailOnUncertainCompatibility: 'false',
    VerifyBucketPolicy: 'true',
    ReplicationGroupCreateOnly: CREATE_ONLY,
    ...source,
    ...overrides,
  };
}

// ---- the real aws-cdk-lib Provider framework, with the Lambda invoke and the HTTPS PUT replaced ----

const runtimeDir = path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'custom-resources', 'lib', 'provider-framework', 'runtime');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const outbound = require(path.join(runtimeDir, 'outbound.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const framework = require(path.join(runtimeDir, 'framework.js'));

/**
 * Runs the framework's onEvent with `userHandler` as the user function (errors formatted as the Node.js Lambda runtime
 * does: errorType, errorMessage, and the stack lines as trace) and returns the body it sends to CloudFormation.
 */
async function throughFramework(
  userHandler: (e: CloudFormationCustomResourceEvent) => Promise<PreflightResponse>, cfnEvent: CloudFormationCustomResourceEvent,
): Promise<{ body: Record<string, any>; bytes: number }> {
  const sent: string[] = [];
  const saved = { invokeFunction: outbound.invokeFunction, httpRequest: outbound.httpRequest };
  outbound.invokeFunction = async (req: { Payload: string }) => {
    try {
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(await userHandler(JSON.parse(req.Payload)))) };
    } catch (e) {
      const error = e as Error;
      const payload = { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify(payload)) };
    }
  };
  outbound.httpRequest = async (_options: unknown, body: string) => { sent.push(body); };
  // The longest function name Lambda allows: the framework writes it into the failure reason.
  process.env.USER_ON_EVENT_FUNCTION_ARN = `arn:aws:lambda:${REGION}:111111111111:function:${'f'.repeat(64)}`;
  const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await framework.onEvent(cfnEvent);
  } finally {
    quiet.mockRestore();
    Object.assign(outbound, saved);
    delete process.env.USER_ON_EVENT_FUNCTION_ARN;
  }
  expect(sent).toHaveLength(1);
  return { body: JSON.parse(sent[0]), bytes: Buffer.byteLength(sent[0], 'utf8') };
}

// ---- fixtures ----

/** A bucket name of 63 characters, the longest S3 allows. */
const BUCKET = `dr-replica-exports-orders-platform-eu-central-1-${'0'.repeat(15)}`.slice(0, 63);
/** A group id of 40 characters, the longest ElastiCache allows. */
const GROUP = 'orders-platform-eu-central-1-cache-prod1';

async function replicaBucket(name = BUCKET): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: name,
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` },
        Action: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketAcl'],
        Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
      }],
    }),
  }));
}

async function put(bucket: string, key: string, body: Buffer | string): Promise<{ versionId?: string; etag?: string }> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'AES256' }));
  return { versionId: out.VersionId, etag: out.ETag };
}

const compact = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();

/**
 * An export named as BackupPlan names them (`ceb-<8>-x<time>-<8>`, 39 characters) with an automatic snapshot's name,
 * and its verified manifest. Shards listed in `missing` are not uploaded (still replicating).
 */
async function putExport(time: Date, shards: number, missing: (i: number) => boolean = () => false): Promise<{ key: string; keys: string[] }> {
  const exportName = `ceb-k7m2p4q6-x${compact(time)}-h3n5r7t2`;
  const keys = Array.from({ length: shards }, (_, i) => `${exportName}-${String(i + 1).padStart(4, '0')}.rdb`);
  const pinned = [];
  for (let i = 0; i < shards; i++) {
    const version = missing(i) ? { versionId: 'not-yet-replicated', etag: '"0"' } : await put(BUCKET, keys[i], redisRdb);
    pinned.push(verifiedShard(keys[i], redisRdb.length, version.versionId!, version.etag!));
  }
  const snapshotName = `automatic.${GROUP}-${time.toISOString().slice(0, 16).replace(/[T:]/g, '-')}`;
  const key = `manifests/${GROUP}/${compact(time)}_${snapshotName}.json`;
  await put(BUCKET, key, serializeManifest(manifestV2({ group: GROUP, time, snapshotName, exportName, shards: pinned })));
  return { key, keys };
}

const latest = (max = 20) => ({ SourceKind: 'latestExport', Bucket: BUCKET, ReplicationGroupId: GROUP, MaxSourceShards: String(max) });
const t1 = new Date('2026-11-20T03:15:00Z');
const t2 = new Date('2026-11-21T03:15:00Z');

describe('the whole answer fits in 4096 bytes', () => {
  test('a 20-shard restore with warnings and a newer manifest still replicating restores (the body measured through the framework)', async () => {
    await replicaBucket();
    const older = await putExport(t1, 20);
    // The newer export is still replicating: 7 of its 20 objects have not arrived.
    await putExport(t2, 20, (i) => i % 3 === 0);
    // A node type the memory table does not know: one more, ordinary, warning.
    const cfnEvent = event(props(latest(), { NodeType: 'cache.r9g.large' }));
    const { body, bytes } = await throughFramework(handler(), cfnEvent);
    expect(body.Status).toBe('SUCCESS');
    expect(body.PhysicalResourceId).toBe(`restore-preflight:${older.key}`);
    expect(body.Data.SnapshotArns.split(',')).toEqual(older.keys.map((k) => `arn:aws:s3:::${BUCKET}/${k}`));
    expect(body.Data.WarningCount).toBe('2');
    expect(Object.keys(body.Data).sort()).toEqual(['ManifestKey', 'ObjectCount', 'SnapshotArns', 'SnapshotCreateTime', 'TotalBytes', 'WarningCount']);
    expect(warnings()).toEqual([
      expect.stringMatching(/^warn: restoring the export of 2026-11-20T03:15:00.000Z .* because newer manifests are not usable: .*7 of 20 object\(s\) missing/),
      expect.stringMatching(/^warn: node type cache\.r9g\.large is not in the preflight's memory table/),
    ]);
    // 3,430 bytes when this test was written (the Data alone: 2,801); before, the warnings were in the Data and it failed.
    expect(bytes).toBeLessThanOrEqual(LIMIT);
  });

  test('a failure with many long problems (JSON statements full of quotes) fits, with the count of those left to the log', async () => {
    // 20 buckets without a policy: 20 problems, each with a bucket policy statement to add.
    const arns: string[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `seed-bucket-without-policy-${String(i).padStart(2, '0')}`;
      await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint } }));
      await put(name, 'orders-backup-0001.rdb', redisRdb);
      arns.push(`arn:aws:s3:::${name}/orders-backup-0001.rdb`);
    }
    const { body, bytes } = await throughFramework(handler(), event(props({ SourceKind: 'rdbArns', SnapshotArns: arns })));
    expect(body.Status).toBe('FAILED');
    expect(body.PhysicalResourceId).toBe('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED');
    expect(body.Reason).toMatch(/^restore preflight failed, nothing was created \(20 problem\(s\)\): \[1\] bucket seed-bucket-without-policy-00 has no bucket policy/);
    expect(body.Reason).toMatch(/ \.\.\. and \d+ more problem\(s\): see the preflight function's log\n\nLogs: \/aws\/lambda\/f{64}\n$/);
    expect(bytes).toBeLessThanOrEqual(LIMIT);
    // Every problem is in the log, also those the reason leaves out.
    expect(logs.filter((l) => l.startsWith('error: bucket seed-bucket-without-policy-'))).toHaveLength(20);
  });

  test('an answer that cannot fit fails with what to do instead of being refused by CloudFormation', async () => {
    await replicaBucket();
    // A manual backup exported under a 120-character name: 20 ARNs of 206 characters take more than 4,096 bytes alone.
    const exportName = `orders-platform-eu-central-1-before-the-2026-schema-migration-${'and-the-index-rebuild-'.repeat(3)}`.slice(0, 120);
    const keys = Array.from({ length: 20 }, (_, i) => `${exportName}-${String(i + 1).padStart(4, '0')}.rdb`);
    const shards = [];
    for (const k of keys) {
      const v = await put(BUCKET, k, redisRdb);
      shards.push(verifiedShard(k, redisRdb.length, v.versionId!, v.etag!));
    }
    const snapshotName = exportName;
    const key = `manifests/${GROUP}/${compact(t2)}_${snapshotName}.json`;
    await put(BUCKET, key, serializeManifest(manifestV2({ group: GROUP, time: t2, snapshotName, exportName, shards })));
    const { body, bytes } = await throughFramework(handler(), event(props(latest())));
    expect(body.Status).toBe('FAILED');
    expect(body.Reason).toMatch(new RegExp('^restore preflight failed, nothing was created: its answer \\(\\d+ bytes with the stack id, logical id, physical id and attributes, '
      + 'mostly \\.rdb ARNs\\) does not fit in a CloudFormation custom resource response \\(4096 bytes\\): restore this export with '
      + `BackupSource\\.fromRdbObjects\\(bucket, keys\\) using the keys listed in ${key.replace(/[.]/g, '\\.')}\\n`));
    expect(bytes).toBeLessThanOrEqual(LIMIT);
  });
});

describe('the search for an export is bounded before any object is looked at (S3 mocked, every request counted)', () => {
  const MANIFEST_BYTES_CAP = 1024 * 1024;

  /** A mocked S3 holding `stored` manifests; GetObject honours Range as S3 does. */
  function mockedS3(stored: Array<{ key: string; text: string }>) {
    const client = new S3Client({ region: REGION });
    const mock = mockClient(client);
    mock.on(ListObjectsV2Command).resolves({ Contents: stored.map((m) => ({ Key: m.key })), IsTruncated: false });
    mock.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
      const bytes = Buffer.from(stored.find((m) => m.key === input.Key)!.text);
      const range = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
      const body = range ? bytes.subarray(Number(range[1]), Number(range[2]) + 1) : bytes;
      return {
        Body: { transformToByteArray: async () => new Uint8Array(body), transformToString: async () => body.toString('utf8') },
        ContentLength: body.length,
        ContentRange: range ? `bytes ${range[1]}-${Number(range[1]) + body.length - 1}/${bytes.length}` : undefined,
      };
    });
    mock.on(HeadObjectCommand).rejects(new Error('no HEAD expected'));
    const count = (command: any) => mock.commandCalls(command).length;
    return { client, mock, count };
  }

  /** `n` manifests of `shards` verified shards each, one a day. */
  function manifests(n: number, shards: number): Array<{ key: string; text: string }> {
    return Array.from({ length: n }, (_, d) => {
      const time = new Date(Date.UTC(2026, 10, 1 + d, 3, 15));
      const exportName = `ceb-k7m2p4q6-x${compact(time)}-h3n5r7t2`;
      const snapshotName = `automatic.${GROUP}`;
      const shardList = Array.from({ length: shards }, (_shard, i) => verifiedShard(`${exportName}-${String(i + 1).padStart(4, '0')}.rdb`, 1000, `v${i}`, `"e${i}"`));
      const manifest: BackupManifest = manifestV2({ group: GROUP, time, snapshotName, exportName, shards: shardList });
      return { key: `manifests/${GROUP}/${compact(time)}_${snapshotName}.json`, text: serializeManifest(manifest) };
    });
  }

  const run = async (client: S3Client, max = 20) => {
    try {
      await handler({ s3: client })(event(props(latest(max))));
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the preflight to fail');
  };

  test('12 manifests of 10,000 shards: 1 LIST and 10 ranged GETs of at most 1 MiB + 1 byte, no HEAD, and a message naming each', async () => {
    const all = manifests(12, 10_000);
    expect(Buffer.byteLength(all[0].text)).toBeGreaterThan(MANIFEST_BYTES_CAP);
    const { client, mock, count } = mockedS3(all);
    const message = await run(client);
    expect(count(ListObjectsV2Command)).toBe(1);
    expect(count(GetObjectCommand)).toBe(10);
    expect(count(HeadObjectCommand)).toBe(0);
    const gets = mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input as { Key: string; Range: string });
    // The 10 newest, newest first, each with a bounded range.
    expect(gets.map((g) => g.Key)).toEqual(all.slice(2).reverse().map((m) => m.key));
    expect(new Set(gets.map((g) => g.Range))).toEqual(new Set([`bytes=0-${MANIFEST_BYTES_CAP}`]));
    expect(message).toMatch(new RegExp(`^restore preflight failed, nothing was created \\(1 problem\\(s\\)\\): \\[1\\] no complete, verified export of ${GROUP} `
      + `in s3://${BUCKET}/manifests/${GROUP}/: ${all[11].key.replace(/[.]/g, '\\.')}: the manifest is ${Buffer.byteLength(all[11].text)} bytes, `
      + 'more than the 1048576 bytes the preflight reads'));
  });

  test('10 manifests of 30 shards for a restore synthesized for 20: the first one fails it, after 1 LIST and 1 GET, before any HEAD', async () => {
    const all = manifests(10, 30);
    const { client, count } = mockedS3(all);
    const message = await run(client, 20);
    expect([count(ListObjectsV2Command), count(GetObjectCommand), count(HeadObjectCommand)]).toEqual([1, 1, 0]);
    expect(message).toBe(
      `restore preflight failed, nothing was created (1 problem(s)): [1] the latest export (${all[9].key}) has 30 .rdb objects, but this restore was synthesized `
      + "for at most 20 (BackupSource.latestExport option maxSourceShards; default: the new group's shard count): set maxSourceShards to 30 or more and deploy again",
    );
  });

  test('manifests listing more shards than any ElastiCache group has are skipped without a HEAD', async () => {
    const all = manifests(3, 600);
    expect(Buffer.byteLength(all[0].text)).toBeLessThan(MANIFEST_BYTES_CAP);
    const { client, count } = mockedS3(all);
    const message = await run(client, 500);
    expect([count(ListObjectsV2Command), count(GetObjectCommand), count(HeadObjectCommand)]).toEqual([1, 3, 0]);
    expect(message).toContain(`${all[2].key}: not used: it lists 600 .rdb objects, more than the 500 shards an ElastiCache group can have, so it was not written by BackupPlan`);
  });

  test('a verified manifest of 500 shards is well under the cap', () => {
    expect(Buffer.byteLength(manifests(1, 500)[0].text)).toBeLessThan(MANIFEST_BYTES_CAP / 2);
  });
});

describe('Update: the source is checked again exactly when the group would be replaced', () => {
  const requestsOf = (name: string) => requests.get(name) ?? 0;
  const update = (oldProps: Record<string, unknown>, newProps: Record<string, unknown>, physicalId: string) =>
    event(newProps, 'Update', { PhysicalResourceId: physicalId, OldResourceProperties: { ServiceToken: 'x', ...oldProps } });
  const failureOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the preflight to fail');
  };

  test('nothing that replaces the group changed: it says so, returns the pinned export, and HEADs nothing', async () => {
    await replicaBucket();
    const pinned = await putExport(t1, 2);
    await putExport(t2, 2);
    requests.clear();
    const old = props(latest(2));
    const response = await handler()(update(old, { ...old, NodeType: 'cache.r7g.xlarge', ShardCount: '4', MaxSourceShards: '4' }, `restore-preflight:${pinned.key}`));
    expect(response.PhysicalResourceId).toBe(`restore-preflight:${pinned.key}`);
    expect(response.Data!.SnapshotArns).toBe(pinned.keys.map((k) => `arn:aws:s3:::${BUCKET}/${k}`).join(','));
    expect(logs).toContain('info: restore preflight update: nothing that replaces the replication group changed (changed: MaxSourceShards, NodeType, ShardCount): '
      + 'the group exists already and is not seeded again, so the source is not checked again');
    expect([requestsOf('HeadObjectCommand'), requestsOf('ListObjectsV2Command'), requestsOf('GetObjectCommand')]).toEqual([0, 0, 1]);
  });

  test('a create-only property changed: the pinned export is checked again, and kept although a newer one exists', async () => {
    await replicaBucket();
    const pinned = await putExport(t1, 2);
    await putExport(t2, 2);
    requests.clear();
    const old = props(latest(2));
    const response = await handler()(update(old, { ...old, ReplicationGroupCreateOnly: { ...CREATE_ONLY, Port: '6380' } }, `restore-preflight:${pinned.key}`));
    expect(response.PhysicalResourceId).toBe(`restore-preflight:${pinned.key}`);
    expect(logs).toContain('info: restore preflight update: Port changed, so CloudFormation replaces the replication group and seeds the new one from the same source again: '
      + 'checking it again');
    expect(requestsOf('HeadObjectCommand')).toBe(2);
    expect(requestsOf('ListObjectsV2Command')).toBe(0);
  });

  test('a create-only property changed and a pinned object was overwritten: the Update fails and says why', async () => {
    await replicaBucket();
    const pinned = await putExport(t1, 2);
    await putExport(t2, 2);
    await put(BUCKET, pinned.keys[1], Buffer.concat([redisRdb, Buffer.from('x')]));
    const old = props(latest(2));
    const message = await failureOf(handler()(update(old, { ...old, ReplicationGroupCreateOnly: { ...CREATE_ONLY, ReplicationGroupId: 'orders-dr2' } },
      `restore-preflight:${pinned.key}`)));
    expect(message).toMatch(new RegExp('^restore preflight failed, nothing was created \\(1 problem\\(s\\)\\): \\[1\\] the replication group will be replaced, and the new one '
      + `is seeded again from the export chosen when it was created \\(${pinned.key.replace(/[.]/g, '\\.')}\\), which cannot be used any more: `
      + `s3://${BUCKET}/${pinned.keys[1].replace(/[.]/g, '\\.')}: current version is .* the object was overwritten after the commit`));
  });

  test('.rdb objects: a create-only property changed and the object is gone: the checks run again and fail', async () => {
    await replicaBucket();
    const source = { SourceKind: 'rdbArns', SnapshotArns: [`arn:aws:s3:::${BUCKET}/gone-0001.rdb`] };
    const old = props(source, { ClusterModeEnabled: 'false', ShardCount: '1' });
    const message = await failureOf(handler()(update(old, { ...old, ReplicationGroupCreateOnly: { ...CREATE_ONLY, AtRestEncryptionEnabled: 'false' } },
      `restore-preflight:${LOGICAL_ID}`)));
    expect(message).toContain(`[1] 1 .rdb object(s) do not exist: s3://${BUCKET}/gone-0001.rdb`);
  });

  test('the pinned export has more objects than the new maxSourceShards allows: the Update fails instead of dropping ARNs', async () => {
    await replicaBucket();
    const pinned = await putExport(t1, 3);
    const old = props(latest(3));
    const message = await failureOf(handler()(update(old, { ...old, MaxSourceShards: '2' }, `restore-preflight:${pinned.key}`)));
    expect(message).toContain(`the latest export (${pinned.key}) has 3 .rdb objects, but this restore was synthesized for at most 2`);
  });
});
