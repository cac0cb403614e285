/**
 * What `plan()` itself adds to the rules: settings given as undefined take their default, and a backup held back by the
 * quota is flagged on the decision. Found by mutation testing (survivors in planner.ts). The oracle is the test's own:
 * 20 backups of the plan in the last 24 hours, built here, fill the quota of 20 per node.
 */
import { G, NOW, observedCommitted, planBackupMinutesAgo } from './support/planner-fixtures';
import { DEFAULT_SETTINGS, GroupConfig, ObservedGroup, ObservedSnapshot, plan, PlannerSettings } from '../../lib/backup-plan/planner';

const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 60 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 120 * 60, exportAutomated: false,
};

function backups(n: number): ObservedSnapshot[] {
  // Every 65 minutes, the newest 70 minutes old: a backup is due (interval 60 minutes), each one exported.
  return Array.from({ length: n }, (_, i) => planBackupMinutesAgo(70 + i * 65));
}
const decide = (obs: ObservedGroup, settings: PlannerSettings) => plan(obs, CONFIG, NOW, settings, () => 'abcdefgh');

describe('plan(): settings and the quota flag', () => {
  test('a setting given as undefined takes its default (quota 20): with 20 backups in 24 h none is created', () => {
    const d = decide(observedCommitted(backups(20)), { ...DEFAULT_SETTINGS, quotaPerNode: undefined } as unknown as PlannerSettings);
    expect(d.actions.filter((a) => a.kind === 'CreateSnapshot')).toEqual([]);
    expect(d.backupBlockedByQuota).toBe(true);
  });

  test('with room under the quota the backup is created and the decision carries no quota flag', () => {
    const d = decide(observedCommitted(backups(5)), DEFAULT_SETTINGS);
    expect(d.actions.map((a) => a.kind)).toEqual(['CreateSnapshot']);
    expect(d.backupBlockedByQuota).toBeUndefined();
  });
});
