/**
 * The real reconciler against the simulated world (benchmarks/simulator/), judged by the simulator's own oracle (what the
 * simulated service and buckets hold), never by the planner's predicates. Short horizons here; the long runs are in
 * benchmarks/simulation.ts. This file: the undocumented behaviours on their inconvenient side, the adversary, and proof that
 * the oracle can fail (split from simulation.test.ts so that jest runs the two on separate workers).
 */
import { expectSafe, worst } from './simulation-expectations';
import { runSimulation as simulate, stopSimulator } from './simulation-runner';
import { ALL_OBJECT_FAULTS, DEFAULT_FAULTS, NO_FAULTS, SCENARIOS, WORST_BEHAVIOUR } from '../../benchmarks/simulator';

afterAll(stopSimulator);

describe('simulation: undocumented behaviours on their inconvenient side, and the adversary (issues 8 and 9)', () => {
  test.each(SCENARIOS.filter((s) => !s.title.startsWith('baseline') && !s.title.startsWith('worst')).map((s) => [s.title, s] as const))(
    '%s: no unsafe deletion, no false commit, no quota violation, unexported backups capped', async (_, s) => {
      const r = await simulate({
        // Four groups: the scenarios where every 4th group can never export need one such group.
        seed: 90, groups: 4, days: 2, intervalMinutes: 75, faults: DEFAULT_FAULTS, behaviour: s.behaviour, objectFaults: s.objectFaults,
      });
      expectSafe(r);
      expect(r.runErrors).toEqual({});
    });

  test('the worst case (every behaviour inconvenient, adversary in both buckets): safe, and every fault really happened', async () => {
    const r = await simulate({
      seed: 91, groups: 8, days: 2, intervalMinutes: 75, faults: DEFAULT_FAULTS, behaviour: WORST_BEHAVIOUR, objectFaults: ALL_OBJECT_FAULTS,
    });
    expectSafe(r);
    expect(r.runErrors).toEqual({});
    const w = r.world;
    expect({
      planted: w.planted > 0,
      truncatedByService: w.truncatedByService > 0,
      deletedAfterCommit: w.deletedAfterCommit > 0,
      overwrittenAfterCommit: w.overwrittenAfterCommit > 0,
      replicaFaults: w.replicaFaults > 0,
      exportsRefusedAlways: w.exportsRefusedAlways > 0,
      quotaRefusals: w.copyQuotaRefusals + w.createQuotaRefusals > 0,
    }).toEqual({
      planted: true,
      truncatedByService: true,
      deletedAfterCommit: true,
      overwrittenAfterCommit: true,
      replicaFaults: true,
      exportsRefusedAlways: true,
      quotaRefusals: true,
    });
    // The groups that can never export hit the circuit breaker's cap, and no more.
    expect(worst({ ...r, groups: r.groups.filter((g) => g.neverExports) }, (g) => g.maxUnexportedPlanBackups)).toBe(r.unexportedCap);
  });

  test('automatic daily backups only, worst case: safe', async () => {
    const r = await simulate({ seed: 92, groups: 8, days: 3, faults: DEFAULT_FAULTS, behaviour: WORST_BEHAVIOUR, objectFaults: ALL_OBJECT_FAULTS });
    expectSafe(r);
    expect(r.runErrors).toEqual({});
  });
});

describe('the oracle can fail: broken reconcilers are caught', () => {
  const adversary = { seed: 93, groups: 4, days: 3, intervalMinutes: 75, faults: NO_FAULTS } as const;
  const failingExports = {
    ...adversary, groups: 4, days: 3, faults: { ...NO_FAULTS, exportFailRate: 0.3 }, objectFaults: { overwriteAfterCommit: 0.6 },
  };

  test('a HEAD that hides overwrites (answers what it saw first) lets pruning delete backups whose replica copy was overwritten: unsafe deletions', async () => {
    const r = await simulate({ ...adversary, objectFaults: { overwriteAfterCommit: 0.6 }, mutant: 'head-hides-overwrites' });
    expect(r.unsafeDeletions).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/without an intact copy in the replica bucket/);
  });

  test('a reconciler that reads every verification as passed commits truncated and empty exports: false commits', async () => {
    const r = await simulate({ ...adversary, objectFaults: { serviceTruncated: 0.3, serviceEmpty: 0.1 }, mutant: 'verifications-always-pass' });
    expect(r.falseCommits).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/false commit .*holds (truncated|empty) data/);
  });

  test('a planner without the retention rule, behind a HEAD that reports replication COMPLETED too early, prunes before replication: unsafe deletions', async () => {
    // The executor alone would still wait for replication (ReplicationStatus), so the HEAD is broken too: the mutant is
    // the pair, and only the oracle, which looks at what the replica bucket holds, can see what it did.
    const r = await simulate({ ...adversary, replicationMinutes: [40, 120], mutant: ['prune-at-commit', 'replication-reported-early'] });
    expect(r.unsafeDeletions).toBeGreaterThan(0);
    expect(r.oracleDetails.join('\n')).toMatch(/without an intact copy in the replica bucket/);
  });

  test('the executor stops the same planner mutant when the HEAD is honest: it waits for replication (nothing unsafe)', async () => {
    const r = await simulate({ ...adversary, replicationMinutes: [40, 120], mutant: 'prune-at-commit' });
    expect(r.unsafeDeletions).toBe(0);
    expect(r.deletions).toBeGreaterThan(0);
  });

  test('the same worlds with the real reconciler: the oracle reports nothing', async () => {
    const overwrites = await simulate({ ...adversary, objectFaults: { overwriteAfterCommit: 0.6, serviceTruncated: 0.3, serviceEmpty: 0.1 } });
    expectSafe(overwrites);
    const failing = await simulate({ ...failingExports });
    expectSafe(failing);
  });
});

