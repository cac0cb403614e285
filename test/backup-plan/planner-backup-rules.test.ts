/**
 * When the plan creates a backup, and what the decision reports when it does not (planner/backup-rules.ts): the exact
 * moment a backup is due, each reason that holds a due backup back (the circuit breaker, a group that is not
 * available, a backup being created, a recent failure, a name already used, the quota) and its note, whether the
 * decision says "blocked by the quota" only when the quota blocked it, the quota count reported, what a quota refusal
 * of the backup teaches, which error the open circuit reports, and which snapshots are reported as listed without a
 * create time. Also the backup pruning judges the clock by (planner/prune-rules.ts): the plan's newest recorded one,
 * not a newer backup of somebody else. Found by mutation testing (survivors in planner/backup-rules.ts and
 * planner/prune-rules.ts). The oracle is the test's own arithmetic on the documented defaults (quota 20 per node, a
 * 900 s cooldown after a failed backup, circuit breaker at 3 unexported backups, clock skew margin 600 s), never the
 * planner's own predicates.
 */
import {
  G, HOUR, MIN, minutesAgo, msAgo as at, NOW, observed, observedCommitted, snapshotAt as mine, stateRecordingCreates,
} from './support/planner-fixtures';
import { planSnapshotName } from '../../lib/backup-plan/constants';
import {
  applyOutcome, CreatedRecord, CreateSnapshotAction, Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, ObservedGroup, ObservedSnapshot, plan,
} from '../../lib/backup-plan/planner';

const SECOND = 1000;
/** A backup every hour, kept a week; only backups the plan created are exported. */
const HOURLY: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 60 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 120 * 60, exportAutomated: false,
};
/** Documented default: after a backup the plan created failed, no new one for 900 s. */
const COOLDOWN_MS = 900 * SECOND;
/** Documented default: the clocks may disagree by 600 s before pruning is held. */
const SKEW_MARGIN_MS = 600 * SECOND;
/** The name the plan gives the backup it creates now. */
const NAME_NOW = planSnapshotName(G, NOW);

const decide = (obs: ObservedGroup, config: GroupConfig = HOURLY, now: Date = NOW): Decision => plan(obs, config, now, DEFAULT_SETTINGS, () => 'abcdefgh');
const creates = (d: Decision) => d.actions.filter((a): a is CreateSnapshotAction => a.kind === 'CreateSnapshot');
const noted = (d: Decision, text: string) => d.notes.filter((n) => n.includes(text));

/**
 * The plan's last backup, exported (manifest listed), `minutes` ago, its CreateSnapshot call recorded, with `extra`
 * snapshots listed and `moreCalls` recorded: a backup is due when the last one is an hour old or more.
 */
function lastBackupMinutesAgo(minutes: number, extra: ObservedSnapshot[] = [], moreCalls: CreatedRecord[] = []): ObservedGroup {
  const last = mine(planSnapshotName(G, minutesAgo(minutes)), minutesAgo(minutes));
  const state = stateRecordingCreates([last]);
  return { ...observedCommitted([last], { ...state, created: [...state.created, ...moreCalls] }), snapshots: [last, ...extra] };
}

/** Somebody else's manual backup, taken `minutes` ago (it counts against the quota, never for the interval). */
const othersBackup = (i: number, minutes: number): ObservedSnapshot => mine(`someone-${i}`, minutesAgo(minutes), { createdByPlan: false });

describe('when a backup is due', () => {
  test('a backup is due exactly one interval after the last one, not one millisecond before', () => {
    expect(creates(decide(lastBackupMinutesAgo(60))).map((a) => a.snapshotName)).toEqual([NAME_NOW]);
    const early = decide(lastBackupMinutesAgo(60), HOURLY, new Date(NOW.getTime() - 1));
    expect(creates(early)).toEqual([]);
  });

  test('a backup that is not due yet is not reported as blocked by the quota', () => {
    const d = decide(lastBackupMinutesAgo(10));
    expect(creates(d)).toEqual([]);
    expect(d.backupBlockedByQuota).toBeUndefined();
  });

  test('the quota count reported includes the backup created now', () => {
    const others = [othersBackup(1, 120), othersBackup(2, 180), othersBackup(3, 240)];
    const d = decide(lastBackupMinutesAgo(90, others));
    expect(creates(d)).toHaveLength(1);
    // 3 backups of others + the plan's last one + the one created now.
    expect(d.metrics.manualBackupsLast24h).toBe(5);
  });
});

describe('what holds a due backup back, and what the decision says', () => {
  test('a backup is not created while the group is not available, which is noted and not blamed on the quota', () => {
    const d = decide({ ...lastBackupMinutesAgo(90), groupAvailable: false });
    expect(creates(d)).toEqual([]);
    expect(noted(d, 'group is not available')).toHaveLength(1);
    expect(d.backupBlockedByQuota).toBeUndefined();
  });

  test('a backup is not created while somebody else\'s backup is being created, which is noted', () => {
    // Neither snapshot being created is one the plan exports, so neither postpones the plan's backup: only its status holds it back.
    for (const creating of [
      mine('someone-creating', undefined, { createdByPlan: false }),
      mine('automatic.orders-2026-03-10', undefined, { source: 'automated', createdByPlan: false }),
    ]) {
      const d = decide(lastBackupMinutesAgo(90, [creating]));
      expect(creates(d)).toEqual([]);
      expect(noted(d, 'a backup is being created')).toHaveLength(1);
      expect(d.backupBlockedByQuota).toBeUndefined();
    }
  });

  test('a backup is not created within the cooldown after the plan\'s last backup failed, which is noted', () => {
    const failedName = planSnapshotName(G, minutesAgo(14));
    const failed = mine(failedName, undefined, { status: 'failed' });
    const d = decide(lastBackupMinutesAgo(90, [failed], [{ name: failedName, at: minutesAgo(14).toISOString() }]));
    expect(creates(d)).toEqual([]);
    expect(noted(d, 'failed recently')).toHaveLength(1);
  });

  test('a backup is created again exactly when the cooldown after a failed one has passed, not one second before', () => {
    const failedAt = at(COOLDOWN_MS);
    const failedName = planSnapshotName(G, failedAt);
    const failed = mine(failedName, undefined, { status: 'failed' });
    const world = lastBackupMinutesAgo(90, [failed], [{ name: failedName, at: failedAt.toISOString() }]);
    const d = decide(world);
    expect(creates(d).map((a) => a.snapshotName)).toEqual([NAME_NOW]);
    expect(noted(d, 'failed recently')).toEqual([]);
    expect(creates(decide(world, HOURLY, new Date(NOW.getTime() - SECOND)))).toEqual([]);
  });

  test('a backup is not requested again under a name a refused call of this second already used, which is noted', () => {
    const d = decide(lastBackupMinutesAgo(90, [], [{ name: NAME_NOW, at: NOW.toISOString(), refused: true }]));
    expect(creates(d)).toEqual([]);
    expect(noted(d, `backup ${NAME_NOW} already requested`)).toHaveLength(1);
    expect(d.backupBlockedByQuota).toBeUndefined();
  });

  test('a backup is not requested under the name of a snapshot already listed', () => {
    const listed = mine(NAME_NOW, undefined, { status: 'failed', createdByPlan: false });
    const d = decide(lastBackupMinutesAgo(90, [listed]));
    expect(creates(d)).toEqual([]);
    expect(noted(d, `backup ${NAME_NOW} already requested`)).toHaveLength(1);
  });
});

describe('the backup that fills the quota', () => {
  test('the 20th backup of the window leaves room without exports: its quota refusal teaches that exports count', () => {
    // 18 backups of others + the plan's last one = 19 in the window: the 20th fits the quota of 20 exactly.
    const others = Array.from({ length: 18 }, (_, i) => othersBackup(i, 120 + i));
    const d = decide(lastBackupMinutesAgo(90, others));
    const [create] = creates(d);
    expect(create).toMatchObject({ snapshotName: NAME_NOW, roomWithoutExports: true });
    expect(d.metrics.manualBackupsLast24h).toBe(20);
    const after = applyOutcome(d.state, create, 'quota-exceeded', NOW, 'SnapshotQuotaExceededFault');
    expect(after.exportsCountAgainstQuota).toBe(true);
  });
});

describe('the circuit breaker reports the most recent export error', () => {
  test('with three unexported backups, the error reported is the one of the latest failure, whatever the backups\' order', () => {
    const newest = mine('orders-plan-newest', minutesAgo(30));
    const middle = mine('orders-plan-middle', minutesAgo(90));
    const oldest = mine('orders-plan-oldest', minutesAgo(150));
    const failure = (lastError: string, minutes: number) => ({ failures: 5, lastError, at: minutesAgo(minutes).toISOString() });
    const snapshots = [newest, middle, oldest];
    const d = decide(observed({
      snapshots,
      state: stateRecordingCreates(snapshots, {
        exportAttempts: { [newest.name]: 5, [middle.name]: 5, [oldest.name]: 5 },
        // The middle backup failed last (5 minutes ago), the oldest one 10 and the newest one 20 minutes ago.
        exportFailures: { [newest.name]: failure('ErrorOfNewest', 20), [middle.name]: failure('ErrorOfMiddle', 5), [oldest.name]: failure('ErrorOfOldest', 10) },
      }),
    }));
    expect(d.metrics.circuitOpen).toBe(1);
    expect(d.metrics.unexportedBackups).toBe(3);
    expect(d.metrics.circuitReason).toBe('ErrorOfMiddle');
  });
});

describe('snapshots listed without a create time', () => {
  test('only a snapshot in a settled status without a create time is reported; creating, failed and deleting ones are not', () => {
    const d = decide(lastBackupMinutesAgo(10, [
      mine('someone-creating', undefined, { createdByPlan: false }),
      mine('someone-failed', undefined, { status: 'failed', createdByPlan: false }),
      mine('someone-deleting', undefined, { status: 'deleting', createdByPlan: false }),
      mine('someone-undated', undefined, { status: 'available', createdByPlan: false }),
    ]));
    const reported = noted(d, 'without a create time');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('someone-undated');
  });
});

describe('the backup pruning judges the clock by', () => {
  /** The plan's backup dated 15 minutes before the CreateSnapshot call that made it: beyond the 600 s margin. */
  const skewed = mine(planSnapshotName(G, at(2 * HOUR)), at(2 * HOUR));
  const callOfSkewed = { name: skewed.name, at: at(2 * HOUR - SKEW_MARGIN_MS - 5 * MIN).toISOString() };

  test('a newer automatic backup does not hide the plan\'s newest backup, dated before its call: pruning is held', () => {
    const automatic = mine('automatic.orders-2026-03-10', minutesAgo(30), { source: 'automated', createdByPlan: false });
    const d = decide(observedCommitted([automatic, skewed], { ...emptyState(), created: [callOfSkewed] }));
    expect(d.metrics.pruningHeldForClockSkew).toBe(1);
    // Without the skewed call, the same backups do not hold pruning.
    const callInTime = { name: skewed.name, at: skewed.createTime!.toISOString() };
    const inTime = decide(observedCommitted([automatic, skewed], { ...emptyState(), created: [callInTime] }));
    expect(inTime.metrics.pruningHeldForClockSkew).toBe(0);
  });

  test('a newer plan-named backup the state has no call of does not hide the plan\'s newest recorded backup: pruning is held', () => {
    const unrecorded = mine(planSnapshotName(G, minutesAgo(30)), minutesAgo(30));
    const d = decide(observedCommitted([unrecorded, skewed], { ...emptyState(), created: [callOfSkewed] }));
    expect(d.metrics.pruningHeldForClockSkew).toBe(1);
  });
});
