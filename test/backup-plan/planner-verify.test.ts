/**
 * The planner's rules for verified backups (issue 8) and for the service's undocumented behaviours (issue 9):
 * verify before commit, commit only what the export wrote, prune only what is intact, quota learning, the circuit
 * breaker, busy sources and late attempts.
 */
import { G, intactResult as ok, kinds, minutesAgo, NOW, observed, snapshotMinutesAgo } from './support/planner-fixtures';
import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, DeleteSnapshotAction, emptyState, GroupConfig, GroupState, InFlightExport, ObjectInfo, ObservedGroup,
  plan as planWithRandom, PlannerSettings, StartExportAction,
} from '../../lib/backup-plan/planner';
import { manifestKey } from '../../lib/manifest/manifest';

const SUFFIX = 'qrstuvwx';
const plan = (obs: ObservedGroup, config: GroupConfig, now: Date = NOW, settings: PlannerSettings = DEFAULT_SETTINGS): Decision =>
  planWithRandom(obs, config, now, settings, () => SUFFIX);
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 8100, exportAutomated: true,
};
const EXPORT_ONLY: GroupConfig = { ...CONFIG, intervalSeconds: undefined };

const EXPORT = 'ceb-test-x20260310t100000z-aaaaaaaa';
function flight(over: Partial<InFlightExport> = {}): InFlightExport {
  return {
    snapshotName: 'a',
    snapshotSource: 'manual',
    snapshotCreateTime: minutesAgo(120).toISOString(),
    shardCount: 1,
    exportName: EXPORT,
    attempt: 1,
    startedAt: minutesAgo(30).toISOString(),
    confirmed: true,
    ...over,
  };
}
const stateWith = (f: InFlightExport, over: Partial<GroupState> = {}): GroupState => ({
  ...emptyState(), inFlight: f, exportAttempts: { a: f.attempt }, ...over,
});
const shard = (over: Partial<ObjectInfo> = {}): ObjectInfo => ({
  key: `${EXPORT}-0001.rdb`, sizeBytes: 1000, versionId: 'v1', etag: '"e1"', lastModified: minutesAgo(20), ...over,
});
const A = snapshotMinutesAgo('a', 120);

describe('commit only what the export wrote, verified', () => {
  test('an empty object fails the attempt (counted, named) and the snapshot is retried under a new name', () => {
    const d = plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [shard({ sizeBytes: 0 })] }), EXPORT_ONLY);
    expect(kinds(d)).toEqual(['StartExport']);
    expect((d.actions[0] as StartExportAction)).toMatchObject({ exportName: planExportName(G, minutesAgo(120), SUFFIX), attempt: 2, reissue: false });
    expect(d.metrics.failures).toBe(1);
    expect(d.notes).toContain(`export ${EXPORT} of a failed (EmptyObject): object ${EXPORT}-0001.rdb is empty (0 bytes): an export writes an RDB file; will retry under a new name`);
  });

  test('an object last modified before the CopySnapshot call (less the skew) is not the export\'s: never verified nor committed', () => {
    const planted = shard({ lastModified: minutesAgo(36) }); // the call was 30 min ago; 5 min of skew tolerated
    const obs = observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [planted], verificationResults: [ok(planted)] });
    const d = plan(obs, EXPORT_ONLY);
    expect(kinds(d)).toEqual(['StartExport']);
    expect(d.notes[0]).toBe(`export ${EXPORT} of a failed (NotWrittenByExport): object ${EXPORT}-0001.rdb was last modified at ${minutesAgo(36).toISOString()}, `
      + `before this export's CopySnapshot call at ${minutesAgo(30).toISOString()} (less 300 s of clock skew): it was not written by this export; will retry under a new name`);
    // Within the skew: accepted as the export's (verification asked for).
    expect(kinds(plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [shard({ lastModified: minutesAgo(34) })] }), EXPORT_ONLY))).toEqual(['VerifyShard']);
  });

  test('a corrupt shard fails the attempt with the verifier\'s message (object, offset, what was expected)', () => {
    const o = shard();
    const bad = ok(o, { ok: false, verification: undefined, report: undefined, error: { name: 'RdbVerifyError', message: 's3://b/k version v1: unexpected end of file: expected 8 bytes of CRC-64 trailer (at byte offset 977)', offset: 977 } });
    const d = plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [o], verificationResults: [bad] }), EXPORT_ONLY);
    expect(kinds(d)).toEqual(['StartExport']);
    expect(d.metrics.failures).toBe(1);
    expect(d.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: 'ShardCorrupt' });
    expect(d.notes[0]).toBe(`export ${EXPORT} of a failed (ShardCorrupt): shard ${EXPORT}-0001.rdb version v1 is not intact: `
      + 's3://b/k version v1: unexpected end of file: expected 8 bytes of CRC-64 trailer (at byte offset 977); will retry under a new name');
  });

  test('an object overwritten after its verification (another version now) is never committed', () => {
    const verified = shard();
    const now = shard({ versionId: 'v2', lastModified: minutesAgo(2) });
    const d = plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [now], verificationResults: [ok(verified)] }), EXPORT_ONLY);
    expect(kinds(d)).not.toContain('CommitManifest');
    expect(d.notes[0]).toBe(`export ${EXPORT} of a failed (ObjectOverwritten): object ${EXPORT}-0001.rdb changed after it was listed for verification: `
      + 'version v1 was verified, the current version is v2 (1000 bytes): not committed; will retry under a new name');
  });

  test('an object overwritten while its verification was pending is never committed either', () => {
    const asked = flight({ verifications: [{ key: shard().key, versionId: 'v1', at: minutesAgo(5).toISOString(), requests: 1 }] });
    const d = plan(observed({ snapshots: [A], state: stateWith(asked), exportObjects: [shard({ versionId: 'v2' })] }), EXPORT_ONLY);
    expect(kinds(d)).toEqual(['StartExport']);
    expect(d.notes[0]).toContain('version v1 was sent to the verifier, the current version is v2');
  });

  test('no result in time: the verification is asked for again, then the attempt fails', () => {
    const settings = DEFAULT_SETTINGS;
    const asked = (requests: number) => flight({ verifications: [{ key: shard().key, versionId: 'v1', at: minutesAgo(21).toISOString(), requests }] });
    const again = plan(observed({ snapshots: [A], state: stateWith(asked(1)), exportObjects: [shard()] }), EXPORT_ONLY, NOW, settings);
    expect(again.actions).toEqual([{ kind: 'VerifyShard', exportName: EXPORT, object: shard(), request: 2 }]);
    const recent = flight({ verifications: [{ key: shard().key, versionId: 'v1', at: minutesAgo(19).toISOString(), requests: 1 }] });
    expect(kinds(plan(observed({ snapshots: [A], state: stateWith(recent), exportObjects: [shard()] }), EXPORT_ONLY))).toEqual([]);
    const gaveUp = plan(observed({ snapshots: [A], state: stateWith(asked(3)), exportObjects: [shard()] }), EXPORT_ONLY);
    expect(kinds(gaveUp)).toEqual(['StartExport']);
    expect(gaveUp.notes[0]).toBe(`export ${EXPORT} of a failed (VerificationTimedOut): no verification result for ${EXPORT}-0001.rdb after 3 requests `
      + '(1200 s each): check the verifier function\'s logs and errors; will retry under a new name');
  });

  test('a verification request that could not be written is asked for again in the next run', () => {
    const d = plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [shard()] }), EXPORT_ONLY);
    const after = applyOutcome(d.state, d.actions[0], 'unknown', NOW);
    const next = plan(observed({ snapshots: [A], state: after, exportObjects: [shard()] }), EXPORT_ONLY, new Date(NOW.getTime() + 60_000));
    expect(next.actions).toEqual([{ kind: 'VerifyShard', exportName: EXPORT, object: shard(), request: 2 }]);
  });

  test('a partially verified shard (above the size limit) is committed, and says so', () => {
    const o = shard();
    const d = plan(observed({ snapshots: [A], state: stateWith(flight()), exportObjects: [o], verificationResults: [ok(o, { verification: 'partial' })] }), EXPORT_ONLY);
    expect(kinds(d)).toEqual(['CommitManifest']);
    expect(d.notes[0]).toContain('complete and verified (1 shards partially: above the size limit)');
  });
});

describe('exports under a busy source, timeouts and late attempts', () => {
  test('never timed out while the source is seen busy, even past the timeout', () => {
    const late = flight({ startedAt: minutesAgo(200).toISOString() });
    const d = plan(observed({ snapshots: [snapshotMinutesAgo('a', 300, { status: 'exporting' })], state: stateWith(late) }), EXPORT_ONLY);
    expect(kinds(d)).toEqual([]);
    expect(d.metrics.failures).toBe(0);
    expect(d.notes).toContain(`export ${EXPORT} is past its timeout, but a is exporting: still waiting`);
  });

  test('the group\'s own export timeout overrides the plan\'s', () => {
    const obs = observed({ snapshots: [A], state: stateWith(flight({ startedAt: minutesAgo(90).toISOString() })) });
    expect(kinds(plan(obs, EXPORT_ONLY))).toEqual(['StartExport']); // plan default: 60 min
    expect(kinds(plan(obs, { ...EXPORT_ONLY, exportTimeoutSeconds: 2 * 3600 }))).toEqual([]);
  });

  test('a timed-out attempt whose objects arrive later is still verified and committed', () => {
    const first = flight({ startedAt: minutesAgo(70).toISOString() });
    const timedOut = plan(observed({ snapshots: [A], state: stateWith(first) }), EXPORT_ONLY);
    expect(timedOut.state.lateAttempts?.map((a) => a.exportName)).toEqual([EXPORT]);
    const second = timedOut.state.inFlight!;
    expect(second.exportName).toBe(planExportName(G, minutesAgo(120), SUFFIX));
    const confirmed = applyOutcome(timedOut.state, timedOut.actions[0], 'ok', NOW);

    const o = shard({ lastModified: minutesAgo(1) });
    const verifying = plan(observed({ snapshots: [A], state: confirmed, exportObjects: [o] }), EXPORT_ONLY);
    expect(verifying.actions).toEqual([{ kind: 'VerifyShard', exportName: EXPORT, object: o, request: 1 }]);
    expect(verifying.state.inFlight?.exportName).toBe(EXPORT);
    expect(verifying.notes[0]).toBe(`earlier attempt ${EXPORT} of a completed: taking it instead of ${second.exportName}`);

    const committed = plan(observed({ snapshots: [A], state: verifying.state, exportObjects: [o], verificationResults: [ok(o)] }), EXPORT_ONLY);
    expect(committed.actions[0]).toMatchObject({ kind: 'CommitManifest', export: { exportName: EXPORT }, manifestKey: manifestKey(G, minutesAgo(120), 'a') });
    expect(committed.state.lateAttempts).toBeUndefined();
  });

  test('a first CopySnapshot answered "already exists" is somebody else\'s object: spent, never confirmed', () => {
    const d = plan(observed({ snapshots: [A] }), EXPORT_ONLY);
    const start = d.actions[0] as StartExportAction;
    const after = applyOutcome(d.state, start, 'already-exists', NOW, 'SnapshotAlreadyExistsFault');
    expect(after.inFlight).toBeUndefined();
    const retry = plan(observed({ snapshots: [A], state: after }), EXPORT_ONLY, new Date(NOW.getTime() + 60_000), DEFAULT_SETTINGS);
    expect(retry.actions[0]).toMatchObject({ kind: 'StartExport', attempt: 2, reissue: false });
  });
});

describe('prune only what is still intact', () => {
  const old = snapshotMinutesAgo('ceb-old', 26 * 60);
  const key = manifestKey(G, old.createTime!, old.name);
  test('a manifest that failed the integrity check is never pruned on, and its snapshot is exported again', () => {
    const d = plan(observed({ snapshots: [old], manifestKeys: [key] }), EXPORT_ONLY);
    const del = d.actions.find((a) => a.kind === 'DeleteSnapshot') as DeleteSnapshotAction;
    expect(del).toEqual({ kind: 'DeleteSnapshot', snapshotName: 'ceb-old', manifestKey: key });
    const after = applyOutcome(d.state, del, 'integrity-failed', NOW);
    expect(after.distrustedManifests).toEqual([key]);
    const next = plan(observed({ snapshots: [old], manifestKeys: [key], state: after }), EXPORT_ONLY, new Date(NOW.getTime() + 60_000));
    expect(kinds(next)).toEqual(['StartExport']);
    expect(next.actions[0]).toMatchObject({ snapshotName: 'ceb-old' });
  });

  test('the re-export\'s commit replaces the distrusted manifest, and a failed commit keeps it distrusted', () => {
    const o = shard();
    const f = flight({ snapshotName: 'ceb-old', snapshotCreateTime: old.createTime!.toISOString() });
    const state: GroupState = { ...stateWith(f), distrustedManifests: [key] };
    const d = plan(observed({ snapshots: [old], manifestKeys: [key], state, exportObjects: [o], verificationResults: [ok(o)] }), EXPORT_ONLY);
    expect(d.actions[0]).toMatchObject({ kind: 'CommitManifest', manifestKey: key, replacesDistrusted: true });
    expect(kinds(d)).not.toContain('DeleteSnapshot');
    expect(d.state.distrustedManifests).toBeUndefined();
    expect(applyOutcome(d.state, d.actions[0], 'unknown', NOW).distrustedManifests).toEqual([key]);
  });
});

describe('quota: exports learned to count (SnapshotQuotaExceededFault on CopySnapshot)', () => {
  const manual = (n: number) => Array.from({ length: n }, (_, i) => snapshotMinutesAgo(`user-${i}`, 100 + i * 30, { createdByPlan: false }));
  test('the refusal is learned (persisted), releases the attempt and backs off exports', () => {
    const d = plan(observed({ snapshots: [A] }), EXPORT_ONLY);
    const after = applyOutcome(d.state, d.actions[0], 'quota-exceeded', NOW);
    expect(after).toMatchObject({ exportsCountAgainstQuota: true, exportBackoffUntil: new Date(NOW.getTime() + 30 * 60_000).toISOString() });
    expect(after.inFlight).toBeUndefined();
    expect(after.exportAttempts).toEqual({});
    // The refused call created nothing: it is not counted.
    expect(after.exportCalls).toBeUndefined();
  });

  test('once learned, exports are counted and one slot is kept for the next export', () => {
    const snaps = manual(18);
    const exportCalls = [{ name: 'x1', at: minutesAgo(60).toISOString() }];
    const notLearned = plan(observed({ snapshots: snaps, state: { ...emptyState(), exportCalls } }), CONFIG);
    expect(kinds(notLearned)).toContain('CreateSnapshot'); // 18 + 1 <= 20
    const learned = plan(observed({ snapshots: snaps, state: { ...emptyState(), exportCalls, exportsCountAgainstQuota: true } }), CONFIG);
    expect(kinds(learned)).not.toContain('CreateSnapshot'); // 18 + 1 export + 1 + 1 reserved > 20
    expect(learned.metrics.manualBackupsLast24h).toBe(19);
    expect(learned.notes).toContain('backup due, but 19 manual backups and exports in the last 24 h: the quota is 20 per node, less one slot kept for the next export');
  });

  test('once learned, an export waits while the quota is used up', () => {
    const snaps = [...manual(19), A]; // A is a manual backup of the last 24 h too
    const d = plan(observed({ snapshots: snaps, state: { ...emptyState(), exportsCountAgainstQuota: true } }), EXPORT_ONLY);
    expect(kinds(d)).toEqual([]);
    expect(d.notes).toContain('export of a waits: exports count against the quota, and 20 of 20 are used');
  });
});

test('a CreateSnapshot refused for the quota although the backups alone left room: exports are learned to count', () => {
  const d = plan(observed({ snapshots: [snapshotMinutesAgo('user-1', 200, { createdByPlan: false })] }), CONFIG);
  const create = d.actions.find((a) => a.kind === 'CreateSnapshot')!;
  expect(create).toEqual({ kind: 'CreateSnapshot', snapshotName: planSnapshotName(G, NOW), roomWithoutExports: true, quotaFreeBefore: 19 });
  expect(applyOutcome(d.state, create, 'quota-exceeded', NOW)).toMatchObject({
    exportsCountAgainstQuota: true, createBackoffUntil: new Date(NOW.getTime() + 3_600_000).toISOString(),
  });
  // Without room by the plan's own count, a refusal teaches nothing.
  expect(applyOutcome(d.state, { ...create, roomWithoutExports: undefined } as never, 'quota-exceeded', NOW).exportsCountAgainstQuota).toBeUndefined();
});

describe('circuit breaker', () => {
  const failedBackups = ['b1', 'b2', 'b3'].map((n, i) => snapshotMinutesAgo(n, 300 + i * 80));
  const failures = (errors: string[]) => Object.fromEntries(failedBackups.map((s, i) => [
    s.name, { failures: 5, lastError: errors[i], at: minutesAgo(100 - i).toISOString() },
  ]));
  const exportAttempts = Object.fromEntries(failedBackups.map((s) => [s.name, 5]));

  test('opens at 3 backups the plan created and could not export: no new backups, metric and reason; pruning goes on', () => {
    const auto = snapshotMinutesAgo('automatic.orders-x', 10, { source: 'automated', createdByPlan: false });
    const old = snapshotMinutesAgo('ceb-old-committed', 26 * 60);
    const keys = [manifestKey(G, old.createTime!, old.name)];
    const state: GroupState = { ...emptyState(), exportAttempts, exportFailures: failures(['SnapshotFeatureNotSupportedFault', 'AccessDenied', 'ExportTimedOut']) };
    const d = plan(observed({ snapshots: [...failedBackups, old, auto], manifestKeys: keys, state }), { ...CONFIG, intervalSeconds: 5 * 60 });
    expect(kinds(d)).not.toContain('CreateSnapshot');
    expect(kinds(d)).toContain('DeleteSnapshot');
    expect(kinds(d)).toContain('StartExport'); // the automatic backup is still exported
    // The reason is the most recent failure's error (b3's, 98 minutes ago).
    expect(d.metrics).toMatchObject({ unexportedBackups: 3, circuitOpen: 1, circuitReason: 'ExportTimedOut' });
    expect(d.notes).toContain('backup due, but the circuit breaker is open: 3 backups the plan created could not be exported (last error: ExportTimedOut); '
      + 'no new backups until they export or are deleted (automatic backups continue)');
  });

  test('stays closed below the threshold, and counts only unexported backups the plan created', () => {
    const state: GroupState = { ...emptyState(), exportAttempts, exportFailures: failures(['a', 'b', 'c']) };
    const oneExported = [manifestKey(G, failedBackups[0].createTime!, 'b1')];
    const d = plan(observed({ snapshots: failedBackups, manifestKeys: oneExported, state }), { ...CONFIG, intervalSeconds: 5 * 60 });
    expect(d.metrics).toMatchObject({ unexportedBackups: 2, circuitOpen: 0 });
    expect(d.metrics.circuitReason).toBeUndefined();
    expect(kinds(d)).toContain('CreateSnapshot');
  });
});

describe('names', () => {
  test('the backup name carries the group prefix and the time', () => {
    expect(planSnapshotName(G, NOW)).toMatch(/^ceb-[a-z2-7]{8}-b20260310t120000z$/);
  });
});
