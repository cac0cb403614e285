/**
 * The real reconciler against the simulated world (benchmarks/simulator/), judged by the simulator's own oracle (what the
 * simulated service and buckets hold), never by the planner's predicates. Short horizons here; the long runs are in
 * benchmarks/simulation.ts. Simulations run in a child process (simulation-runner.ts): 7 times faster than in jest's sandbox.
 */
import { expectSafe, worst } from './simulation-expectations';
import { runSimulation as simulate, stopSimulator } from './simulation-runner';
import { DEFAULT_FAULTS, EXPORT_BUCKET_ADVERSARY, NO_FAULTS, SimulationReport } from '../../benchmarks/simulator';

afterAll(stopSimulator);

/** max over every RPO sample of every group of (RPO - the fault-aware bound of that sample). */
const worstExcess = (r: SimulationReport) => worst(r, (g) => g.maxRpoMinusBoundMinutes);

describe.each([
  ['not visible', false],
  ['visible', true],
])('simulation with faults, snapshot status during an export %s', (_, visible) => {
  test('interval 75 min, 3 groups, 4 days: safe, and max RPO within the fault-aware bound', async () => {
    const r = await simulate({ seed: 75, groups: 3, days: 4, intervalMinutes: 75, faults: DEFAULT_FAULTS, exportStatusVisible: visible });
    expectSafe(r);
    // The faults really happened.
    expect(r.crashes).toBeGreaterThan(20);
    expect(r.throttles).toBeGreaterThan(20);
    expect(r.failedSnapshots).toBeGreaterThan(2);
    expect(r.failedExports).toBeGreaterThan(3);
    expect(r.lostEvents).toBeGreaterThan(20);
    expect(r.rpoBoundMinutes).toBe(75 + 15 + 20 + 3 + 15 + 2 * 5);
    // Every sample: RPO <= interval + max pipeline + two runs + the modelled cost of the faults since its newest backup.
    expect(worstExcess(r)).toBeLessThanOrEqual(0);
    // 24 h / 75 min = 19.2 backups a day, plus retries after failures: the quota (20) is reached and held.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBe(20);
  });

  test('automatic daily backups only, 8 groups, 8 days: safe, and max RPO within the fault-aware bound', async () => {
    const r = await simulate({ seed: 24, groups: 8, days: 8, faults: DEFAULT_FAULTS, exportStatusVisible: visible });
    expectSafe(r);
    expect(r.failedExports).toBeGreaterThan(0);
    expect(r.rpoBoundMinutes).toBe(24 * 60 + 30 + 15 + 20 + 3 + 15 + 2 * 5);
    expect(worstExcess(r)).toBeLessThanOrEqual(0);
    // Only fallback backups after a missed automatic one: at most a few a day.
    expect(worst(r, (g) => g.maxManualBackupsPer24h)).toBeLessThanOrEqual(2);
  });
});

describe('simulation: how failed exports are detected', () => {
  test('with the status visible, failed exports whose event was lost are detected from the status; without it, by the timeout', async () => {
    // 30 % of exports fail (instead of 5 %), so that a short run holds enough failures whose event was lost.
    const faults = { ...DEFAULT_FAULTS, exportFailRate: 0.3 };
    const hidden = await simulate({ seed: 11, groups: 4, days: 4, intervalMinutes: 75, faults, exportStatusVisible: false });
    const visible = await simulate({ seed: 11, groups: 4, days: 4, intervalMinutes: 75, faults, exportStatusVisible: true });
    expect(hidden.faultCostMinutes['failed export (status)']).toBeUndefined();
    expect(hidden.faultCostMinutes['failed export (timeout)']).toBeGreaterThan(0);
    expect(visible.faultCostMinutes['failed export (status)']).toBeGreaterThan(0);
    // The timeout remains only for exports that failed before any run saw the status.
    expect(visible.faultCostMinutes['failed export (timeout)'] ?? 0).toBeLessThan(hidden.faultCostMinutes['failed export (timeout)']);
    expectSafe(visible);
  });
});

describe('simulation without faults', () => {
  test('max RPO is within interval + max pipeline (snapshot + export + verification + replication) + two runs', async () => {
    const r = await simulate({ seed: 7, groups: 3, days: 3, intervalMinutes: 75, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
    expect(worst(r, (g) => g.samplesOverPlainBound)).toBe(0);
  });

  test('without an interval, max RPO is within 24 h + backup window jitter + max pipeline + two runs', async () => {
    const r = await simulate({ seed: 8, groups: 8, days: 4, faults: NO_FAULTS });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });

  test('with the status visible, max RPO is still within interval + max pipeline + two runs', async () => {
    const r = await simulate({ seed: 9, groups: 3, days: 2, intervalMinutes: 75, faults: NO_FAULTS, exportStatusVisible: true });
    expectSafe(r);
    expect(worst(r, (g) => g.rpoMaxMinutes)).toBeLessThanOrEqual(r.rpoBoundMinutes);
  });
});

test('the simulation is deterministic for a seed', async () => {
  const options = {
    seed: 3, groups: 2, days: 2, intervalMinutes: 90, faults: DEFAULT_FAULTS, objectFaults: EXPORT_BUCKET_ADVERSARY, exportStatusVisible: true,
  };
  const a = await simulate(options);
  const b = await simulate(options);
  expect(a.groups).toEqual(b.groups);
  expect(a.world).toEqual(b.world);
});
