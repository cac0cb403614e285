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
import { MemoryIo } from './support/memory-io';
import { planSnapshotName, stateKey } from '../../lib/backup-plan/constants';
import { emptyState } from '../../lib/backup-plan/planner';
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

/** S3's clock is the true time. Every snapshot carries the plan's tag. */
const newIo = () => new MemoryIo({ s3Now: () => TRUE_NOW, defaultPlanTag: PLAN });

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
  io.addSnapshot({ name, source: 'manual', status: 'available', createTime: taken, shardCount: 1 });
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
    const io = newIo();
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
    expect(io.callsOf('DeleteSnapshot')).toEqual([]);
    expect(result.decision.actions.filter((a) => a.kind === 'DeleteSnapshot')).toEqual([]);
  });

  test('a right clock: no skew, and the metrics FutureManifests, RefusedDeletions and PruningHeldForClockSkew are published', async () => {
    const io = newIo();
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
    const io = newIo();
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
