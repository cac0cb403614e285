import { G, keyOf, kinds, minutesAgo, NOW, observed, snapshotMinutesAgo } from './support/planner-fixtures';
import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, manualBackupsInWindow, ObjectInfo, ObservedGroup,
  parseCompactTimestamp, parseState, plan as planWithRandom, PlannerSettings, serializeState, StartExportAction, StateError,
} from '../../lib/backup-plan/planner';
import { rdbVersionOf } from '../../lib/backup-plan/reconcile-core';
import type { VerificationResult } from '../../lib/backup-plan/verify-core';
import { exportName } from '../../lib/manifest/manifest';

/** The export-name suffix the tests' random source returns. */
const SUFFIX = 'abcdefgh';
const plan = (obs: ObservedGroup, config: GroupConfig, now: Date, settings: PlannerSettings = DEFAULT_SETTINGS): Decision =>
  planWithRandom(obs, config, now, settings, () => SUFFIX);
/** What the verifier writes for an intact shard. */
const verifiedResult = (o: ObjectInfo): VerificationResult => ({
  formatVersion: 1,
  key: o.key,
  versionId: o.versionId,
  etag: o.etag,
  sizeBytes: o.sizeBytes,
  verifiedAt: NOW.toISOString(),
  ok: true,
  verification: 'full',
  report: { rdbVersion: 11, checksum: 'ok', crc64: '0123456789abcdef', keys: 1, keysWithExpiry: 0, databases: [{ db: 0, keys: 1, keysWithExpiry: 0 }], expiryHistogram: [] },
});
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 135 * 60, exportAutomated: true,
};

/** Exports only: no backups on a schedule, so the tests below see only export actions. */
const EXPORT_ONLY: GroupConfig = { ...CONFIG, intervalSeconds: undefined };

describe('backups', () => {
  test('creates a backup when the newest one is older than the interval', () => {
    const s = snapshotMinutesAgo('orders-plan-a', 80);
    const d = plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)] }), CONFIG, NOW);
    // 19 slots free: the one manual backup of the last 24 h uses one.
    expect(d.actions).toEqual([{ kind: 'CreateSnapshot', snapshotName: planSnapshotName(G, NOW), roomWithoutExports: true, quotaFreeBefore: 19 }]);
    expect(d.state.created.map((c) => c.name)).toEqual([planSnapshotName(G, NOW)]);
  });

  test('does not create a backup when the newest one is younger than the interval', () => {
    const s = snapshotMinutesAgo('orders-plan-a', 70);
    expect(kinds(plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)] }), CONFIG, NOW))).toEqual([]);
  });

  test('an automatic backup counts as the newest backup', () => {
    const s = snapshotMinutesAgo('automatic.orders-001-x', 10, { source: 'automated', createdByPlan: false });
    expect(kinds(plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)] }), CONFIG, NOW))).not.toContain('CreateSnapshot');
  });

  test('does not create a backup while one is being created, or while the group is not available', () => {
    expect(kinds(plan(observed({ snapshots: [snapshotMinutesAgo('x', undefined)] }), CONFIG, NOW))).not.toContain('CreateSnapshot');
    expect(kinds(plan(observed({ groupAvailable: false }), CONFIG, NOW))).not.toContain('CreateSnapshot');
  });

  test('stops at 20 manual backups in 24 h, counting backups of anyone', () => {
    const snaps = Array.from({ length: 20 }, (_, i) => snapshotMinutesAgo(`user-${i}`, 100 + i * 60, { createdByPlan: false }));
    const d = plan(observed({ snapshots: snaps, manifestKeys: snaps.map(keyOf) }), CONFIG, NOW);
    expect(kinds(d)).not.toContain('CreateSnapshot');
    expect(d.notes).toContain('backup due, but 20 manual backups in the last 24 h: the quota is 20 per node');
  });

  test('counts refused and since-deleted calls from its own log against the quota', () => {
    const created = Array.from({ length: 20 }, (_, i) => ({ name: `gone-${i}`, at: minutesAgo(100 + i * 60).toISOString(), refused: i % 2 === 0 }));
    const obs = observed({ state: { ...emptyState(), created } });
    expect(manualBackupsInWindow(obs, obs.state, NOW, DEFAULT_SETTINGS)).toBe(20);
    expect(kinds(plan(obs, CONFIG, NOW))).not.toContain('CreateSnapshot');
  });

  test('without an interval, takes one fallback backup when the newest is older than fallbackAfterSeconds', () => {
    const s = snapshotMinutesAgo('automatic.orders-001-x', 26 * 60, { source: 'automated', createdByPlan: false });
    const auto: GroupConfig = { ...CONFIG, intervalSeconds: undefined, fallbackAfterSeconds: 25 * 3600 };
    expect(kinds(plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)] }), auto, NOW))).toEqual(['CreateSnapshot']);
    expect(kinds(plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)] }), { ...auto, fallbackAfterSeconds: undefined }, NOW))).toEqual([]);
  });

  test('waits after a backup it created failed', () => {
    const failed = snapshotMinutesAgo('orders-plan-f', undefined, { status: 'failed' });
    const state: GroupState = { ...emptyState(), created: [{ name: 'orders-plan-f', at: minutesAgo(10).toISOString() }] };
    const d = plan(observed({ snapshots: [failed], state }), CONFIG, NOW);
    expect(kinds(d)).toEqual([]);
    expect(d.metrics.failures).toBe(1);
    expect(d.state.created[0].failureNoted).toBe(true);
  });
});

describe('exports', () => {
  test('exports the newest available backup without a manifest under a unique name, write-ahead', () => {
    const old = snapshotMinutesAgo('orders-plan-old', 300);
    const fresh = snapshotMinutesAgo('orders-plan-new', 20);
    const d = plan(observed({ snapshots: [old, fresh], manifestKeys: [keyOf(old)] }), CONFIG, NOW);
    expect(d.actions).toEqual([{ kind: 'StartExport', snapshotName: 'orders-plan-new', exportName: planExportName(G, minutesAgo(20), SUFFIX), attempt: 1, reissue: false, quotaFreeBefore: 18 }]);
    expect(d.state.inFlight).toMatchObject({ snapshotName: 'orders-plan-new', attempt: 1, confirmed: false });
  });

  test('starts nothing while an export is in flight', () => {
    const s1 = snapshotMinutesAgo('a', 100);
    const s2 = snapshotMinutesAgo('b', 20);
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: exportName(G, minutesAgo(100)),
      attempt: 1,
      startedAt: minutesAgo(10).toISOString(),
      confirmed: true,
    };
    const d = plan(observed({ snapshots: [s1, s2], state: { ...emptyState(), inFlight, exportAttempts: { a: 1 } } }), CONFIG, NOW);
    expect(kinds(d)).toEqual([]);
    expect(d.metrics.exportsInFlight).toBe(1);
  });

  test('commits when every shard object exists, and not before', () => {
    const s = snapshotMinutesAgo('a', 60, { shardCount: 2 });
    const name = exportName(G, minutesAgo(60));
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(60).toISOString(),
      shardCount: 2,
      exportName: name,
      attempt: 1,
      startedAt: minutesAgo(40).toISOString(),
      confirmed: true,
    };
    const state = { ...emptyState(), inFlight, exportAttempts: { a: 1 } };
    const one: ObjectInfo[] = [{ key: `${name}-0001.rdb`, sizeBytes: 10, versionId: 'v1' }];
    expect(kinds(plan(observed({ snapshots: [s], state, exportObjects: one }), CONFIG, NOW))).toEqual([]);
    const both: ObjectInfo[] = [...one, { key: `${name}-0002.rdb`, sizeBytes: 20, versionId: 'v2' }, { key: `${name}-a2-0001.rdb`, sizeBytes: 1 }];
    // All present: each shard's verification is asked for (write-ahead), nothing is committed yet.
    const asking = plan(observed({ snapshots: [s], state, exportObjects: both }), CONFIG, NOW);
    expect(asking.actions).toEqual([
      { kind: 'VerifyShard', exportName: name, object: both[0], request: 1 },
      { kind: 'VerifyShard', exportName: name, object: both[1], request: 1 },
    ]);
    expect(asking.state.inFlight?.verifications).toEqual([
      { key: both[0].key, versionId: 'v1', at: NOW.toISOString(), requests: 1 }, { key: both[1].key, versionId: 'v2', at: NOW.toISOString(), requests: 1 },
    ]);
    // One result in: wait for the other, without asking again.
    const later = new Date(NOW.getTime() + 60_000);
    const oneResult = observed({ snapshots: [s], state: asking.state, exportObjects: both, verificationResults: [verifiedResult(both[0])] });
    const waiting = plan(oneResult, CONFIG, later);
    expect(kinds(waiting)).toEqual([]);
    // Both verified against the listed versions: committed.
    const results = [verifiedResult(both[0]), verifiedResult(both[1])];
    const d = plan(observed({ snapshots: [s], state: asking.state, exportObjects: both, verificationResults: results }), CONFIG, later);
    expect(d.actions[0]).toEqual({ kind: 'CommitManifest', export: asking.state.inFlight, manifestKey: keyOf(s), objects: both.slice(0, 2), verifications: results });
    // The snapshot being committed is not exported again in the same run.
    expect(kinds(d)).not.toContain('StartExport');
  });

  test.each([
    ['a failure event naming the export', [{ text: JSON.stringify({ SourceSnapshotName: 'a', TargetSnapshotName: exportName(G, minutesAgo(100)) }), time: minutesAgo(5) }], 10],
    ['a timeout', [], 61],
  ])('after %s, retries the export under a new name (attempt 2)', (_, signals, startedMinutesAgo) => {
    const s = snapshotMinutesAgo('a', 100);
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: exportName(G, minutesAgo(100)),
      attempt: 1,
      startedAt: minutesAgo(startedMinutesAgo).toISOString(),
      confirmed: true,
    };
    const obs = observed({ snapshots: [s], state: { ...emptyState(), inFlight, exportAttempts: { a: 1 } }, exportFailureSignals: signals });
    const d = plan(obs, CONFIG, NOW);
    const start = d.actions.find((a) => a.kind === 'StartExport') as StartExportAction;
    expect(start).toEqual({ kind: 'StartExport', snapshotName: 'a', exportName: planExportName(G, minutesAgo(100), SUFFIX), attempt: 2, reissue: false, quotaFreeBefore: 19 });
    expect(d.metrics.failures).toBe(1);
    expect(d.state.exportFailures?.a).toMatchObject({ failures: 1, lastError: signals.length ? 'ExportFailed' : 'ExportTimedOut' });
  });

  test('a failure event older than the attempt does not fail it', () => {
    const s = snapshotMinutesAgo('a', 100);
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: exportName(G, minutesAgo(100), 2),
      attempt: 2,
      startedAt: minutesAgo(10).toISOString(),
      confirmed: true,
    };
    const d = plan(observed({ snapshots: [s], state: { ...emptyState(), inFlight }, exportFailureSignals: [{ text: 'a', time: minutesAgo(30) }] }), EXPORT_ONLY, NOW);
    expect(kinds(d)).toEqual([]);
  });

  test('re-issues an unconfirmed export under the same name (crash between the write-ahead and the answer)', () => {
    const s = snapshotMinutesAgo('a', 100);
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: exportName(G, minutesAgo(100)),
      attempt: 1,
      startedAt: minutesAgo(10).toISOString(),
      confirmed: false,
    };
    const d = plan(observed({ snapshots: [s], state: { ...emptyState(), inFlight, exportAttempts: { a: 1 } } }), EXPORT_ONLY, NOW);
    expect(d.actions).toEqual([{ kind: 'StartExport', snapshotName: 'a', exportName: exportName(G, minutesAgo(100)), attempt: 1, reissue: true }]);
  });

  test('an in-flight export whose manifest already exists is cleared (crash after the manifest write)', () => {
    const s = snapshotMinutesAgo('a', 100);
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: exportName(G, minutesAgo(100)),
      attempt: 1,
      startedAt: minutesAgo(10).toISOString(),
      confirmed: true,
    };
    const d = plan(observed({ snapshots: [s], manifestKeys: [keyOf(s)], state: { ...emptyState(), inFlight } }), CONFIG, NOW);
    expect(d.state.inFlight).toBeUndefined();
  });

  test('does not export automatic backups when exportAutomated is off, nor manual backups the plan did not create', () => {
    const auto = snapshotMinutesAgo('automatic.orders-001-x', 20, { source: 'automated', createdByPlan: false });
    const user = snapshotMinutesAgo('someones-backup', 10, { createdByPlan: false });
    expect(kinds(plan(observed({ snapshots: [auto, user] }), { ...CONFIG, exportAutomated: false }, NOW))).not.toContain('StartExport');
  });

  test('gives up on a snapshot after maxExportAttempts', () => {
    const s = snapshotMinutesAgo('a', 30);
    const d = plan(observed({ snapshots: [s], state: { ...emptyState(), exportAttempts: { a: DEFAULT_SETTINGS.maxExportAttempts } } }), CONFIG, NOW);
    expect(kinds(d)).not.toContain('StartExport');
    expect(d.notes).toContain('gave up exporting a after 5 attempts');
  });
});

describe('export failure detected from the snapshot status (when ElastiCache shows one during an export)', () => {
  const flight = (over: Record<string, unknown> = {}) => ({
    snapshotName: 'a',
    snapshotSource: 'manual' as const,
    snapshotCreateTime: minutesAgo(100).toISOString(),
    shardCount: 2,
    exportName: exportName(G, minutesAgo(100)),
    attempt: 1,
    startedAt: minutesAgo(20).toISOString(),
    confirmed: true,
    ...over,
  });
  const stateWith = (inFlight: ReturnType<typeof flight>): GroupState => ({ ...emptyState(), inFlight, exportAttempts: { a: 1 } });
  const partial = [{ key: `${exportName(G, minutesAgo(100))}-0001.rdb`, sizeBytes: 10 }];

  test('records that the source snapshot was seen busy after the CopySnapshot call', () => {
    const d = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100, { status: 'exporting' })], state: stateWith(flight()) }), EXPORT_ONLY, NOW);
    expect(kinds(d)).toEqual([]);
    expect(d.state.inFlight?.sourceBusySeen).toBe(true);
  });

  test('seen busy, back to available with objects missing: one run of grace, then retried under a new name (attempt 2)', () => {
    const busySeen = flight({ sourceBusySeen: true });
    const first = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100)], state: stateWith(busySeen), exportObjects: partial }), EXPORT_ONLY, NOW);
    expect(kinds(first)).toEqual([]);
    expect(first.state.inFlight?.sourceIdleSince).toBe(NOW.toISOString());

    const later = new Date(NOW.getTime() + 5 * 60_000);
    const second = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100)], state: first.state, exportObjects: partial }), EXPORT_ONLY, later);
    expect(second.actions).toEqual([{ kind: 'StartExport', snapshotName: 'a', exportName: planExportName(G, minutesAgo(100), SUFFIX), attempt: 2, reissue: false, quotaFreeBefore: 19 }]);
    expect(second.metrics.failures).toBe(1);
    expect(second.notes).toContain(`export ${exportName(G, minutesAgo(100))} of a failed (ExportEndedWithoutObjects): ended without all its objects (snapshot status); will retry under a new name`);
  });

  test('seen busy, back to available, and every object there: verified, not retried', () => {
    const all = [...partial, { key: `${exportName(G, minutesAgo(100))}-0002.rdb`, sizeBytes: 20 }];
    const d = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100, { shardCount: 2 })], state: stateWith(flight({ sourceBusySeen: true, sourceIdleSince: minutesAgo(5).toISOString() })), exportObjects: all }), EXPORT_ONLY, NOW);
    expect(kinds(d)).toEqual(['VerifyShard', 'VerifyShard']);
  });

  test('a busy status again after the grace started resets the grace', () => {
    const d = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100, { status: 'copying' })], state: stateWith(flight({ sourceBusySeen: true, sourceIdleSince: minutesAgo(5).toISOString() })) }), EXPORT_ONLY, NOW);
    expect(kinds(d)).toEqual([]);
    expect(d.state.inFlight?.sourceIdleSince).toBeUndefined();
  });

  test('never seen busy (the service may not show a status): available with objects missing waits for the timeout', () => {
    const waiting = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100)], state: stateWith(flight({ startedAt: minutesAgo(59).toISOString() })), exportObjects: partial }), EXPORT_ONLY, NOW);
    expect(kinds(waiting)).toEqual([]);
    expect(waiting.state.inFlight?.sourceIdleSince).toBeUndefined();
    const timedOut = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100)], state: stateWith(flight({ startedAt: minutesAgo(61).toISOString() })), exportObjects: partial }), EXPORT_ONLY, NOW);
    expect(kinds(timedOut)).toEqual(['StartExport']);
  });

  test('an unconfirmed export whose source is busy is treated as started, not re-issued', () => {
    const d = plan(observed({ snapshots: [snapshotMinutesAgo('a', 100, { status: 'exporting' })], state: stateWith(flight({ confirmed: false })) }), EXPORT_ONLY, NOW);
    expect(kinds(d)).toEqual([]);
    expect(d.state.inFlight).toMatchObject({ confirmed: true, sourceBusySeen: true });
  });
});

describe('pruning', () => {
  const old = snapshotMinutesAgo('orders-plan-old', 25 * 60);
  test('deletes a manual backup the plan created, past retention, whose export is committed', () => {
    expect(plan(observed({ snapshots: [old], manifestKeys: [keyOf(old)] }), CONFIG, NOW).actions)
      .toContainEqual({ kind: 'DeleteSnapshot', snapshotName: 'orders-plan-old', manifestKey: keyOf(old) });
  });
  test.each([
    ['its export is not committed', [old], []],
    ['the plan did not create it', [{ ...old, createdByPlan: false }], [keyOf(old)]],
    ['it is an automatic backup', [{ ...old, source: 'automated' as const }], [keyOf(old)]],
    ['it is younger than retention', [snapshotMinutesAgo('orders-plan-young', 23 * 60)], [keyOf(snapshotMinutesAgo('orders-plan-young', 23 * 60))]],
  ])('keeps it when %s', (_, snapshots, manifestKeys) => {
    expect(kinds(plan(observed({ snapshots, manifestKeys }), CONFIG, NOW))).not.toContain('DeleteSnapshot');
  });
});

describe('backoff and outcomes', () => {
  test('while backing off, makes no ElastiCache calls but still commits a verified export', () => {
    const s = snapshotMinutesAgo('a', 100);
    const name = exportName(G, minutesAgo(100));
    const inFlight = {
      snapshotName: 'a',
      snapshotSource: 'manual' as const,
      snapshotCreateTime: minutesAgo(100).toISOString(),
      shardCount: 1,
      exportName: name,
      attempt: 1,
      startedAt: minutesAgo(10).toISOString(),
      confirmed: true,
    };
    const old = snapshotMinutesAgo('orders-plan-old', 26 * 60);
    const d = plan(observed({
      snapshots: [s, old, snapshotMinutesAgo('b', 90)],
      manifestKeys: [keyOf(old)],
      exportObjects: [{ key: `${name}-0001.rdb`, sizeBytes: 1, versionId: 'v1' }],
      verificationResults: [verifiedResult({ key: `${name}-0001.rdb`, sizeBytes: 1, versionId: 'v1' })],
      state: { ...emptyState(), inFlight, backoffUntil: new Date(NOW.getTime() + 60_000).toISOString() },
    }), CONFIG, NOW);
    expect(kinds(d)).toEqual(['CommitManifest']);
  });

  test('throttling sets an exponential backoff; quota errors stop backups for an hour; success resets', () => {
    const create = { kind: 'CreateSnapshot' as const, snapshotName: 'x' };
    const base: GroupState = { ...emptyState(), created: [{ name: 'x', at: NOW.toISOString() }] };
    const t1 = applyOutcome(base, create, 'throttled', NOW);
    expect(t1.backoffUntil).toBe(new Date(NOW.getTime() + 5 * 60_000).toISOString());
    expect(t1.created[0].refused).toBe(true);
    const t2 = applyOutcome(t1, create, 'throttled', NOW);
    expect(t2.backoffUntil).toBe(new Date(NOW.getTime() + 10 * 60_000).toISOString());
    expect(applyOutcome(t2, create, 'ok', NOW).consecutiveThrottles).toBe(0);
    expect(applyOutcome(base, create, 'quota-exceeded', NOW).createBackoffUntil).toBe(new Date(NOW.getTime() + 3_600_000).toISOString());
  });

  test('StartExport outcomes: ok confirms; already-exists confirms only a re-issue (a first attempt hit somebody else\'s object); refused spends the attempt; throttled releases it', () => {
    const s = snapshotMinutesAgo('a', 30);
    const d = plan(observed({ snapshots: [s] }), CONFIG, NOW);
    const start = d.actions[0] as StartExportAction;
    expect(applyOutcome(d.state, start, 'ok', NOW).inFlight?.confirmed).toBe(true);
    const taken = applyOutcome(d.state, start, 'already-exists', NOW);
    expect([taken.inFlight, taken.exportAttempts.a, taken.exportFailures?.a]).toEqual([undefined, 1, { failures: 1, lastError: 'ExportNameTaken', at: NOW.toISOString() }]);
    expect(applyOutcome(d.state, { ...start, reissue: true }, 'already-exists', NOW).inFlight?.confirmed).toBe(true);
    expect(applyOutcome(d.state, start, 'unknown', NOW).inFlight?.confirmed).toBe(false);
    const refused = applyOutcome(d.state, start, 'refused', NOW);
    expect([refused.inFlight, refused.exportAttempts.a]).toEqual([undefined, 1]);
    const throttled = applyOutcome(d.state, start, 'throttled', NOW);
    expect([throttled.inFlight, throttled.exportAttempts.a]).toEqual([undefined, undefined]);
  });

  test('state survives a round trip, and unreadable state fails loudly (StateError)', () => {
    const state: GroupState = { ...emptyState(), exportAttempts: { a: 2 }, created: [{ name: 'x', at: NOW.toISOString() }] };
    expect(parseState(serializeState(state))).toEqual(state);
    expect(() => parseState('not json')).toThrow(StateError);
    expect(() => parseState('{"formatVersion":7}')).toThrow(StateError);
  });
});

describe('helpers', () => {
  test('compact timestamps parse back', () => {
    expect(parseCompactTimestamp('20261124t101503z')?.toISOString()).toBe('2026-11-24T10:15:03.000Z');
    expect(parseCompactTimestamp('2026-11-24')).toBeUndefined();
  });
  test.each([
    ['REDIS0010', 10], ['REDIS0011', 11], ['VALKEY080', 80], ['VALKEY081', 81], ['RDB', undefined], ['HELLO1234', undefined], ['VALKEY011', undefined],
  ])('RDB header %s -> %s', (text, version) => {
    expect(rdbVersionOf(new TextEncoder().encode(text))).toBe(version);
  });
});
