/**
 * The world the planner tests build by hand: one group, a fixed "now", snapshots of the plan, the observation and a
 * state that records the plan's calls. Each test file keeps its own configuration and its own `plan` wrapper (they
 * differ on purpose). Not a test file: jest's testMatch and Stryker's globs only take `*.test.ts`.
 */
import { planSnapshotName } from '../../../lib/backup-plan/constants';
import { emptyState, GroupState, ObjectInfo, ObservedGroup, ObservedSnapshot } from '../../../lib/backup-plan/planner';
import type { VerificationResult } from '../../../lib/backup-plan/verify-core';
import { manifestKey } from '../../../lib/manifest/manifest';

export const G = 'orders';
export const NOW = new Date('2026-03-10T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** The time `ms` milliseconds before NOW. */
export const msAgo = (ms: number): Date => new Date(NOW.getTime() - ms);
/** The time `n` minutes before NOW. */
export const minutesAgo = (n: number): Date => msAgo(n * MIN);

/** A manual snapshot the plan created, available since `createTime` (undefined: still being created). */
export function snapshotAt(name: string, createTime: Date | undefined, over: Partial<ObservedSnapshot> = {}): ObservedSnapshot {
  const status = createTime ? 'available' : 'creating';
  return { name, source: 'manual', status, createTime, createdByPlan: true, shardCount: 1, ...over };
}

/** `snapshotAt` `n` minutes before NOW (undefined: still being created). */
export function snapshotMinutesAgo(name: string, n: number | undefined, over: Partial<ObservedSnapshot> = {}): ObservedSnapshot {
  return snapshotAt(name, n === undefined ? undefined : minutesAgo(n), over);
}

/** The plan's backup of `n` minutes ago, named as the plan names its backups. */
export function planBackupMinutesAgo(n: number): ObservedSnapshot {
  return snapshotAt(planSnapshotName(G, minutesAgo(n)), minutesAgo(n));
}

/** The key of a snapshot's manifest (its export committed). */
export const keyOf = (s: ObservedSnapshot): string => manifestKey(G, s.createTime!, s.name);

/** The actions' kinds, in order. */
export const kinds = (d: { readonly actions: readonly { readonly kind: string }[] }): string[] => d.actions.map((a) => a.kind);

/** A state that records the plan's CreateSnapshot call of each of its snapshots at its create time. */
export function stateRecordingCreates(snapshots: readonly ObservedSnapshot[], over: Partial<GroupState> = {}): GroupState {
  const created = snapshots.filter((s) => s.createdByPlan && s.createTime).map((s) => ({ name: s.name, at: s.createTime!.toISOString() }));
  return { ...emptyState(), created, ...over };
}

/** The group, available, with nothing in it but what `over` gives. */
export function observed(over: Partial<ObservedGroup> = {}): ObservedGroup {
  return {
    replicationGroupId: G,
    groupAvailable: true,
    snapshots: [],
    manifestKeys: [],
    exportObjects: [],
    state: emptyState(),
    exportFailureSignals: [],
    ...over,
  };
}

/** The group with `snapshots`, each one exported (its manifest listed), and `state` (default: the plan's creates recorded). */
export function observedCommitted(snapshots: ObservedSnapshot[], state: GroupState = stateRecordingCreates(snapshots)): ObservedGroup {
  return observed({ snapshots, state, manifestKeys: snapshots.map(keyOf) });
}

/** The verifier's result for an object: intact (fully verified a minute before NOW). */
export function intactResult(o: ObjectInfo, over: Partial<VerificationResult> = {}): VerificationResult {
  return {
    formatVersion: 1,
    key: o.key,
    versionId: o.versionId,
    etag: o.etag,
    sizeBytes: o.sizeBytes,
    verifiedAt: minutesAgo(1).toISOString(),
    ok: true,
    verification: 'full',
    report: { rdbVersion: 11, checksum: 'ok', crc64: '0123456789abcdef', keys: 3, keysWithExpiry: 0, databases: [{ db: 0, keys: 3, keysWithExpiry: 0 }], expiryHistogram: [] },
    ...over,
  };
}
