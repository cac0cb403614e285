/**
 * Which of a group's plan-named snapshots are this plan's: decided from their plan tag (pure).
 *
 * The state remembers which backups the plan created (`created`); the snapshots' plan tag says it too. When the state
 * was lost (or adopted from the key used before plan ids), `created` is rebuilt from the tags; a plan-named snapshot
 * tagged with another plan's id means two plans protect the group, and the reconciler refuses to act on it.
 * Not part of the jsii API.
 */
import { CreatedRecord, ExportCallRecord, GroupState, ObjectInfo, ObservedSnapshot } from './types';
import { isPlanSnapshotName, planNamePrefix } from '../../manifest/names';

/** ListTagsForResource calls per group and run, at most (the rest are checked in later runs). */
export const DEFAULT_MAX_TAG_CHECKS = 20;

/** A snapshot's plan tag as read (undefined: the snapshot has no plan tag). */
export interface TagFinding {
  readonly snapshotName: string;
  readonly planTag: string | undefined;
}

export interface ForeignSnapshot {
  readonly snapshotName: string;
  /** The other plan's id (the tag's value). */
  readonly planId: string;
}

export interface OwnershipVerdict {
  /** Plan-named snapshots tagged with this plan's id that the state did not record. */
  readonly ours: readonly string[];
  /** Plan-named snapshots without a plan tag (not this plan's to delete; not a second plan either). */
  readonly untagged: readonly string[];
  /** Plan-named snapshots tagged with another plan's id: two plans protect the group. */
  readonly foreign: readonly ForeignSnapshot[];
}

/**
 * The plan-named manual snapshots of the group whose owner the state does not record, at most `limit` of them, in an
 * order that rotates with `now` (minute) so that snapshots past the limit are reached in later runs.
 */
export function snapshotsToCheck(groupId: string, snapshots: readonly ObservedSnapshot[], state: GroupState, now: Date,
  limit: number = DEFAULT_MAX_TAG_CHECKS): string[] {
  const recorded = new Set(state.created.map((c) => c.name));
  const unknown = snapshots
    .filter((s) => s.source === 'manual' && s.status !== 'deleting' && isPlanSnapshotName(groupId, s.name) && !recorded.has(s.name))
    .map((s) => s.name)
    .sort();
  if (unknown.length <= limit) {
    return unknown;
  }
  const start = (Math.floor(now.getTime() / 60_000) * limit) % unknown.length;
  return [...unknown.slice(start), ...unknown.slice(0, start)].slice(0, limit);
}

/** Sorts the tags read into this plan's, untagged and another plan's. */
export function judgeOwnership(planId: string, findings: readonly TagFinding[]): OwnershipVerdict {
  return {
    ours: findings.filter((f) => f.planTag === planId).map((f) => f.snapshotName),
    untagged: findings.filter((f) => f.planTag === undefined || f.planTag === '').map((f) => f.snapshotName),
    foreign: findings.filter((f) => f.planTag !== undefined && f.planTag !== '' && f.planTag !== planId)
      .map((f) => ({ snapshotName: f.snapshotName, planId: f.planTag! })),
  };
}

/** What the reconciler says when two plans protect one group (names both plan ids and what to do). */
export function foreignPlanMessage(groupId: string, planId: string, foreign: readonly ForeignSnapshot[]): string {
  const others = [...new Set(foreign.map((f) => f.planId))];
  const examples = foreign.slice(0, 3).map((f) => `${f.snapshotName} (tagged ${f.planId})`).join(', ');
  return `two backup plans protect replication group ${groupId}: this plan (${planId}) and ${others.join(', ')}. `
    + `${foreign.length} backup(s) named for this group carry another plan's tag: ${examples}. This plan creates, exports and `
    + `deletes nothing for ${groupId} until one plan is removed: keep one BackupPlan per group (remove the group from the other plan)`;
}

/**
 * The state with `created` rebuilt: a record for each snapshot the tags show to be this plan's (at its snapshot time,
 * or `now` while it has none). Records already there are kept.
 */
export function withRebuiltCreated(state: GroupState, ours: readonly string[], snapshots: readonly ObservedSnapshot[], now: Date): GroupState {
  const recorded = new Set(state.created.map((c) => c.name));
  const added: CreatedRecord[] = ours.filter((name) => !recorded.has(name)).map((name) => {
    const s = snapshots.find((x) => x.name === name);
    return { name, at: (s?.createTime ?? now).toISOString() };
  });
  return added.length ? { ...state, created: [...state.created, ...added] } : state;
}

/** The listing prefix of every export object of the group's plan (`<plan name prefix>x<snapshot time>-<suffix>-NNNN.rdb`). */
export function planExportObjectPrefix(groupId: string): string {
  return `${planNamePrefix(groupId)}x`;
}

const EXPORT_SHARD_FILE = /^(.+)-\d{4}\.rdb$/;

/**
 * A fresh state (lost, or a new plan) has no record of the plan's CopySnapshot calls of the last 24 hours, which use
 * the quota when exports count against it: a plan that forgot them would be refused again and again until they age
 * out. The export objects in the bucket are their durable trace: one record per export name, at the newest
 * LastModified of its objects. ElastiCache writes an object after the call, so the record outlives the call's slot
 * (conservative). Objects older than `sinceMs` are left out; existing records are kept.
 */
export function withRebuiltExportCalls(state: GroupState, groupId: string, objects: readonly ObjectInfo[], sinceMs: number): GroupState {
  const prefix = planExportObjectPrefix(groupId);
  const newest = new Map<string, number>();
  for (const o of objects) {
    const name = EXPORT_SHARD_FILE.exec(o.key)?.[1];
    const t = o.lastModified?.getTime();
    if (name === undefined || !name.startsWith(prefix) || t === undefined || t <= sinceMs) {
      continue;
    }
    newest.set(name, Math.max(t, newest.get(name) ?? t));
  }
  const recorded = new Set((state.exportCalls ?? []).map((x) => x.name));
  const added: ExportCallRecord[] = [...newest].filter(([name]) => !recorded.has(name))
    .sort((a, b) => a[1] - b[1])
    .map(([name, t]) => ({ name, at: new Date(t).toISOString() }));
  return added.length ? { ...state, exportCalls: [...(state.exportCalls ?? []), ...added] } : state;
}

/**
 * A state adopted from the key used before plan ids (shared by every plan of the group then): its records of listed
 * plan-named snapshots are dropped, to be rebuilt from their tags; records of calls not listed (yet) stay for the quota.
 */
export function forgetUnverifiedOwnership(groupId: string, state: GroupState, snapshots: readonly ObservedSnapshot[]): GroupState {
  const listed = new Set(snapshots.filter((s) => isPlanSnapshotName(groupId, s.name)).map((s) => s.name));
  const kept = state.created.filter((c) => !listed.has(c.name));
  return kept.length === state.created.length ? state : { ...state, created: kept };
}
