process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ListTagsForResourceCommand, Snapshot,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { exportName, manifestKey, parseManifest } from '../../lib/manifest/manifest';
import { parseState } from '../../lib/backup-plan/planner';
import { AwsReconcileIo, groupsForEvent, PlanConfig, runPlan, signalsForEvent } from '../../lib/backup-plan/reconcile.lambda';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const REGION = 'us-east-1';
const BUCKET = 'exports-bucket';
const GROUP = 'orders';
const PLAN_ID = 'plan-1';
const CONFIG: PlanConfig = {
  planId: PLAN_ID,
  groups: [{ replicationGroupId: GROUP, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 8100, exportAutomated: true }],
};
const T0 = new Date('2026-03-10T12:00:00Z');
const after = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const ec = mockClient(ElastiCacheClient);
const logger = new Logger({ logLevel: 'SILENT' });

/** A persisted plan state that records `name` as a backup the plan created at `taken`. */
function stateWith(name: string, taken: Date): string {
  return JSON.stringify({ formatVersion: 1, exportAttempts: {}, created: [{ name, at: taken.toISOString() }], consecutiveThrottles: 0 });
}

function snapshot(name: string, created: Date, status = 'available'): Snapshot {
  return {
    SnapshotName: name,
    SnapshotSource: 'manual',
    SnapshotStatus: status,
    Engine: 'valkey',
    EngineVersion: '8.0.1',
    CacheNodeType: 'cache.r7g.large',
    NumNodeGroups: 1,
    NodeSnapshots: [{ CacheClusterId: `${GROUP}-002`, NodeGroupId: '0001', SnapshotCreateTime: created }],
  };
}

describeWithTool('moto_server')('reconciler handler (ElastiCache mocked, S3 on moto_server)', () => {
  let moto: MotoS3;
  let s3: S3Client;
  let io: AwsReconcileIo;
  let emitted: string[];

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
    ec.reset();
    io = new AwsReconcileIo({ elasticache: new ElastiCacheClient({ region: REGION, endpoint: 'http://127.0.0.1:9' }), s3, region: REGION, bucketName: BUCKET, account: '111111111111' });
    emitted = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      emitted.push(String(line));
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const run = (now: Date, event?: object, remainingMs = 100_000) => runPlan(event as never, {
    io, config: CONFIG, logger, newMetrics: () => new Metrics({ namespace: 'ElastiCacheBackup' }), remainingMs: () => remainingMs, now: () => now,
  });

  test('lists past 1,000 objects with pagination, and honours StartAfter', async () => {
    const keys = Array.from({ length: 1205 }, (_, i) => `manifests/${GROUP}/${String(i).padStart(5, '0')}.json`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((Key) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '{}' }))));
    }
    const before = io.calls;
    const all = await io.listObjects(`manifests/${GROUP}/`);
    expect(all.map((o) => o.key)).toEqual(keys);
    expect(io.calls - before).toBe(2);
    const tail = await io.listObjects(`manifests/${GROUP}/`, keys[1199]);
    expect(tail.map((o) => o.key)).toEqual(keys.slice(1200));
  });

  test('reads a missing object as undefined and the first bytes of an object with a ranged GET', async () => {
    expect(await io.getText('state/none/plan.json')).toBeUndefined();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x-0001.rdb', Body: 'VALKEY080\u00fa\u0000rest-of-the-file' }));
    expect(new TextDecoder().decode(await io.readRange('x-0001.rdb', 9))).toBe('VALKEY080');
  });

  test('backs up, exports, commits the manifest (with sizes and RDB version) and prunes, across runs', async () => {
    // Run 1: no backup yet -> CreateSnapshot from the replica, tagged; DescribeSnapshots pages are followed.
    ec.on(DescribeSnapshotsCommand).resolvesOnce({ Snapshots: [], Marker: 'm1' }).resolvesOnce({ Snapshots: [] });
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [{
        ReplicationGroupId: GROUP,
        Status: 'available',
        ClusterEnabled: false,
        Engine: 'valkey',
        CacheNodeType: 'cache.r7g.large',
        NodeGroups: [{ NodeGroupId: '0001', NodeGroupMembers: [{ CacheClusterId: `${GROUP}-001`, CurrentRole: 'primary' }, { CacheClusterId: `${GROUP}-002`, CurrentRole: 'replica' }] }],
      }],
    });
    ec.on(CreateSnapshotCommand).resolves({});
    await run(T0);
    expect(ec.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'm1']);
    const name = `${GROUP}-plan-20260310t120000z`;
    expect(ec.commandCalls(CreateSnapshotCommand)[0].args[0].input).toEqual({
      CacheClusterId: `${GROUP}-002`, SnapshotName: name, Tags: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }],
    });
    expect(parseState(await io.getText(stateKey(GROUP))).created.map((c) => c.name)).toEqual([name]);

    // Run 2: the backup is available -> CopySnapshot to the bucket under a unique name.
    const taken = after(1);
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(CopySnapshotCommand).resolves({});
    await run(after(12));
    const target = exportName(GROUP, taken, 1);
    expect(ec.commandCalls(CopySnapshotCommand)[0].args[0].input)
      .toEqual({ SourceSnapshotName: name, TargetSnapshotName: target, TargetBucket: BUCKET });
    expect(parseState(await io.getText(stateKey(GROUP))).inFlight).toMatchObject({ exportName: target, confirmed: true });

    // Run 3 (object-created event): the shard object exists -> the manifest is written, last.
    const body = 'REDIS0011' + 'x'.repeat(991);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${target}-0001.rdb`, Body: body }));
    await run(after(25), { 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': { object: { key: `${target}-0001.rdb` } } });
    const key = manifestKey(GROUP, taken, name);
    const manifest = parseManifest((await io.getText(key))!, key);
    expect(manifest).toMatchObject({
      replicationGroupId: GROUP,
      region: REGION,
      bucket: BUCKET,
      snapshotName: name,
      snapshotSource: 'manual',
      exportName: target,
      engine: 'valkey',
      engineVersion: '8.0.1',
      nodeType: 'cache.r7g.large',
      shardCount: 1,
      shards: [{ key: `${target}-0001.rdb`, sizeBytes: 1000, rdbVersion: 11 }],
    });
    expect(parseState(await io.getText(stateKey(GROUP))).inFlight).toBeUndefined();
    // One EMF document per group and run, dimension ReplicationGroupId only (what the alarms query).
    const emf = emitted.map((l) => JSON.parse(l)).filter((d) => d._aws && d.ExportAgeSeconds !== undefined);
    expect(emf).toHaveLength(1);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'ElastiCacheBackup',
      Dimensions: [['ReplicationGroupId']],
      Metrics: expect.arrayContaining([{ Name: 'ExportAgeSeconds', Unit: 'Seconds' }, { Name: 'BackupAgeSeconds', Unit: 'Seconds' },
        { Name: 'ExportsInFlight', Unit: 'Count' }, { Name: 'Failures', Unit: 'Count' }]),
    });
    expect(emf[0]).toMatchObject({ ReplicationGroupId: GROUP, ExportAgeSeconds: 24 * 60, ExportsInFlight: 0, Failures: 0 });

    // Run 4, a day later: past retention and committed -> the tag is checked, then the backup is deleted.
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }] });
    ec.on(DeleteSnapshotCommand).resolves({});
    ec.on(CreateSnapshotCommand).resolves({});
    await run(after(25 * 60));
    expect(ec.commandCalls(ListTagsForResourceCommand)[0].args[0].input.ResourceName).toBe(`arn:aws:elasticache:${REGION}:111111111111:snapshot:${name}`);
    expect(ec.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotName)).toEqual([name]);
  });

  test('CopySnapshot answering "already contains an object" is an export in flight, not a failure', async () => {
    const taken = after(-20);
    const name = `${GROUP}-plan-x`;
    await io.putText(stateKey(GROUP), stateWith(name, taken));
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available' }] });
    ec.on(CopySnapshotCommand).rejects(Object.assign(new Error(`The S3 bucket ${BUCKET} already contains an object with key x-0001.rdb.`), { name: 'InvalidParameterValueException' }));
    const [result] = await run(T0);
    expect(result.executed).toEqual([expect.objectContaining({ outcome: 'already-exists' })]);
    expect(result.failures).toBe(0);
    expect(parseState(await io.getText(stateKey(GROUP))).inFlight?.confirmed).toBe(true);
  });

  test('does not delete a backup whose tag does not name this plan', async () => {
    const taken = after(-26 * 60);
    const name = `${GROUP}-plan-old`;
    await io.putText(stateKey(GROUP), stateWith(name, taken));
    await io.putText(manifestKey(GROUP, taken, name), '{}');
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken), snapshot(`${GROUP}-plan-new`, after(-10))] });
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available' }] });
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: 'another-plan' }] });
    const [result] = await run(T0);
    expect(result.executed.find((x) => x.action.kind === 'DeleteSnapshot')?.outcome).toBe('refused');
    expect(ec.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('throttling on every group fails the invocation (for the Errors alarm) and reports a failure metric', async () => {
    ec.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(run(T0)).rejects.toThrow('reconcile failed for all 1 groups; see the logs');
    const emf = emitted.map((l) => JSON.parse(l)).filter((d) => d._aws);
    expect(emf).toEqual([expect.objectContaining({ ReplicationGroupId: GROUP, Failures: 1 })]);
  });

  test('stops starting work when the invocation is nearly out of time', async () => {
    const results = await run(T0, undefined, 10_000);
    expect(results).toEqual([]);
    expect(ec.calls()).toHaveLength(0);
  });
});

describe('event routing', () => {
  const groups = [
    { replicationGroupId: 'prod', retentionSeconds: 1, rpoTargetSeconds: 1, exportAutomated: true },
    { replicationGroupId: 'prod-2', retentionSeconds: 1, rpoTargetSeconds: 1, exportAutomated: true },
  ];
  test.each([
    ['a schedule', { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} }, ['prod', 'prod-2']],
    ['an export object of prod-2', { source: 'aws.s3', detail: { object: { key: 'prod-2-20260310t120000z-0001.rdb' } } }, ['prod-2']],
    ['a snapshot event of prod', { source: 'aws.elasticache', detail: { SourceIdentifier: 'prod-plan-20260310t120000z' } }, ['prod']],
    ['an event naming no group', { source: 'aws.elasticache', detail: { SourceIdentifier: 'other' } }, ['prod', 'prod-2']],
  ])('%s reconciles %j', (_, event, expected) => {
    expect(groupsForEvent(event, groups).map((g) => g.replicationGroupId)).toEqual(expected);
  });

  test('only Snapshot Export Failed events carry a failure signal', () => {
    const detail = { SourceIdentifier: 'prod-plan-x', Message: 'failed' };
    expect(signalsForEvent({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Export Failed', 'time': '2026-03-10T12:00:00Z', detail }))
      .toEqual([{ text: JSON.stringify(detail), time: new Date('2026-03-10T12:00:00Z') }]);
    expect(signalsForEvent({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Created', detail })).toEqual([]);
  });
});
