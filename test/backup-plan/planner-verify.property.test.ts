/**
 * Properties of the verified-backup rules, judged by oracles written here (never by the planner's own predicates):
 * a commit only ever records shards that exist, are non-empty, were written after the CopySnapshot call and were
 * verified intact against the very version listed now; a distrusted manifest never allows a deletion; the circuit
 * breaker never lets a group gain a backup while it holds too many unexported ones.
 */
import * as fc from 'fast-check';
import {
  CommitManifestAction, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupState, InFlightExport, ObjectInfo, ObservedGroup, ObservedSnapshot, plan,
} from '../../lib/backup-plan/planner';
import type { VerificationResult } from '../../lib/backup-plan/verify-core';
import { manifestKey } from '../../lib/manifest/manifest';

const G = 'orders';
const NOW = Date.parse('2026-03-10T12:00:00Z');
const MIN = 60_000;
const STARTED = NOW - 60 * MIN;
const EXPORT = 'ceb-aaaaaaaa-x20260310t100000z-bbbbbbbb';
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 86_400, rpoTargetSeconds: 8100, exportAutomated: true,
};
const random = () => 'cccccccc';

const shardArb = fc.record({
  present: fc.boolean(),
  sizeBytes: fc.constantFrom(0, 100, 100, 100, 200),
  versionId: fc.constantFrom('v1', 'v1', 'v2', undefined),
  modifiedMinutesAfterStart: fc.integer({ min: -20, max: 50 }),
  result: fc.option(fc.record({
    ok: fc.boolean(),
    versionId: fc.constantFrom('v1', 'v1', 'v2', undefined),
    sizeBytes: fc.constantFrom(100, 100, 200),
  })),
  asked: fc.option(fc.record({ versionId: fc.constantFrom('v1', 'v2', undefined), minutesAgo: fc.integer({ min: 0, max: 40 }), requests: fc.integer({ min: 1, max: 4 }) })),
});

type Shard = typeof shardArb extends fc.Arbitrary<infer T> ? T : never;

function world(shards: Shard[], busy: boolean) {
  const snapshot: ObservedSnapshot = {
    name: 'a',
    source: 'manual',
    status: busy ? 'exporting' : 'available',
    createTime: new Date(NOW - 120 * MIN),
    createdByPlan: true,
    shardCount: shards.length,
  };
  const objects: ObjectInfo[] = [];
  const results: VerificationResult[] = [];
  shards.forEach((s, i) => {
    const key = `${EXPORT}-000${i + 1}.rdb`;
    if (s.present) {
      objects.push({ key, sizeBytes: s.sizeBytes, versionId: s.versionId, lastModified: new Date(STARTED + s.modifiedMinutesAfterStart * MIN) });
    }
    if (s.result) {
      const verifiedAt = new Date(NOW).toISOString();
      results.push({ formatVersion: 1, key, versionId: s.result.versionId, sizeBytes: s.result.sizeBytes, verifiedAt, ok: s.result.ok });
    }
  });
  const inFlight: InFlightExport = {
    snapshotName: 'a',
    snapshotSource: 'manual',
    snapshotCreateTime: snapshot.createTime!.toISOString(),
    shardCount: shards.length,
    exportName: EXPORT,
    attempt: 1,
    startedAt: new Date(STARTED).toISOString(),
    confirmed: true,
    verifications: shards.flatMap((s, i) => (s.asked ? [{
      key: `${EXPORT}-000${i + 1}.rdb`, versionId: s.asked.versionId, at: new Date(NOW - s.asked.minutesAgo * MIN).toISOString(), requests: s.asked.requests,
    }] : [])),
  };
  const obs: ObservedGroup = {
    replicationGroupId: G,
    groupAvailable: true,
    snapshots: [snapshot],
    manifestKeys: [],
    exportObjects: objects,
    verificationResults: results,
    state: { ...emptyState(), inFlight, exportAttempts: { a: 1 } },
    exportFailureSignals: [],
  };
  return { obs, objects, results };
}

describe('verified commits (property)', () => {
  test('a commit records exactly the listed shards, each non-empty, written after the call and verified intact at its listed version', () => {
    fc.assert(fc.property(fc.array(shardArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (shards, busy) => {
      const { obs } = world(shards, busy);
      const d = plan(obs, CONFIG, new Date(NOW), DEFAULT_SETTINGS, random);
      const commit = d.actions.find((a): a is CommitManifestAction => a.kind === 'CommitManifest');
      // The oracle: what must hold of each shard for its export to be committable.
      const committable = shards.every((s) => s.present && s.sizeBytes > 0 && s.modifiedMinutesAfterStart >= -5
        && s.result !== null && s.result.ok && s.result.versionId === s.versionId && s.result.sizeBytes === s.sizeBytes);
      expect(commit !== undefined).toBe(committable);
      if (commit) {
        expect(commit.objects.map((o) => [o.key, o.versionId, o.sizeBytes])).toEqual(shards.map((s, i) => [`${EXPORT}-000${i + 1}.rdb`, s.versionId, s.sizeBytes]));
        expect(commit.verifications.map((r) => [r.key, r.versionId, r.ok])).toEqual(shards.map((s, i) => [`${EXPORT}-000${i + 1}.rdb`, s.versionId, true]));
      }
      // A verification is only ever asked for an object that is listed now, at its listed version.
      for (const a of d.actions) {
        if (a.kind === 'VerifyShard') {
          expect(obs.exportObjects).toContainEqual(a.object);
        }
      }
    }), { numRuns: 1500 });
  });
});

describe('pruning and the circuit breaker (property)', () => {
  const snapsArb = fc.array(fc.record({
    hoursAgo: fc.integer({ min: 1, max: 72 }),
    committed: fc.boolean(),
    distrusted: fc.boolean(),
    failedExport: fc.boolean(),
    byPlan: fc.boolean(),
  }), { maxLength: 8 }).map((xs) => {
    const seen = new Set<number>();
    return xs.filter((x) => !seen.has(x.hoursAgo) && seen.add(x.hoursAgo));
  });

  test('never deletes on a distrusted or missing manifest; never creates a backup with 3 or more unexported plan backups', () => {
    fc.assert(fc.property(snapsArb, fc.integer({ min: 60, max: 600 }), (xs, intervalMinutes) => {
      const snapshots: ObservedSnapshot[] = xs.map((x, i) => ({
        name: `s${i}`, source: 'manual', status: 'available', createTime: new Date(NOW - x.hoursAgo * 60 * MIN), createdByPlan: x.byPlan, shardCount: 1,
      }));
      const key = (i: number) => manifestKey(G, snapshots[i].createTime!, snapshots[i].name);
      const state: GroupState = {
        ...emptyState(),
        distrustedManifests: xs.flatMap((x, i) => (x.committed && x.distrusted ? [key(i)] : [])),
        exportFailures: Object.fromEntries(xs.flatMap((x, i) => (x.failedExport ? [[`s${i}`, { failures: 1, lastError: 'E', at: new Date(NOW).toISOString() }]] : []))),
      };
      const obs: ObservedGroup = {
        replicationGroupId: G,
        groupAvailable: true,
        snapshots,
        manifestKeys: xs.flatMap((x, i) => (x.committed ? [key(i)] : [])),
        exportObjects: [],
        state,
        exportFailureSignals: [],
      };
      const d = plan(obs, { ...CONFIG, intervalSeconds: intervalMinutes * 60 }, new Date(NOW), DEFAULT_SETTINGS, random);
      for (const a of d.actions) {
        if (a.kind === 'DeleteSnapshot') {
          const i = Number(a.snapshotName.slice(1));
          expect(xs[i]).toMatchObject({ committed: true, distrusted: false, byPlan: true });
          expect(xs[i].hoursAgo).toBeGreaterThan(24);
        }
      }
      const unexported = xs.filter((x) => x.byPlan && x.failedExport && (!x.committed || x.distrusted)).length;
      if (unexported >= 3) {
        expect(d.actions.map((a) => a.kind)).not.toContain('CreateSnapshot');
      }
      expect(d.metrics.unexportedBackups).toBe(unexported);
    }), { numRuns: 2000 });
  });
});
