/**
 * A complete export whose manifest could not be written is not lost when the same decision also started the next
 * export: it is watched while the next export holds the slot, and committed once that one is done. The oracle is the
 * world the test builds (which snapshots are listed, which objects exist and verified) and the documented promise
 * that a complete, verified export is committed, not the planner's own predicates.
 */
import { G, intactResult, kinds, minutesAgo, NOW, observed, snapshotMinutesAgo } from './support/planner-fixtures';
import {
  applyOutcome, CommitManifestAction, Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, InFlightExport, ObjectInfo, ObservedGroup,
  plan as planWithRandom, StartExportAction,
} from '../../lib/backup-plan/planner';
import { manifestKey } from '../../lib/manifest/manifest';

const CONFIG: GroupConfig = { replicationGroupId: G, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 8100, exportAutomated: true };
const decide = (obs: ObservedGroup, now: Date = NOW): Decision => planWithRandom(obs, CONFIG, now, DEFAULT_SETTINGS, () => 'mnopqrst');

const A = snapshotMinutesAgo('a', 120);
const B = snapshotMinutesAgo('b', 90);
const KEY_A = manifestKey(G, A.createTime!, 'a');
const KEY_B = manifestKey(G, B.createTime!, 'b');

/** Shard 1 of an export, written at `writtenAt`. */
const shardOf = (exportName: string, writtenAt: Date = minutesAgo(20)): ObjectInfo => ({
  key: `${exportName}-0001.rdb`, sizeBytes: 1000, versionId: 'v1', etag: '"e1"', lastModified: writtenAt,
});
const inMinutes = (n: number): Date => new Date(NOW.getTime() + n * 60_000);
const exportOfA: InFlightExport = {
  snapshotName: 'a',
  snapshotSource: 'manual',
  snapshotCreateTime: A.createTime!.toISOString(),
  shardCount: 1,
  exportName: 'ceb-orders-xa-attempt1',
  attempt: 1,
  startedAt: minutesAgo(30).toISOString(),
  confirmed: true,
};

/** Runs one decision and applies `outcomes` (by action kind) to its write-ahead state, as the reconciler does. */
function run(obs: ObservedGroup, outcomes: Partial<Record<string, 'ok' | 'refused'>>, now: Date = NOW): { d: Decision; after: GroupState } {
  const d = decide(obs, now);
  let after = d.state;
  for (const action of d.actions) {
    after = applyOutcome(after, action, outcomes[action.kind] ?? 'ok', now);
  }
  return { d, after };
}

describe('a manifest write that failed while the next export started', () => {
  const objectsA = [shardOf(exportOfA.exportName)];
  const exportingA: GroupState = { ...emptyState(), inFlight: exportOfA, exportAttempts: { a: 1 } };
  const first = run(
    observed({ snapshots: [A, B], state: exportingA, exportObjects: objectsA, verificationResults: objectsA.map((o) => intactResult(o)) }),
    { CommitManifest: 'refused' },
  );
  const exportOfB = (first.d.actions.find((a) => a.kind === 'StartExport') as StartExportAction).exportName;

  test('the decision commits the complete export and starts the next one in the same run', () => {
    expect(kinds(first.d)).toEqual(['CommitManifest', 'StartExport']);
    expect((first.d.actions[0] as CommitManifestAction).manifestKey).toBe(KEY_A);
  });

  test('the state after the failed write keeps the next export in flight and still watches the uncommitted one', () => {
    expect(first.after.inFlight?.exportName).toBe(exportOfB);
    expect((first.after.lateAttempts ?? []).map((a) => a.exportName)).toEqual([exportOfA.exportName]);
  });

  test('the uncommitted export is committed once the next export is done, and never exported again', () => {
    const objects = [...objectsA, shardOf(exportOfB, inMinutes(10))];
    const listedA = { snapshots: [A, B], exportObjects: objects, verificationResults: objects.map((o) => intactResult(o)) };
    const second = run(observed({ ...listedA, state: first.after }), {}, inMinutes(15));
    const third = run(observed({ ...listedA, manifestKeys: [KEY_B], state: second.after }), {}, inMinutes(30));
    const committed = [...second.d.actions, ...third.d.actions]
      .filter((a): a is CommitManifestAction => a.kind === 'CommitManifest').map((a) => a.manifestKey);
    expect(committed.sort()).toEqual([KEY_A, KEY_B].sort());
    const restarted = [...second.d.actions, ...third.d.actions].filter((a) => a.kind === 'StartExport' && a.snapshotName === 'a');
    expect(restarted).toEqual([]);
  });
});

describe('a failed manifest write, recorded in the state', () => {
  const commitOfA: CommitManifestAction = { kind: 'CommitManifest', export: exportOfA, manifestKey: KEY_A, objects: [], verifications: [] };

  test('when its own export is still in flight, the state is left as it is (not watched twice)', () => {
    const state: GroupState = { ...emptyState(), inFlight: exportOfA, exportAttempts: { a: 1 } };
    expect(applyOutcome(state, commitOfA, 'refused', NOW)).toEqual(state);
  });

  test('an export already watched is watched once, after the other watched attempts', () => {
    const other: InFlightExport = { ...exportOfA, snapshotName: 'b', exportName: 'ceb-orders-xb-attempt1' };
    const running: InFlightExport = { ...exportOfA, snapshotName: 'c', exportName: 'ceb-orders-xc-attempt1' };
    const state: GroupState = { ...emptyState(), inFlight: running, lateAttempts: [exportOfA, other], exportAttempts: { a: 1, b: 1, c: 1 } };
    const after = applyOutcome(state, commitOfA, 'refused', NOW);
    expect((after.lateAttempts ?? []).map((a) => a.exportName)).toEqual([other.exportName, exportOfA.exportName]);
  });
});
