import * as fc from 'fast-check';
import {
  applyOutcome, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, InFlightExport, manualBackupsInWindow, ObservedGroup, ObservedSnapshot,
  OutcomeKind, plan,
} from '../../lib/backup-plan/planner';
import { manifestKey } from '../../lib/manifest/manifest';

const G = 'orders';
const NOW = Date.parse('2026-03-10T12:00:00Z');
const MIN = 60_000;

const statusArb = fc.constantFrom('available', 'available', 'available', 'creating', 'failed', 'deleting');
const outcomeArb: fc.Arbitrary<OutcomeKind> = fc.constantFrom('ok', 'ok', 'ok', 'already-exists', 'throttled', 'quota-exceeded', 'not-found', 'refused', 'unknown', 'skipped');

/** Arbitrary snapshots of one group: unique names and distinct times (ElastiCache takes one backup of a group at a time). */
const snapshotsArb = fc.array(fc.record({
  minutesAgo: fc.integer({ min: 0, max: 3 * 24 * 60 }),
  source: fc.constantFrom<'automated' | 'manual'>('automated', 'manual', 'manual'),
  status: statusArb,
  createdByPlan: fc.boolean(),
  shardCount: fc.integer({ min: 1, max: 3 }),
}), { maxLength: 30 }).map((xs) => {
  const seen = new Set<number>();
  return xs.filter((x) => !seen.has(x.minutesAgo) && seen.add(x.minutesAgo)).map((x, i): ObservedSnapshot => ({
    name: x.source === 'automated' ? `automatic.${G}-001-${i}` : `${x.createdByPlan ? `${G}-plan` : 'user'}-${i}`,
    source: x.source,
    status: x.status,
    createTime: x.status === 'creating' ? undefined : new Date(NOW - x.minutesAgo * MIN),
    createdByPlan: x.source === 'manual' && x.createdByPlan,
    shardCount: x.shardCount,
  }));
});

const observedArb: fc.Arbitrary<{ obs: ObservedGroup; config: GroupConfig }> = fc.record({
  snapshots: snapshotsArb,
  committedMask: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
  createdLog: fc.array(fc.integer({ min: 0, max: 30 * 60 }), { maxLength: 25 }),
  inFlightIndex: fc.option(fc.nat(29)),
  confirmed: fc.boolean(),
  startedMinutesAgo: fc.integer({ min: 0, max: 200 }),
  objectsPresent: fc.integer({ min: 0, max: 3 }),
  intervalMinutes: fc.option(fc.integer({ min: 72, max: 24 * 60 })),
  retentionDays: fc.integer({ min: 1, max: 3 }),
  exportAutomated: fc.boolean(),
  groupAvailable: fc.boolean(),
  backoff: fc.boolean(),
  signal: fc.boolean(),
}).map((r) => {
  const snapshots = r.snapshots;
  const manifestKeys = snapshots.filter((s, i) => s.createTime && s.status === 'available' && r.committedMask[i])
    .map((s) => manifestKey(G, s.createTime!, s.name));
  let inFlight: InFlightExport | undefined;
  const candidate = r.inFlightIndex === null ? undefined : snapshots[r.inFlightIndex];
  if (candidate?.createTime) {
    inFlight = {
      snapshotName: candidate.name,
      snapshotSource: candidate.source,
      snapshotCreateTime: candidate.createTime.toISOString(),
      shardCount: candidate.shardCount,
      exportName: `${G}-x${r.inFlightIndex}`,
      attempt: 1,
      startedAt: new Date(NOW - r.startedMinutesAgo * MIN).toISOString(),
      confirmed: r.confirmed,
    };
  }
  const state: GroupState = {
    ...emptyState(),
    inFlight,
    exportAttempts: inFlight ? { [inFlight.snapshotName]: 1 } : {},
    created: [
      ...snapshots.filter((s) => s.createdByPlan).map((s) => ({ name: s.name, at: (s.createTime ?? new Date(NOW)).toISOString() })),
      ...r.createdLog.map((m, i) => ({ name: `gone-${i}`, at: new Date(NOW - m * MIN).toISOString() })),
    ],
    backoffUntil: r.backoff ? new Date(NOW + 5 * MIN).toISOString() : undefined,
  };
  const exportObjects = inFlight
    ? Array.from({ length: r.objectsPresent }, (_, i) => ({ key: `${inFlight!.exportName}-000${i + 1}.rdb`, sizeBytes: 100 }))
    : [];
  const obs: ObservedGroup = {
    replicationGroupId: G,
    groupAvailable: r.groupAvailable,
    snapshots,
    manifestKeys,
    exportObjects,
    state,
    exportFailureSignals: r.signal && inFlight ? [{ text: inFlight.exportName, time: new Date(NOW) }] : [],
  };
  const config: GroupConfig = {
    replicationGroupId: G,
    intervalSeconds: r.intervalMinutes === null ? undefined : r.intervalMinutes * 60,
    retentionSeconds: r.retentionDays * 86_400,
    rpoTargetSeconds: 3600,
    exportAutomated: r.exportAutomated,
    fallbackAfterSeconds: r.intervalMinutes === null ? 25 * 3600 : undefined,
  };
  return { obs, config };
});

describe('planner invariants hold for arbitrary observed states', () => {
  test('never deletes a backup the plan did not create, or one whose export is not committed, or one younger than retention plus the clock skew margin', () => {
    fc.assert(fc.property(observedArb, ({ obs, config }) => {
      const d = plan(obs, config, new Date(NOW));
      for (const a of d.actions) {
        if (a.kind !== 'DeleteSnapshot') {
          continue;
        }
        const s = obs.snapshots.find((x) => x.name === a.snapshotName)!;
        expect(s.createdByPlan).toBe(true);
        expect(s.source).toBe('manual');
        expect(obs.manifestKeys).toContain(manifestKey(G, s.createTime!, s.name));
        // Retention plus the clock skew margin (10 minutes).
        expect(NOW - s.createTime!.getTime()).toBeGreaterThan(config.retentionSeconds * 1000 + 10 * MIN);
      }
    }), { numRuns: 1000 });
  });

  test('never creates a backup that would exceed 20 manual backups per node in 24 h', () => {
    fc.assert(fc.property(observedArb, ({ obs, config }) => {
      const d = plan(obs, config, new Date(NOW));
      if (d.actions.some((a) => a.kind === 'CreateSnapshot')) {
        expect(manualBackupsInWindow(obs, obs.state, new Date(NOW), DEFAULT_SETTINGS) + 1).toBeLessThanOrEqual(20);
      }
    }), { numRuns: 1000 });
  });

  test('at most one export in flight: a new export starts only when none is in flight, and it becomes the one in flight', () => {
    fc.assert(fc.property(observedArb, ({ obs, config }) => {
      const d = plan(obs, config, new Date(NOW));
      const starts = d.actions.filter((a) => a.kind === 'StartExport');
      expect(starts.length).toBeLessThanOrEqual(1);
      if (starts.length === 1) {
        const start = starts[0] as Extract<typeof starts[0], { kind: 'StartExport' }>;
        expect(d.state.inFlight?.exportName).toBe(start.exportName);
        if (!start.reissue && obs.state.inFlight) {
          // Only after the previous one was committed, failed or timed out.
          expect(d.actions.some((a) => a.kind === 'CommitManifest') || d.metrics.failures > 0
            || obs.manifestKeys.includes(manifestKey(G, new Date(obs.state.inFlight.snapshotCreateTime), obs.state.inFlight.snapshotName)))
            .toBe(true);
        }
      }
    }), { numRuns: 1000 });
  });

  test('over many runs with arbitrary outcomes, a name ElastiCache may have taken is never used again, except to re-issue the same export; a refused deletion is not retried within a week; at most maxDeletionsPerRun deletions a run', () => {
    const stepArb = fc.record({
      advanceMinutes: fc.integer({ min: 1, max: 90 }),
      newSnapshot: fc.constantFrom<'none' | 'automated' | 'manual'>('none', 'none', 'automated', 'manual'),
      outcome: outcomeArb,
      objects: fc.boolean(),
      commitKnown: fc.boolean(),
      signal: fc.boolean(),
    });
    let totalDeletions = 0;
    let totalRefused = 0;
    fc.assert(fc.property(fc.array(stepArb, { minLength: 5, maxLength: 60 }), (steps) => {
      let now = NOW;
      let state = emptyState();
      const snapshots: ObservedSnapshot[] = [];
      const manifestKeys: string[] = [];
      const issued = new Map<string, string>(); // export name ElastiCache may have taken -> snapshot
      const refusedAt = new Map<string, number>(); // snapshot -> when its deletion was refused
      const config: GroupConfig = {
        // A short retention: these runs span hours (fast-check keeps arrays short), and pruning must happen in them.
        replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 3 * 3600, rpoTargetSeconds: 3600, exportAutomated: true,
      };
      steps.forEach((step, i) => {
        now += step.advanceMinutes * MIN;
        if (step.newSnapshot !== 'none') {
          snapshots.push({ name: `${step.newSnapshot}-${i}`, source: step.newSnapshot, status: 'available', createTime: new Date(now - MIN), createdByPlan: step.newSnapshot === 'manual', shardCount: 1 });
          if (step.commitKnown) {
            // Exported and committed by an earlier export (this world commits without verifying): prunable after retention.
            manifestKeys.push(manifestKey(G, new Date(now - MIN), `${step.newSnapshot}-${i}`));
          }
        }
        const inFlight = state.inFlight;
        const d = plan({
          replicationGroupId: G,
          groupAvailable: true,
          snapshots: [...snapshots],
          manifestKeys: [...manifestKeys],
          state,
          exportObjects: inFlight && step.objects ? [{ key: `${inFlight.exportName}-0001.rdb`, sizeBytes: 1 }] : [],
          exportFailureSignals: inFlight && step.signal ? [{ text: inFlight.exportName, time: new Date(now) }] : [],
        }, config, new Date(now));
        expect(d.actions.filter((a) => a.kind === 'DeleteSnapshot').length).toBeLessThanOrEqual(DEFAULT_SETTINGS.maxDeletionsPerRun);
        let next = d.state;
        for (const a of d.actions) {
          if (a.kind === 'StartExport') {
            const previous = issued.get(a.exportName);
            if (a.reissue) {
              expect(previous).toBe(a.snapshotName);
            } else {
              expect(previous).toBeUndefined();
            }
            // Throttled, over quota or not executed: the call never reached ElastiCache, so the name is still free.
            if (!['throttled', 'quota-exceeded', 'skipped'].includes(step.outcome)) {
              issued.set(a.exportName, a.snapshotName);
            }
          }
          if (a.kind === 'CommitManifest' && step.commitKnown) {
            manifestKeys.push(a.manifestKey);
          }
          if (a.kind === 'DeleteSnapshot') {
            const s = snapshots.findIndex((x) => x.name === a.snapshotName);
            expect(manifestKeys).toContain(manifestKey(G, snapshots[s].createTime!, snapshots[s].name));
            totalDeletions++;
            // A refused deletion is not tried again within a week (these runs span less than 4 days).
            expect(refusedAt.has(a.snapshotName)).toBe(false);
            if (step.outcome === 'refused') {
              totalRefused++;
              refusedAt.set(a.snapshotName, now);
            } else if (step.outcome === 'ok' || step.outcome === 'not-found') {
              snapshots.splice(s, 1);
            }
          }
          next = applyOutcome(next, a, a.kind === 'CommitManifest' ? (step.commitKnown ? 'ok' : 'unknown') : step.outcome, new Date(now));
        }
        state = next;
      });
    }), { numRuns: 300 });
    // Not vacuous: the runs pruned, and some deletions were refused.
    expect(totalDeletions).toBeGreaterThan(0);
    expect(totalRefused).toBeGreaterThan(0);
  });
});
