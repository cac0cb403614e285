/**
 * Which plan-named snapshots the reconciler checks the tag of, in what order, what it says when two plans protect one
 * group, which export calls a fresh state records again, and which records an adopted legacy state forgets
 * (planner/ownership-rules.ts, pure). Found by mutation testing (survivors in planner/ownership-rules.ts: a sort left
 * out, the limit's boundary, the examples not bounded, the window's start included, every listed name forgotten).
 * The oracle is the test's own arithmetic (name order, a window that excludes its start, as the quota count does) and
 * the documented message (three examples at most), never the module's own predicates.
 */
import { planSnapshotName } from '../../lib/backup-plan/constants';
import {
  foreignPlanMessage, forgetUnverifiedOwnership, snapshotsToCheck, withRebuiltExportCalls,
} from '../../lib/backup-plan/planner/ownership-rules';
import { emptyState, ObjectInfo, ObservedSnapshot } from '../../lib/backup-plan/planner/types';
import { planExportName } from '../../lib/manifest/names';

const G = 'orders';
const T0 = new Date('2026-03-10T12:00:00Z');
const MINUTE = 60_000;
const named = (minutesAgo: number) => planSnapshotName(G, new Date(T0.getTime() - minutesAgo * MINUTE));
const snap = (name: string, over: Partial<ObservedSnapshot> = {}): ObservedSnapshot => ({
  name, source: 'manual', status: 'available', createTime: T0, createdByPlan: true, shardCount: 1, ...over,
});

describe('which snapshots get their tag checked', () => {
  test('within the limit, every unrecorded plan-named snapshot is checked, in name order, in every minute', () => {
    const names = [named(1), named(2), named(3)];
    const sorted = [...names].sort();
    // Listed newest first (the reverse of name order), and again in another order.
    for (const listing of [names, [names[1], names[2], names[0]]]) {
      for (let minute = 0; minute < 3; minute++) {
        const now = new Date(T0.getTime() + minute * MINUTE);
        expect(snapshotsToCheck(G, listing.map((n) => snap(n)), emptyState(), now)).toEqual(sorted);
      }
    }
  });
});

describe('two plans protect one group', () => {
  test('the message counts every backup tagged by another plan but names three of them at most', () => {
    const foreign = [1, 2, 3, 4, 5].map((i) => ({ snapshotName: named(i), planId: 'other-plan' }));
    const message = foreignPlanMessage(G, 'this-plan', foreign);
    expect(message).toContain('5 backup(s)');
    for (const f of foreign.slice(0, 3)) {
      expect(message).toContain(`${f.snapshotName} (tagged other-plan)`);
    }
    for (const f of foreign.slice(3)) {
      expect(message).not.toContain(f.snapshotName);
    }
  });
});

describe('a fresh state: export calls recorded again from the export objects', () => {
  test('an export object modified exactly at the window start is left out; one millisecond later it is recorded', () => {
    const sinceMs = T0.getTime() - 25 * 60 * MINUTE;
    const atStart = planExportName(G, new Date(sinceMs - 60 * MINUTE), 'aaaaaaaa');
    const justAfter = planExportName(G, new Date(sinceMs - 30 * MINUTE), 'bbbbbbbb');
    const objects: ObjectInfo[] = [
      { key: `${atStart}-0001.rdb`, sizeBytes: 10, lastModified: new Date(sinceMs) },
      { key: `${justAfter}-0001.rdb`, sizeBytes: 10, lastModified: new Date(sinceMs + 1) },
    ];
    expect(withRebuiltExportCalls(emptyState(), G, objects, sinceMs).exportCalls).toEqual([
      { name: justAfter, at: new Date(sinceMs + 1).toISOString() },
    ]);
  });
});

describe('an adopted legacy state', () => {
  test('a record of a listed snapshot that is not plan-named is kept (its tag is never checked, so it could not be rebuilt)', () => {
    const state = { ...emptyState(), created: [{ name: 'handmade-backup', at: T0.toISOString() }] };
    expect(forgetUnverifiedOwnership(G, state, [snap('handmade-backup')])).toBe(state);
  });
});
