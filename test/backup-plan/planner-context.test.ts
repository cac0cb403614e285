/**
 * The planner's derived view of one run (planner/context.ts): the quota window and its exact boundaries, what the
 * plan remembers between runs and when it forgets it (CreateSnapshot and CopySnapshot calls, quota refusals, export
 * attempts and failures, distrusted manifests, timed-out attempts still watched, backoffs), which statuses mean an
 * operation runs on a snapshot, which snapshots are available, and which backups postpone the next one. Found by
 * mutation testing (survivors in planner/context.ts: `>` against `>=`, a status test left out, a horizon shifted).
 * The oracle is the test's own arithmetic on the documented defaults (quota window 24 h plus the 600 s margin; calls
 * kept one hour longer than that; a CreateSnapshot call not yet listed counts for 15 minutes; timeout 3600 s; late
 * attempts watched for a day), never the planner's own predicates.
 */
import {
  DAY, G, HOUR, keyOf, kinds, MIN, msAgo as at, NOW, observed, observedCommitted, snapshotAt as mine, stateRecordingCreates,
} from './support/planner-fixtures';
import {
  CreateSnapshotAction, Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, InFlightExport, manualBackupsInWindow,
  ObservedGroup, ObservedSnapshot, plan, StartExportAction,
} from '../../lib/backup-plan/planner';

/** Documented: manual backups count for 24 hours plus the 600 s clock skew margin. */
const WINDOW_MS = DAY + 600 * 1000;
/** The plan keeps its calls and refusals one hour longer than the quota window, then forgets them. */
const KEPT_MS = WINDOW_MS + HOUR;
/** A backup every hour, kept a week; only backups the plan created are exported. */
const HOURLY: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 60 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 120 * 60, exportAutomated: false,
};
/** No backups of its own (export only), so that no CreateSnapshot call is added to what the plan remembers. */
const EXPORT_ONLY: GroupConfig = { replicationGroupId: G, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 120 * 60, exportAutomated: false };

const decide = (obs: ObservedGroup, config: GroupConfig = HOURLY, now: Date = NOW): Decision => plan(obs, config, now, DEFAULT_SETTINGS, () => 'abcdefgh');
const iso = (d: Date): string => d.toISOString();
const created = (d: Decision) => d.actions.filter((a): a is CreateSnapshotAction => a.kind === 'CreateSnapshot');
const exported = (d: Decision) => d.actions.filter((a): a is StartExportAction => a.kind === 'StartExport').map((a) => a.snapshotName);
const count = (obs: ObservedGroup, state: GroupState) => manualBackupsInWindow(obs, state, NOW, DEFAULT_SETTINGS);

/** A confirmed export of `s` started at `startedAt`. */
function flightOf(s: ObservedSnapshot, startedAt: Date, exportName = 'orders-export-1'): InFlightExport {
  return {
    snapshotName: s.name,
    snapshotSource: s.source,
    snapshotCreateTime: iso(s.createTime!),
    shardCount: 1,
    exportName,
    attempt: 1,
    startedAt: iso(startedAt),
    confirmed: true,
  };
}

describe('the quota window: 24 hours plus the margin, the oldest instant excluded', () => {
  test('a manual snapshot taken exactly at the window start does not count; one millisecond later it does', () => {
    const outside = mine('orders-manual-outside', at(WINDOW_MS), { createdByPlan: false });
    const inside = mine('orders-manual-inside', at(WINDOW_MS - 1), { createdByPlan: false });
    expect(count(observed({ snapshots: [outside, inside] }), emptyState())).toBe(1);
  });

  test('automatic backups do not count against the manual-backup quota', () => {
    const automated = mine('automatic.orders-2026-03-10', at(HOUR), { source: 'automated', createdByPlan: false });
    const manual = mine('orders-manual', at(HOUR), { createdByPlan: false });
    expect(count(observed({ snapshots: [automated, manual] }), emptyState())).toBe(1);
  });

  test('a CreateSnapshot call exactly at the window start does not count; one millisecond later it does', () => {
    const state = { ...emptyState(), created: [{ name: 'orders-a', at: iso(at(WINDOW_MS)) }, { name: 'orders-b', at: iso(at(WINDOW_MS - 1)) }] };
    expect(count(observed(), state)).toBe(1);
  });

  test('once exports count, an export call counts only inside the window (not at its start, nor days before)', () => {
    const exportCalls = [
      { name: 'orders-x-old', at: iso(at(2 * DAY)) },
      { name: 'orders-x-start', at: iso(at(WINDOW_MS)) },
      { name: 'orders-x-inside', at: iso(at(WINDOW_MS - 1)) },
    ];
    expect(count(observed(), { ...emptyState(), exportCalls, exportsCountAgainstQuota: true })).toBe(1);
  });

  test('a quota refusal exactly at the window start no longer adds its hidden uses; one a millisecond later does', () => {
    const quotaRefusals = [{ at: iso(at(WINDOW_MS)), hidden: 5 }, { at: iso(at(WINDOW_MS - 1)), hidden: 2 }];
    expect(count(observed(), { ...emptyState(), quotaRefusals })).toBe(2);
  });

  test('the free slots a CreateSnapshot reports include the plan\'s export calls, even before exports are known to count', () => {
    const exportCalls = [1, 2, 3].map((n) => ({ name: `orders-x-${n}`, at: iso(at(n * HOUR)) }));
    const d = decide(observed({ state: { ...emptyState(), exportCalls } }));
    // 20 per node, less the 3 export calls of the last 3 hours (no backups yet).
    expect(created(d).map((a) => [a.quotaFreeBefore, a.roomWithoutExports])).toEqual([[17, true]]);
  });
});

describe('what the plan remembers between runs, and when it forgets', () => {
  test('a CreateSnapshot call of a snapshot no longer listed is forgotten one hour after it left the quota window', () => {
    const state = { ...emptyState(), created: [{ name: 'orders-forgotten', at: iso(at(KEPT_MS)) }, { name: 'orders-kept', at: iso(at(KEPT_MS - 1)) }] };
    expect(decide(observed({ state }), EXPORT_ONLY).state.created.map((c) => c.name)).toEqual(['orders-kept']);
  });

  test('an export call is forgotten one hour after it left the quota window', () => {
    const exportCalls = [{ name: 'orders-x-forgotten', at: iso(at(KEPT_MS)) }, { name: 'orders-x-kept', at: iso(at(KEPT_MS - 1)) }];
    expect(decide(observed({ state: { ...emptyState(), exportCalls } }), EXPORT_ONLY).state.exportCalls?.map((x) => x.name)).toEqual(['orders-x-kept']);
  });

  test('a quota refusal is forgotten one hour after it left the quota window', () => {
    const quotaRefusals = [{ at: iso(at(KEPT_MS)), hidden: 5 }, { at: iso(at(KEPT_MS - 1)), hidden: 2 }];
    expect(decide(observed({ state: { ...emptyState(), quotaRefusals } }), EXPORT_ONLY).state.quotaRefusals).toEqual([quotaRefusals[1]]);
  });

  test('export attempts and failures are kept for listed snapshots and the one in flight, forgotten for snapshots gone', () => {
    const listed = mine('orders-listed', at(2 * HOUR));
    const unlistedInFlight = mine('orders-in-flight', at(HOUR));
    const failure = { failures: 1, lastError: 'ExportTimedOut', at: iso(at(HOUR)) };
    const state: GroupState = {
      ...stateRecordingCreates([listed]),
      inFlight: flightOf(unlistedInFlight, at(10 * MIN)),
      exportAttempts: { 'orders-listed': 2, 'orders-in-flight': 1, 'orders-gone': 3 },
      exportFailures: { 'orders-listed': failure, 'orders-in-flight': failure, 'orders-gone': failure },
    };
    const d = decide(observedCommitted([listed], state), EXPORT_ONLY);
    expect(d.state.inFlight?.snapshotName).toBe('orders-in-flight');
    expect(d.state.exportAttempts).toEqual({ 'orders-listed': 2, 'orders-in-flight': 1 });
    expect(d.state.exportFailures).toEqual({ 'orders-listed': failure, 'orders-in-flight': failure });
  });

  test('a distrusted manifest that is no longer listed is forgotten; a listed one stays distrusted', () => {
    const listedKey = `manifests/${G}/20260309t120000z_orders-a.json`;
    const goneKey = `manifests/${G}/20260308t120000z_orders-b.json`;
    const d = decide(observed({ manifestKeys: [listedKey], state: { ...emptyState(), distrustedManifests: [listedKey, goneKey] } }), EXPORT_ONLY);
    expect(d.state.distrustedManifests).toEqual([listedKey]);
  });

  test('a timed-out attempt is watched while its snapshot is listed, uncommitted and the attempt less than a day old', () => {
    const watched = mine('orders-watched', at(2 * DAY));
    const committed = mine('orders-committed', at(3 * DAY));
    const gone = mine('orders-gone', at(2 * DAY));
    const lateAttempts = [
      flightOf(watched, at(DAY - 1), 'orders-x-watched'),
      flightOf(watched, at(DAY), 'orders-x-day-old'),
      flightOf(gone, at(HOUR), 'orders-x-gone'),
      flightOf(committed, at(HOUR), 'orders-x-committed'),
    ];
    const obs = observed({
      snapshots: [watched, committed],
      manifestKeys: [keyOf(committed)],
      state: { ...stateRecordingCreates([watched, committed]), lateAttempts },
    });
    expect(decide(obs, EXPORT_ONLY).state.lateAttempts?.map((a) => a.exportName)).toEqual(['orders-x-watched']);
  });
});

describe('backoffs end at their time', () => {
  test('a throttle backoff until exactly now is over: the plan acts and forgets it; one until a millisecond later holds', () => {
    const over = decide(observed({ state: { ...emptyState(), backoffUntil: iso(NOW) } }));
    expect(kinds(over)).toEqual(['CreateSnapshot']);
    expect(over.state.backoffUntil).toBeUndefined();
    expect(over.notes.join('\n')).not.toMatch(/backing off/);
    const holding = decide(observed({ state: { ...emptyState(), backoffUntil: iso(at(-1)) } }));
    expect(kinds(holding)).toEqual([]);
    expect(holding.state.backoffUntil).toBe(iso(at(-1)));
  });

  test('a create backoff until exactly now is over: the due backup is created', () => {
    expect(kinds(decide(observed({ state: { ...emptyState(), createBackoffUntil: iso(NOW) } })))).toEqual(['CreateSnapshot']);
    expect(kinds(decide(observed({ state: { ...emptyState(), createBackoffUntil: iso(at(-1)) } })))).toEqual([]);
  });

  test('an export backoff until exactly now is over: the unexported backup is exported', () => {
    const s = mine('orders-unexported', at(10 * MIN));
    const obs = (exportBackoffUntil: string) => observed({ snapshots: [s], state: stateRecordingCreates([s], { exportBackoffUntil }) });
    expect(exported(decide(obs(iso(NOW)), EXPORT_ONLY))).toEqual([s.name]);
    expect(exported(decide(obs(iso(at(-1))), EXPORT_ONLY))).toEqual([]);
  });
});

describe('snapshot statuses', () => {
  test.each(['failed', 'deleting'])('an export in flight times out when its source is %s (no operation runs on it)', (status) => {
    const source = mine('orders-source', at(3 * HOUR), { status });
    // Started 2 hours ago: past the 3600 s timeout.
    const state = stateRecordingCreates([source], { inFlight: flightOf(source, at(2 * HOUR)), exportAttempts: { [source.name]: 1 } });
    const d = decide(observed({ snapshots: [source], state }), EXPORT_ONLY);
    expect(d.state.inFlight).toBeUndefined();
    expect(d.notes.join('\n')).toMatch(/timed out after 3600 s/);
  });

  test('an export in flight past its timeout is still waited for while its source is copying', () => {
    const source = mine('orders-source', at(3 * HOUR), { status: 'copying' });
    const state = stateRecordingCreates([source], { inFlight: flightOf(source, at(2 * HOUR)), exportAttempts: { [source.name]: 1 } });
    const d = decide(observed({ snapshots: [source], state }), EXPORT_ONLY);
    expect(d.state.inFlight?.exportName).toBe('orders-export-1');
    expect(d.notes.join('\n')).toMatch(/past its timeout.*still waiting/);
  });

  test('a failed backup listed with a create time is neither exported nor taken as the newest backup', () => {
    const failed = mine('orders-failed', at(10 * MIN), { status: 'failed' });
    const d = decide(observed({ snapshots: [failed], state: stateRecordingCreates([failed]) }), EXPORT_ONLY);
    expect(exported(d)).toEqual([]);
    expect(d.metrics.backupAgeSeconds).toBeUndefined();
  });
});

describe('which backups postpone the next one', () => {
  /** The plan's committed backup of 2 hours ago: with an hourly interval a backup is due. */
  const older = mine('orders-plan-older', at(2 * HOUR));

  test.each(['failed', 'deleting'])('a backup of the plan that is %s does not postpone the next backup', (status) => {
    const recent = mine('orders-plan-recent', at(30 * MIN), { status });
    // The recent one's CreateSnapshot call is 30 minutes old: past the 15-minute cooldown after a failed backup.
    const d = decide(observed({ snapshots: [older, recent], manifestKeys: [keyOf(older)], state: stateRecordingCreates([older, recent]) }));
    expect(kinds(d)).toEqual(['CreateSnapshot']);
  });

  test('the plan\'s CreateSnapshot call not yet listed postpones the next backup for 15 minutes, not longer', () => {
    const withCall = (callAt: Date) => decide(observedCommitted([older], stateRecordingCreates([older], {
      created: [{ name: older.name, at: iso(older.createTime!) }, { name: 'orders-plan-unlisted', at: iso(callAt) }],
    })));
    expect(kinds(withCall(at(15 * MIN - 1)))).toEqual([]);
    expect(kinds(withCall(at(5 * MIN)))).toEqual([]);
    expect(kinds(withCall(at(15 * MIN)))).toEqual(['CreateSnapshot']);
  });

  test('a refused CreateSnapshot call does not postpone the next backup', () => {
    const d = decide(observedCommitted([older], stateRecordingCreates([older], {
      created: [{ name: older.name, at: iso(older.createTime!) }, { name: 'orders-plan-refused', at: iso(at(5 * MIN)), refused: true }],
    })));
    expect(kinds(d)).toEqual(['CreateSnapshot']);
  });

  test('a backup being created counts as taken now: the backfill window (first half of the interval) is open', () => {
    const config = { ...HOURLY, intervalSeconds: 120 * 60 };
    const newest = mine('orders-plan-newest', at(90 * MIN));
    const unexported = mine('orders-plan-unexported', at(200 * MIN));
    const creating = mine('orders-plan-creating', undefined);
    const state = stateRecordingCreates([newest, unexported]);
    const world = (snapshots: ObservedSnapshot[]) => observed({ snapshots, manifestKeys: [keyOf(newest)], state });
    expect(exported(decide(world([newest, unexported, creating]), config))).toEqual([unexported.name]);
    // Without it the newest backup is 90 minutes old, past half of the 120-minute interval: no backfill.
    expect(exported(decide(world([newest, unexported]), config))).toEqual([]);
  });
});
