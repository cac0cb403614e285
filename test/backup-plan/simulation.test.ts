import { DEFAULT_FAULTS, NO_FAULTS, simulate, SimulationReport } from '../../benchmarks/simulator';

/** Every safety property the simulation checks, whatever the faults. */
function expectSafe(r: SimulationReport): void {
  expect({
    unsafeDeletions: r.unsafeDeletions,
    prematureDeletions: r.prematureDeletions,
    quotaViolations: r.quotaViolations,
    exportNameCollisions: r.exportNameCollisions,
    leakedSnapshots: r.leakedSnapshots,
  }).toEqual({ unsafeDeletions: 0, prematureDeletions: 0, quotaViolations: 0, exportNameCollisions: 0, leakedSnapshots: 0 });
  expect(r.maxExportsInFlight).toBeLessThanOrEqual(1);
  for (const g of r.groups) {
    expect(g.maxManualBackupsPer24h).toBeLessThanOrEqual(20);
    expect(g.exportsCommitted).toBeGreaterThan(0);
  }
}

const worst = (r: SimulationReport, sel: (g: SimulationReport['groups'][number]) => number) => Math.max(...r.groups.map(sel));
const EXPORT_TIMEOUT_MINUTES = 60;

describe('simulation: the planner against simulated ElastiCache, S3 and cross-region replication', () => {
  test('interval 75 min, 20 groups, 30 days, with faults: no unsafe deletion, no quota violation, p99 RPO within bound + one export timeout', async () => {
    const r = await simulate({ seed: 75, groups: 20, days: 30, intervalMinutes: 75, faults: DEFAULT_FAULTS });
    expectSafe(r);
    // The faults really happened.
    expect(r.crashes).toBeGreaterThan(100);
    expect(r.throttles).toBeGreaterThan(100);
    expect(r.failedSnapshots).toBeGreaterThan(10);
    expect(r.failedExports).toBeGreaterThan(10);
    expect(r.rpoBoundMinutes).toBe(75 + 15 + 20 + 15 + 2 * 5);
    expect(worst(r, (g) => g.rpoP99Minutes)).toBeLessThanOrEqual(r.rpoBoundMinutes + EXPORT_TIMEOUT_MINUTES);
    // 24 h / 75 min = 19.2 backups a day, plus retries after failures: the quota (20) is reached and held.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBe(20);
  });

  test('automatic daily backups only, 20 groups, 30 days, with faults: no unsafe deletion, p99 RPO within bound + one export timeout', async () => {
    const r = await simulate({ seed: 24, groups: 20, days: 30, faults: DEFAULT_FAULTS });
    expectSafe(r);
    expect(r.rpoBoundMinutes).toBe(24 * 60 + 30 + 15 + 20 + 15 + 2 * 5);
    expect(worst(r, (g) => g.rpoP99Minutes)).toBeLessThanOrEqual(r.rpoBoundMinutes + EXPORT_TIMEOUT_MINUTES);
    // Only fallback backups after a missed automatic one: at most a few a day.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBeLessThanOrEqual(2);
  });

  test('without faults, max RPO is within interval + max pipeline (snapshot + export + replication) + two runs', async () => {
    const r = await simulate({ seed: 7, groups: 20, days: 10, intervalMinutes: 75, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });

  test('without faults and without an interval, max RPO is within 24 h + backup window jitter + max pipeline + two runs', async () => {
    const r = await simulate({ seed: 8, groups: 20, days: 10, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });

  test('the simulation is deterministic for a seed', async () => {
    const a = await simulate({ seed: 3, groups: 3, days: 2, intervalMinutes: 90, faults: DEFAULT_FAULTS });
    const b = await simulate({ seed: 3, groups: 3, days: 2, intervalMinutes: 90, faults: DEFAULT_FAULTS });
    expect(a.groups).toEqual(b.groups);
  });
});
