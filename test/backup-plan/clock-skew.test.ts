/**
 * The reconciler handler never reports a fresh export it does not have (issue 10, "never lies"):
 * - its clock is 3 h behind AWS: ExportAgeSeconds is measured from AWS's time (the state object's LastModified, written
 *   again and HEADed), the skew is published, and pruning is held (a correction never makes a deletion earlier);
 * - a manifest planted under the group's prefix by someone else (another group's body, dated now) is not taken for the
 *   group's newest export;
 * - FutureManifests, RefusedDeletions and PruningHeldForClockSkew are published.
 * The bucket and ElastiCache are the test's own, in memory; S3 stamps LastModified with its own (true) clock.
 * Expected ages are computed here from the true times, not by the planner's rules.
 */
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { planSnapshotName, PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { emptyState, ObjectInfo } from '../../lib/backup-plan/planner';
import { GroupDescription, ReconcileIo, SnapshotDescription, VersionedText, WriteCondition } from '../../lib/backup-plan/reconcile-core';
import { PlanConfig, runPlan } from '../../lib/backup-plan/reconcile.lambda';
import { serializeState } from '../../lib/backup-plan/state';
import { manifestKey, serializeManifest } from '../../lib/manifest/manifest';

const G = 'orders';
const PLAN = 'plan-a';
const TRUE_NOW = new Date('2026-03-10T12:00:00Z');
const at = (minutes: number) => new Date(TRUE_NOW.getTime() + minutes * 60_000);
const CONFIG: PlanConfig = {
  planId: PLAN,
  groups: [{ replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 8100, exportAutomated: false }],
};

interface Stored extends VersionedText {
  readonly lastModified: Date;
}

/** S3 and ElastiCache in memory. S3's clock is `awsNow` (the true time). */
class MemoryIo implements ReconcileIo {
  public readonly region = 'us-east-1';
  public readonly bucketName = 'exports';
  public readonly objects = new Map<string, Stored>();
  public readonly snapshots: SnapshotDescription[] = [];
  public readonly deleted: string[] = [];
  public readonly bodiesRead: string[] = [];
  public awsNow = TRUE_NOW;
  private etags = 0;

  public async describeSnapshots(): Promise<SnapshotDescription[]> {
    return [...this.snapshots];
  }
  public async describeClusterSnapshots(): Promise<SnapshotDescription[]> {
    return [];
  }
  public async describeGroup(): Promise<GroupDescription> {
    return { status: 'available', clusterModeEnabled: true };
  }
  public async listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter)).sort()
      .map((key) => ({ key, sizeBytes: 1, etag: this.objects.get(key)!.etag, lastModified: this.objects.get(key)!.lastModified }));
  }
  public async headObject(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { key, sizeBytes: o.text.length, etag: o.etag, versionId: o.etag, lastModified: o.lastModified };
  }
  public async getText(key: string): Promise<string | undefined> {
    this.bodiesRead.push(key);
    return this.objects.get(key)?.text;
  }
  public async putText(key: string, body: string): Promise<void> {
    this.put(key, body);
  }
  public put(key: string, text: string, lastModified: Date = this.awsNow): string {
    const etag = `"e${++this.etags}"`;
    this.objects.set(key, { text, etag, lastModified });
    return etag;
  }
  public async getVersionedText(key: string): Promise<VersionedText | undefined> {
    return this.objects.get(key);
  }
  public async putTextIf(key: string, body: string, condition: WriteCondition): Promise<string> {
    const current = this.objects.get(key);
    if ((condition.ifNoneMatch === '*' && current) || (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch)) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    }
    return this.put(key, body);
  }
  public async readRange(): Promise<Uint8Array> {
    return new Uint8Array();
  }
  public async createSnapshot(r: { snapshotName: string }): Promise<void> {
    this.snapshots.push({ name: r.snapshotName, source: 'manual', status: 'creating', shardCount: 1 });
  }
  public async copySnapshot(): Promise<void> {}
  public async snapshotTag(_name: string, tagKey: string): Promise<string | undefined> {
    return tagKey === PLAN_TAG_KEY ? PLAN : undefined;
  }
  public async deleteSnapshot(name: string): Promise<void> {
    this.deleted.push(name);
  }
}

/** A committed manifest (format 1) of `group`'s backup `snapshotName` taken at `taken`. */
function manifestText(group: string, snapshotName: string, taken: Date): string {
  return serializeManifest({
    formatVersion: 1,
    replicationGroupId: group,
    region: 'us-east-1',
    bucket: 'exports',
    snapshotName,
    snapshotSource: 'manual',
    snapshotCreateTime: taken.toISOString(),
    exportName: `${group}-x`,
    exportTime: taken.toISOString(),
    engine: 'valkey',
    engineVersion: '8.0.1',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: true,
    shardCount: 1,
    shards: [{ key: `${group}-x-0001.rdb`, sizeBytes: 10, etag: '"x"', versionId: 'v1' }],
  } as never);
}

/** The plan's backup taken `minutes` ago (relative to the true time), exported and committed. */
function committedBackup(io: MemoryIo, minutes: number): string {
  const taken = at(-minutes);
  const name = planSnapshotName(G, taken);
  io.snapshots.push({ name, source: 'manual', status: 'available', createTime: taken, shardCount: 1 });
  io.put(manifestKey(G, taken, name), manifestText(G, name, taken), at(-minutes + 20));
  return name;
}

describe('the reconciler handler does not report a fresh export it does not have', () => {
  let emitted: string[];
  beforeEach(() => {
    emitted = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      emitted.push(String(line));
    });
  });
  afterEach(() => jest.restoreAllMocks());
  const docs = () => emitted.map((l) => JSON.parse(l)).filter((d) => d._aws);
  const run = (io: MemoryIo, localNow: Date) => runPlan(undefined, {
    io,
    config: CONFIG,
    logger: new Logger({ logLevel: 'SILENT' }),
    newMetrics: () => new Metrics({ namespace: 'ElastiCacheBackup' }),
    remainingMs: () => 100_000,
    now: () => localNow,
    random: () => 'aaaaaaaa',
  });

  test('a clock 3 h behind: ExportAgeSeconds from AWS time, the skew published, and nothing pruned', async () => {
    const io = new MemoryIo();
    // Backups every 75 min; the newest export is 150 min old by the true clock, the oldest is past retention.
    const names = [150, 225, 1500, 1600].map((m) => committedBackup(io, m));
    const state = { ...emptyState(), created: [150, 225, 1500, 1600].map((m, i) => ({ name: names[i], at: at(-m).toISOString() })) };
    io.put(stateKey(G, PLAN), serializeState(state), at(-75));
    const [result] = await run(io, at(-180));
    const doc = docs().find((d) => d.ExportAgeSeconds !== undefined);
    // The true age is 150 min: with the local clock, it would be reported as 0 (the backup looks 30 min in the future).
    expect(doc.ExportAgeSeconds).toBe(150 * 60);
    expect(doc.ClockBehindSeconds).toBe(180 * 60);
    expect(doc.PruningHeldForClockSkew).toBe(1);
    expect(io.deleted).toEqual([]);
    expect(result.decision.actions.filter((a) => a.kind === 'DeleteSnapshot')).toEqual([]);
  });

  test('a right clock: no skew, and the metrics FutureManifests, RefusedDeletions and PruningHeldForClockSkew are published', async () => {
    const io = new MemoryIo();
    const name = committedBackup(io, 30);
    io.put(stateKey(G, PLAN), serializeState({ ...emptyState(), created: [{ name, at: at(-30).toISOString() }] }), at(-10));
    // Dated 2 days ahead by somebody: ignored, and counted.
    io.put(manifestKey(G, at(2 * 1440), planSnapshotName(G, at(2 * 1440))), '{}');
    await run(io, TRUE_NOW);
    const doc = docs().find((d) => d.ExportAgeSeconds !== undefined);
    expect(doc).toEqual(expect.objectContaining({
      ExportAgeSeconds: 30 * 60, ClockBehindSeconds: 0, FutureManifests: 1, RefusedDeletions: 0, PruningHeldForClockSkew: 0,
    }));
  });

  test('a foreign manifest dated now under the group\'s prefix does not make the export age look fresh (one body read)', async () => {
    const io = new MemoryIo();
    const name = committedBackup(io, 200);
    io.put(stateKey(G, PLAN), serializeState({ ...emptyState(), created: [{ name, at: at(-200).toISOString() }] }), at(-10));
    const otherName = planSnapshotName('payments', at(-5));
    io.put(manifestKey(G, TRUE_NOW, otherName), manifestText('payments', otherName, at(-5)));
    await run(io, TRUE_NOW);
    const doc = docs().find((d) => d.ExportAgeSeconds !== undefined);
    expect(doc.ExportAgeSeconds).toBe(200 * 60);
    // Bounded cost: the foreign body and the newest own one, nothing older.
    expect(io.bodiesRead.filter((k) => k.startsWith('manifests/'))).toEqual([manifestKey(G, TRUE_NOW, otherName), manifestKey(G, at(-200), name)]);
  });
});
