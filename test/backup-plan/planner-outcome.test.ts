/**
 * How `applyOutcome` folds the result of each executed action back into the persisted state, outcome by outcome:
 * which StartExport results confirm, release or spend the attempt in flight (and release its attempt number), what a
 * refused, gone or throttled deletion leaves remembered, which CreateSnapshot results mark the call refused, what a
 * failed verification request or manifest commit keeps for the next run, and which throttled calls back off the
 * group's ElastiCache writes. Also that a decision taken during a throttle backoff reports it in its notes.
 * Found by mutation testing (survivors in planner/outcome.ts and planner.ts). The oracle is each test's own
 * arithmetic and the documented rules and defaults (the throttle backoff is 5 minutes doubled per consecutive
 * throttle, at most 60; a refusal reason keeps at most 300 characters; a quota refusal backs exports off 30 minutes),
 * never the planner's own predicates.
 */
import { G, MIN, NOW, observed } from './support/planner-fixtures';
import {
  applyOutcome, CommitManifestAction, CreateSnapshotAction, DEFAULT_SETTINGS, DeleteSnapshotAction, emptyState, GroupConfig, GroupState,
  InFlightExport, OutcomeKind, plan, StartExportAction, VerifyShardAction,
} from '../../lib/backup-plan/planner';

const SNAP = 'orders-plan-20260310t110000z';
const MANIFEST = `manifests/${G}/20260310t110000z-${SNAP}.json`;
const AN_HOUR_AGO = new Date(NOW.getTime() - 60 * MIN).toISOString();
const inMinutes = (n: number): string => new Date(NOW.getTime() + n * MIN).toISOString();

/** The export of SNAP under `exportName`, as the write-ahead state records it when CopySnapshot is about to be called. */
function flight(exportName: string, over: Partial<InFlightExport> = {}): InFlightExport {
  return {
    snapshotName: SNAP,
    snapshotSource: 'manual',
    snapshotCreateTime: AN_HOUR_AGO,
    shardCount: 1,
    exportName,
    attempt: 1,
    startedAt: NOW.toISOString(),
    confirmed: false,
    ...over,
  };
}

function startExport(exportName: string, attempt: number, reissue: boolean, quotaFreeBefore?: number): StartExportAction {
  return { kind: 'StartExport', snapshotName: SNAP, exportName, attempt, reissue, quotaFreeBefore };
}

/** The write-ahead state of a first attempt: attempt number `attempt` recorded, the call recorded for the quota. */
function stateStarting(exportName: string, attempt: number): GroupState {
  return {
    ...emptyState(),
    inFlight: flight(exportName, { attempt }),
    exportAttempts: { [SNAP]: attempt },
    exportCalls: [{ name: exportName, at: NOW.toISOString() }],
  };
}

const deletion: DeleteSnapshotAction = { kind: 'DeleteSnapshot', snapshotName: SNAP, manifestKey: MANIFEST };
const refusal = (name: string, refusals: number) => ({ name, reason: 'InvalidSnapshotStateFault', at: AN_HOUR_AGO, refusals });

describe('the outcome of a StartExport', () => {
  test('the outcome of another export than the one in flight leaves the state as it is', () => {
    const state = stateStarting('orders-exp-mine', 1);
    for (const outcome of ['ok', 'already-exists', 'refused'] as OutcomeKind[]) {
      expect(applyOutcome(state, startExport('orders-exp-other', 1, true), outcome, NOW)).toEqual(state);
    }
  });

  test('a re-issued export is confirmed only by success or "already exists", never by a failure', () => {
    const state: GroupState = { ...emptyState(), inFlight: flight('orders-exp-a'), exportAttempts: { [SNAP]: 1 } };
    const reissue = startExport('orders-exp-a', 1, true);
    expect(applyOutcome(state, reissue, 'ok', NOW).inFlight?.confirmed).toBe(true);
    expect(applyOutcome(state, reissue, 'already-exists', NOW).inFlight?.confirmed).toBe(true);
    // Unknown or throttled: still unconfirmed, re-issued again in the next run.
    expect(applyOutcome(state, reissue, 'unknown', NOW).inFlight?.confirmed).toBe(false);
    expect(applyOutcome(state, reissue, 'throttled', NOW).inFlight?.confirmed).toBe(false);
    // Refused: the attempt is spent and counted as a failure.
    const refused = applyOutcome(state, reissue, 'refused', NOW, 'InvalidSnapshotStateFault');
    expect(refused.inFlight).toBeUndefined();
    expect(refused.exportFailures?.[SNAP]).toEqual({ failures: 1, lastError: 'InvalidSnapshotStateFault', at: NOW.toISOString() });
  });

  test('an export skipped for lack of time is released without counting as a failure, and its attempt number is given back', () => {
    const after = applyOutcome(stateStarting('orders-exp-b', 2), startExport('orders-exp-b', 2, false), 'skipped', NOW);
    expect(after.inFlight).toBeUndefined();
    expect(after.exportFailures).toBeUndefined();
    expect(after.exportAttempts).toEqual({ [SNAP]: 1 });
    expect(after.exportCalls).toBeUndefined();
  });

  test('a throttled second attempt gives back one attempt number (2 becomes 1); a throttled first attempt leaves none', () => {
    const second = applyOutcome(stateStarting('orders-exp-c', 2), startExport('orders-exp-c', 2, false), 'throttled', NOW);
    expect(second.exportAttempts).toEqual({ [SNAP]: 1 });
    const first = applyOutcome(stateStarting('orders-exp-c', 1), startExport('orders-exp-c', 1, false), 'throttled', NOW);
    expect(first.exportAttempts).toEqual({});
  });

  test('a throttled re-issue keeps its attempt number and its call record (the name may already be in use)', () => {
    const state = stateStarting('orders-exp-d', 3);
    const after = applyOutcome(state, startExport('orders-exp-d', 3, true), 'throttled', NOW);
    expect(after.exportAttempts).toEqual({ [SNAP]: 3 });
    expect(after.exportCalls).toEqual(state.exportCalls);
    expect(after.inFlight).toEqual(state.inFlight);
  });

  test('only a quota refusal teaches that exports count against the quota; a throttled export does not', () => {
    const state = stateStarting('orders-exp-e', 1);
    const throttled = applyOutcome(state, startExport('orders-exp-e', 1, false, 4), 'throttled', NOW);
    expect(throttled.exportsCountAgainstQuota).toBeUndefined();
    expect(throttled.exportBackoffUntil).toBeUndefined();
    expect(throttled.quotaRefusals).toBeUndefined();
    const refused = applyOutcome(state, startExport('orders-exp-e', 1, false, 4), 'quota-exceeded', NOW);
    expect(refused.exportsCountAgainstQuota).toBe(true);
    expect(refused.exportBackoffUntil).toBe(inMinutes(30));
    expect(refused.quotaRefusals).toEqual([{ at: NOW.toISOString(), hidden: 4 }]);
  });
});

describe('the outcome of a DeleteSnapshot', () => {
  test('a refused deletion counts its own earlier refusals, not those of another snapshot', () => {
    const state: GroupState = { ...emptyState(), refusedDeletions: [refusal('orders-plan-other', 3)] };
    const first = applyOutcome(state, deletion, 'refused', NOW, 'InvalidSnapshotStateFault');
    expect(first.refusedDeletions?.find((r) => r.name === SNAP)?.refusals).toBe(1);
    expect(first.refusedDeletions?.find((r) => r.name === 'orders-plan-other')?.refusals).toBe(3);
    const second = applyOutcome(first, deletion, 'refused', NOW, 'InvalidSnapshotStateFault');
    expect(second.refusedDeletions?.find((r) => r.name === SNAP)?.refusals).toBe(2);
  });

  test('the reason of a refused deletion is kept to its first 300 characters', () => {
    const reason = 'x'.repeat(299) + 'yz' + 'w'.repeat(100);
    const after = applyOutcome(emptyState(), deletion, 'refused', NOW, 'AccessDenied', reason);
    expect(after.refusedDeletions?.[0].reason).toBe('x'.repeat(299) + 'y');
  });

  test('a deletion that found the snapshot gone forgets its refusal, like a successful one', () => {
    const state: GroupState = { ...emptyState(), refusedDeletions: [refusal(SNAP, 2)] };
    expect(applyOutcome(state, deletion, 'not-found', NOW).refusedDeletions).toBeUndefined();
    expect(applyOutcome(state, deletion, 'ok', NOW).refusedDeletions).toBeUndefined();
  });

  test('a throttled, unknown or skipped deletion keeps the refusal remembered', () => {
    const state: GroupState = { ...emptyState(), refusedDeletions: [refusal(SNAP, 2)] };
    for (const outcome of ['throttled', 'unknown', 'skipped'] as OutcomeKind[]) {
      expect(applyOutcome(state, deletion, outcome, NOW).refusedDeletions).toEqual([refusal(SNAP, 2)]);
    }
  });
});

describe('the outcome of a CreateSnapshot', () => {
  const create: CreateSnapshotAction = { kind: 'CreateSnapshot', snapshotName: 'orders-plan-new' };
  const older = { name: 'orders-plan-older', at: AN_HOUR_AGO };
  const state: GroupState = { ...emptyState(), created: [older, { name: 'orders-plan-new', at: NOW.toISOString() }] };

  test('a backup whose name already exists, or whose call ended unknown, is not marked refused', () => {
    for (const outcome of ['already-exists', 'unknown'] as OutcomeKind[]) {
      expect(applyOutcome(state, create, outcome, NOW).created).toEqual(state.created);
    }
  });

  test('a refused backup marks only its own call refused', () => {
    expect(applyOutcome(state, create, 'refused', NOW).created).toEqual([
      older, { name: 'orders-plan-new', at: NOW.toISOString(), refused: true },
    ]);
  });
});

describe('the outcome of the S3 actions', () => {
  const object = { key: `exports/${G}/orders-exp-f-0001.rdb`, sizeBytes: 10, versionId: 'v1' };
  const verifications = [
    { key: object.key, versionId: 'v1', at: NOW.toISOString(), requests: 1 },
    { key: `exports/${G}/orders-exp-f-0002.rdb`, versionId: 'v1', at: NOW.toISOString(), requests: 1 },
  ];
  const verifying: GroupState = { ...emptyState(), inFlight: flight('orders-exp-f', { confirmed: true, shardCount: 2, verifications }) };
  const verify: VerifyShardAction = { kind: 'VerifyShard', exportName: 'orders-exp-f', object, request: 1 };

  test('a verification request that was written keeps its request time', () => {
    expect(applyOutcome(verifying, verify, 'ok', NOW)).toEqual(verifying);
  });

  test('a verification request that was not written is asked again in the next run (its request time reset)', () => {
    const after = applyOutcome(verifying, verify, 'refused', NOW);
    expect(after.inFlight?.verifications).toEqual([{ ...verifications[0], at: new Date(0).toISOString() }, verifications[1]]);
  });

  const exported = flight('orders-exp-g', { confirmed: true });
  const commit: CommitManifestAction = { kind: 'CommitManifest', export: exported, manifestKey: MANIFEST, objects: [], verifications: [] };
  /** The write-ahead state of a commit: nothing in flight any more. */
  const committing: GroupState = emptyState();

  test('a committed manifest leaves nothing in flight', () => {
    expect(applyOutcome(committing, commit, 'ok', NOW).inFlight).toBeUndefined();
  });

  test('a manifest that could not be written keeps its export in flight, and distrusts nothing new', () => {
    const after = applyOutcome(committing, commit, 'refused', NOW);
    expect(after.inFlight).toEqual(exported);
    expect(after.distrustedManifests).toBeUndefined();
  });

  test('a failed commit replacing a distrusted manifest keeps that manifest distrusted', () => {
    const after = applyOutcome(committing, { ...commit, replacesDistrusted: true }, 'unknown', NOW);
    expect(after.distrustedManifests).toEqual([MANIFEST]);
  });
});

describe('throttling', () => {
  /** Documented: 5 minutes, doubled per consecutive throttle, at most 60 minutes. */
  const backoffMinutes = (n: number): number => Math.min(60, 5 * 2 ** (n - 1));

  test('a throttled deletion or export backs off the ElastiCache writes, longer after each consecutive throttle', () => {
    const exportState = stateStarting('orders-exp-h', 1);
    const exported = applyOutcome(exportState, startExport('orders-exp-h', 1, false), 'throttled', NOW);
    expect(exported.consecutiveThrottles).toBe(1);
    expect(exported.backoffUntil).toBe(inMinutes(backoffMinutes(1)));
    const deleted = applyOutcome({ ...emptyState(), consecutiveThrottles: 2 }, deletion, 'throttled', NOW);
    expect(deleted.consecutiveThrottles).toBe(3);
    expect(deleted.backoffUntil).toBe(inMinutes(backoffMinutes(3)));
  });

  test('a throttled S3 call (verification request or manifest) does not back off the ElastiCache writes', () => {
    const object = { key: `exports/${G}/orders-exp-i-0001.rdb`, sizeBytes: 10 };
    const verify: VerifyShardAction = { kind: 'VerifyShard', exportName: 'orders-exp-i', object, request: 1 };
    const commit: CommitManifestAction = {
      kind: 'CommitManifest', export: flight('orders-exp-i', { confirmed: true }), manifestKey: MANIFEST, objects: [], verifications: [],
    };
    for (const action of [verify, commit]) {
      const after = applyOutcome(emptyState(), action, 'throttled', NOW);
      expect(after.consecutiveThrottles).toBe(0);
      expect(after.backoffUntil).toBeUndefined();
    }
  });
});

describe('what a decision reports about a throttle backoff', () => {
  const CONFIG: GroupConfig = { replicationGroupId: G, retentionSeconds: 86_400, rpoTargetSeconds: 135 * 60, exportAutomated: true };
  const decide = (state: GroupState) => plan(observed({ state }), CONFIG, NOW, DEFAULT_SETTINGS, () => 'abcdefgh');

  test('a decision taken during a throttle backoff says so in its notes, with the time the backoff ends', () => {
    const until = inMinutes(5);
    const during = decide({ ...emptyState(), consecutiveThrottles: 1, backoffUntil: until });
    expect(during.notes.filter((n) => n.includes(until))).toHaveLength(1);
    expect(during.notes.join('\n')).toMatch(/back(ing)? ?off/i);
    // Once the backoff ended, the note is gone.
    const ended = decide({ ...emptyState(), consecutiveThrottles: 1, backoffUntil: new Date(NOW.getTime() - MIN).toISOString() });
    expect(ended.notes.join('\n')).not.toMatch(/back(ing)? ?off/i);
  });
});
