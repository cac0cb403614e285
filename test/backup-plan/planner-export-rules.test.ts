/**
 * The export rules at their edges: which late attempt may take the export slot and which attempts stay watched, when a
 * running export is failed, timed out or declared ended, when a verification is asked for again, which snapshot is
 * exported next (fresh, backfill, the backfill window, the quota once exports count), and what the decision reports
 * about it (verification progress, a partial verification, an export past its timeout, a manifest dated in the
 * future, an export given up). Found by mutation testing of planner/export-rules.ts.
 *
 * The oracle is each test's own arithmetic on the documented defaults (export timeout 3600 s, verification timeout
 * 20 minutes, 5 export attempts, 5 minutes of future tolerance for manifest keys, backfill in the first half of the
 * interval) and the rules as the planner's documentation states them; never the planner's own predicates.
 */
import { G, intactResult as intact, HOUR, kinds, MIN, minutesAgo, msAgo, NOW, observed, snapshotAt, snapshotMinutesAgo } from './support/planner-fixtures';
import {
  Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, InFlightExport, ObjectInfo, ObservedGroup, ObservedSnapshot,
  plan as planWithRandom, PlannerSettings, StartExportAction,
} from '../../lib/backup-plan/planner';
import { manifestKey } from '../../lib/manifest/manifest';

const SECOND = 1000;
const SUFFIX = 'mnopqrst';
/** No backups of its own: only the export rules act (and the backfill window is always open). */
const EXPORT_ONLY: GroupConfig = { replicationGroupId: G, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 8100, exportAutomated: true };
const decide = (obs: ObservedGroup, config: GroupConfig = EXPORT_ONLY, now: Date = NOW, settings: PlannerSettings = DEFAULT_SETTINGS): Decision =>
  planWithRandom(obs, config, now, settings, () => SUFFIX);

/** Documented defaults the tests count with. */
const EXPORT_TIMEOUT_MS = 3600 * SECOND;
const VERIFY_TIMEOUT_MS = 20 * MIN;
const FUTURE_TOLERANCE_MS = 5 * MIN;

/** An attempt of exporting snapshot `snapshot` (taken 120 minutes ago), confirmed and started 30 minutes ago. */
function attempt(exportName: string, over: Partial<InFlightExport> = {}, snapshot = 'a'): InFlightExport {
  return {
    snapshotName: snapshot,
    snapshotSource: 'manual',
    snapshotCreateTime: minutesAgo(120).toISOString(),
    shardCount: 1,
    exportName,
    attempt: 1,
    startedAt: minutesAgo(30).toISOString(),
    confirmed: true,
    ...over,
  };
}
/** Shard `n` of an export, written 20 minutes ago. */
const shard = (exportName: string, n = 1, over: Partial<ObjectInfo> = {}): ObjectInfo => ({
  key: `${exportName}-000${n}.rdb`, sizeBytes: 1000, versionId: `v${n}`, etag: `"e${n}"`, lastModified: minutesAgo(20), ...over,
});

const A = snapshotMinutesAgo('a', 120);
const B = snapshotMinutesAgo('b', 90);
const A1 = 'ceb-orders-xa-attempt1';
const A2 = 'ceb-orders-xa-attempt2';
const B1 = 'ceb-orders-xb-attempt1';

/** The state with `inFlight` and `late` attempts, each attempt's snapshot counted once per attempt number. */
function stateOf(inFlight: InFlightExport | undefined, late: InFlightExport[] = [], over: Partial<GroupState> = {}): GroupState {
  const exportAttempts: Record<string, number> = {};
  for (const f of [...late, ...(inFlight ? [inFlight] : [])]) {
    exportAttempts[f.snapshotName] = Math.max(exportAttempts[f.snapshotName] ?? 0, f.attempt);
  }
  return { ...emptyState(), inFlight, lateAttempts: late.length ? late : undefined, exportAttempts, ...over };
}
const watched = (d: Decision): string[] => (d.state.lateAttempts ?? []).map((f) => f.exportName);
const failures = (d: Decision): number => d.metrics.failures;

describe('late attempts: which one takes the export slot, and which stay watched', () => {
  test('a complete late attempt of another snapshot does not displace the export in flight', () => {
    const running = attempt(B1, { snapshotCreateTime: B.createTime!.toISOString(), startedAt: minutesAgo(10).toISOString() }, 'b');
    const lateA = attempt(A1, { startedAt: minutesAgo(100).toISOString() });
    const d = decide(observed({ snapshots: [A, B], state: stateOf(running, [lateA]), exportObjects: [shard(A1)] }));
    expect(d.state.inFlight?.exportName).toBe(B1);
    expect(kinds(d)).toEqual([]);
    expect(watched(d)).toEqual([A1]);
  });

  test('a late attempt whose objects all arrived takes the free slot; the other late attempts stay watched', () => {
    const lateA = attempt(A1, { startedAt: minutesAgo(100).toISOString() });
    const lateB = attempt(B1, { snapshotCreateTime: B.createTime!.toISOString(), startedAt: minutesAgo(80).toISOString() }, 'b');
    const d = decide(observed({ snapshots: [A, B], state: stateOf(undefined, [lateB, lateA]), exportObjects: [shard(A1)] }));
    expect(d.state.inFlight?.exportName).toBe(A1);
    expect(d.actions).toEqual([{ kind: 'VerifyShard', exportName: A1, object: shard(A1), request: 1 }]);
    expect(watched(d)).toEqual([B1]);
  });

  test('an earlier attempt that completes takes over from the running attempt of the same snapshot, which stays watched', () => {
    const lateA = attempt(A1, { startedAt: minutesAgo(100).toISOString() });
    const running = attempt(A2, { attempt: 2, startedAt: minutesAgo(10).toISOString() });
    const d = decide(observed({ snapshots: [A], state: stateOf(running, [lateA]), exportObjects: [shard(A1)] }));
    expect(d.state.inFlight?.exportName).toBe(A1);
    expect(watched(d)).toEqual([A2]);
    expect(d.notes).toContain(`earlier attempt ${A1} of a completed: taking it instead of ${A2}`);
  });

  test('an attempt that times out is watched next to the earlier late attempt of the same snapshot', () => {
    const lateA = attempt(A1, { startedAt: minutesAgo(200).toISOString() });
    const running = attempt(A2, { attempt: 2, startedAt: msAgo(EXPORT_TIMEOUT_MS + MIN).toISOString() });
    const d = decide(observed({ snapshots: [A], state: stateOf(running, [lateA]) }));
    expect(failures(d)).toBe(1);
    expect(watched(d)).toEqual([A1, A2]);
    expect((d.actions[0] as StartExportAction)).toMatchObject({ kind: 'StartExport', snapshotName: 'a', attempt: 3, reissue: false });
  });

  test('committing an export stops watching the late attempts of its snapshot, not those of another snapshot', () => {
    const lateA = attempt(A1, { startedAt: minutesAgo(200).toISOString() });
    const lateB = attempt(B1, { snapshotCreateTime: B.createTime!.toISOString(), startedAt: minutesAgo(80).toISOString() }, 'b');
    const running = attempt(A2, { attempt: 2 });
    const o = shard(A2);
    const d = decide(observed({ snapshots: [A, B], state: stateOf(running, [lateA, lateB]), exportObjects: [o], verificationResults: [intact(o)] }));
    expect(kinds(d)[0]).toBe('CommitManifest');
    expect(watched(d)).toEqual([B1]);
  });
});

describe('verification and commit: what is asked, and what the decision says', () => {
  const key = manifestKey(G, A.createTime!, 'a');

  test('a commit of fully verified shards says so without mentioning partial verification', () => {
    const s1 = shard(A1, 1);
    const s2 = shard(A1, 2);
    const flight = attempt(A1, { shardCount: 2 });
    const d = decide(observed({ snapshots: [A], state: stateOf(flight), exportObjects: [s1, s2], verificationResults: [intact(s1), intact(s2)] }));
    expect(kinds(d)).toEqual(['CommitManifest']);
    expect(d.notes).toContain(`export ${A1} complete and verified: committing ${key}`);
  });

  test('a commit with a shard verified partially (above the size limit) says how many', () => {
    const s1 = shard(A1, 1);
    const s2 = shard(A1, 2);
    const flight = attempt(A1, { shardCount: 2 });
    const results = [intact(s1), intact(s2, { verification: 'partial' })];
    const d = decide(observed({ snapshots: [A], state: stateOf(flight), exportObjects: [s1, s2], verificationResults: results }));
    expect(kinds(d)).toEqual(['CommitManifest']);
    expect(d.notes).toContain(`export ${A1} complete and verified (1 shards partially: above the size limit): committing ${key}`);
  });

  test('a shard whose verification was asked for exactly the verification timeout ago is asked for again', () => {
    const o = shard(A1);
    const askedAgo = (agoMs: number) =>
      attempt(A1, { verifications: [{ key: o.key, versionId: o.versionId, at: msAgo(agoMs).toISOString(), requests: 1 }] });
    const d = decide(observed({ snapshots: [A], state: stateOf(askedAgo(VERIFY_TIMEOUT_MS)), exportObjects: [o] }));
    expect(d.actions).toEqual([{ kind: 'VerifyShard', exportName: A1, object: o, request: 2 }]);
    // One second sooner, it is still awaited.
    expect(kinds(decide(observed({ snapshots: [A], state: stateOf(askedAgo(VERIFY_TIMEOUT_MS - SECOND)), exportObjects: [o] })))).toEqual([]);
  });

  test('the decision says how many shards it asks to verify, or how many results it waits for', () => {
    const s1 = shard(A1, 1);
    const s2 = shard(A1, 2);
    const asked = (o: ObjectInfo) => ({ key: o.key, versionId: o.versionId, at: minutesAgo(5).toISOString(), requests: 1 });
    const run = (flight: InFlightExport) => decide(observed({ snapshots: [A], state: stateOf(flight), exportObjects: [s1, s2] }));

    const none = run(attempt(A1, { shardCount: 2 }));
    expect(kinds(none)).toEqual(['VerifyShard', 'VerifyShard']);
    expect(none.notes).toContain(`export ${A1}: all objects present, verifying 2 shards`);

    const one = run(attempt(A1, { shardCount: 2, verifications: [asked(s1)] }));
    expect(kinds(one)).toEqual(['VerifyShard']);
    expect(one.notes).toContain(`export ${A1}: all objects present, verifying 1 shards`);

    const both = run(attempt(A1, { shardCount: 2, verifications: [asked(s1), asked(s2)] }));
    expect(kinds(both)).toEqual([]);
    expect(both.notes).toContain(`export ${A1}: waiting for 2 shard verifications`);
    expect(both.notes.some((n) => n.includes('verifying'))).toBe(false);
  });
});

describe('an unconfirmed export (CopySnapshot\'s answer never recorded)', () => {
  const unconfirmed = attempt(A1, { confirmed: false, startedAt: minutesAgo(5).toISOString() });

  test('it is re-issued when its own snapshot is idle, whatever the status of another snapshot', () => {
    const beingCreated = snapshotAt('c', undefined);
    const d = decide(observed({ snapshots: [beingCreated, A], state: stateOf(unconfirmed) }));
    expect(d.actions).toEqual([{ kind: 'StartExport', snapshotName: 'a', exportName: A1, attempt: 1, reissue: true }]);
    expect(d.state.inFlight?.confirmed).toBe(false);
  });

  test('it is not re-issued during a throttle backoff nor during an export backoff', () => {
    const until = new Date(NOW.getTime() + 10 * MIN).toISOString();
    const throttled = decide(observed({ snapshots: [A], state: stateOf(unconfirmed, [], { backoffUntil: until }) }));
    expect(kinds(throttled)).toEqual([]);
    expect(throttled.state.inFlight).toEqual(unconfirmed);
    const quotaBackoff = decide(observed({ snapshots: [A], state: stateOf(unconfirmed, [], { exportBackoffUntil: until }) }));
    expect(kinds(quotaBackoff)).toEqual([]);
    expect(quotaBackoff.state.inFlight).toEqual(unconfirmed);
  });
});

describe('a confirmed export without all its objects', () => {
  test('a failure event dated at the very moment of the CopySnapshot call fails the attempt', () => {
    const flight = attempt(A1);
    const signal = { text: `Export of snapshot a to ${A1} failed`, time: new Date(flight.startedAt) };
    const d = decide(observed({ snapshots: [A], state: stateOf(flight), exportFailureSignals: [signal] }));
    expect(failures(d)).toBe(1);
    expect(d.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: 'ExportFailed' });
    // A second earlier, the event is about something before this attempt.
    const earlier = { ...signal, time: new Date(Date.parse(flight.startedAt) - SECOND) };
    expect(failures(decide(observed({ snapshots: [A], state: stateOf(flight), exportFailureSignals: [earlier] })))).toBe(0);
  });

  test('it is timed out only once more than the export timeout has passed since the call', () => {
    const exactly = attempt(A1, { startedAt: msAgo(EXPORT_TIMEOUT_MS).toISOString() });
    const atTimeout = decide(observed({ snapshots: [A], state: stateOf(exactly) }));
    expect(failures(atTimeout)).toBe(0);
    expect(atTimeout.state.inFlight).toEqual(exactly);
    const past = attempt(A1, { startedAt: msAgo(EXPORT_TIMEOUT_MS + 1).toISOString() });
    const timedOut = decide(observed({ snapshots: [A], state: stateOf(past) }));
    expect(timedOut.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: 'ExportTimedOut' });
  });

  test('another snapshot being created does not hold the timeout of an export whose own source is idle', () => {
    const past = attempt(A1, { startedAt: msAgo(EXPORT_TIMEOUT_MS + MIN).toISOString() });
    const creating = snapshotMinutesAgo('c', undefined, { source: 'manual', createdByPlan: false });
    const d = decide(observed({ snapshots: [creating, A], state: stateOf(past) }));
    expect(d.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: 'ExportTimedOut' });
  });

  test('its source never seen busy being available says nothing about the export\'s end', () => {
    const flight = attempt(A1);
    const d = decide(observed({ snapshots: [A], state: stateOf(flight) }));
    expect(d.state.inFlight).toEqual(flight);
    expect(failures(d)).toBe(0);
  });

  test('a source seen busy that is now failed does not end the export: the attempt waits for its timeout', () => {
    const flight = attempt(A1, { sourceBusySeen: true });
    const d = decide(observed({ snapshots: [snapshotMinutesAgo('a', 120, { status: 'failed' })], state: stateOf(flight) }));
    expect(d.state.inFlight).toEqual(flight);
    expect(failures(d)).toBe(0);
  });

  test('the export is declared ended without its objects only by a run after the one that saw the source idle again', () => {
    const sameRun = attempt(A1, { sourceBusySeen: true, sourceIdleSince: NOW.toISOString() });
    const d = decide(observed({ snapshots: [A], state: stateOf(sameRun) }));
    expect(failures(d)).toBe(0);
    expect(d.state.inFlight).toEqual(sameRun);
    const later = attempt(A1, { sourceBusySeen: true, sourceIdleSince: msAgo(1).toISOString() });
    const ended = decide(observed({ snapshots: [A], state: stateOf(later) }));
    expect(ended.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: 'ExportEndedWithoutObjects' });
  });

  test('past its timeout with the source busy, the decision says it still waits; not before the timeout', () => {
    const exporting = snapshotMinutesAgo('a', 120, { status: 'exporting' });
    const run = (startedAgoMs: number, source: ObservedSnapshot = exporting) =>
      decide(observed({ snapshots: [source], state: stateOf(attempt(A1, { startedAt: msAgo(startedAgoMs).toISOString() })) }));
    const pastTimeout = (d: Decision) => d.notes.filter((n) => n.includes('past its timeout'));
    expect(pastTimeout(run(30 * MIN))).toEqual([]);
    expect(pastTimeout(run(30 * MIN, A))).toEqual([]);
    expect(pastTimeout(run(EXPORT_TIMEOUT_MS))).toEqual([]);
    const past = run(EXPORT_TIMEOUT_MS + 1);
    expect(pastTimeout(past)).toEqual([`export ${A1} is past its timeout, but a is exporting: still waiting`]);
    expect(failures(past)).toBe(0);
  });
});

describe('the newest committed export', () => {
  test('a manifest dated exactly the future tolerance after now is trusted; one second later it is ignored and reported', () => {
    const atTolerance = manifestKey(G, new Date(NOW.getTime() + FUTURE_TOLERANCE_MS), 'x');
    const trusted = decide(observed({ manifestKeys: [atTolerance] }));
    expect(trusted.metrics.futureManifests).toBe(0);
    expect(trusted.metrics.exportAgeSeconds).toBe(0);
    const beyond = manifestKey(G, new Date(NOW.getTime() + FUTURE_TOLERANCE_MS + SECOND), 'x');
    const ignored = decide(observed({ manifestKeys: [beyond] }));
    expect(ignored.metrics.futureManifests).toBe(1);
    expect(ignored.metrics.exportAgeSeconds).toBeUndefined();
  });
});

describe('which snapshot is exported next', () => {
  const started = (d: Decision): string[] => d.actions.filter((a): a is StartExportAction => a.kind === 'StartExport').map((a) => a.snapshotName);
  const auto = (name: string, createTime: Date): ObservedSnapshot => snapshotAt(name, createTime, { source: 'automated', createdByPlan: false });
  /** `snapshots`, of which `committed` have their manifest listed. */
  const world = (snapshots: ObservedSnapshot[], committed: ObservedSnapshot[], state: GroupState = emptyState()): ObservedGroup =>
    observed({ snapshots, manifestKeys: committed.map((s) => manifestKey(G, s.createTime!, s.name)), state });

  test('an automatic backup older than the newest committed export is never exported', () => {
    const newest = auto('auto-new', minutesAgo(60));
    const older = auto('auto-old', minutesAgo(25 * 60));
    expect(started(decide(world([newest, older], [newest])))).toEqual([]);
  });

  test('an automatic backup taken at the same time as the newest committed export is not exported', () => {
    const committed = snapshotMinutesAgo('plan-new', 60);
    const sameTime = auto('auto-same', minutesAgo(60));
    expect(started(decide(world([committed, sameTime], [committed])))).toEqual([]);
  });

  test('an older plan backup without an export is exported afterwards (a backfill)', () => {
    const newest = snapshotMinutesAgo('plan-new', 60);
    const older = snapshotMinutesAgo('plan-old', 180);
    const d = decide(world([newest, older], [newest]));
    expect(started(d)).toEqual(['plan-old']);
    expect(d.notes).toContain(`exporting plan-old as ${(d.actions[0] as StartExportAction).exportName} (backfill)`);
  });

  test('a plan backup taken at the same time as the newest committed export is backfilled', () => {
    const committed = snapshotMinutesAgo('plan-new', 60);
    const sameTime = snapshotMinutesAgo('plan-same', 60);
    expect(started(decide(world([committed, sameTime], [committed])))).toEqual(['plan-same']);
  });

  test('with an interval, a backfill starts only in the first half of the interval after the plan\'s newest backup', () => {
    const config: GroupConfig = { ...EXPORT_ONLY, intervalSeconds: 80 * 60 };
    const halfInterval = 40 * MIN;
    const run = (newestAgoMs: number) => {
      const newest = snapshotAt('plan-new', msAgo(newestAgoMs));
      const older = snapshotMinutesAgo('plan-old', 180);
      return started(decide(world([newest, older], [newest]), config));
    };
    expect(run(halfInterval - SECOND)).toEqual(['plan-old']);
    expect(run(halfInterval)).toEqual([]);
    expect(run(halfInterval + 10 * MIN)).toEqual([]);
  });

  test('once exports count against the quota, an export starts while one slot is left and waits when none is', () => {
    const settings = { ...DEFAULT_SETTINGS, quotaPerNode: 3 };
    const fresh = auto('auto-fresh', minutesAgo(10));
    const manual = (n: number) => Array.from({ length: n }, (_, i) => snapshotMinutesAgo(`plan-${i}`, 60 + i * 60));
    const run = (backups: ObservedSnapshot[]) => decide(
      world([fresh, ...backups], backups, { ...emptyState(), exportsCountAgainstQuota: true }), EXPORT_ONLY, NOW, settings);
    // 2 manual backups in the last 24 hours + this export = 3 = the quota.
    expect(started(run(manual(2)))).toEqual(['auto-fresh']);
    const full = run(manual(3));
    expect(started(full)).toEqual([]);
    expect(full.notes).toContain('export of auto-fresh waits: exports count against the quota, and 3 of 3 are used');
  });
});

describe('giving up an export', () => {
  test('giving up is reported for a snapshot whose attempts are spent, not for one with attempts left', () => {
    const until = new Date(NOW.getTime() + HOUR).toISOString();
    const state: GroupState = { ...emptyState(), exportAttempts: { a: 5, b: 2 }, exportBackoffUntil: until };
    const d = decide(observed({ snapshots: [A, B], state }));
    expect(d.notes.filter((n) => n.startsWith('gave up'))).toEqual(['gave up exporting a after 5 attempts']);
  });

  test('giving up is not reported while the last attempt is still running, and is once it timed out', () => {
    const last = attempt(A1, { attempt: 5 });
    const running = decide(observed({ snapshots: [A], state: stateOf(last) }));
    expect(running.notes.filter((n) => n.startsWith('gave up'))).toEqual([]);
    const timedOut = attempt(A1, { attempt: 5, startedAt: msAgo(EXPORT_TIMEOUT_MS + MIN).toISOString() });
    const gaveUp = decide(observed({ snapshots: [A], state: stateOf(timedOut) }));
    expect(gaveUp.notes.filter((n) => n.startsWith('gave up'))).toEqual(['gave up exporting a after 5 attempts']);
  });
});
