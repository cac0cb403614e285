/**
 * Issue 10, findings 3, 4, 5 (the planner's side) and 7: due time, future times, clock skew, failure signals, refused
 * deletions. Every oracle here is the test's own: it counts the actions and names the planner returns, and builds the
 * world (snapshots, manifest keys) itself.
 */
import { DAY, G, HOUR, keyOf, kinds, MIN, minutesAgo, msAgo, NOW, observed, snapshotAt, stateRecordingCreates } from './support/planner-fixtures';
import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, DeleteSnapshotAction, emptyState, GroupConfig, GroupState, InFlightExport, ObservedGroup,
  ObservedSnapshot, plan as planWithRandom, PlannerSettings, StartExportAction,
} from '../../lib/backup-plan/planner';

const plan = (obs: ObservedGroup, config: GroupConfig, now: Date = NOW, settings: PlannerSettings = DEFAULT_SETTINGS): Decision =>
  planWithRandom(obs, config, now, settings, () => 'abcdefgh');
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 135 * 60, exportAutomated: true,
};
const EXPORT_ONLY: GroupConfig = { ...CONFIG, intervalSeconds: undefined };
const count = (d: Decision, kind: string) => d.actions.filter((a) => a.kind === kind).length;
const deleted = (d: Decision) => d.actions.filter((a): a is DeleteSnapshotAction => a.kind === 'DeleteSnapshot').map((a) => a.snapshotName);

const foreign = (name: string, createTime: Date | undefined) => snapshotAt(name, createTime, { createdByPlan: false });
const automatic = (name: string, createTime: Date) => snapshotAt(name, createTime, { source: 'automated', createdByPlan: false });

describe('due time: measured from the newest snapshot the plan exports (finding 3)', () => {
  const mine = snapshotAt('orders-plan-a', minutesAgo(80));

  test('a manual backup taken by someone else does not postpone the plan\'s backup', () => {
    const snapshots = [mine, foreign('user-hourly', minutesAgo(10))];
    const d = plan(observed({ snapshots, manifestKeys: [keyOf(mine)], state: stateRecordingCreates([mine]) }), CONFIG);
    expect(d.actions).toContainEqual(expect.objectContaining({ kind: 'CreateSnapshot', snapshotName: planSnapshotName(G, NOW) }));
  });

  test('with exportAutomatedBackups false, the daily automatic backup does not reset the interval', () => {
    const config = { ...CONFIG, exportAutomated: false };
    const snapshots = [mine, automatic('automatic.orders-001-x', minutesAgo(10))];
    const d = plan(observed({ snapshots, manifestKeys: [keyOf(mine)], state: stateRecordingCreates([mine]) }), config);
    expect(count(d, 'CreateSnapshot')).toBe(1);
    // ... and the automatic backup is not exported.
    expect(count(d, 'StartExport')).toBe(0);
  });

  test('with exportAutomatedBackups true, a recent automatic backup still counts (it is exported)', () => {
    const auto = automatic('automatic.orders-001-x', minutesAgo(10));
    const d = plan(observed({ snapshots: [mine, auto], manifestKeys: [keyOf(mine), keyOf(auto)], state: stateRecordingCreates([mine]) }), CONFIG);
    expect(count(d, 'CreateSnapshot')).toBe(0);
  });

  test('an available snapshot listed without a create time is not "taken now" forever', () => {
    const timeless = snapshotAt('orders-plan-timeless', undefined, { status: 'available' });
    const d = plan(observed({ snapshots: [mine, timeless], manifestKeys: [keyOf(mine)], state: stateRecordingCreates([mine]) }), CONFIG);
    expect(count(d, 'CreateSnapshot')).toBe(1);
    expect(d.notes.join('\n')).toContain('orders-plan-timeless');
  });

  test('a failed snapshot without a time is ignored; one of the plan\'s own being created is in progress', () => {
    const failed = snapshotAt('orders-plan-failed', undefined, { status: 'failed' });
    expect(count(plan(observed({ snapshots: [mine, failed], manifestKeys: [keyOf(mine)], state: stateRecordingCreates([mine]) }), CONFIG),
      'CreateSnapshot')).toBe(1);
    const creating = snapshotAt('orders-plan-creating', undefined);
    expect(count(plan(observed({ snapshots: [mine, creating], manifestKeys: [keyOf(mine)], state: stateRecordingCreates([mine]) }), CONFIG),
      'CreateSnapshot')).toBe(0);
  });

  test('a backup whose export attempts are spent does not count as the newest backup', () => {
    const spent = snapshotAt('orders-plan-spent', minutesAgo(10));
    const state = stateRecordingCreates([mine, spent], { exportAttempts: { 'orders-plan-spent': DEFAULT_SETTINGS.maxExportAttempts } });
    expect(count(plan(observed({ snapshots: [mine, spent], manifestKeys: [keyOf(mine)], state }), CONFIG), 'CreateSnapshot')).toBe(1);
  });

  test('over 24 h of hourly backups by someone else (keeping the latest), the plan keeps backing up and exporting', () => {
    // The test's own world: the foreign backup replaces itself every hour; the plan's backups appear when created,
    // and an export commits instantly (its manifest key appears).
    let state = emptyState();
    const snapshots: ObservedSnapshot[] = [];
    const keys: string[] = [];
    let creates = 0;
    let exportsOfMine = 0;
    for (let t = NOW.getTime(); t < NOW.getTime() + DAY; t += 15 * MIN) {
      const now = new Date(t);
      if ((t - NOW.getTime()) % HOUR === 0) {
        const i = snapshots.findIndex((s) => !s.createdByPlan);
        if (i >= 0) {
          snapshots.splice(i, 1);
        }
        snapshots.push(foreign(`user-${t}`, new Date(t - MIN)));
      }
      const d = plan(observed({ snapshots: [...snapshots], manifestKeys: [...keys], state }), CONFIG, now);
      for (const a of d.actions) {
        if (a.kind === 'CreateSnapshot') {
          creates++;
          snapshots.push(snapshotAt(a.snapshotName, now));
        } else if (a.kind === 'StartExport') {
          const s = snapshots.find((x) => x.name === a.snapshotName)!;
          exportsOfMine += s.createdByPlan ? 1 : 0;
          keys.push(keyOf(s));
        }
      }
      state = { ...d.state, inFlight: undefined };
    }
    // 24 h / 75 min = 19.2: one backup every 75 to 90 minutes (15-minute ticks).
    expect(creates).toBeGreaterThanOrEqual(16);
    expect(exportsOfMine).toBe(creates);
  });
});

describe('times in the future (finding 4)', () => {
  const auto = automatic('automatic.orders-001-x', minutesAgo(10));
  const older = automatic('automatic.orders-001-old', minutesAgo(25 * 60));
  const futureKey = `manifests/${G}/29991231t000000z_x.json`;

  test('a manifest key dated in the future does not stop the export of the newest automatic backup', () => {
    const d = plan(observed({ snapshots: [auto, older], manifestKeys: [keyOf(older), futureKey] }), EXPORT_ONLY);
    expect(d.actions).toEqual([expect.objectContaining({ kind: 'StartExport', snapshotName: auto.name })]);
    expect(d.metrics.futureManifests).toBe(1);
    expect(d.notes.join('\n')).toContain(futureKey);
  });

  test('ExportAgeSeconds keeps rising past a future manifest key (the RPO alarm can fire)', () => {
    const d = plan(observed({ snapshots: [older], manifestKeys: [keyOf(older), futureKey] }), EXPORT_ONLY);
    expect(d.metrics.exportAgeSeconds).toBe(25 * 3600);
    const later = plan(observed({ snapshots: [older], manifestKeys: [keyOf(older), futureKey] }), EXPORT_ONLY, new Date(NOW.getTime() + HOUR));
    expect(later.metrics.exportAgeSeconds).toBe(26 * 3600);
  });

  test('a key a little ahead of now (within the clock skew tolerance) still counts as committed', () => {
    const ahead = snapshotAt('orders-plan-ahead', new Date(NOW.getTime() + 2 * MIN));
    const d = plan(observed({ snapshots: [ahead], manifestKeys: [keyOf(ahead)] }), EXPORT_ONLY);
    expect(d.metrics.futureManifests).toBe(0);
    expect(d.metrics.exportAgeSeconds).toBe(0);
    expect(count(d, 'StartExport')).toBe(0);
  });

  test('never prunes before retention plus the clock skew margin', () => {
    const justPast = snapshotAt('orders-plan-just-past', msAgo(DAY + 5 * MIN));
    const wellPast = snapshotAt('orders-plan-well-past', msAgo(DAY + 11 * MIN));
    const newest = snapshotAt('orders-plan-newest', minutesAgo(10));
    const all = [justPast, wellPast, newest];
    const d = plan(observed({ snapshots: all, manifestKeys: all.map(keyOf), state: stateRecordingCreates(all) }), EXPORT_ONLY);
    expect(deleted(d)).toEqual([wellPast.name]);
  });

  test('never prunes while a snapshot is dated ahead of now by more than the margin (reported)', () => {
    const old = snapshotAt('orders-plan-old', msAgo(3 * DAY));
    const future = snapshotAt('orders-plan-future', new Date(NOW.getTime() + 2 * HOUR));
    const both = [old, future];
    const d = plan(observed({ snapshots: both, manifestKeys: both.map(keyOf), state: stateRecordingCreates(both) }), EXPORT_ONLY);
    expect(deleted(d)).toEqual([]);
    expect(d.metrics.pruningHeldForClockSkew).toBe(1);
    expect(d.notes.join('\n')).toContain('orders-plan-future');
  });

  test('the margin is inclusive: a snapshot dated exactly 10 minutes ahead does not hold pruning, one second more does', () => {
    const old = snapshotAt('orders-plan-old', msAgo(3 * DAY));
    const prune = (aheadSeconds: number) => {
      const future = snapshotAt('orders-plan-future', new Date(NOW.getTime() + aheadSeconds * 1000));
      const both = [old, future];
      return plan(observed({ snapshots: both, manifestKeys: both.map(keyOf), state: stateRecordingCreates(both) }), EXPORT_ONLY);
    };
    expect({ deleted: deleted(prune(600)), held: prune(600).metrics.pruningHeldForClockSkew }).toEqual({ deleted: [old.name], held: 0 });
    expect({ deleted: deleted(prune(601)), held: prune(601).metrics.pruningHeldForClockSkew }).toEqual({ deleted: [], held: 1 });
  });

  test('a backup dated exactly 10 minutes before the plan\'s call does not hold pruning, one second earlier does', () => {
    const old = snapshotAt('orders-plan-old', msAgo(DAY + HOUR));
    const withCallAfter = (seconds: number): GroupState => ({
      ...emptyState(), created: [{ name: old.name, at: new Date(old.createTime!.getTime() + seconds * 1000).toISOString() }],
    });
    const held = (seconds: number) => plan(observed({ snapshots: [old], manifestKeys: [keyOf(old)], state: withCallAfter(seconds) }), EXPORT_ONLY)
      .metrics.pruningHeldForClockSkew;
    expect([held(600), held(601)]).toEqual([0, 1]);
  });

  test('a reconciler clock 2 hours ahead does not prune 2 hours early', () => {
    // The service dated the backup 2 h before the (fast) clock of the reconciler that created it.
    const old = snapshotAt('orders-plan-old', msAgo(DAY + HOUR));
    const state: GroupState = { ...emptyState(), created: [{ name: old.name, at: msAgo(DAY - HOUR).toISOString() }] };
    const d = plan(observed({ snapshots: [old], manifestKeys: [keyOf(old)], state }), EXPORT_ONLY);
    expect(deleted(d)).toEqual([]);
    expect(d.metrics.pruningHeldForClockSkew).toBe(1);
    // Without the skew the same backup is pruned.
    const inTime: GroupState = { ...emptyState(), created: [{ name: old.name, at: old.createTime!.toISOString() }] };
    const ok = plan(observed({ snapshots: [old], manifestKeys: [keyOf(old)], state: inTime }), EXPORT_ONLY);
    expect(deleted(ok)).toEqual([old.name]);
    expect(ok.metrics.pruningHeldForClockSkew).toBe(0);
  });
});

describe('export-failure signals match the export name only (finding 5)', () => {
  const s = snapshotAt('orders-plan-a', minutesAgo(100));
  const inFlight: InFlightExport = {
    snapshotName: s.name,
    snapshotSource: 'manual',
    snapshotCreateTime: s.createTime!.toISOString(),
    shardCount: 1,
    exportName: planExportName(G, s.createTime!, 'ourownxx'),
    attempt: 1,
    startedAt: minutesAgo(10).toISOString(),
    confirmed: true,
  };
  const state: GroupState = { ...stateRecordingCreates([s]), inFlight, exportAttempts: { [s.name]: 1 } };

  test('someone else\'s failed export of the same snapshot does not drop the plan\'s export in flight', () => {
    const text = JSON.stringify({ SourceSnapshotName: s.name, TargetSnapshotName: 'someone-elses-copy', Message: `Export of ${s.name} failed` });
    const d = plan(observed({ snapshots: [s], state, exportFailureSignals: [{ text, time: minutesAgo(5) }] }), EXPORT_ONLY);
    expect(d.state.inFlight?.exportName).toBe(inFlight.exportName);
    expect(d.metrics.failures).toBe(0);
    expect(kinds(d)).toEqual([]);
  });

  test('a failure of the plan\'s own export (its TargetSnapshotName) fails it and retries under a new name', () => {
    const text = JSON.stringify({ SourceSnapshotName: s.name, TargetSnapshotName: inFlight.exportName });
    const d = plan(observed({ snapshots: [s], state, exportFailureSignals: [{ text, time: minutesAgo(5) }] }), EXPORT_ONLY);
    expect(d.metrics.failures).toBe(1);
    const start = d.actions.find((a): a is StartExportAction => a.kind === 'StartExport');
    expect(start?.attempt).toBe(2);
    expect(start?.exportName).not.toBe(inFlight.exportName);
  });
});

describe('refused deletions do not starve pruning (finding 7)', () => {
  /** Prunable backups (past retention, committed), oldest first: `n` of them, the first `n` days + i hours old. */
  const prunable = (n: number, prefix: string, ageDays: number) =>
    Array.from({ length: n }, (_, i) => snapshotAt(`orders-plan-${prefix}${i}`, msAgo(ageDays * DAY - i * HOUR)));
  const world = (snapshots: ObservedSnapshot[], state: GroupState) => observed({ snapshots, manifestKeys: snapshots.map(keyOf), state });

  test('exactly maxDeletionsPerRun deletions in a run when more backups are prunable', () => {
    const snaps = prunable(8, 'p', 3);
    const d = plan(world(snaps, stateRecordingCreates(snaps)), EXPORT_ONLY);
    expect(deleted(d)).toHaveLength(DEFAULT_SETTINGS.maxDeletionsPerRun);
    // The oldest first.
    expect(deleted(d)).toEqual(snaps.slice(0, DEFAULT_SETTINGS.maxDeletionsPerRun).map((s) => s.name));
    const two = plan(world(snaps, stateRecordingCreates(snaps)), EXPORT_ONLY, NOW, { ...DEFAULT_SETTINGS, maxDeletionsPerRun: 2 });
    expect(deleted(two)).toHaveLength(2);
  });

  test('five refused deletions take no slot in the next run: the newer backups are pruned', () => {
    const untagged = prunable(5, 'untagged', 5);
    const newer = prunable(3, 'newer', 2);
    const all = [...untagged, ...newer];
    const first = plan(world(all, stateRecordingCreates(all)), EXPORT_ONLY);
    expect(deleted(first)).toEqual(untagged.map((s) => s.name));
    // The reconciler's tag check refuses each of them.
    let state = first.state;
    for (const a of first.actions) {
      state = applyOutcome(state, a, 'refused', NOW, undefined, `snapshot ${(a as DeleteSnapshotAction).snapshotName} is tagged plan=(none)`);
    }
    expect(state.refusedDeletions?.map((r) => r.name)).toEqual(untagged.map((s) => s.name));
    const second = plan(world(all, state), EXPORT_ONLY, new Date(NOW.getTime() + 15 * MIN));
    expect(deleted(second)).toEqual(newer.map((s) => s.name));
    expect(second.metrics.refusedDeletions).toBe(5);
    // Reported once: the refusals are not noted again in later runs.
    expect(second.notes.filter((n) => n.includes('untagged'))).toEqual([]);
  });

  test('a refused deletion is retried once after the retry period, and remembered again when refused again', () => {
    const old = prunable(1, 'refused', 5);
    const d = plan(world(old, stateRecordingCreates(old)), EXPORT_ONLY);
    const refused = applyOutcome(d.state, d.actions[0], 'refused', NOW, 'InvalidSnapshotStateFault');
    expect(refused.refusedDeletions).toEqual([{ name: old[0].name, reason: 'InvalidSnapshotStateFault', at: NOW.toISOString(), refusals: 1 }]);
    const sixDays = new Date(NOW.getTime() + 6 * DAY);
    expect(deleted(plan(world(old, refused), EXPORT_ONLY, sixDays))).toEqual([]);
    const eightDays = new Date(NOW.getTime() + 8 * DAY);
    const retry = plan(world(old, refused), EXPORT_ONLY, eightDays);
    expect(deleted(retry)).toEqual([old[0].name]);
    const again = applyOutcome(retry.state, retry.actions[0], 'refused', eightDays, 'InvalidSnapshotStateFault');
    expect(again.refusedDeletions).toEqual([{ name: old[0].name, reason: 'InvalidSnapshotStateFault', at: eightDays.toISOString(), refusals: 2 }]);
    expect(deleted(plan(world(old, again), EXPORT_ONLY, new Date(eightDays.getTime() + 15 * MIN)))).toEqual([]);
  });

  test('a record is dropped once the deletion succeeds or the snapshot is gone', () => {
    const old = prunable(1, 'x', 5);
    const d = plan(world(old, stateRecordingCreates(old)), EXPORT_ONLY);
    const refused = applyOutcome(d.state, d.actions[0], 'refused', NOW);
    expect(refused.refusedDeletions).toHaveLength(1);
    expect(applyOutcome(refused, d.actions[0], 'ok', NOW).refusedDeletions).toBeUndefined();
    expect(plan(world([], refused), EXPORT_ONLY).state.refusedDeletions).toBeUndefined();
  });
});

describe('plan(): what the rules leave is reported and persisted whole', () => {
  test('a quiet run of an empty group persists exactly the empty state (no empty lists or undefined fields)', () => {
    const d = plan(observed(), EXPORT_ONLY);
    expect(d.actions).toEqual([]);
    expect(d.state).toEqual(emptyState());
    expect(Object.keys(d.state).sort()).toEqual(Object.keys(emptyState()).sort());
    expect(d.metrics).toEqual({
      exportsInFlight: 0,
      failures: 0,
      manualBackupsLast24h: 0,
      unexportedBackups: 0,
      circuitOpen: 0,
      futureManifests: 0,
      refusedDeletions: 0,
      pruningHeldForClockSkew: 0,
    });
    expect(d.backupBlockedByQuota).toBeUndefined();
  });

  test('every remembered field survives a run that changes nothing', () => {
    const s = snapshotAt('orders-plan-a', minutesAgo(30));
    const distrusted = keyOf(s);
    const until = new Date(NOW.getTime() + 10 * MIN).toISOString();
    const state: GroupState = {
      ...stateRecordingCreates([s]),
      exportAttempts: { [s.name]: 1 },
      exportFailures: { [s.name]: { failures: 1, lastError: 'ExportTimedOut', at: minutesAgo(20).toISOString() } },
      exportCalls: [{ name: 'x', at: minutesAgo(25).toISOString() }],
      exportsCountAgainstQuota: true,
      distrustedManifests: [distrusted],
      backoffUntil: until,
      createBackoffUntil: until,
      exportBackoffUntil: until,
      consecutiveThrottles: 2,
      refusedDeletions: [{ name: s.name, reason: 'tag removed', at: minutesAgo(40).toISOString(), refusals: 1 }],
    };
    const d = plan(observed({ snapshots: [s], manifestKeys: [distrusted], state }), CONFIG);
    expect(d.actions).toEqual([]);
    expect(d.state).toEqual(state);
    expect(d.metrics).toMatchObject({ backupAgeSeconds: 30 * 60, refusedDeletions: 1, manualBackupsLast24h: 2 });
  });

  test('a setting given as undefined takes its default', () => {
    const old = snapshotAt('orders-plan-old', msAgo(DAY + 5 * MIN));
    const settings: PlannerSettings = { ...DEFAULT_SETTINGS, clockSkewMarginSeconds: undefined, refusedDeletionRetrySeconds: undefined };
    const obs = observed({ snapshots: [old], manifestKeys: [keyOf(old)], state: stateRecordingCreates([old]) });
    expect(deleted(plan(obs, EXPORT_ONLY, NOW, settings))).toEqual([]);
  });

  test('actions come in execution order: commit, verify, export, create, delete', () => {
    // A plan backup past retention (deleted), the interval passed (create), a fresh automatic backup (export).
    const old = snapshotAt('orders-plan-old', msAgo(3 * DAY));
    const auto = automatic('automatic.orders-001-new', minutesAgo(100));
    const d = plan(observed({ snapshots: [old, auto], manifestKeys: [keyOf(old)], state: stateRecordingCreates([old]) }), CONFIG);
    expect(kinds(d)).toEqual(['StartExport', 'CreateSnapshot', 'DeleteSnapshot']);
  });
});
