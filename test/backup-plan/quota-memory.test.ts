/**
 * Issue 10: the plan's memory of the per-node quota. Found by the adversarial simulation ("everything": 153 refusals
 * in 2 days): a lost state forgot the export calls of the last 24 h, and after each refusal the plan tried again with
 * the same count, to be refused every 30 minutes until the forgotten calls aged out. Now a refusal records the uses
 * the plan could not see, and a fresh state records the export calls again from the export objects.
 * The oracles are the test's own: counts of calls and records built from the inputs it chose.
 */
import { MemoryIo } from './support/memory-io';
import { DAY, G, MIN, minutesAgo, NOW, observedCommitted, planBackupMinutesAgo, stateRecordingCreates } from './support/planner-fixtures';
import { planExportName } from '../../lib/backup-plan/constants';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, ObjectInfo, ObservedGroup, plan as planWithRandom, StartExportAction,
} from '../../lib/backup-plan/planner';
import { manualBackupsInWindow } from '../../lib/backup-plan/planner/context';
import { planExportObjectPrefix, withRebuiltExportCalls } from '../../lib/backup-plan/planner/ownership-rules';
import { reconcileGroup } from '../../lib/backup-plan/reconcile-core';
import { parseState, serializeState } from '../../lib/backup-plan/state';

const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 135 * 60, exportAutomated: false,
};
const plan = (obs: ObservedGroup, now: Date = NOW): Decision => planWithRandom(obs, CONFIG, now, DEFAULT_SETTINGS, () => 'abcdefgh');

describe('a refusal for the quota: the uses the plan could not see count for 24 hours', () => {
  // 16 of the plan's backups in the last 24 h, every one exported (so nothing is to export) and the newest 80 minutes old
  // (so a backup is due): 4 slots free by the plan's count.
  const backups = Array.from({ length: 16 }, (_, i) => planBackupMinutesAgo(80 + i * 75));
  const state = stateRecordingCreates(backups);

  test('the backup is created with the free slots it counted; refused, the state records that many hidden uses', () => {
    const d = plan(observedCommitted(backups, state));
    const create = d.actions.find((a) => a.kind === 'CreateSnapshot');
    expect(create).toMatchObject({ kind: 'CreateSnapshot', quotaFreeBefore: 4 });
    const refused = applyOutcome(d.state, create!, 'quota-exceeded', NOW, 'SnapshotQuotaExceededFault');
    expect(refused.quotaRefusals).toEqual([{ at: NOW.toISOString(), hidden: 4 }]);
  });

  test('after the refusal no call is made until the refusal is 24 hours old (plus the margin), then backups resume', () => {
    const refusedState: GroupState = { ...state, quotaRefusals: [{ at: NOW.toISOString(), hidden: 4 }] };
    const later = (minutes: number) => new Date(NOW.getTime() + minutes * MIN);
    // Up to 4 hours later all 16 backups are still in the window (the oldest was 1,205 minutes old): 16 + 4 hidden = 20.
    for (const m of [65, 120, 240]) {
      const d = plan(observedCommitted(backups, refusedState), later(m));
      expect(d.actions.filter((a) => a.kind === 'CreateSnapshot')).toEqual([]);
    }
    // 5 hours later the oldest backup is out of the window (24 h + the 10-minute margin): 15 + 4 = 19, one slot free.
    expect(plan(observedCommitted(backups, refusedState), later(300)).actions.map((a) => a.kind)).toEqual(['CreateSnapshot']);
    // Once every backup above and the refusal are past the window, the backup is created.
    const dayLater = new Date(NOW.getTime() + DAY + DEFAULT_SETTINGS.quotaMarginSeconds * 1000 + MIN);
    const d = plan(observedCommitted([], refusedState), dayLater);
    expect(d.actions.map((a) => a.kind)).toEqual(['CreateSnapshot']);
  });

  test('the count adds the largest hidden count of the refusals in the window, not their sum', () => {
    const refusals = [
      { at: minutesAgo(60).toISOString(), hidden: 2 }, { at: minutesAgo(30).toISOString(), hidden: 3 },
      { at: minutesAgo(25 * 60).toISOString(), hidden: 9 },
    ];
    const n = manualBackupsInWindow(observedCommitted([], emptyState()), { ...emptyState(), quotaRefusals: refusals }, NOW, DEFAULT_SETTINGS);
    expect(n).toBe(3);
  });

  test('a refused export records its hidden uses too, and learns that exports count', () => {
    const action: StartExportAction = { kind: 'StartExport', snapshotName: 's', exportName: 'x', attempt: 1, reissue: false, quotaFreeBefore: 2 };
    const before: GroupState = {
      ...emptyState(),
      exportAttempts: { s: 1 },
      inFlight: { snapshotName: 's', snapshotSource: 'manual', snapshotCreateTime: minutesAgo(10).toISOString(), shardCount: 1, exportName: 'x', attempt: 1, startedAt: NOW.toISOString(), confirmed: false },
    };
    const after = applyOutcome(before, action, 'quota-exceeded', NOW, 'SnapshotQuotaExceededFault');
    expect({ learned: after.exportsCountAgainstQuota, refusals: after.quotaRefusals })
      .toEqual({ learned: true, refusals: [{ at: NOW.toISOString(), hidden: 2 }] });
  });

  test('the records survive the state file: written, read back, validated', () => {
    const s: GroupState = { ...emptyState(), quotaRefusals: [{ at: NOW.toISOString(), hidden: 4 }] };
    expect(parseState(serializeState(s)).quotaRefusals).toEqual([{ at: NOW.toISOString(), hidden: 4 }]);
    expect(() => parseState(serializeState({ ...s, quotaRefusals: [{ at: NOW.toISOString(), hidden: 0 }] }))).toThrow(/hidden/);
  });
});

describe('a fresh state: the export calls of the last 24 hours recorded again from the export objects', () => {
  const exportName = (minutes: number, suffix: string) => planExportName(G, minutesAgo(minutes), suffix);
  const object = (key: string, minutes: number): ObjectInfo => ({ key, sizeBytes: 10, lastModified: minutesAgo(minutes) });
  const a = exportName(100, 'aaaaaaaa');
  const b = exportName(300, 'bbbbbbbb');
  const old = exportName(2000, 'cccccccc');
  const objects = [
    object(`${a}-0001.rdb`, 90), object(`${a}-0002.rdb`, 85), // one export of two shards: one record, at its newest object
    object(`${b}-0001.rdb`, 290),
    object(`${old}-0001.rdb`, 1990), // older than the window
    object(`${a}-0001.rdb.tmp`, 80), // not a shard file
    object(`${exportName(50, 'dddddddd').replace(planExportObjectPrefix(G), 'somebody-else-x')}-0001.rdb`, 40),
  ];

  test('one record per export name, at the newest LastModified of its shard objects, within the window only', () => {
    const s = withRebuiltExportCalls(emptyState(), G, objects, NOW.getTime() - DAY);
    expect(s.exportCalls).toEqual([{ name: b, at: minutesAgo(290).toISOString() }, { name: a, at: minutesAgo(85).toISOString() }]);
  });

  test('calls already recorded are kept and not recorded twice', () => {
    const recorded: GroupState = { ...emptyState(), exportCalls: [{ name: a, at: minutesAgo(95).toISOString() }] };
    const s = withRebuiltExportCalls(recorded, G, objects, NOW.getTime() - DAY);
    expect(s.exportCalls).toEqual([{ name: a, at: minutesAgo(95).toISOString() }, { name: b, at: minutesAgo(290).toISOString() }]);
  });

  test('the reconciler lists the export objects once when its state is absent, and persists the records', async () => {
    // ElastiCache without snapshots (the group is modifying, so no call is expected) and the bucket with the export objects.
    const io = new MemoryIo({
      groupStatus: 'modifying',
      refuse: {
        createSnapshot: new Error('not expected: the group is modifying'),
        copySnapshot: new Error('not expected: nothing to export'),
        deleteSnapshot: new Error('not expected: nothing to prune'),
      },
    });
    objects.forEach((o) => io.putListed(o));
    const r = await reconcileGroup(io, CONFIG, { planId: 'plan-a', now: () => NOW, random: () => 'eeeeeeee' });
    expect(io.listed.filter((p) => p === planExportObjectPrefix(G))).toHaveLength(1);
    expect(r.state.exportCalls?.map((x) => x.name)).toEqual(expect.arrayContaining([a, b]));
    expect(r.decision.notes.join('\n')).toMatch(/recorded 2 export call\(s\) of the last 24 h again/);

    // The next run reads that state: it does not list them again.
    io.listed.length = 0;
    await reconcileGroup(io, CONFIG, { planId: 'plan-a', now: () => new Date(NOW.getTime() + 5 * MIN), random: () => 'ffffffff' });
    expect(io.listed.filter((p) => p === planExportObjectPrefix(G))).toHaveLength(0);
  });
});
