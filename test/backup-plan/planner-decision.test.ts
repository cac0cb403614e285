/**
 * What `plan()` itself adds to the rules: settings given as undefined take their default, and a backup held back by the
 * quota is flagged on the decision. Found by mutation testing (survivors in planner.ts). The oracle is the test's own:
 * 20 backups of the plan in the last 24 hours, built here, fill the quota of 20 per node.
 */
import { planSnapshotName } from '../../lib/backup-plan/constants';
import { DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, ObservedGroup, ObservedSnapshot, plan, PlannerSettings } from '../../lib/backup-plan/planner';
import { manifestKey } from '../../lib/manifest/manifest';

const G = 'orders';
const NOW = new Date('2026-03-10T12:00:00Z');
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 60 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 120 * 60, exportAutomated: false,
};

function backups(n: number): ObservedSnapshot[] {
  // Every 65 minutes, the newest 70 minutes old: a backup is due (interval 60 minutes), each one exported.
  return Array.from({ length: n }, (_, i) => ({
    name: planSnapshotName(G, ago(70 + i * 65)), source: 'manual', status: 'available', createTime: ago(70 + i * 65), createdByPlan: true, shardCount: 1,
  }));
}
function observed(snapshots: ObservedSnapshot[]): ObservedGroup {
  const state: GroupState = { ...emptyState(), created: snapshots.map((s) => ({ name: s.name, at: s.createTime!.toISOString() })) };
  return {
    replicationGroupId: G,
    groupAvailable: true,
    snapshots,
    exportObjects: [],
    state,
    exportFailureSignals: [],
    manifestKeys: snapshots.map((s) => manifestKey(G, s.createTime!, s.name)),
  };
}
const decide = (obs: ObservedGroup, settings: PlannerSettings) => plan(obs, CONFIG, NOW, settings, () => 'abcdefgh');

describe('plan(): settings and the quota flag', () => {
  test('a setting given as undefined takes its default (quota 20): with 20 backups in 24 h none is created', () => {
    const d = decide(observed(backups(20)), { ...DEFAULT_SETTINGS, quotaPerNode: undefined } as unknown as PlannerSettings);
    expect(d.actions.filter((a) => a.kind === 'CreateSnapshot')).toEqual([]);
    expect(d.backupBlockedByQuota).toBe(true);
  });

  test('with room under the quota the backup is created and the decision carries no quota flag', () => {
    const d = decide(observed(backups(5)), DEFAULT_SETTINGS);
    expect(d.actions.map((a) => a.kind)).toEqual(['CreateSnapshot']);
    expect(d.backupBlockedByQuota).toBeUndefined();
  });
});
