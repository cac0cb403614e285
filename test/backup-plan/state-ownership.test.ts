/**
 * Which plan-named snapshots are this plan's (lib/backup-plan/planner/ownership-rules.ts, pure): which ones to check,
 * how the tags are judged, and how `created` is rebuilt.
 */
import { planSnapshotName } from '../../lib/backup-plan/constants';
import {
  forgetUnverifiedOwnership, judgeOwnership, snapshotsToCheck, withRebuiltCreated,
} from '../../lib/backup-plan/planner/ownership-rules';
import { emptyState, ObservedSnapshot } from '../../lib/backup-plan/planner/types';

const G = 'orders';
const T0 = new Date('2026-03-10T12:00:00Z');
const named = (minutesAgo: number) => planSnapshotName(G, new Date(T0.getTime() - minutesAgo * 60_000));
const snap = (name: string, over: Partial<ObservedSnapshot> = {}): ObservedSnapshot => ({
  name, source: 'manual', status: 'available', createTime: T0, createdByPlan: true, shardCount: 1, ...over,
});

describe('snapshotsToCheck', () => {
  test('only manual, plan-named snapshots of this group the state does not record (not being deleted)', () => {
    const recorded = named(10);
    const snapshots = [
      snap(recorded), snap(named(20)), snap(named(30), { status: 'deleting' }), snap(named(40), { source: 'automated' }),
      snap('someones-backup'), snap(planSnapshotName('payments', T0)), snap(`${G}-plan-20260310t100000z`),
    ];
    const state = { ...emptyState(), created: [{ name: recorded, at: T0.toISOString() }] };
    expect(snapshotsToCheck(G, snapshots, state, T0)).toEqual([named(20), `${G}-plan-20260310t100000z`].sort());
  });

  test('past the limit, the runs of successive minutes reach every snapshot', () => {
    const names = Array.from({ length: 7 }, (_, i) => named(i + 1));
    const seen = new Set<string>();
    for (let minute = 0; minute < 4; minute++) {
      const batch = snapshotsToCheck(G, names.map((n) => snap(n)), emptyState(), new Date(T0.getTime() + minute * 60_000), 3);
      expect(batch).toHaveLength(3);
      batch.forEach((n) => seen.add(n));
    }
    expect(seen.size).toBe(7);
  });
});

describe('judgeOwnership', () => {
  test('sorts the tags into this plan\'s, untagged (absent or empty) and another plan\'s', () => {
    expect(judgeOwnership('p1', [
      { snapshotName: 'a', planTag: 'p1' }, { snapshotName: 'b', planTag: undefined }, { snapshotName: 'c', planTag: '' },
      { snapshotName: 'd', planTag: 'p2' },
    ])).toEqual({ ours: ['a'], untagged: ['b', 'c'], foreign: [{ snapshotName: 'd', planId: 'p2' }] });
  });
});

describe('rebuilding created', () => {
  test('adds a record per snapshot of this plan at its snapshot time (now while it has none), keeping existing ones', () => {
    const state = { ...emptyState(), created: [{ name: 'kept', at: '2026-03-01T00:00:00.000Z', refused: true }] };
    const taken = new Date('2026-03-10T10:00:00Z');
    const rebuilt = withRebuiltCreated(state, ['kept', 'a', 'b'], [snap('a', { createTime: taken }), snap('b', { createTime: undefined })], T0);
    expect(rebuilt.created).toEqual([
      { name: 'kept', at: '2026-03-01T00:00:00.000Z', refused: true }, { name: 'a', at: taken.toISOString() }, { name: 'b', at: T0.toISOString() },
    ]);
    expect(withRebuiltCreated(state, ['kept'], [], T0)).toBe(state);
  });

  test('an adopted legacy state drops its records of listed plan-named snapshots (to be checked) and keeps the others', () => {
    const listed = named(10);
    const state = { ...emptyState(), created: [{ name: listed, at: T0.toISOString() }, { name: named(5), at: T0.toISOString() }] };
    expect(forgetUnverifiedOwnership(G, state, [snap(listed)]).created.map((c) => c.name)).toEqual([named(5)]);
    expect(forgetUnverifiedOwnership(G, state, [])).toBe(state);
  });
});
