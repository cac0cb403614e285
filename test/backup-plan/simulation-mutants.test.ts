/**
 * Issue 10's mutants: each deliberate bug is switched on inside a short simulation (benchmarks/simulator/mutants.ts)
 * and the simulation's own oracle, which judges what the simulated service and buckets hold, must report it. The same
 * worlds without the mutant report nothing, so each report is the mutant's doing.
 */
import { expectSafe } from './simulation-expectations';
import { runSimulation, stopSimulator } from './simulation-runner';
import { NO_FAULTS, SimulationOptions } from '../../benchmarks/simulator';

afterAll(stopSimulator);

/** Every 4th group's exports are refused: its backups pass retention without ever being exported. */
const NEVER_EXPORTING: SimulationOptions = {
  seed: 101, groups: 4, days: 2, intervalMinutes: 120, faults: NO_FAULTS, behaviour: { neverExports: { everyNthGroup: 4, how: 'refused' } },
};
/** The user backs up every 6 hours, half of the time under names shaped like the plan's (untagged). */
const USER_BACKUPS: SimulationOptions = {
  seed: 102, groups: 2, days: 2, intervalMinutes: 120, faults: NO_FAULTS, adversary: { userBackupsEveryHours: 6, userBackupsPlanLikeNames: 0.5 },
};
/** Groups of 1, 2 and 3 shards. */
const SHARDED: SimulationOptions = { seed: 103, groups: 3, days: 1, intervalMinutes: 120, faults: NO_FAULTS };

describe('the simulation kills the mutants of issue 10', () => {
  test('"prune ignores the export check": backups that were never exported are deleted (unsafe deletions, last copies)', async () => {
    const r = await runSimulation({ ...NEVER_EXPORTING, mutant: 'prune-ignores-export-check' });
    expect(r.unsafeDeletions).toBeGreaterThan(0);
    expect(r.lastCopyDeletions).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/without an intact copy in the replica bucket \(export bucket: no intact copy\)/);
  });

  test('"delete without the tag check": the user\'s plan-named backups are deleted (unsafe deletions of backups that are not the plan\'s)', async () => {
    const r = await runSimulation({ ...USER_BACKUPS, mutant: 'delete-without-tag-check' });
    expect(r.unsafeDeletions).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/deleted \S+, which is not a backup of this plan \(manual, tag undefined\)/);
  });

  test('"commit a partial export": manifests of sharded exports without their last shard (false commits)', async () => {
    const r = await runSimulation({ ...SHARDED, mutant: 'commit-partial-export' });
    expect(r.falseCommits).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/false commit .*: lists \d objects, the snapshot has \d shards/);
  });

  test('the planner\'s half of "prune ignores the export check" alone is stopped by the executor\'s re-check (nothing unsafe)', async () => {
    // Defence in depth: the executor re-reads the manifest before every deletion. The planner's unit tests kill this one.
    const r = await runSimulation({ ...NEVER_EXPORTING, mutant: 'prune-ignores-export-check-planner-only' });
    expect(r.unsafeDeletions).toBe(0);
    expect(r.deletions).toBeGreaterThan(0);
  });

  test.each([
    ['never-exporting groups', NEVER_EXPORTING],
    ['user backups with plan-like names', USER_BACKUPS],
    ['sharded groups', SHARDED],
  ])('the same world without a mutant (%s): the oracle reports nothing', async (_, options) => {
    const r = await runSimulation(options);
    expectSafe(r);
  });
});
