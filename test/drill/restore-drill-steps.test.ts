/**
 * The drill's resolve step against a real HTTP S3 on loopback (moto_server) and a mocked ElastiCache.
 */
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { DrillConfig, drillGroupId } from '../../lib/drill/drill-constants';
import { DrillPlan } from '../../lib/drill/drill-plan';
import { runStep } from '../../lib/drill/drill-steps.lambda';
import { manifestKey } from '../../lib/manifest/manifest';
import { manifestV2, verifiedShard } from '../manifest/fixtures';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const BUCKET = 'replica-drill';
const REGION = 'us-west-2';
const NOW = new Date('2026-12-02T10:00:00.000Z');
const config: DrillConfig = {
  bucket: BUCKET,
  partition: 'aws',
  region: REGION,
  drillId: 'dr-drill-1',
  groups: [{ replicationGroupId: 'orders' }],
  maxNodeType: 'cache.r7g.xlarge',
  pollIntervalSeconds: 60,
  maxWaitSeconds: 6300,
  executionTimeoutSeconds: 12600,
  scheduleSeconds: 604800,
  sampleKeys: 0,
};

/** A tiny but complete RDB 10 file: header, EOF opcode, a zero (disabled) CRC-64 trailer. */
const RDB = Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xff]), Buffer.alloc(8)]);

describeWithTool('moto_server')('restore drill resolve step (loopback S3, mocked ElastiCache)', () => {
  let moto: MotoS3;
  let s3: S3Client;
  const elastiCache = mockClient(ElastiCacheClient);

  beforeAll(async () => {
    moto = await MotoS3.start();
    s3 = moto.client(REGION);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    const principal = { Service: `${REGION}.elasticache-snapshot.amazonaws.com` };
    await s3.send(new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: principal, Action: ['s3:ListBucket', 's3:GetBucketAcl'], Resource: `arn:aws:s3:::${BUCKET}` },
          { Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
        ],
      }),
    }));
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ceb-x-orders-0001.rdb', Body: RDB, ServerSideEncryption: 'AES256' }));
    const time = new Date('2026-12-02T08:00:00.000Z');
    const manifest = manifestV2({
      group: 'orders',
      time,
      snapshotName: 'automatic.orders-2026-12-02-08-00',
      exportName: 'ceb-x-orders',
      shards: [verifiedShard('ceb-x-orders-0001.rdb', RDB.length, put.VersionId!, put.ETag!, { rdbVersion: 10, checksum: 'disabled' })],
    });
    await s3.send(new PutObjectCommand({
      Bucket: BUCKET, Key: manifestKey('orders', time, manifest.snapshotName), Body: JSON.stringify({ ...manifest, region: REGION, bucket: BUCKET }),
    }));
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  beforeEach(() => elastiCache.reset());

  const resolve = (group: unknown) => runStep({ s3, elastiCache: new ElastiCacheClient({ region: REGION }), config, now: () => NOW },
    { action: 'resolve', input: { replicationGroupId: group } }) as Promise<DrillPlan>;

  test('plans the drill from the newest verified export: temporary id, seed ARNs, source node type, no other drill', async () => {
    elastiCache.on(DescribeReplicationGroupsCommand).rejects(Object.assign(new Error('not found'), { name: 'ReplicationGroupNotFoundFault' }));
    const plan = await resolve('orders');
    expect(plan).toMatchObject({
      sourceGroupId: 'orders',
      drillGroupId: drillGroupId('orders'),
      existing: 'none',
      nodeType: 'cache.r7g.large',
      snapshotArns: [`arn:aws:s3:::${BUCKET}/ceb-x-orders-0001.rdb`],
      clusterModeEnabled: false,
      rpoSeconds: 7200,
    });
    expect(elastiCache.commandCalls(DescribeReplicationGroupsCommand)[0].args[0].input).toEqual({ ReplicationGroupId: drillGroupId('orders') });
  });

  test('sees another drill running when its temporary group is younger than the execution timeout', async () => {
    elastiCache.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [{ ReplicationGroupId: drillGroupId('orders'), Status: 'creating', ReplicationGroupCreateTime: new Date(NOW.getTime() - 600_000) }],
    });
    expect((await resolve('orders')).existing).toBe('running');
  });

  test('fails with the preflight\'s message when the group has no export, and refuses a group it does not drill', async () => {
    const other = { ...config, groups: [{ replicationGroupId: 'carts' }] };
    await expect(runStep({ s3, elastiCache: new ElastiCacheClient({ region: REGION }), config: other, now: () => NOW },
      { action: 'resolve', input: { replicationGroupId: 'carts' } })).rejects.toMatchObject({ name: 'DrillPreflightFailed', message: expect.stringContaining('no export of carts is committed') });
    await expect(resolve('payments')).rejects.toMatchObject({ name: 'DrillInputError', message: expect.stringContaining('this drill restores orders, not "payments"') });
  });
});
