import {
  CreateSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ReplicationGroup, ReplicationGroupNotFoundFault, Snapshot, SnapshotQuotaExceededFault,
} from '@aws-sdk/client-elasticache';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PLAN_TAG_KEY, planSnapshotName } from '../../lib/backup-plan/constants';
import { SelfTestConfig } from '../../lib/backup-plan/self-test-checks';
import { isComplete, onEvent, SelfTestDeps, SelfTestEvent } from '../../lib/backup-plan/self-test.lambda';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const REGION = 'us-east-1';
const BUCKET = 'exports';
const GROUP = 'orders';
const TOPIC = 'arn:aws:sns:us-east-1:111111111111:plan-events';
const NOW = new Date('2026-12-02T10:00:00Z');
const AUTOMATIC = 'automatic.orders-002-2026-12-02-03-00';
const HEADER = 'cdk-elasticache-backup self-test failed (the backup plan cannot work in this account as deployed):\n';

const QUICK: SelfTestConfig = {
  mode: 'QUICK',
  planId: 'plan-1',
  region: REGION,
  bucket: BUCKET,
  stateRoot: 'state/',
  notificationTopicArn: TOPIC,
  groups: [{ replicationGroupId: GROUP, exportsOn: true }],
};
const FULL: SelfTestConfig = { ...QUICK, mode: 'FULL', reconcilerFunctionName: 'reconciler', waitSeconds: 1800 };

/** AWS's documented export grant for the regional ElastiCache principal (what BackupExportBucket renders). */
function exportPolicy(principalRegion = REGION): string {
  const principal = { Service: `${principalRegion}.elasticache-snapshot.amazonaws.com` };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: principal, Action: ['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads'], Resource: `arn:aws:s3:::${BUCKET}` },
      { Effect: 'Allow', Principal: principal, Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts'], Resource: `arn:aws:s3:::${BUCKET}/*` },
    ],
  });
}

function group(over: Partial<ReplicationGroup> = {}): ReplicationGroup {
  return {
    ReplicationGroupId: GROUP,
    Status: 'available',
    CacheNodeType: 'cache.r7g.large',
    ClusterEnabled: false,
    MemberClusters: ['orders-001', 'orders-002'],
    NodeGroups: [{ NodeGroupMembers: [{ CacheClusterId: 'orders-001', CurrentRole: 'primary' }, { CacheClusterId: 'orders-002', CurrentRole: 'replica' }] }],
    ...over,
  };
}

const automatic: Snapshot = { SnapshotName: AUTOMATIC, SnapshotSource: 'system', CacheClusterId: 'orders-002', SnapshotStatus: 'available' };

const ec = mockClient(ElastiCacheClient);
const lambda = mockClient(LambdaClient);

describeWithTool('moto_server')('self-test handler (ElastiCache mocked, S3 on moto_server)', () => {
  let moto: MotoS3;
  let s3: S3Client;
  let deps: SelfTestDeps;
  let clock: Date;

  beforeAll(async () => {
    moto = await MotoS3.start();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    s3 = moto.client(REGION);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: exportPolicy() }));
    ec.reset();
    lambda.reset();
    // The healthy account: the group is available, the member listing sees its automatic backup, the topic is the plan's.
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group()] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: 'orders-002' }).resolves({ Snapshots: [automatic] });
    ec.on(DescribeSnapshotsCommand, { SnapshotSource: 'system' }).resolves({ Snapshots: [automatic] });
    ec.on(DescribeCacheClustersCommand).resolves({ CacheClusters: [{ NotificationConfiguration: { TopicArn: TOPIC, TopicStatus: 'active' } }] });
    clock = NOW;
    deps = { elasticache: new ElastiCacheClient({ region: REGION }), s3, lambda: new LambdaClient({ region: REGION }), now: () => clock, probeId: () => 'p1' };
  });

  const event = (config: SelfTestConfig, over: Partial<SelfTestEvent> = {}): SelfTestEvent => ({
    RequestType: 'Create', ResourceProperties: { Config: JSON.stringify(config) }, ...over,
  });
  const failure = async (config: SelfTestConfig = QUICK) => {
    try {
      await onEvent(event(config), deps);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('the self-test passed');
  };

  test('a healthy account passes QUICK, says which listing sees the automatic backups, and leaves no probe object', async () => {
    const res = await onEvent(event(QUICK), deps);
    expect(res.PhysicalResourceId).toBe('self-test-plan-1');
    expect(res.Data?.Notes).toBe("automatic backups of 'orders': 1 in the region; the listing by group sees 0, "
      + 'the listing by member cluster (orders-001, orders-002) sees 1');
    expect(res.Data?.Warnings).toBe('');
    const left = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'state/' }));
    expect(left.KeyCount ?? 0).toBe(0);
  });

  test('a group that does not exist in the plan\'s region fails with the AWS error and the fix', async () => {
    ec.on(DescribeReplicationGroupsCommand).rejects(new ReplicationGroupNotFoundFault({ message: 'Replication group orders not found.', $metadata: {} }));
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'describe the replication group': `
      + 'ReplicationGroupNotFoundFault: Replication group orders not found.. Fix: check the replicationGroupId; a BackupPlan protects groups of '
      + 'its own region (us-east-1): create the group there or protect it with a plan in its region');
  });

  test('a group that is neither available nor being created fails', async () => {
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group({ Status: 'create-failed' })] });
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'describe the replication group': the group's status is `
      + "'create-failed', not available or creating. Fix: repair or recreate the group (DescribeReplicationGroups shows why), or stop "
      + 'protecting it, then deploy again');
  });

  test('a data tiering group with exports on fails', async () => {
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group({ CacheNodeType: 'cache.r6gd.xlarge' })] });
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'check the node type': node type cache.r6gd.xlarge uses data `
      + 'tiering, and ElastiCache cannot export backups of data tiering groups to Amazon S3. Fix: do not protect this group with a '
      + 'BackupPlan (its automatic backups continue), or move it to a node type without data tiering');
  });

  test('listings that miss the group\'s automatic backups fail and say what each listing saw', async () => {
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: 'orders-002' }).resolves({ Snapshots: [] });
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'list the group's backups': automatic backups of 'orders': `
      + '1 in the region; the listing by group sees 0, the listing by member cluster (orders-001, orders-002) sees 0; neither listing returns '
      + `${AUTOMATIC}. Fix: the plan would never see these backups: report this output with the snapshots' ReplicationGroupId and `
      + "CacheClusterId (describe-snapshots --snapshot-name) to the library's issue tracker, and set selfTest: SelfTest.OFF only once it is understood");
  });

  test('a role that cannot write its state prefix fails with the AWS error', async () => {
    s3.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand') {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      }
      return next(args);
    }, { step: 'initialize', name: 'denyPut' });
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'write the probe object s3://exports/state/_self-test/probe-p1.json': `
      + "AccessDenied: Access Denied. Fix: let the reconciler's role s3:PutObject, s3:GetObject and s3:DeleteObject on s3://exports/state/* "
      + "(the export bucket's grantExport and grantRead do), and check that the bucket policy or an SCP does not deny it");
  });

  test('an export bucket in another region fails', async () => {
    await moto.reset();
    await moto.client('eu-west-1').send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: exportPolicy() }));
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'check the export bucket's region (GetBucketLocation exports)': `
      + "the bucket is in eu-west-1, the groups are in us-east-1; ElastiCache exports only to a bucket in the snapshot's region. "
      + 'Fix: use a BackupExportBucket defined in a stack of us-east-1');
  });

  test('a bucket policy that grants another region\'s ElastiCache principal fails and names the missing grants', async () => {
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: exportPolicy('us-west-2') }));
    expect(await failure()).toBe(`${HEADER}- replication group 'orders', step 'check the export bucket policy (GetBucketPolicy exports)': `
      + 'the policy does not allow us-east-1.elasticache-snapshot.amazonaws.com s3:ListBucket on the bucket, s3:GetBucketAcl on the bucket, '
      + 's3:ListBucketMultipartUploads on the bucket, s3:PutObject on its objects, s3:GetObject on its objects, s3:ListMultipartUploadParts '
      + 'on its objects. Fix: allow the service principal us-east-1.elasticache-snapshot.amazonaws.com s3:ListBucket, s3:GetBucketAcl, '
      + 's3:ListBucketMultipartUploads on arn:aws:s3:::exports and s3:PutObject, s3:GetObject, s3:ListMultipartUploadParts on '
      + 'arn:aws:s3:::exports/* (BackupExportBucket adds exactly this)');
  });

  test('a bucket without a policy fails', async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    expect(await failure()).toContain("step 'check the export bucket policy (GetBucketPolicy exports)': the bucket has no policy. Fix: allow the service principal");
  });

  test('a group that sends its events to another topic only warns', async () => {
    ec.on(DescribeCacheClustersCommand).resolves({ CacheClusters: [{ NotificationConfiguration: { TopicArn: 'arn:aws:sns:us-east-1:111111111111:ops', TopicStatus: 'active' } }] });
    const res = await onEvent(event(QUICK), deps);
    expect(res.Data?.Warnings).toBe("replication group 'orders', step 'check the notification topic': the group sends its events to "
      + `arn:aws:sns:us-east-1:111111111111:ops, not to the plan's topic ${TOPIC}; the plan then hears of its backups only on its schedule. `
      + `Fix: aws elasticache modify-replication-group --replication-group-id orders --notification-topic-arn ${TOPIC}`);
  });

  test('every blocking finding of a run is reported, one per line', async () => {
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group({ CacheNodeType: 'cache.r6gd.xlarge' })] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: exportPolicy('us-west-2') }));
    const lines = (await failure()).split('\n');
    expect(lines.map((l) => /step '([^']+)'/.exec(l)?.[1])).toEqual([undefined, 'check the node type', 'check the export bucket policy (GetBucketPolicy exports)']);
  });

  test('Delete does nothing and never fails', async () => {
    ec.on(DescribeReplicationGroupsCommand).rejects(new Error('must not be called'));
    await expect(onEvent(event(QUICK, { RequestType: 'Delete', PhysicalResourceId: 'self-test-plan-1' }), deps)).resolves.toEqual({ PhysicalResourceId: 'self-test-plan-1' });
    expect(ec.commandCalls(DescribeReplicationGroupsCommand)).toHaveLength(0);
  });

  describe('FULL', () => {
    const name = planSnapshotName(GROUP, NOW);
    const start = async () => onEvent(event(FULL), deps);
    const poll = async (data: Record<string, string>, at: Date) => {
      clock = at;
      return isComplete(event(FULL, { Data: data }), deps);
    };
    const manifest = (verified: boolean) => JSON.stringify({
      formatVersion: verified ? 2 : 1,
      snapshotName: name,
      shards: [{ key: 'ceb-x-0001.rdb', sizeBytes: 10, ...(verified ? { verifiedAt: NOW.toISOString(), verification: 'full' } : {}) }],
    });
    const putManifest = (verified: boolean) => s3.send(new PutObjectCommand({
      Bucket: BUCKET, Key: `manifests/${GROUP}/20261202t100000z_${name}.json`, Body: manifest(verified),
    }));

    test('takes one backup from the replica with the plan\'s name and tag, and invokes the reconciler', async () => {
      ec.on(CreateSnapshotCommand).resolves({});
      const res = await start();
      expect(ec.commandCalls(CreateSnapshotCommand).map((c) => c.args[0].input)).toEqual([{
        SnapshotName: name, CacheClusterId: 'orders-002', Tags: [{ Key: PLAN_TAG_KEY, Value: 'plan-1' }],
      }]);
      expect(lambda.commandCalls(InvokeCommand).map((c) => [c.args[0].input.FunctionName, c.args[0].input.InvocationType])).toEqual([['reconciler', 'Event']]);
      expect(JSON.parse(res.Data!.Targets)).toEqual([{ replicationGroupId: GROUP, snapshotName: name }]);
    });

    test('waits until a verified manifest of that backup is committed', async () => {
      ec.on(CreateSnapshotCommand).resolves({});
      const { Data } = await start();
      ec.on(DescribeSnapshotsCommand, { SnapshotName: name }).resolves({ Snapshots: [{ SnapshotName: name, SnapshotStatus: 'exporting' }] });
      expect(await poll(Data!, new Date(NOW.getTime() + 60_000))).toEqual({ IsComplete: false });
      await putManifest(true);
      expect(await poll(Data!, new Date(NOW.getTime() + 120_000))).toEqual({ IsComplete: true });
    });

    test('a refused backup fails with the AWS error', async () => {
      ec.on(CreateSnapshotCommand).rejects(new SnapshotQuotaExceededFault({ message: 'quota exceeded', $metadata: {} }));
      expect(await failure(FULL)).toBe(`${HEADER}- replication group 'orders', step 'take the backup ${name}': SnapshotQuotaExceededFault: quota `
        + "exceeded. Fix: the reconciler makes the same call: check its role (elasticache:CreateSnapshot and AddTagsToResource on the plan's "
        + "names), the group's status and the quota of 20 manual backups per node per 24 hours");
    });

    test('a backup that fails in ElastiCache fails the deployment', async () => {
      ec.on(CreateSnapshotCommand).resolves({});
      const { Data } = await start();
      ec.on(DescribeSnapshotsCommand, { SnapshotName: name }).resolves({ Snapshots: [{ SnapshotName: name, SnapshotStatus: 'failed' }] });
      await expect(poll(Data!, new Date(NOW.getTime() + 60_000))).rejects.toThrow(`${HEADER}- replication group 'orders', step 'take the backup `
        + `${name}': ElastiCache reports the backup as failed (status failed). Fix: check the group's events`);
    });

    test('an export that never commits fails when the wait is over, with what to look at', async () => {
      ec.on(CreateSnapshotCommand).resolves({});
      const { Data } = await start();
      ec.on(DescribeSnapshotsCommand, { SnapshotName: name }).resolves({ Snapshots: [{ SnapshotName: name, SnapshotStatus: 'available' }] });
      await expect(poll(Data!, new Date(NOW.getTime() + 1800_000))).rejects.toThrow(`${HEADER}- replication group 'orders', step 'export ${name} `
        + "to S3': no verified manifest after 30 minutes (backup status: available). Fix: read the reconciler's log for this group");
    });

    test('a manifest committed without verification fails', async () => {
      ec.on(CreateSnapshotCommand).resolves({});
      const { Data } = await start();
      await putManifest(false);
      await expect(poll(Data!, new Date(NOW.getTime() + 60_000))).rejects.toThrow(`step 'verify the export of ${name}': the manifest was `
        + 'committed without verification (format 1; unverified: ceb-x-0001.rdb)');
    });
  });
});
