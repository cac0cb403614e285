/**
 * Issue 10's adversarial world, each switch alone (benchmarks/simulator/scenarios.ts, ADVERSARIAL_SCENARIOS), judged by
 * the simulation's own oracle: no unsafe deletion, no false commit (every manifest lists every shard), no quota
 * violation, and no silent miss (a group whose newest true export is older than its RPO target raises an alarm within
 * one tick). Switches that make exporting impossible (an unreadable state, another plan's backups) must fail loudly.
 */
import { expectSafe } from './simulation-expectations';
import { runSimulation, stopSimulator } from './simulation-runner';
import { ADVERSARIAL_SCENARIOS, DEFAULT_FAULTS, Scenario, SimulationReport } from '../../benchmarks/simulator';

afterAll(stopSimulator);

const scenario = (prefix: string): Scenario => ADVERSARIAL_SCENARIOS.find((s) => s.title.startsWith(prefix))!;
const run = (s: Scenario, groups = 3, days = 2) => runSimulation({
  seed: 110,
  groups,
  days,
  intervalMinutes: 75,
  faults: DEFAULT_FAULTS,
  behaviour: s.behaviour,
  objectFaults: s.objectFaults,
  adversary: s.adversary,
});

/** Safety whatever happens; exports may stop, but never silently. */
function expectSafeOrLoud(r: SimulationReport): void {
  expect({
    unsafeDeletions: r.unsafeDeletions,
    falseCommits: r.falseCommits,
    quotaViolations: r.quotaViolations,
    prematureDeletions: r.prematureDeletions,
    silentMisses: r.silentMisses,
    runErrors: r.runErrors,
  }).toEqual({ unsafeDeletions: 0, falseCommits: 0, quotaViolations: 0, prematureDeletions: 0, silentMisses: 0, runErrors: {} });
}

describe('simulation: the adversarial world of issue 10, one switch at a time', () => {
  test.each([
    'state lost', 'overlapping runs', 'user backups', 'clock skew: reconciler 4 min', 'exports slower', 'future-dated', 'objects deleted',
  ])('%s: safe, every group exports, no silent miss', async (prefix) => {
    const r = await run(scenario(prefix));
    expectSafe(r);
    expect(r.runErrors).toEqual({});
  });

  test('every switch together: nothing unsafe, no quota violation, no silent miss, and the switches really acted', async () => {
    const r = await run(scenario('everything'), 4, 2);
    const { unsafeDeletions, falseCommits, prematureDeletions, quotaViolations, silentMisses } = r;
    expect({ unsafeDeletions, falseCommits, prematureDeletions, quotaViolations, silentMisses })
      .toEqual({ unsafeDeletions: 0, falseCommits: 0, prematureDeletions: 0, quotaViolations: 0, silentMisses: 0 });
    const c = r.adversaryCounters;
    expect({
      statesLost: c.statesLost > 0,
      overlapping: c.overlappingRuns > 0,
      userBackups: c.userBackups > 0,
      future: c.futureManifests > 0,
      foreign: c.foreignManifests > 0,
    }).toEqual({ statesLost: true, overlapping: true, userBackups: true, future: true, foreign: true });
  });

  test.each(['state truncated', 'state corrupt'])('%s: the group stops loudly (StateError), never silently, nothing unsafe', async (prefix) => {
    const r = await run(scenario(prefix), 3, 3);
    expectSafeOrLoud(r);
    expect(r.loudFailures.StateError).toBeGreaterThan(0);
  });

  test('clock skew of hours: nothing unsafe, nothing premature, no silent miss (an ahead clock is loud: benchmarks/results/simulation.md)', async () => {
    for (const prefix of ['clock skew: reconciler 3 h ahead', 'clock skew: reconciler 3 h behind']) {
      const r = await run(scenario(prefix));
      const { unsafeDeletions, falseCommits, prematureDeletions, quotaViolations, silentMisses } = r;
      expect({ prefix, unsafeDeletions, falseCommits, prematureDeletions, quotaViolations, silentMisses })
        .toEqual({ prefix, unsafeDeletions: 0, falseCommits: 0, prematureDeletions: 0, quotaViolations: 0, silentMisses: 0 });
    }
  });

  test('a second plan on the same groups: both stop loudly (ForeignPlanError), neither deletes the other\'s backups', async () => {
    const r = await run(scenario('a second plan'));
    expectSafeOrLoud(r);
    expect(r.loudFailures.ForeignPlanError).toBeGreaterThan(0);
  });
});
