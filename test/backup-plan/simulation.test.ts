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
/** max over every RPO sample of every group of (RPO - the fault-aware bound of that sample). */
const worstExcess = (r: SimulationReport) => worst(r, (g) => g.maxRpoMinusBoundMinutes);

describe.each([
  ['not visible', false],
  ['visible', true],
])('simulation with faults, snapshot status during an export %s', (_, visible) => {
  test('interval 75 min, 20 groups, 30 days: no unsafe deletion, no quota violation, max RPO within the fault-aware bound', async () => {
    const r = await simulate({ seed: 75, groups: 20, days: 30, intervalMinutes: 75, faults: DEFAULT_FAULTS, exportStatusVisible: visible });
    expectSafe(r);
    // The faults really happened.
    expect(r.crashes).toBeGreaterThan(100);
    expect(r.throttles).toBeGreaterThan(100);
    expect(r.failedSnapshots).toBeGreaterThan(10);
    expect(r.failedExports).toBeGreaterThan(10);
    expect(r.lostEvents).toBeGreaterThan(100);
    expect(r.rpoBoundMinutes).toBe(75 + 15 + 20 + 15 + 2 * 5);
    // Every sample: RPO <= interval + max pipeline + two runs + the modelled cost of the faults since its newest backup.
    expect(worstExcess(r)).toBeLessThanOrEqual(0);
    // 24 h / 75 min = 19.2 backups a day, plus retries after failures: the quota (20) is reached and held.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBe(20);
  });

  test('automatic daily backups only, 20 groups, 30 days: no unsafe deletion, max RPO within the fault-aware bound', async () => {
    const r = await simulate({ seed: 24, groups: 20, days: 30, faults: DEFAULT_FAULTS, exportStatusVisible: visible });
    expectSafe(r);
    expect(r.failedExports).toBeGreaterThan(10);
    expect(r.rpoBoundMinutes).toBe(24 * 60 + 30 + 15 + 20 + 15 + 2 * 5);
    expect(worstExcess(r)).toBeLessThanOrEqual(0);
    // Only fallback backups after a missed automatic one: at most a few a day.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBeLessThanOrEqual(2);
  });
});

describe('simulation: how failed exports are detected', () => {
  test('with the status visible, failed exports whose event was lost are detected from the status; without it, by the timeout', async () => {
    const hidden = await simulate({ seed: 11, groups: 10, days: 10, intervalMinutes: 75, faults: DEFAULT_FAULTS, exportStatusVisible: false });
    const visible = await simulate({ seed: 11, groups: 10, days: 10, intervalMinutes: 75, faults: DEFAULT_FAULTS, exportStatusVisible: true });
    expect(hidden.faultCostMinutes['failed export (status)']).toBeUndefined();
    expect(hidden.faultCostMinutes['failed export (timeout)']).toBeGreaterThan(0);
    expect(visible.faultCostMinutes['failed export (status)']).toBeGreaterThan(0);
    // The timeout remains only for exports that failed before any run saw the status.
    expect(visible.faultCostMinutes['failed export (timeout)'] ?? 0).toBeLessThan(hidden.faultCostMinutes['failed export (timeout)']);
    expectSafe(visible);
  });
});

describe('simulation without faults', () => {
  test('max RPO is within interval + max pipeline (snapshot + export + replication) + two runs', async () => {
    const r = await simulate({ seed: 7, groups: 20, days: 10, intervalMinutes: 75, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
    expect(worst(r, (g) => g.samplesOverPlainBound)).toBe(0);
  });

  test('without an interval, max RPO is within 24 h + backup window jitter + max pipeline + two runs', async () => {
    const r = await simulate({ seed: 8, groups: 20, days: 10, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });

  test('with the status visible, max RPO is still within interval + max pipeline + two runs', async () => {
    const r = await simulate({ seed: 9, groups: 20, days: 5, intervalMinutes: 75, faults: NO_FAULTS, exportStatusVisible: true });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });
});

test('the simulation is deterministic for a seed', async () => {
  const a = await simulate({ seed: 3, groups: 3, days: 2, intervalMinutes: 90, faults: DEFAULT_FAULTS, exportStatusVisible: true });
  const b = await simulate({ seed: 3, groups: 3, days: 2, intervalMinutes: 90, faults: DEFAULT_FAULTS, exportStatusVisible: true });
  expect(a.groups).toEqual(b.groups);
});
