import {
  CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeCacheClustersCommand, DescribeSnapshotsCommand,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { CONFIG, CONTROL, NOACL, RUN, T0, state } from './fixtures';
import { ProbeDeps, runProbe } from './probe-handler';
import { ProbeState } from './probe-state';

const ec = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const sts = mockClient(STSClient);

const ROLE_WITHOUT = 'arn:aws:iam::111111111111:role/without';
const ROLE_WITH = 'arn:aws:iam::111111111111:role/with';
const SNS_QUEUE = 'https://sqs.us-east-1.amazonaws.com/111111111111/sns';
const EB_QUEUE = 'https://sqs.us-east-1.amazonaws.com/111111111111/eb';

const fault = (name: string, message = name) => Object.assign(new Error(message), { name });

/** Deps with a clock that advances one minute per reading, so an invocation ends after a few rounds. */
function deps(): ProbeDeps {
  let minutes = 0;
  return {
    elasticache: new ElastiCacheClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    sqs: new SQSClient({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'us-east-1' }),
    config: CONFIG,
    roleArns: { 'without-get-bucket-acl': ROLE_WITHOUT, 'with-get-bucket-acl': ROLE_WITH },
    queues: { sns: SNS_QUEUE, eventBridge: EB_QUEUE },
    stateKey: 'service-probe/state.json',
    now: () => new Date(Date.parse(T0) + 60_000 * minutes++),
    sleep: async () => undefined,
  };
}

function savedStates(): ProbeState[] {
  return s3.commandCalls(PutObjectCommand).map((c) => JSON.parse(String(c.args[0].input.Body)) as ProbeState);
}

function givenSavedState(saved: ProbeState): void {
  s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(saved) } } as never);
}

beforeEach(() => {
  ec.reset();
  s3.reset();
  sqs.reset();
  sts.reset();
  s3.on(GetObjectCommand).rejects(fault('NoSuchKey'));
  s3.on(PutObjectCommand).resolves({});
  s3.on(ListObjectsV2Command).resolves({});
  sqs.on(ReceiveMessageCommand).resolves({});
  sqs.on(DeleteMessageBatchCommand).resolves({});
  ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec.on(DescribeCacheClustersCommand).resolves({ CacheClusters: [{ NotificationConfiguration: { TopicStatus: 'active' } }] });
  ec.on(DescribeSnapshotsCommand, { SnapshotName: CONTROL }).rejects(fault('SnapshotNotFoundFault'));
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 't', Expiration: new Date() } });
});

describe('runProbe', () => {
  test('a first invocation starts a run, takes the control backup from the replica, records events and saves its state', async () => {
    const snsBody = JSON.stringify({ Message: JSON.stringify({ 'ElastiCache:SnapshotComplete': 'ecb-probe-002' }) });
    sqs.on(ReceiveMessageCommand, { QueueUrl: SNS_QUEUE }).resolvesOnce({ Messages: [{ Body: snsBody, ReceiptHandle: 'r1' }] }).resolves({});
    ec.on(CreateSnapshotCommand).resolves({});

    const report = await runProbe({ maxSeconds: 120 }, deps());

    const creates = ec.commandCalls(CreateSnapshotCommand).map((c) => c.args[0].input);
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ CacheClusterId: 'ecb-probe-002' });
    expect(creates[0].SnapshotName).toMatch(/^ecbprobe-[a-z0-9]+-control-x+$/);
    expect(creates[0].SnapshotName).toHaveLength(40);
    // Listed by the group and by each member.
    const filters = ec.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input);
    expect(filters).toEqual(expect.arrayContaining([
      expect.objectContaining({ ReplicationGroupId: 'ecb-probe' }),
      expect.objectContaining({ CacheClusterId: 'ecb-probe-001' }),
      expect.objectContaining({ CacheClusterId: 'ecb-probe-002' }),
    ]));
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.Entries).toEqual([{ Id: '0', ReceiptHandle: 'r1' }]);
    const saved = savedStates().pop()!;
    expect(saved.calls['create-control']).toMatchObject({ ok: true });
    expect(saved.topicStatus).toBe('active');
    expect(saved.events).toEqual([expect.objectContaining({ channel: 'sns', type: 'ElastiCache:SnapshotComplete', subject: 'ecb-probe-002' })]);
    expect(report.answers).toHaveLength(9);
    expect(report.done).toBe(false);
    expect(report.log[0]).toMatch(/^new run /);
  });

  test('exports without s3:GetBucketAcl under one role, then with it under the other, and records the refusal', async () => {
    givenSavedState(state({ calls: { 'create-control': { at: T0, ok: true }, 'create-long-name': { at: T0, ok: true } } }));
    ec.on(DescribeSnapshotsCommand, { SnapshotName: CONTROL }).resolves({ Snapshots: [{ SnapshotName: CONTROL, SnapshotStatus: 'available' }] });
    ec.on(CopySnapshotCommand, { TargetSnapshotName: NOACL })
      .rejects(fault('InvalidParameterValueException', 'The authenticated user does not have sufficient permissions to perform the desired activity.'));
    ec.on(CopySnapshotCommand, { TargetSnapshotName: 'ecbprobe-abc123-acl' }).resolves({});

    // Long enough for several rounds (the test clock moves one minute per reading).
    const report = await runProbe({ maxSeconds: 900 }, deps());

    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([ROLE_WITHOUT, ROLE_WITH]);
    expect(ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input)).toEqual([
      { SourceSnapshotName: CONTROL, TargetSnapshotName: NOACL, TargetBucket: 'probe-bucket' },
      { SourceSnapshotName: CONTROL, TargetSnapshotName: 'ecbprobe-abc123-acl', TargetBucket: 'probe-bucket' },
    ]);
    const saved = savedStates().pop()!;
    expect(saved.runId).toBe(RUN);
    expect(saved.calls['copy-without-acl']).toMatchObject({ ok: false, errorName: 'InvalidParameterValueException' });
    // The source's status while the export runs, recorded once per change.
    expect(saved.exports['ecbprobe-abc123-acl']).toMatchObject({ sourceStatuses: ['available'] });
    expect(report.answers.find((a) => a.question === 'copy-caller-needs-get-bucket-acl')).toMatchObject({ status: 'answered', answer: 'required' });
  });

  test('a busy refusal is retried on a later round, not recorded as an answer', async () => {
    ec.on(CreateSnapshotCommand).rejectsOnce(fault('InvalidCacheClusterStateFault', 'Cache cluster is not available')).resolves({});

    const report = await runProbe({ maxSeconds: 900 }, deps());

    expect(ec.commandCalls(CreateSnapshotCommand)).toHaveLength(2);
    expect(report.log.some((l) => /InvalidCacheClusterStateFault, retried later/.test(l))).toBe(true);
    expect(savedStates().pop()!.calls['create-control']).toMatchObject({ ok: true });
  });

  test('a backup an earlier invocation created without saving (AlreadyExists) counts as created', async () => {
    ec.on(CreateSnapshotCommand).rejects(fault('SnapshotAlreadyExistsFault'));
    await runProbe({ maxSeconds: 60 }, deps());
    expect(savedStates().pop()!.calls['create-control']).toMatchObject({ ok: true });
  });

  test('the cleanup flag deletes the run\'s available snapshots', async () => {
    givenSavedState(state({ calls: { 'create-control': { at: T0, ok: true } } }));
    ec.on(DescribeSnapshotsCommand, { SnapshotName: CONTROL }).resolves({ Snapshots: [{ SnapshotName: CONTROL, SnapshotStatus: 'available' }] });
    ec.on(DeleteSnapshotCommand).resolves({});

    const report = await runProbe({ cleanup: true, maxSeconds: 60 }, deps());

    expect(ec.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ SnapshotName: CONTROL }]);
    expect(report.snapshotsLeft).toEqual([]);
  });

  test('an export\'s objects are found under its target name, with the first time seen', async () => {
    givenSavedState(state({
      calls: { 'create-control': { at: T0, ok: true }, 'copy-without-acl': { at: T0, ok: true } },
      exports: { [NOACL]: { calledAt: T0, sourceStatuses: [] } },
    }));
    const modified = new Date(Date.parse(T0) + 90_000);
    s3.on(ListObjectsV2Command, { Prefix: `${NOACL}-` })
      .resolves({ Contents: [{ Key: `${NOACL}-0001.rdb`, Size: 1234, LastModified: modified }] });

    const report = await runProbe({ maxSeconds: 60 }, deps());

    expect(savedStates().pop()!.exports[NOACL]).toMatchObject({ keys: [`${NOACL}-0001.rdb`], bytes: 1234, lastModified: modified.toISOString() });
    expect(report.answers.find((a) => a.question === 'export-duration')).toMatchObject({ status: 'answered', answer: '90 s' });
  });
});
