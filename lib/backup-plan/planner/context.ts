/**
 * The working state of one `plan()` run, shared by the rule modules, and the small pure helpers they use.
 * Not part of the jsii API.
 */
import {
  CreatedRecord, ExportCallRecord, ExportFailureRecord, GroupConfig, GroupState, InFlightExport, ObjectInfo, ObservedGroup, ObservedSnapshot,
  PlanAction, PlannerSettings, QuotaRefusalRecord, RefusedDeletionRecord,
} from './types';
import { manifestKey, shardNumberOf } from '../../manifest/manifest';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function ms(iso: string | undefined): number {
  return iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso);
}

const COMPACT = /^(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z$/;

/** Inverse of `compactTimestamp`. */
export function parseCompactTimestamp(text: string): Date | undefined {
  const m = COMPACT.exec(text);
  if (!m) {
    return undefined;
  }
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/** The snapshot time encoded in a manifest key (`manifests/<group>/<compact>_<name>.json`). */
export function manifestKeyTime(key: string): Date | undefined {
  const file = key.slice(key.lastIndexOf('/') + 1);
  return parseCompactTimestamp(file.split('_')[0]);
}

/** Backoff after the n-th consecutive throttle: 5, 10, 20, 40, 60, 60 ... minutes. */
export function throttleBackoffMs(consecutiveThrottles: number): number {
  return Math.min(60 * MINUTE, 5 * MINUTE * 2 ** Math.max(0, consecutiveThrottles - 1));
}

/**
 * Whether a snapshot's status says an operation is running on it (`copying`, `exporting`, ...). Whether ElastiCache
 * shows such a status while a CopySnapshot to S3 runs is not documented: the planner only relies on it once seen.
 */
export function isBusy(status: string): boolean {
  return status !== 'available' && status !== 'failed' && status !== 'deleting';
}

/** Objects of an export, one per shard 1..n, when all are present. */
export function completeExportObjects(flight: InFlightExport, objects: readonly ObjectInfo[]): ObjectInfo[] | undefined {
  const byShard = new Map<number, ObjectInfo>();
  for (const o of objects) {
    const n = shardNumberOf(flight.exportName, o.key);
    if (n !== undefined) {
      byShard.set(n, o);
    }
  }
  const result: ObjectInfo[] = [];
  for (let i = 1; i <= flight.shardCount; i++) {
    const o = byShard.get(i);
    if (!o) {
      return undefined;
    }
    result.push(o);
  }
  return result;
}

/**
 * The manual backups counted against the quota at `now`: every manual snapshot of the group (by anyone) taken in the
 * window, plus every CreateSnapshot the plan called in the window (also refused and since-deleted ones), plus, once
 * the plan learned that exports count, every CopySnapshot it called in the window, plus the uses a refusal in the
 * window showed the plan could not see (the largest such count). Conservative: all of them are assumed to have hit the
 * same node.
 */
export function manualBackupsInWindow(obs: ObservedGroup, state: GroupState, now: Date, settings: PlannerSettings): number {
  const since = now.getTime() - DAY - settings.quotaMarginSeconds * 1000;
  const names = new Set<string>();
  for (const s of obs.snapshots) {
    // A snapshot still being created has no time yet: it counts.
    if (s.source === 'manual' && (s.createTime === undefined || s.createTime.getTime() > since)) {
      names.add(s.name);
    }
  }
  for (const c of state.created) {
    if (ms(c.at) > since) {
      names.add(c.name);
    }
  }
  if (state.exportsCountAgainstQuota) {
    for (const x of state.exportCalls ?? []) {
      if (ms(x.at) > since) {
        names.add(`export:${x.name}@${x.at}`);
      }
    }
  }
  const hidden = (state.quotaRefusals ?? []).filter((r) => ms(r.at) > since).map((r) => r.hidden);
  return names.size + Math.max(0, ...hidden);
}

/** Free slots of the quota by the plan's count with its export calls included (whether or not they are known to count). */
export function quotaFreeSlots(ctx: PlanContext): number {
  const state = { ...ctx.obs.state, created: ctx.created, exportCalls: ctx.exportCalls, exportsCountAgainstQuota: true };
  return Math.max(1, ctx.settings.quotaPerNode - manualBackupsInWindow(ctx.obs, state, ctx.now, ctx.settings));
}

export type AvailableSnapshot = ObservedSnapshot & { createTime: Date };

/** The mutable working state of one run. The rule modules read and update it in order. */
export class PlanContext {
  public readonly group: string;
  public readonly nowMs: number;
  public readonly notes: string[] = [];
  public readonly actions: PlanAction[] = [];
  public failures = 0;
  /** Manifests that exist now and are trusted (pruning relies only on these). */
  public readonly committed: Set<string>;
  /** `committed` plus the ones this run commits (export selection). */
  public readonly committing: Set<string>;
  public distrusted: Set<string>;
  public readonly observedNames: Set<string>;
  public inFlight: InFlightExport | undefined;
  public lateAttempts: InFlightExport[];
  public created: CreatedRecord[];
  public exportCalls: ExportCallRecord[];
  public readonly quotaRefusals: QuotaRefusalRecord[];
  public readonly exportAttempts: Record<string, number> = {};
  public readonly exportFailures: Record<string, ExportFailureRecord> = {};
  /** Refused deletions of snapshots still listed. */
  public readonly refusedDeletions: RefusedDeletionRecord[];
  public readonly backoff: boolean;
  public readonly createBackoff: boolean;
  public readonly exportBackoff: boolean;
  /** Snapshots with a time and status `available`, newest first. */
  public readonly available: AvailableSnapshot[];
  private readonly keys: Map<string, string>;

  constructor(
    public readonly obs: ObservedGroup,
    public readonly config: GroupConfig,
    public readonly now: Date,
    public readonly settings: Required<PlannerSettings>,
    public readonly random: () => string,
  ) {
    this.group = config.replicationGroupId;
    this.nowMs = now.getTime();
    const state = obs.state;
    const observedKeys = new Set(obs.manifestKeys);
    this.distrusted = new Set((state.distrustedManifests ?? []).filter((k) => observedKeys.has(k)));
    this.committed = new Set(obs.manifestKeys.filter((k) => !this.distrusted.has(k)));
    this.committing = new Set(this.committed);
    this.observedNames = new Set(obs.snapshots.map((s) => s.name));
    const quotaHorizon = this.nowMs - DAY - settings.quotaMarginSeconds * 1000 - HOUR;
    this.created = state.created.filter((c) => this.observedNames.has(c.name) || ms(c.at) > quotaHorizon);
    this.exportCalls = (state.exportCalls ?? []).filter((x) => ms(x.at) > quotaHorizon);
    this.quotaRefusals = (state.quotaRefusals ?? []).filter((r) => ms(r.at) > quotaHorizon);
    const keep = (name: string) => this.observedNames.has(name) || state.inFlight?.snapshotName === name;
    for (const [name, n] of Object.entries(state.exportAttempts)) {
      if (keep(name)) {
        this.exportAttempts[name] = n;
      }
    }
    for (const [name, f] of Object.entries(state.exportFailures ?? {})) {
      if (keep(name)) {
        this.exportFailures[name] = f;
      }
    }
    this.refusedDeletions = (state.refusedDeletions ?? []).filter((r) => this.observedNames.has(r.name));
    this.inFlight = state.inFlight;
    this.backoff = ms(state.backoffUntil) > this.nowMs;
    this.createBackoff = ms(state.createBackoffUntil) > this.nowMs;
    this.exportBackoff = ms(state.exportBackoffUntil) > this.nowMs;
    this.available = obs.snapshots
      .filter((s): s is AvailableSnapshot => s.status === 'available' && s.createTime !== undefined)
      .sort((a, b) => b.createTime.getTime() - a.createTime.getTime());
    this.keys = new Map(this.available.map((s) => [s.name, manifestKey(this.group, s.createTime, s.name)]));
    this.lateAttempts = (state.lateAttempts ?? []).filter((a) => this.observedNames.has(a.snapshotName)
      && ms(a.startedAt) > this.nowMs - DAY && !this.committed.has(this.flightKey(a)));
  }

  /** The manifest key of an available snapshot. */
  public keyOf(s: { name: string }): string {
    return this.keys.get(s.name)!;
  }

  public flightKey(f: InFlightExport): string {
    return manifestKey(this.group, new Date(f.snapshotCreateTime), f.snapshotName);
  }

  /**
   * Whether the plan exports this snapshot, has exported it, or will: automatic backups when `exportAutomated`, manual
   * ones only when the plan created them, and none whose export attempts are spent.
   */
  public isExportedByPlan(s: ObservedSnapshot): boolean {
    const mine = s.source === 'automated' ? this.config.exportAutomated : s.createdByPlan;
    return mine && (this.exportAttempts[s.name] ?? 0) < this.settings.maxExportAttempts;
  }

  /**
   * The time of the newest backup the plan exports (or will), from which the next backup is due. By status: a backup
   * being created counts as taken now; `failed` and `deleting` ones never count; one listed without a create time in
   * any other status (`available`, ...) never counts either: it cannot be exported (its manifest key needs the time).
   * The plan's own CreateSnapshot calls count for 15 minutes until they are listed. Backups of others (foreign manual
   * backups, automatic ones that are not exported) do not count: they would postpone the plan's backups for ever.
   */
  public newestExportedBackupMs(): number {
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of this.obs.snapshots) {
      if (s.status === 'failed' || s.status === 'deleting' || !this.isExportedByPlan(s)) {
        continue;
      }
      if (s.createTime !== undefined) {
        newest = Math.max(newest, s.createTime.getTime());
      } else if (s.status === 'creating') {
        newest = Math.max(newest, this.nowMs);
      }
    }
    for (const c of this.created) {
      if (!c.refused && !this.observedNames.has(c.name) && ms(c.at) > this.nowMs - 15 * MINUTE) {
        newest = Math.max(newest, ms(c.at));
      }
    }
    return newest;
  }

  /** Records a failed export attempt of a snapshot (for the circuit breaker and the logs). */
  public recordExportFailure(snapshotName: string, errorName: string): void {
    const previous = this.exportFailures[snapshotName];
    this.exportFailures[snapshotName] = { failures: (previous?.failures ?? 0) + 1, lastError: errorName, at: this.now.toISOString() };
  }
}
