/**
 * Short simulations (2 groups, 1 or 2 simulated days) of the scenarios that exercise every rule of the planner, judged by
 * the simulation's own oracle. The long ones (simulation*.test.ts) measure bounds; these are what mutation testing
 * runs on every mutant (stryker.config.json): seconds each, in this process, so a mutant is switched on and its
 * coverage is seen.
 */
import { expectSafe } from './simulation-expectations';
import { runSimulation, stopSimulator } from './simulation-runner';
import { ADVERSARIAL_SCENARIOS, ALL_OBJECT_FAULTS, DEFAULT_FAULTS, SimulationOptions, WORST_BEHAVIOUR } from '../../benchmarks/simulator';

afterAll(stopSimulator);

const adversary = (prefix: string) => ADVERSARIAL_SCENARIOS.find((s) => s.title.startsWith(prefix))!.adversary;

const SHORT: Record<string, SimulationOptions> = {
  'interval 75 min with faults': { seed: 201, groups: 2, days: 1, intervalMinutes: 75, faults: DEFAULT_FAULTS, warmupDays: 0 },
  'automatic daily backups only, 2 days': { seed: 202, groups: 2, days: 2, faults: DEFAULT_FAULTS, warmupDays: 0 },
  'worst behaviour and adversary in both buckets': {
    seed: 203,
    groups: 2,
    days: 1,
    intervalMinutes: 75,
    faults: DEFAULT_FAULTS,
    warmupDays: 0,
    behaviour: WORST_BEHAVIOUR,
    objectFaults: ALL_OBJECT_FAULTS,
  },
  'state lost, overlapping runs, user backups, future manifests': {
    seed: 204,
    groups: 2,
    days: 1,
    intervalMinutes: 75,
    faults: DEFAULT_FAULTS,
    adversary: { ...adversary('state lost'), ...adversary('overlapping'), ...adversary('user backups'), ...adversary('future-dated') },
    warmupDays: 0,
  },
  'exports count against the quota, state lost': {
    seed: 205,
    groups: 2,
    days: 2,
    intervalMinutes: 75,
    faults: DEFAULT_FAULTS,
    warmupDays: 1,
    behaviour: { copyCountsAgainstQuota: true },
    adversary: { stateLost: 1 / 6 },
  },
};

describe('simulation, short: every rule exercised, judged by the oracle', () => {
  test.each(Object.keys(SHORT))('%s: no unsafe deletion, no false commit, no quota violation, no silent miss', async (name) => {
    const r = await runSimulation(SHORT[name]);
    expectSafe(r);
    expect(r.runErrors).toEqual({});
  });
});
