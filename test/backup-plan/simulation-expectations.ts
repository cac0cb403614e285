/**
 * What every simulation test asserts: the oracle's safety verdicts (judged from the simulated world, never from the
 * planner's predicates). Shared by the simulation test files.
 */
import { SimulationReport } from '../../benchmarks/simulator';

/** Every safety property the oracle judges, whatever the faults and behaviours. */
export function expectSafe(r: SimulationReport): void {
  expect({
    unsafeDeletions: r.unsafeDeletions,
    lastCopyDeletions: r.lastCopyDeletions,
    prematureDeletions: r.prematureDeletions,
    falseCommits: r.falseCommits,
    quotaViolations: r.quotaViolations,
    silentMisses: r.silentMisses,
    details: r.oracleDetails,
  }).toEqual({ unsafeDeletions: 0, lastCopyDeletions: 0, prematureDeletions: 0, falseCommits: 0, quotaViolations: 0, silentMisses: 0, details: [] });
  expect(r.maxUnexportedPlanBackups).toBeLessThanOrEqual(r.unexportedCap);
  for (const g of r.groups) {
    expect(g.maxManualBackupsPer24h).toBeLessThanOrEqual(20);
  }
  // Every group that can export did.
  for (const g of r.groups.filter((x) => !x.neverExports)) {
    expect(g.exportsCommitted).toBeGreaterThan(0);
  }
}

export const worst = (r: SimulationReport, sel: (g: SimulationReport['groups'][number]) => number) => Math.max(...r.groups.map(sel));
