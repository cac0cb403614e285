/**
 * The exact boundaries of pruning and what the decision reports about it: the retention cutoff, the retry period of a
 * refused deletion, a throttle backoff, and a clock found behind AWS. Found by mutation testing (survivors in
 * planner.ts and planner/prune-rules.ts: `<` against `<=`, `>=` against `>`, a metric left out). The oracle is the
 * test's own arithmetic on the settings' documented defaults (retention + 10 minutes; 7 days), not the planner's code.
 */
import { DAY, G, MIN, msAgo as at, NOW, observedCommitted, snapshotAt as mine, stateRecordingCreates } from './support/planner-fixtures';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, DeleteSnapshotAction, GroupConfig, GroupState, ObservedGroup, ObservedSnapshot, plan as planWithRandom,
} from '../../lib/backup-plan/planner';

const SECOND = 1000;
/** Retention 1 day, no backups of its own (export only), so that only pruning acts. */
const CONFIG: GroupConfig = {
  replicationGroupId: G, retentionSeconds: 86_400, rpoTargetSeconds: 135 * 60, exportAutomated: true,
};
/** Documented: a backup is pruned once older than retention plus the 10-minute clock skew margin. */
const PRUNE_AFTER_MS = DAY + 10 * MIN;
/** Documented: a refused deletion is tried again after 7 days. */
const RETRY_AFTER_MS = 7 * DAY;

const decide = (obs: ObservedGroup, now: Date = NOW): Decision => planWithRandom(obs, CONFIG, now, DEFAULT_SETTINGS, () => 'abcdefgh');
const deleted = (d: Decision) => d.actions.filter((a): a is DeleteSnapshotAction => a.kind === 'DeleteSnapshot').map((a) => a.snapshotName);

/** The plan's committed backups, with the plan's CreateSnapshot call recorded at each create time. */
function world(snapshots: ObservedSnapshot[], over: Partial<GroupState> = {}, obs: Partial<ObservedGroup> = {}): ObservedGroup {
  return { ...observedCommitted(snapshots, stateRecordingCreates(snapshots, over)), ...obs };
}

describe('pruning boundaries', () => {
  test('a backup exactly at retention plus the margin is kept; one millisecond older is pruned', () => {
    const atCutoff = mine('orders-plan-at-cutoff', at(PRUNE_AFTER_MS));
    const pastCutoff = mine('orders-plan-past-cutoff', at(PRUNE_AFTER_MS + 1));
    const newest = mine('orders-plan-newest', at(10 * MIN));
    expect(deleted(decide(world([newest, atCutoff, pastCutoff])))).toEqual([pastCutoff.name]);
  });

  test('a refused deletion is tried again exactly when its retry period has passed, not one second before', () => {
    const old = mine('orders-plan-old', at(30 * DAY));
    const newest = mine('orders-plan-newest', at(10 * MIN));
    const first = decide(world([newest, old]));
    expect(deleted(first)).toEqual([old.name]);
    const refusedState = applyOutcome(first.state, first.actions[0], 'refused', NOW, 'InvalidSnapshotStateFault');
    const later = (ms: number) => {
      const now = new Date(NOW.getTime() + ms);
      // The same two backups, seen `ms` later (by then the newer one is past retention too).
      return deleted(decide({ ...world([newest, old]), state: refusedState }, now)).includes(old.name);
    };
    expect(later(RETRY_AFTER_MS - SECOND)).toBe(false);
    expect(later(RETRY_AFTER_MS)).toBe(true);
  });
});

describe('what the decision reports about pruning', () => {
  test('during a throttle backoff nothing is pruned and pruning is not reported as held for clock skew', () => {
    const old = mine('orders-plan-old', at(3 * DAY));
    // A snapshot dated 2 hours ahead would hold pruning for clock skew, if pruning were considered at all.
    const future = mine('orders-plan-future', new Date(NOW.getTime() + 120 * MIN));
    const backoffUntil = new Date(NOW.getTime() + 5 * MIN).toISOString();
    const d = decide(world([future, old], { backoffUntil }));
    expect(deleted(d)).toEqual([]);
    expect(d.metrics.pruningHeldForClockSkew).toBe(0);
    // Without the backoff the same world is held for clock skew: the switch above is the backoff.
    expect(decide(world([future, old])).metrics.pruningHeldForClockSkew).toBe(1);
  });

  test('a clock found behind AWS is published as ClockBehindSeconds and holds pruning', () => {
    const old = mine('orders-plan-old', at(3 * DAY));
    const newest = mine('orders-plan-newest', at(10 * MIN));
    const d = decide(world([newest, old], {}, { clockBehindSeconds: 900 }));
    expect(d.metrics.clockBehindSeconds).toBe(900);
    expect(d.metrics.pruningHeldForClockSkew).toBe(1);
    expect(deleted(d)).toEqual([]);
    const inTime = decide(world([newest, old]));
    expect(inTime.metrics.clockBehindSeconds).toBeUndefined();
    expect(deleted(inTime)).toEqual([old.name]);
  });
});
