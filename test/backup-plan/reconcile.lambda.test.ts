process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import { readFileSync } from 'fs';
import * as path from 'path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ListTagsForResourceCommand, Snapshot,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { planExportName, planSnapshotName, PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { parseState } from '../../lib/backup-plan/planner';
import { AwsReconcileIo, PlanConfig, runPlan } from '../../lib/backup-plan/reconcile.lambda';
import { verifyExport } from '../../lib/backup-plan/verify-export.lambda';
import { manifestKey, parseManifest } from '../../lib/manifest/manifest';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

/** A real dump written by valkey-server 8.0 (5 keys). */
const DUMP = readFileSync(path.join(__dirname, '..', 'fixtures', 'rdb', 'valkey-8.0.rdb'));
/** The export-name suffixes the runs draw, in order (the handler's random source, injected). */
const SUFFIXES = ['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd'];

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
  let suffixes: string[];
  const verified = new Set<string>();

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
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    ec.reset();
    suffixes = [...SUFFIXES];
    verified.clear();
    io = new AwsReconcileIo({ elasticache: new ElastiCacheClient({ region: REGION, endpoint: 'http://127.0.0.1:9' }), s3, region: REGION, bucketName: BUCKET, account: '111111111111' });
    emitted = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      emitted.push(String(line));
    });
  });
  afterEach(() => jest.restoreAllMocks());

  // moto stamps LastModified with the real clock, and these runs use a fake one (March 2026): the state object's
  // LastModified is left out, or the reconciler would (rightly) find its clock months behind and hold pruning.
  const fakeClockIo = () => Object.assign(Object.create(io) as AwsReconcileIo, {
    getVersionedText: async (key: string) => {
      const v = await io.getVersionedText(key);
      return v && { text: v.text, etag: v.etag };
    },
  });
  const run = (now: Date, event?: object, remainingMs = 100_000, config: PlanConfig = CONFIG) => runPlan(event as never, {
    io: fakeClockIo(),
    config,
    logger,
    newMetrics: () => new Metrics({ namespace: 'ElastiCacheBackup' }),
    remainingMs: () => remainingMs,
    now: () => now,
    random: () => suffixes.shift()!,
  });

  /** Plays the S3 event -> verifier Lambda step: verifies every request object written since the last call. */
  const runVerifier = async () => {
    const requests = (await io.listObjects('state/')).filter((o) => o.key.includes('/verify-requests/') && !verified.has(o.key));
    for (const r of requests) {
      verified.add(r.key);
      await verifyExport({ source: 'aws.s3', detail: { bucket: { name: BUCKET }, object: { key: r.key } } }, { s3, bucketName: BUCKET, fullVerifyMaxBytes: 1e9, logger });
    }
    return requests.length;
  };
  const put = (Key: string, Body: Uint8Array | string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  const state = async () => parseState(await io.getText(stateKey(GROUP, PLAN_ID)));
  const emf = () => emitted.map((l) => JSON.parse(l)).filter((d) => d._aws);

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

  const GROUP_DESCRIPTION = {
    ReplicationGroups: [{
      ReplicationGroupId: GROUP,
      Status: 'available',
      ClusterEnabled: false,
      Engine: 'valkey',
      CacheNodeType: 'cache.r7g.large',
      MemberClusters: [`${GROUP}-001`, `${GROUP}-002`],
      NodeGroups: [{ NodeGroupId: '0001', NodeGroupMembers: [{ CacheClusterId: `${GROUP}-001`, CurrentRole: 'primary' }, { CacheClusterId: `${GROUP}-002`, CurrentRole: 'replica' }] }],
    }],
  };

  test('backs up, exports, verifies, commits a v2 manifest pinning the verified version, and prunes after re-checking it, across runs', async () => {
    // Run 1: no backup yet -> CreateSnapshot from the replica, tagged; DescribeSnapshots pages are followed.
    ec.on(DescribeSnapshotsCommand, { ReplicationGroupId: GROUP }).resolvesOnce({ Snapshots: [], Marker: 'm1' }).resolvesOnce({ Snapshots: [] });
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: `${GROUP}-001` }).resolves({ Snapshots: [] });
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: `${GROUP}-002` }).resolves({ Snapshots: [] });
    ec.on(DescribeReplicationGroupsCommand).resolves(GROUP_DESCRIPTION);
    ec.on(CreateSnapshotCommand).resolves({});
    await run(T0);
    expect(ec.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input)).toEqual([
      { ReplicationGroupId: GROUP, MaxRecords: 50 }, { ReplicationGroupId: GROUP, Marker: 'm1', MaxRecords: 50 },
      { CacheClusterId: `${GROUP}-001`, MaxRecords: 50 }, { CacheClusterId: `${GROUP}-002`, MaxRecords: 50 },
    ]);
    const name = planSnapshotName(GROUP, T0);
    expect(ec.commandCalls(CreateSnapshotCommand)[0].args[0].input).toEqual({
      CacheClusterId: `${GROUP}-002`, SnapshotName: name, Tags: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }],
    });
    expect((await state()).created.map((c) => c.name)).toEqual([name]);

    // Run 2: the backup is available -> CopySnapshot to the bucket under an unguessable name.
    const taken = after(1);
    ec.on(DescribeSnapshotsCommand, { ReplicationGroupId: GROUP }).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(CopySnapshotCommand).resolves({});
    await run(after(12));
    const target = planExportName(GROUP, taken, 'aaaaaaaa');
    expect(ec.commandCalls(CopySnapshotCommand)[0].args[0].input)
      .toEqual({ SourceSnapshotName: name, TargetSnapshotName: target, TargetBucket: BUCKET });
    expect((await state()).inFlight).toMatchObject({ exportName: target, confirmed: true });

    // Run 3 (object-created event): the shard exists -> its verification is asked for; nothing is committed yet.
    await put(`${target}-0001.rdb`, DUMP);
    const key = manifestKey(GROUP, taken, name);
    await run(after(25), { 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': { object: { key: `${target}-0001.rdb` } } });
    expect(await io.getText(key)).toBeUndefined();
    expect(await runVerifier()).toBe(1);

    // Run 4 (the result's object-created event): verified -> the manifest is written, last, pinning the version.
    const head = await io.headObject(`${target}-0001.rdb`);
    await run(after(26), { 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': { object: { key: `state/${GROUP}/verifications/${target}-0001.json` } } });
    const manifest = parseManifest((await io.getText(key))!, key);
    expect(manifest).toMatchObject({
      formatVersion: 2,
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
      shards: [{
        key: `${target}-0001.rdb`,
        sizeBytes: DUMP.length,
        versionId: head!.versionId,
        etag: head!.etag,
        rdbVersion: 11,
        verification: 'full',
        checksum: 'ok',
        keys: 5,
        keysWithExpiry: 0,
        databases: [{ db: 0, keys: 5, keysWithExpiry: 0 }],
        writerEngine: 'valkey',
        writerVersion: '8.0.1',
      }],
    });
    expect(manifest.shards[0].crc64).toMatch(/^[0-9a-f]{16}$/);
    expect((await state()).inFlight).toBeUndefined();
    // One EMF document per group and run, dimension ReplicationGroupId only (what the alarms query).
    const docs = emf().filter((d) => d.ExportAgeSeconds !== undefined);
    expect(docs).toHaveLength(1);
    expect(docs[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'ElastiCacheBackup',
      Dimensions: [['ReplicationGroupId']],
      Metrics: expect.arrayContaining([{ Name: 'ExportAgeSeconds', Unit: 'Seconds' }, { Name: 'BackupAgeSeconds', Unit: 'Seconds' },
        { Name: 'ExportsInFlight', Unit: 'Count' }, { Name: 'Failures', Unit: 'Count' }, { Name: 'UnexportedBackups', Unit: 'Count' }, { Name: 'CircuitOpen', Unit: 'Count' }]),
    });
    expect(docs[0]).toMatchObject({
      ReplicationGroupId: GROUP, ExportAgeSeconds: 25 * 60, ExportsInFlight: 0, Failures: 0, UnexportedBackups: 0, CircuitOpen: 0,
    });

    // Run 5, a day later: past retention, manifest and object still intact, tag checked -> the backup is deleted.
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }] });
    ec.on(DeleteSnapshotCommand).resolves({});
    await run(after(25 * 60));
    expect(ec.commandCalls(ListTagsForResourceCommand)[0].args[0].input.ResourceName).toBe(`arn:aws:elasticache:${REGION}:111111111111:snapshot:${name}`);
    expect(ec.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotName)).toEqual([name]);
  });

  /** One plan backup `name` taken at `taken`, recorded in the state, with an export in flight started at `startedAt`. */
  async function exportInFlight(name: string, taken: Date, startedAt: Date, target: string, extra: object = {}) {
    await io.putText(stateKey(GROUP, PLAN_ID), JSON.stringify({
      formatVersion: 1,
      exportAttempts: { [name]: 1 },
      created: [{ name, at: taken.toISOString() }],
      consecutiveThrottles: 0,
      inFlight: {
        snapshotName: name,
        snapshotSource: 'manual',
        snapshotCreateTime: taken.toISOString(),
        shardCount: 1,
        exportName: target,
        attempt: 1,
        startedAt: startedAt.toISOString(),
        confirmed: true,
      },
      ...extra,
    }));
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(DescribeReplicationGroupsCommand).resolves(GROUP_DESCRIPTION);
    ec.on(CopySnapshotCommand).resolves({});
  }
  const failureNotes = (results: Awaited<ReturnType<typeof run>>) => results[0].decision.notes.filter((n) => n.includes(' failed ('));

  test('an object planted under the export name before CopySnapshot is never committed; the export is retried under a new name', async () => {
    // Real time: the planted object's LastModified is S3's clock; the CopySnapshot call was made 30 minutes later.
    const now = new Date(Date.now() + 40 * 60_000);
    const taken = new Date(now.getTime() - 60 * 60_000);
    const name = planSnapshotName(GROUP, taken);
    const target = planExportName(GROUP, taken, 'pppppppp');
    await put(`${target}-0001.rdb`, DUMP);
    await exportInFlight(name, taken, new Date(now.getTime() - 10 * 60_000), target);
    const [result] = await run(now);
    expect(result.failures).toBe(1);
    expect(await runVerifier()).toBe(0); // never even sent to the verifier
    expect(failureNotes([result])).toEqual([expect.stringMatching(new RegExp(`^export ${target} of ${name} failed \\(NotWrittenByExport\\): object ${target}-0001.rdb `
      + 'was last modified at .*, before this export\'s CopySnapshot call at .* \\(less 300 s of clock skew\\): it was not written by this export; will retry under a new name$'))]);
    expect(ec.commandCalls(CopySnapshotCommand)[0].args[0].input.TargetSnapshotName).toBe(planExportName(GROUP, taken, 'aaaaaaaa'));
    expect(await io.listObjects('manifests/')).toEqual([]);
  });

  test('CopySnapshot answering "already contains an object" on a first attempt: somebody else\'s object, a failure, a new name next', async () => {
    const taken = after(-20);
    const name = `${GROUP}-plan-x`;
    await io.putText(stateKey(GROUP, PLAN_ID), stateWith(name, taken));
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available' }] });
    ec.on(CopySnapshotCommand).rejectsOnce(Object.assign(new Error(`The S3 bucket ${BUCKET} already contains an object with key x-0001.rdb.`), { name: 'InvalidParameterValueException' }))
      .resolves({});
    const [result] = await run(T0);
    const first = planExportName(GROUP, taken, 'aaaaaaaa');
    expect(result.executed).toEqual([{
      action: expect.objectContaining({ kind: 'StartExport', exportName: first }),
      outcome: 'already-exists',
      error: `InvalidParameterValueException: The S3 bucket ${BUCKET} already contains an object with key x-0001.rdb. (first CopySnapshot of ${first}: `
        + 'the object was there before this export, so it is somebody else\'s, not ours; retrying under a new name)',
    }]);
    expect(result.failures).toBe(1);
    expect((await state()).inFlight).toBeUndefined();
    expect((await state()).exportFailures?.[name]).toMatchObject({ failures: 1, lastError: 'ExportNameTaken' });
    await run(after(1));
    expect(ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.TargetSnapshotName)).toEqual([first, planExportName(GROUP, taken, 'bbbbbbbb')]);
    expect((await state()).inFlight).toMatchObject({ exportName: planExportName(GROUP, taken, 'bbbbbbbb'), attempt: 2, confirmed: true });
  });

  test.each([
    ['an empty object', () => new Uint8Array(0), 'EmptyObject', (t: string) => `object ${t}-0001.rdb is empty \\(0 bytes\\): an export writes an RDB file`],
    ['a truncated dump', () => DUMP.subarray(0, DUMP.length - 20), 'ShardCorrupt',
      (t: string) => `shard ${t}-0001.rdb version .* is not intact: s3://${BUCKET}/${t}-0001.rdb version .*: at byte 259: truncated: .* \\(at byte offset 259\\)`],
  ])('%s is never committed: the failure is counted and says which object, where and why', async (_, body, errorName, message) => {
    const taken = after(-60);
    const name = planSnapshotName(GROUP, taken);
    const target = planExportName(GROUP, taken, 'tttttttt');
    await exportInFlight(name, taken, after(-30), target);
    await put(`${target}-0001.rdb`, body());
    const [first] = await run(T0);
    if (errorName === 'ShardCorrupt') {
      expect(first.failures).toBe(0);
      expect(await runVerifier()).toBe(1);
    }
    const results = errorName === 'ShardCorrupt' ? await run(after(1)) : [first];
    expect(results[0].failures).toBe(1);
    expect(failureNotes(results)).toEqual([expect.stringMatching(new RegExp(`^export ${target} of ${name} failed \\(${errorName}\\): ${message(target)}; will retry under a new name$`))]);
    expect((await state()).exportFailures?.[name]).toMatchObject({ failures: 1, lastError: errorName });
    expect(await io.listObjects('manifests/')).toEqual([]);
  });

  test('an object overwritten after its verification is never committed', async () => {
    const taken = after(-60);
    const name = planSnapshotName(GROUP, taken);
    const target = planExportName(GROUP, taken, 'oooooooo');
    await exportInFlight(name, taken, after(-30), target);
    await put(`${target}-0001.rdb`, DUMP);
    await run(T0);
    expect(await runVerifier()).toBe(1);
    const verifiedVersion = (await io.headObject(`${target}-0001.rdb`))!.versionId;
    await put(`${target}-0001.rdb`, DUMP); // same bytes, new version: not what was verified
    const current = (await io.headObject(`${target}-0001.rdb`))!.versionId;
    expect(current).not.toBe(verifiedVersion);
    const results = await run(after(1));
    expect(results[0].failures).toBe(1);
    expect(failureNotes(results)).toEqual([`export ${target} of ${name} failed (ObjectOverwritten): object ${target}-0001.rdb changed after it was listed for `
      + `verification: version ${verifiedVersion} was verified, the current version is ${current} (${DUMP.length} bytes): not committed; will retry under a new name`]);
    expect(await io.listObjects('manifests/')).toEqual([]);
  });

  /** A committed, verified export of a plan backup taken `minutesAgo` before T0. */
  async function committedBackup(minutesAgo: number) {
    const taken = after(-minutesAgo);
    const name = planSnapshotName(GROUP, taken);
    const target = planExportName(GROUP, taken, 'cccccccc');
    await exportInFlight(name, taken, after(-minutesAgo + 5), target);
    await put(`${target}-0001.rdb`, DUMP);
    await run(after(-minutesAgo + 10));
    await runVerifier();
    await run(after(-minutesAgo + 11));
    const key = manifestKey(GROUP, taken, name);
    expect(parseManifest((await io.getText(key))!, key).formatVersion).toBe(2);
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }] });
    ec.on(DeleteSnapshotCommand).resolves({});
    ec.on(CreateSnapshotCommand).resolves({});
    return { name, target, key };
  }

  test('objects deleted after the commit: the backup is never pruned, a failure is counted and the message names the object', async () => {
    const { name, target, key } = await committedBackup(26 * 60);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${target}-0001.rdb` }));
    const [result] = await run(T0);
    expect(ec.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(result.failures).toBe(1);
    const refusal = result.executed.find((x) => x.action.kind === 'DeleteSnapshot')!;
    expect(refusal).toMatchObject({ action: { kind: 'DeleteSnapshot', snapshotName: name, manifestKey: key }, outcome: 'integrity-failed' });
    // The rest of the message (how to bring a deleted version back) is the integrity module's.
    expect(refusal.error!.startsWith(`refusing to delete ${name}: s3://${BUCKET}/${key}: ${target}-0001.rdb: object does not exist`)).toBe(true);
    // The snapshot is exported again instead (a new verified copy), never deleted on the broken manifest.
    expect((await state()).distrustedManifests).toEqual([key]);
    const [next] = await run(after(1));
    expect(ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotName)).toEqual([name]);
    expect(next.executed.map((x) => x.action.kind)).toEqual(['StartExport']);
  });

  test('a v1 (unverified) manifest never allows pruning', async () => {
    const { name, key } = await committedBackup(26 * 60);
    const v1 = { ...parseManifest((await io.getText(key))!, key), formatVersion: 1 };
    await io.putText(key, JSON.stringify(v1));
    const [result] = await run(T0);
    expect(ec.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(result.executed.find((x) => x.action.kind === 'DeleteSnapshot')?.error).toBe(`refusing to delete ${name}: manifest s3://${BUCKET}/${key} `
      + '(format version 1) does not record a verification of every shard against a pinned version: the plan never deletes a backup on an unverified '
      + 'manifest; it exports the snapshot again');
  });

  test('member-node backups listed only by CacheClusterId are seen: counted for the quota and exported', async () => {
    const taken = after(-30);
    const name = planSnapshotName(GROUP, taken);
    await io.putText(stateKey(GROUP, PLAN_ID), stateWith(name, taken));
    ec.on(DescribeReplicationGroupsCommand).resolves(GROUP_DESCRIPTION);
    ec.on(DescribeSnapshotsCommand, { ReplicationGroupId: GROUP }).resolves({ Snapshots: [] });
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: `${GROUP}-001` }).resolves({ Snapshots: [] });
    ec.on(DescribeSnapshotsCommand, { CacheClusterId: `${GROUP}-002` }).resolves({ Snapshots: [{ ...snapshot(name, taken), ReplicationGroupId: undefined }] });
    ec.on(CopySnapshotCommand).resolves({});
    const [result] = await run(T0);
    expect(ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotName)).toEqual([name]);
    expect(result.decision.metrics.manualBackupsLast24h).toBe(1);
    expect(result.decision.notes).toContain(`exporting ${name} as ${planExportName(GROUP, taken, 'aaaaaaaa')}`);
  });

  test('with its state lost, the plan still recognizes its own backups by name (current and legacy) and exports them; never others\'', async () => {
    const taken = after(-30);
    const legacy = `${GROUP}-plan-20260310t110000z`;
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available', ClusterEnabled: true }] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(planSnapshotName(GROUP, taken), taken), snapshot('someones-backup', after(-10))] });
    ec.on(CopySnapshotCommand).resolves({});
    const [result] = await run(T0, undefined, 100_000, { ...CONFIG, groups: [{ ...CONFIG.groups[0], exportAutomated: false }] });
    expect(ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotName)).toEqual([planSnapshotName(GROUP, taken)]);
    expect(result.decision.notes).toContain(`exporting ${planSnapshotName(GROUP, taken)} as ${planExportName(GROUP, taken, 'aaaaaaaa')}`);
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(legacy, after(-60)), snapshot('someones-backup', after(-10))] });
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: stateKey(GROUP, PLAN_ID) }));
    const [second] = await run(after(1), undefined, 100_000, { ...CONFIG, groups: [{ ...CONFIG.groups[0], exportAutomated: false }] });
    expect(second.decision.notes).toContain(`exporting ${legacy} as ${planExportName(GROUP, after(-60), 'bbbbbbbb')}`);
  });

  test('every name the plan creates for the longest group id is at most 40 characters', async () => {
    const longest = 'g'.repeat(20) + '-' + 'h'.repeat(19);
    const config: PlanConfig = { planId: PLAN_ID, groups: [{ ...CONFIG.groups[0], replicationGroupId: longest }] };
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: longest, Status: 'available', ClusterEnabled: true }] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ ...snapshot('automatic.x', after(-10)), SnapshotSource: 'automated' }] });
    ec.on(CopySnapshotCommand).resolves({});
    ec.on(CreateSnapshotCommand).resolves({});
    await run(after(200), undefined, 100_000, config);
    const names = [...ec.commandCalls(CreateSnapshotCommand).map((c) => c.args[0].input.SnapshotName!),
      ...ec.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.TargetSnapshotName!)];
    expect(names).toHaveLength(2);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(40);
    }
  });

  test('CopySnapshot refused for the quota: learned and persisted, a failure counted, exports then counted', async () => {
    const taken = after(-20);
    const name = planSnapshotName(GROUP, taken);
    await io.putText(stateKey(GROUP, PLAN_ID), stateWith(name, taken));
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken)] });
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available', ClusterEnabled: true }] });
    ec.on(CopySnapshotCommand).rejects(Object.assign(new Error('Cannot create snapshot: quota of 20 per 24 hours exceeded'), { name: 'SnapshotQuotaExceededFault' }));
    const [result] = await run(T0);
    expect(result.executed[0]).toMatchObject({ outcome: 'quota-exceeded', error: 'SnapshotQuotaExceededFault: Cannot create snapshot: quota of 20 per 24 hours exceeded' });
    expect(result.failures).toBe(1);
    const learned = await state();
    expect(learned).toMatchObject({ exportsCountAgainstQuota: true });
    expect(learned.exportCalls).toBeUndefined(); // the refused call created nothing
    // The plan had counted 19 free slots: the refusal says 19 uses it cannot see exist, until 24 hours after it.
    expect(learned.quotaRefusals).toEqual([{ at: T0.toISOString(), hidden: 19 }]);
    // 31 minutes later (the export backoff is over) the quota is still full by that count: no call, no second refusal.
    ec.on(CopySnapshotCommand).resolves({});
    const [later] = await run(after(31));
    expect(ec.commandCalls(CopySnapshotCommand)).toHaveLength(1);
    expect(later.decision.metrics.manualBackupsLast24h).toBe(20);
    // Once the refusal is out of the window (24 h + the 10-minute margin), the export is started again, a backup is
    // due (the last one is a day old), and export calls now count: the new backup and the new export call.
    const [dayLater] = await run(after(24 * 60 + 11));
    expect(ec.commandCalls(CopySnapshotCommand)).toHaveLength(2);
    expect(ec.commandCalls(CreateSnapshotCommand)).toHaveLength(1);
    expect(dayLater.decision.metrics.manualBackupsLast24h).toBe(2);
  });

  test('an export whose source is seen busy is never timed out', async () => {
    const taken = after(-300);
    const name = planSnapshotName(GROUP, taken);
    const target = planExportName(GROUP, taken, 'bbbbbbbb');
    await exportInFlight(name, taken, after(-240), target);
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(name, taken, 'exporting')] });
    const [result] = await run(T0);
    expect(result.failures).toBe(0);
    expect(ec.commandCalls(CopySnapshotCommand)).toHaveLength(0);
    expect(result.decision.notes).toContain(`export ${target} is past its timeout, but ${name} is exporting: still waiting`);
    expect((await state()).inFlight).toMatchObject({ exportName: target, sourceBusySeen: true });
  });

  test('the circuit breaker stops new backups, and says why in the metric document and the logs', async () => {
    const names = [300, 400, 500].map((m) => planSnapshotName(GROUP, after(-m)));
    await io.putText(stateKey(GROUP, PLAN_ID), JSON.stringify({
      formatVersion: 1,
      consecutiveThrottles: 0,
      created: names.map((n, i) => ({ name: n, at: after(-300 - i * 100).toISOString() })),
      exportAttempts: Object.fromEntries(names.map((n) => [n, 5])),
      exportFailures: Object.fromEntries(names.map((n, i) => [n, { failures: 5, lastError: 'SnapshotFeatureNotSupportedFault', at: after(-10 - i).toISOString() }])),
    }));
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: names.map((n, i) => snapshot(n, after(-300 - i * 100))) });
    ec.on(DescribeReplicationGroupsCommand).resolves(GROUP_DESCRIPTION);
    const [result] = await run(T0);
    expect(ec.commandCalls(CreateSnapshotCommand)).toHaveLength(0);
    expect(result.decision.notes).toContain('backup due, but the circuit breaker is open: 3 backups the plan created could not be exported '
      + '(last error: SnapshotFeatureNotSupportedFault); no new backups until they export or are deleted (automatic backups continue)');
    const doc = emf().find((d) => d.CircuitOpen !== undefined);
    expect(doc).toMatchObject({ ReplicationGroupId: GROUP, CircuitOpen: 1, UnexportedBackups: 3, CircuitReason: 'SnapshotFeatureNotSupportedFault' });
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([['ReplicationGroupId']]);
  });

  test('does not delete a backup whose tag does not name this plan', async () => {
    const { name } = await committedBackup(26 * 60);
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: 'another-plan' }] });
    const [result] = await run(T0);
    expect(result.executed.find((x) => x.action.kind === 'DeleteSnapshot')).toMatchObject({
      outcome: 'refused', error: `snapshot ${name} is tagged ${PLAN_TAG_KEY}=another-plan, not ${PLAN_ID}: not this plan's`,
    });
    expect(ec.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
  });

  test('an SNS notification from the plan\'s topic reconciles the group it names, and only that one', async () => {
    const sns = (message: string) => ({ Records: [{ EventSource: 'aws:sns', Sns: { Message: message, Timestamp: T0.toISOString(), TopicArn: 'arn:aws:sns:us-east-1:111111111111:t' } }] });
    ec.on(DescribeReplicationGroupsCommand).resolves(GROUP_DESCRIPTION);
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec.on(CreateSnapshotCommand).resolves({});
    const results = await run(T0, sns(`{"ElastiCache:SnapshotComplete":"${GROUP}-002"}`));
    expect(results.map((r) => r.replicationGroupId)).toEqual([GROUP]);
    ec.reset();
    expect(await run(T0, sns('{"ElastiCache:SnapshotComplete":"another-group-001"}'))).toEqual([]);
    expect(ec.calls()).toHaveLength(0);
  });

  test('throttling on every group fails the invocation (for the Errors alarm) and reports a failure metric', async () => {
    ec.on(DescribeSnapshotsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(run(T0)).rejects.toThrow('reconcile failed for all 1 groups; see the logs');
    expect(emf()).toEqual([expect.objectContaining({ ReplicationGroupId: GROUP, Failures: 1 })]);
  });

  /** Two groups: GROUP and `payments` (cluster mode enabled, no snapshots yet). */
  const TWO_GROUPS: PlanConfig = { ...CONFIG, groups: [...CONFIG.groups, { ...CONFIG.groups[0], replicationGroupId: 'payments' }] };
  const twoGroups = () => {
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available', ClusterEnabled: true }] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec.on(CreateSnapshotCommand).resolves({});
  };

  test.each([
    ['a truncated', '{"formatVersion":2,"exportAttempts":{},"created":[{"na', 'is not valid JSON'],
    ['a newer-format', '{"formatVersion":9,"created":[],"exportAttempts":{},"consecutiveThrottles":0}', 'was written by a newer version'],
  ])('%s state fails the invocation after the other groups ran, reports a failure, and is not overwritten', async (_what, text, problem) => {
    twoGroups();
    const written = await put(stateKey(GROUP, PLAN_ID), text);
    const error = await run(T0, undefined, 100_000, TWO_GROUPS).catch((e) => e);
    expect(error.message).toContain('reconcile failed for 1 of 2 groups (the others ran)');
    expect(error.message).toContain(`backup plan state s3://${BUCKET}/${stateKey(GROUP, PLAN_ID)} ${problem}`);
    // The healthy group ran: its backup was created and its state written.
    expect(ec.commandCalls(CreateSnapshotCommand).map((c) => c.args[0].input.SnapshotName)).toEqual([planSnapshotName('payments', T0)]);
    expect(await io.getText(stateKey('payments', PLAN_ID))).toBeDefined();
    expect(emf()).toContainEqual(expect.objectContaining({ ReplicationGroupId: GROUP, Failures: 1 }));
    expect(await io.getVersionedText(stateKey(GROUP, PLAN_ID))).toMatchObject({ text, etag: written.ETag });
  });

  test('a deleted state is rebuilt from the plan tag: this plan\'s backup recorded again, an untagged one not', async () => {
    const mine = planSnapshotName(GROUP, after(-30));
    const untagged = planSnapshotName(GROUP, after(-20));
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available', ClusterEnabled: true }] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(mine, after(-30)), snapshot(untagged, after(-20))] });
    ec.on(ListTagsForResourceCommand, { ResourceName: `arn:aws:elasticache:${REGION}:111111111111:snapshot:${mine}` })
      .resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: PLAN_ID }] });
    ec.on(ListTagsForResourceCommand, { ResourceName: `arn:aws:elasticache:${REGION}:111111111111:snapshot:${untagged}` }).resolves({ TagList: [] });
    ec.on(CopySnapshotCommand).resolves({});
    const [result] = await run(T0);
    expect(result.rebuiltFromTags).toBe(1);
    expect((await state()).created.map((c) => c.name)).toEqual([mine]);
  });

  test('another plan\'s tag on a plan-named backup: nothing is done for the group, ForeignPlanSnapshots is published and the invocation fails', async () => {
    const foreign = planSnapshotName(GROUP, after(-30));
    ec.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [{ ReplicationGroupId: GROUP, Status: 'available', ClusterEnabled: true }] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot(foreign, after(-30))] });
    ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: PLAN_TAG_KEY, Value: 'plan-2' }] });
    await expect(run(after(200))).rejects.toThrow(`two backup plans protect replication group ${GROUP}: this plan (${PLAN_ID}) and plan-2`);
    expect(ec.commandCalls(CreateSnapshotCommand)).toHaveLength(0);
    expect(ec.commandCalls(CopySnapshotCommand)).toHaveLength(0);
    expect(ec.commandCalls(DeleteSnapshotCommand)).toHaveLength(0);
    expect(await io.getText(stateKey(GROUP, PLAN_ID))).toBeUndefined();
    expect(emf()).toEqual([expect.objectContaining({ ReplicationGroupId: GROUP, Failures: 1, ForeignPlanSnapshots: 1 })]);
  });

  test('stops starting work when the invocation is nearly out of time', async () => {
    const results = await run(T0, undefined, 10_000);
    expect(results).toEqual([]);
    expect(ec.calls()).toHaveLength(0);
  });
});
