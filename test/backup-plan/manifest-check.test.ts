import { MAX_MANIFEST_BODY_CHECKS, foreignManifestProblem, withoutForeignNewest } from '../../lib/backup-plan/manifest-check';
import { BackupManifest, manifestKey, serializeManifest } from '../../lib/manifest/manifest';

const G = 'orders';
const NOW = new Date('2026-03-10T12:00:00Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);

/** The body of a committed manifest of `group`'s snapshot `name` taken at `taken`; `over` breaks one field. */
function body(group: string, name: string, taken: Date, over: Partial<BackupManifest> = {}): string {
  return serializeManifest({
    formatVersion: 1,
    replicationGroupId: group,
    region: 'us-east-1',
    bucket: 'exports',
    snapshotName: name,
    snapshotSource: 'manual',
    snapshotCreateTime: taken.toISOString(),
    exportName: `${group}-x`,
    exportTime: new Date(taken.getTime() + 20 * 60_000).toISOString(),
    engine: 'valkey',
    engineVersion: '8.0.1',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: true,
    shardCount: 1,
    shards: [{ key: `${group}-x-0001.rdb`, sizeBytes: 10, etag: '"x"', versionId: 'v1' }],
    ...over,
  });
}

/** A bucket of manifest bodies; records every read. */
function bucket(bodies: Record<string, string>): { reads: string[]; getText: (k: string) => Promise<string | undefined> } {
  const reads: string[] = [];
  return { reads, getText: async (k) => { reads.push(k); return bodies[k]; } };
}

describe('foreignManifestProblem', () => {
  const taken = minutesAgo(60);
  const key = manifestKey(G, taken, 'plan-1');

  test('accepts the group\'s own manifest under its own key', () => {
    expect(foreignManifestProblem(G, key, body(G, 'plan-1', taken), NOW)).toBeUndefined();
  });

  test('rejects a body of another group copied under this group\'s key', () => {
    expect(foreignManifestProblem(G, key, body('payments', 'plan-1', taken), NOW)).toMatch(/group payments, not orders/);
  });

  test('rejects a body whose snapshot belongs under another key', () => {
    expect(foreignManifestProblem(G, key, body(G, 'plan-2', taken), NOW)).toMatch(/belongs under manifests\/orders\//);
  });

  test('rejects an export time in the future, as the restore side does', () => {
    const future = new Date(NOW.getTime() + 60 * 60_000).toISOString();
    expect(foreignManifestProblem(G, key, body(G, 'plan-1', taken, { exportTime: future }), NOW)).toMatch(/export time .* in the future/);
  });

  test('rejects a shard that is not an object of the manifest\'s export', () => {
    const shards = [{ key: 'elsewhere-0001.rdb', sizeBytes: 10 }];
    expect(foreignManifestProblem(G, key, body(G, 'plan-1', taken, { shards }), NOW)).toMatch(/not an object of export/);
  });

  test('names a missing or unparseable body', () => {
    expect(foreignManifestProblem(G, key, undefined, NOW)).toBe('it is gone');
    expect(foreignManifestProblem(G, key, '{not json', NOW)).toBeDefined();
  });
});

describe('withoutForeignNewest', () => {
  test('reads only the newest body when it is the group\'s own, and drops nothing', async () => {
    const keys = [60, 120, 180].map((m) => manifestKey(G, minutesAgo(m), `plan-${m}`));
    const b = bucket(Object.fromEntries(keys.map((k, i) => [k, body(G, `plan-${[60, 120, 180][i]}`, minutesAgo([60, 120, 180][i]))])));
    const r = await withoutForeignNewest(G, keys, NOW, b.getText);
    expect(r.keys).toEqual(keys);
    expect(r.notes).toEqual([]);
    expect(b.reads).toEqual([keys[0]]);
  });

  test('drops foreign newest keys until the group\'s own, with one note each', async () => {
    const own = manifestKey(G, minutesAgo(120), 'plan-120');
    const planted = manifestKey(G, minutesAgo(5), 'plan-5');
    const b = bucket({ [own]: body(G, 'plan-120', minutesAgo(120)), [planted]: body('payments', 'plan-5', minutesAgo(5)) });
    const r = await withoutForeignNewest(G, [own, planted], NOW, b.getText);
    expect(r.keys).toEqual([own]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toContain(planted);
    expect(b.reads).toEqual([planted, own]);
  });

  test(`reads at most ${MAX_MANIFEST_BODY_CHECKS} bodies per run`, async () => {
    const keys = [1, 2, 3, 4, 5].map((m) => manifestKey(G, minutesAgo(m), `plan-${m}`));
    const b = bucket({});
    const r = await withoutForeignNewest(G, keys, NOW, b.getText);
    expect(b.reads).toEqual(keys.slice(0, MAX_MANIFEST_BODY_CHECKS));
    expect(r.keys).toEqual(keys.slice(MAX_MANIFEST_BODY_CHECKS));
  });

  test('leaves keys dated beyond the clock tolerance unread and in place (the planner reports them)', async () => {
    const future = manifestKey(G, new Date(NOW.getTime() + 60 * 60_000), 'plan-future');
    const own = manifestKey(G, minutesAgo(30), 'plan-30');
    const b = bucket({ [own]: body(G, 'plan-30', minutesAgo(30)) });
    const r = await withoutForeignNewest(G, [future, own], NOW, b.getText);
    expect(r.keys).toEqual([future, own]);
    expect(b.reads).toEqual([own]);
  });
});
