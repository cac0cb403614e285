/**
 * Every decision of the backup plan, as pure functions of (observed state, config, time).
 *
 * `plan()` says what to do in one reconciler run for one replication group; `applyOutcome()` says how the
 * persisted state changes when an action succeeded or failed. Neither does I/O, so the same code runs in the
 * Lambda (reconcile.lambda.ts through reconcile-core.ts), in unit and property tests, and in the simulation.
 *
 * Not part of the jsii API (not exported from index.ts).
 */
import { planSnapshotName } from './constants';
import { compactTimestamp, exportName as makeExportName, manifestKey, shardNumberOf, SnapshotSource } from '../manifest/manifest';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The service quota: manual backups per node per contiguous 24 hours. */
export const MANUAL_BACKUPS_PER_NODE_PER_DAY = 20;

/** The shortest interval the quota can sustain: 24 h / 20 = 72 minutes. */
export const MIN_INTERVAL_MINUTES = (24 * 60) / MANUAL_BACKUPS_PER_NODE_PER_DAY;

// ---------------------------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------------------------

/** What the construct tells the reconciler about one protected group (serialized into the Lambda environment). */
export interface GroupConfig {
  readonly replicationGroupId: string;
  /** Take a manual backup when the newest backup is older than this. Absent: automatic backups only. */
  readonly intervalSeconds?: number;
  /** Manual backups the plan created are deleted once older than this and exported. */
  readonly retentionSeconds: number;
  /** The export age above which the group is out of its RPO target (for reporting). */
  readonly rpoTargetSeconds: number;
  /** Whether automatic (daily) backups are exported. */
  readonly exportAutomated: boolean;
  /**
   * Without an interval: take one manual backup when the newest backup is older than this (a missed or failed
   * automatic backup). Absent: never.
   */
  readonly fallbackAfterSeconds?: number;
}

/** Tuning shared by all groups of a plan. */
export interface PlannerSettings {
  /** An export without all its objects after this long is treated as failed and retried under a new name. */
  readonly exportTimeoutSeconds: number;
  /** Give up exporting one snapshot after this many attempts (the snapshot is then never pruned by the plan). */
  readonly maxExportAttempts: number;
  /** The quota the plan stays under (20 in every region today). */
  readonly quotaPerNode: number;
  /** Count manual backups in a window this much longer than 24 h, to stay clear of clock skew. */
  readonly quotaMarginSeconds: number;
  /** After a backup the plan created failed, wait this long before creating another one. */
  readonly failedBackupCooldownSeconds: number;
  /** At most this many deletions per group per run. */
  readonly maxDeletionsPerRun: number;
}

export const DEFAULT_SETTINGS: PlannerSettings = {
  exportTimeoutSeconds: 3600,
  maxExportAttempts: 5,
  quotaPerNode: MANUAL_BACKUPS_PER_NODE_PER_DAY,
  quotaMarginSeconds: 600,
  failedBackupCooldownSeconds: 900,
  maxDeletionsPerRun: 5,
};

/**
 * Whether a snapshot's status says an operation is running on it (`copying`, `exporting`, ...). Whether ElastiCache
 * shows such a status while a CopySnapshot to S3 runs is not documented: the planner only relies on it once seen.
 */
function isBusy(status: string): boolean {
  return status !== 'available' && status !== 'failed' && status !== 'deleting';
}

// ---------------------------------------------------------------------------------------------------------------
// Observed state
// ---------------------------------------------------------------------------------------------------------------

/** Facts about a snapshot the manifest needs (taken from DescribeSnapshots). */
export interface SnapshotMeta {
  readonly engine: string;
  readonly engineVersion: string;
  readonly nodeType: string;
  readonly clusterModeEnabled: boolean;
}

export interface ObservedSnapshot {
  readonly name: string;
  readonly source: SnapshotSource;
  /** creating | available | failed | deleting | copying | exporting | restoring | ... */
  readonly status: string;
  /** When the snapshot was taken; absent while it is being created. */
  readonly createTime?: Date;
  /** Whether the plan created it (the reconciler's own record; deletion also checks the snapshot's tag). */
  readonly createdByPlan: boolean;
  /** Number of shards (one `.rdb` per shard on export) = nodes snapshotted. */
  readonly shardCount: number;
  readonly meta?: SnapshotMeta;
}

export interface ObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
}

/** A signal from an event that an export failed (the event text, for matching, and its time). */
export interface ExportFailureSignal {
  readonly text: string;
  readonly time: Date;
}

/** The export in flight, as persisted between runs. */
export interface InFlightExport {
  readonly snapshotName: string;
  readonly snapshotSource: SnapshotSource;
  /** ISO time. */
  readonly snapshotCreateTime: string;
  readonly shardCount: number;
  readonly meta?: SnapshotMeta;
  readonly exportName: string;
  readonly attempt: number;
  /** ISO time CopySnapshot was (or was about to be) called. */
  readonly startedAt: string;
  /** False until CopySnapshot returned success (or "already exists"): an unconfirmed export is re-issued under the same name. */
  readonly confirmed: boolean;
  /**
   * True once a run after the confirmed CopySnapshot saw the source snapshot in a status other than `available`
   * (`copying`, `exporting`, ...). Whether ElastiCache shows such a status during an export is not documented; only
   * when it has been seen does the snapshot returning to `available` mean that the export ended.
   */
  readonly sourceBusySeen?: boolean;
  /**
   * ISO time of the run that first saw the source back in `available` (after `sourceBusySeen`) while objects were
   * missing. A later run that still sees them missing declares the export failed (one run of grace for the listing).
   */
  readonly sourceIdleSince?: string;
}

/** A CreateSnapshot call the plan made (write-ahead: recorded before the call). */
export interface CreatedRecord {
  readonly name: string;
  /** ISO time of the call. */
  readonly at: string;
  /** The call was refused (throttled, quota, ...): counted for the quota, but no snapshot exists. */
  readonly refused?: boolean;
  /** The snapshot failed and the failure was reported. */
  readonly failureNoted?: boolean;
}

/** What the reconciler persists per group (S3 `state/<group>/plan.json`). */
export interface GroupState {
  readonly formatVersion: 1;
  readonly inFlight?: InFlightExport;
  /** Export attempts started per snapshot name (the next attempt gets a new, unique TargetSnapshotName). */
  readonly exportAttempts: Readonly<Record<string, number>>;
  readonly created: readonly CreatedRecord[];
  /** ISO time until which no ElastiCache write call is made (throttling). */
  readonly backoffUntil?: string;
  /** ISO time until which no backup is created (SnapshotQuotaExceededFault). */
  readonly createBackoffUntil?: string;
  /** ISO time until which no export is started (SnapshotQuotaExceededFault on CopySnapshot). */
  readonly exportBackoffUntil?: string;
  readonly consecutiveThrottles: number;
}

export function emptyState(): GroupState {
  return { formatVersion: 1, exportAttempts: {}, created: [], consecutiveThrottles: 0 };
}

export interface ObservedGroup {
  readonly replicationGroupId: string;
  /** False while the group is not `available` (modifying, snapshotting, ...): no backup is created then. */
  readonly groupAvailable: boolean;
  /** Every snapshot of the group (automated and manual). */
  readonly snapshots: readonly ObservedSnapshot[];
  /** Manifest keys present for the group (at least those of every existing snapshot, and the newest one). */
  readonly manifestKeys: readonly string[];
  /** Objects whose keys start with the in-flight export's name (empty when nothing is in flight). */
  readonly exportObjects: readonly ObjectInfo[];
  readonly state: GroupState;
  readonly exportFailureSignals: readonly ExportFailureSignal[];
}

// ---------------------------------------------------------------------------------------------------------------
// Actions and results
// ---------------------------------------------------------------------------------------------------------------

export interface CreateSnapshotAction {
  readonly kind: 'CreateSnapshot';
  readonly snapshotName: string;
}

export interface StartExportAction {
  readonly kind: 'StartExport';
  readonly snapshotName: string;
  readonly exportName: string;
  readonly attempt: number;
  /** True when re-issuing an unconfirmed CopySnapshot (after a crash or an unknown error). */
  readonly reissue: boolean;
}

export interface CommitManifestAction {
  readonly kind: 'CommitManifest';
  readonly export: InFlightExport;
  readonly manifestKey: string;
  /** Shard objects in shard order. */
  readonly objects: readonly ObjectInfo[];
}

export interface DeleteSnapshotAction {
  readonly kind: 'DeleteSnapshot';
  readonly snapshotName: string;
}

export type PlanAction = CreateSnapshotAction | StartExportAction | CommitManifestAction | DeleteSnapshotAction;

export interface GroupMetrics {
  /** Seconds since the newest available backup was taken; undefined when there is none. */
  readonly backupAgeSeconds?: number;
  /** Seconds since the snapshot of the newest committed export was taken; undefined when there is none. */
  readonly exportAgeSeconds?: number;
  readonly exportsInFlight: number;
  /** Failures noticed in this run (failed export, failed backup, refused call). */
  readonly failures: number;
  /** Manual backups counted against the quota in the last 24 h (+ margin). */
  readonly manualBackupsLast24h: number;
}

export interface Decision {
  /** Actions in execution order. */
  readonly actions: readonly PlanAction[];
  /** The state to persist before executing (write-ahead), assuming every action succeeds. */
  readonly state: GroupState;
  readonly metrics: GroupMetrics;
  /** Human-readable reasons, for the logs. */
  readonly notes: readonly string[];
  /** A backup was due but not created because the quota (less the retry reserve) was used up. */
  readonly backupBlockedByQuota?: boolean;
}

/** How an executed action ended. */
export type OutcomeKind =
  | 'ok'
  /** the name is taken: for StartExport, the export was already started. */
  | 'already-exists'
  | 'throttled'
  | 'quota-exceeded'
  | 'not-found'
  /** a definite refusal (invalid state, invalid parameter, access denied, ...) */
  | 'refused'
  /** unknown whether the call took effect (timeout, 5xx, crash) */
  | 'unknown'
  /** not executed (the run ran out of time) */
  | 'skipped';

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

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

function ms(iso: string | undefined): number {
  return iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso);
}

/** Backoff after the n-th consecutive throttle: 5, 10, 20, 40, 60, 60 ... minutes. */
export function throttleBackoffMs(consecutiveThrottles: number): number {
  return Math.min(60 * MINUTE, 5 * MINUTE * 2 ** Math.max(0, consecutiveThrottles - 1));
}

function manifestKeyOf(groupId: string, s: { name: string; createTime: Date }): string {
  return manifestKey(groupId, s.createTime, s.name);
}

/** Objects of an export, one per shard 1..n, when all are present. */
function completeExportObjects(inFlight: InFlightExport, objects: readonly ObjectInfo[]): ObjectInfo[] | undefined {
  const byShard = new Map<number, ObjectInfo>();
  for (const o of objects) {
    const n = shardNumberOf(inFlight.exportName, o.key);
    if (n !== undefined) {
      byShard.set(n, o);
    }
  }
  const result: ObjectInfo[] = [];
  for (let i = 1; i <= inFlight.shardCount; i++) {
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
 * window, plus every CreateSnapshot the plan called in the window (also refused and since-deleted ones). Conservative:
 * all of them are assumed to have hit the same node.
 */
export function manualBackupsInWindow(obs: ObservedGroup, state: GroupState, now: Date, settings: PlannerSettings): number {
  const since = now.getTime() - DAY - settings.quotaMarginSeconds * 1000;
  const names = new Set<string>();
  for (const s of obs.snapshots) {
    if (s.source !== 'manual') {
      continue;
    }
    // A snapshot still being created has no time yet: it counts.
    if (s.createTime === undefined || s.createTime.getTime() > since) {
      names.add(s.name);
    }
  }
  for (const c of state.created) {
    if (ms(c.at) > since) {
      names.add(c.name);
    }
  }
  return names.size;
}

// ---------------------------------------------------------------------------------------------------------------
// plan()
// ---------------------------------------------------------------------------------------------------------------

/**
 * Decides one run for one group.
 *
 * Rules (in this order):
 * 1. An export in flight whose every shard object exists is committed (manifest written last, as the commit marker).
 *    One that failed (event) or timed out is dropped; its snapshot is retried under a new name (attempt + 1).
 *    An unconfirmed one (CopySnapshot's answer never recorded) is re-issued under the same name.
 * 2. When nothing is in flight: the newest exportable snapshot without a manifest is exported (at most one in flight).
 * 3. When `intervalSeconds` is set and the newest backup is older than it: create a backup, unless that would
 *    exceed the per-node quota (counted conservatively), or a backup is being created, or the group is busy.
 * 4. Prune manual backups the plan created, older than retention, whose export is committed.
 */
export function plan(obs: ObservedGroup, config: GroupConfig, now: Date, settings: PlannerSettings = DEFAULT_SETTINGS): Decision {
  const group = config.replicationGroupId;
  const nowMs = now.getTime();
  const notes: string[] = [];
  const actions: PlanAction[] = [];
  let failures = 0;

  // Manifests that exist now (pruning relies only on these), and those plus the ones this run commits (selection).
  const committed = new Set(obs.manifestKeys);
  const committing = new Set(obs.manifestKeys);
  const observedNames = new Set(obs.snapshots.map((s) => s.name));

  // --- state housekeeping -------------------------------------------------------------------------------------
  const quotaHorizon = nowMs - DAY - settings.quotaMarginSeconds * 1000 - HOUR;
  let created = obs.state.created.filter((c) => observedNames.has(c.name) || ms(c.at) > quotaHorizon);
  const exportAttempts: Record<string, number> = {};
  for (const [name, n] of Object.entries(obs.state.exportAttempts)) {
    if (observedNames.has(name) || obs.state.inFlight?.snapshotName === name) {
      exportAttempts[name] = n;
    }
  }
  let inFlight = obs.state.inFlight;
  const backoff = ms(obs.state.backoffUntil) > nowMs;
  const createBackoff = ms(obs.state.createBackoffUntil) > nowMs;
  const exportBackoff = ms(obs.state.exportBackoffUntil) > nowMs;
  if (backoff) {
    notes.push(`backing off ElastiCache calls until ${obs.state.backoffUntil}`);
  }

  // --- 1. the export in flight --------------------------------------------------------------------------------
  if (inFlight) {
    const key = manifestKey(group, new Date(inFlight.snapshotCreateTime), inFlight.snapshotName);
    const failedAtStart = ms(inFlight.startedAt);
    const objects = completeExportObjects(inFlight, obs.exportObjects);
    if (committed.has(key)) {
      notes.push(`export ${inFlight.exportName} is already committed`);
      inFlight = undefined;
    } else if (objects) {
      actions.push({ kind: 'CommitManifest', export: inFlight, manifestKey: key, objects });
      committing.add(key);
      notes.push(`export ${inFlight.exportName} complete: committing ${key}`);
      inFlight = undefined; // assuming success; applyOutcome restores it on failure
    } else if (!inFlight.confirmed) {
      const source = obs.snapshots.find((s) => s.name === inFlight!.snapshotName);
      if (source && isBusy(source.status)) {
        // The source is busy: the CopySnapshot whose answer was lost was most likely accepted. Re-issuing it now could
        // be refused (InvalidSnapshotStateFault) and spend the attempt; wait for the objects, the status or the timeout.
        inFlight = { ...inFlight, confirmed: true, sourceBusySeen: true };
        notes.push(`export ${inFlight.exportName} unconfirmed, but ${inFlight.snapshotName} is ${source.status}: treating it as started`);
      } else if (!backoff && !exportBackoff) {
        actions.push({
          kind: 'StartExport',
          snapshotName: inFlight.snapshotName,
          exportName: inFlight.exportName,
          attempt: inFlight.attempt,
          reissue: true,
        });
        notes.push(`re-issuing unconfirmed export ${inFlight.exportName}`);
      }
    } else {
      const flight: InFlightExport = inFlight;
      const signalled = obs.exportFailureSignals.some((sig) => sig.time.getTime() >= failedAtStart
        && (sig.text.includes(flight.exportName) || sig.text.includes(flight.snapshotName)));
      const timedOut = nowMs - failedAtStart > settings.exportTimeoutSeconds * 1000;
      // Status-based detection, only when a busy status has been seen for this export (see `sourceBusySeen`).
      const source = obs.snapshots.find((s) => s.name === flight.snapshotName);
      let next: InFlightExport = flight;
      let endedWithoutObjects = false;
      if (source && isBusy(source.status)) {
        next = { ...flight, sourceBusySeen: true, sourceIdleSince: undefined };
      } else if (source && source.status === 'available' && flight.sourceBusySeen) {
        const since = flight.sourceIdleSince === undefined ? undefined : ms(flight.sourceIdleSince);
        if (since === undefined) {
          next = { ...flight, sourceIdleSince: now.toISOString() };
        } else if (nowMs > since) {
          endedWithoutObjects = true;
        }
      }
      if (signalled || timedOut || endedWithoutObjects) {
        failures++;
        const why = signalled ? 'failed (event)' : endedWithoutObjects ? 'ended without all its objects (snapshot status)' : 'timed out';
        notes.push(`export ${flight.exportName} ${why}; will retry under a new name`);
        inFlight = undefined;
      } else {
        inFlight = next;
      }
    }
  }

  // --- 2. start an export -------------------------------------------------------------------------------------
  // Keys of one group sort in time order: the newest is the greatest.
  let newestKey: string | undefined;
  for (const k of committing) {
    if (k.startsWith(`manifests/${group}/`) && (newestKey === undefined || k > newestKey)) {
      newestKey = k;
    }
  }
  const newestCommittedMs = (newestKey !== undefined ? manifestKeyTime(newestKey)?.getTime() : undefined) ?? Number.NEGATIVE_INFINITY;

  const available = obs.snapshots
    .filter((s): s is ObservedSnapshot & { createTime: Date } => s.status === 'available' && s.createTime !== undefined)
    .sort((a, b) => b.createTime.getTime() - a.createTime.getTime());

  const keys = new Map(available.map((s) => [s.name, manifestKeyOf(group, s)]));
  const keyOf = (s: { name: string }) => keys.get(s.name)!;
  const exportable = available.filter((s) => (s.source === 'automated' ? config.exportAutomated : s.createdByPlan)
    && !committing.has(keyOf(s))
    && (exportAttempts[s.name] ?? 0) < settings.maxExportAttempts);

  // Newer than everything committed: this is what lowers the RPO. Older plan backups without an export are
  // exported afterwards (a backfill), so that they can be pruned; automated ones are not (the plan never deletes them).
  const fresh = exportable.filter((s) => s.createTime.getTime() > newestCommittedMs);
  const backfill = exportable.filter((s) => s.createTime.getTime() <= newestCommittedMs && s.source === 'manual');
  const newestAny = obs.snapshots.reduce((acc, s) => Math.max(acc, s.createTime?.getTime() ?? nowMs), Number.NEGATIVE_INFINITY);
  const backfillWindowOpen = config.intervalSeconds === undefined
    || (nowMs - newestAny) < (config.intervalSeconds * 1000) / 2;

  if (!inFlight && !backoff && !exportBackoff) {
    const pick = fresh[0] ?? (backfillWindowOpen ? backfill[0] : undefined);
    if (pick) {
      const attempt = (exportAttempts[pick.name] ?? 0) + 1;
      const name = makeExportName(group, pick.createTime, attempt);
      exportAttempts[pick.name] = attempt;
      inFlight = {
        snapshotName: pick.name,
        snapshotSource: pick.source,
        snapshotCreateTime: pick.createTime.toISOString(),
        shardCount: Math.max(1, pick.shardCount),
        meta: pick.meta,
        exportName: name,
        attempt,
        startedAt: now.toISOString(),
        confirmed: false,
      };
      actions.push({ kind: 'StartExport', snapshotName: pick.name, exportName: name, attempt, reissue: false });
      notes.push(`exporting ${pick.name} as ${name}${fresh[0] ? '' : ' (backfill)'}`);
    }
  }
  for (const s of available) {
    if ((exportAttempts[s.name] ?? 0) >= settings.maxExportAttempts && !committing.has(keyOf(s))
      && inFlight?.snapshotName !== s.name) {
      notes.push(`gave up exporting ${s.name} after ${exportAttempts[s.name]} attempts`);
    }
  }

  // --- 3. create a backup -------------------------------------------------------------------------------------
  const count = manualBackupsInWindow(obs, { ...obs.state, created }, now, settings);
  let counted = count;
  let blockedByQuota = false;
  const backupEverySeconds = config.intervalSeconds ?? config.fallbackAfterSeconds;
  if (backupEverySeconds !== undefined && !backoff && !createBackoff) {
    const creating = obs.snapshots.some((s) => s.status === 'creating');
    // The newest backup: snapshots that exist or are being made, plus calls not yet visible (for 15 minutes).
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of obs.snapshots) {
      if (s.status !== 'failed' && s.status !== 'deleting') {
        newest = Math.max(newest, s.createTime?.getTime() ?? nowMs);
      }
    }
    for (const c of created) {
      if (!c.refused && !observedNames.has(c.name) && ms(c.at) > nowMs - 15 * MINUTE) {
        newest = Math.max(newest, ms(c.at));
      }
    }
    const recentFailure = obs.snapshots.some((s) => s.createdByPlan && s.status === 'failed'
      && created.some((c) => c.name === s.name && ms(c.at) > nowMs - settings.failedBackupCooldownSeconds * 1000));
    const due = nowMs - newest >= backupEverySeconds * 1000;
    const name = due ? planSnapshotName(group, now) : '';
    if (!due) {
      // nothing to do
    } else if (!obs.groupAvailable) {
      notes.push('backup due, but the group is not available');
    } else if (creating) {
      notes.push('backup due, but a backup is being created');
    } else if (recentFailure) {
      notes.push('backup due, but the last backup the plan created failed recently');
    } else if (count + 1 > settings.quotaPerNode) {
      blockedByQuota = true;
      notes.push(`backup due, but ${count} manual backups in the last 24 h: the quota is ${settings.quotaPerNode} per node`);
    } else if (observedNames.has(name) || created.some((c) => c.name === name)) {
      notes.push(`backup ${name} already requested`);
    } else {
      actions.push({ kind: 'CreateSnapshot', snapshotName: name });
      created = [...created, { name, at: now.toISOString() }];
      counted = count + 1;
      notes.push(`creating backup ${name}`);
    }
  }

  // --- 4. prune -------------------------------------------------------------------------------------------------
  if (!backoff) {
    const cutoff = nowMs - config.retentionSeconds * 1000;
    let deletions = 0;
    // Oldest first.
    for (const s of [...available].reverse()) {
      if (deletions >= settings.maxDeletionsPerRun) {
        break;
      }
      if (s.source === 'manual' && s.createdByPlan && s.createTime.getTime() < cutoff
        && committed.has(keyOf(s)) && inFlight?.snapshotName !== s.name) {
        actions.push({ kind: 'DeleteSnapshot', snapshotName: s.name });
        deletions++;
      }
    }
  }

  // --- metrics --------------------------------------------------------------------------------------------------
  // A failed backup the plan created counts as one failure, once.
  const failedNames = new Set(obs.snapshots.filter((s) => s.status === 'failed').map((s) => s.name));
  created = created.map((c) => {
    if (!c.failureNoted && failedNames.has(c.name)) {
      failures++;
      notes.push(`backup ${c.name} failed`);
      return { ...c, failureNoted: true };
    }
    return c;
  });
  const newestAvailable = available[0]?.createTime.getTime();
  const metrics: GroupMetrics = {
    backupAgeSeconds: newestAvailable === undefined ? undefined : Math.max(0, Math.round((nowMs - newestAvailable) / 1000)),
    exportAgeSeconds: Number.isFinite(newestCommittedMs) ? Math.max(0, Math.round((nowMs - newestCommittedMs) / 1000)) : undefined,
    exportsInFlight: inFlight ? 1 : 0,
    failures,
    manualBackupsLast24h: counted,
  };

  // Order: commit first (S3 only, lowers the RPO), then export, then create, then prune.
  const order: Record<PlanAction['kind'], number> = { CommitManifest: 0, StartExport: 1, CreateSnapshot: 2, DeleteSnapshot: 3 };
  actions.sort((a, b) => order[a.kind] - order[b.kind]);

  const state: GroupState = {
    formatVersion: 1,
    inFlight,
    exportAttempts,
    created,
    backoffUntil: obs.state.backoffUntil && ms(obs.state.backoffUntil) > nowMs ? obs.state.backoffUntil : undefined,
    createBackoffUntil: createBackoff ? obs.state.createBackoffUntil : undefined,
    exportBackoffUntil: exportBackoff ? obs.state.exportBackoffUntil : undefined,
    consecutiveThrottles: obs.state.consecutiveThrottles,
  };
  return { actions, state: compact(state), metrics, notes, ...(blockedByQuota ? { backupBlockedByQuota: true } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// applyOutcome()
// ---------------------------------------------------------------------------------------------------------------

/**
 * The state after an action ended with `outcome`. `state` is the write-ahead state of the decision (or the result of
 * applying earlier outcomes of the same run).
 */
export function applyOutcome(state: GroupState, action: PlanAction, outcome: OutcomeKind, now: Date): GroupState {
  const nowMs = now.getTime();
  let next: GroupState = state;
  const throttled = (): GroupState => {
    const n = state.consecutiveThrottles + 1;
    return { ...next, consecutiveThrottles: n, backoffUntil: new Date(nowMs + throttleBackoffMs(n)).toISOString() };
  };
  switch (action.kind) {
    case 'CreateSnapshot': {
      if (outcome === 'ok' || outcome === 'already-exists' || outcome === 'unknown') {
        break; // the record stays: counted for the quota, and recognized as the plan's
      }
      if (outcome === 'skipped') {
        next = { ...next, created: next.created.filter((c) => c.name !== action.snapshotName) };
        break;
      }
      // Refused: keep the record for the quota count (conservative), marked refused.
      next = { ...next, created: next.created.map((c) => (c.name === action.snapshotName ? { ...c, refused: true } : c)) };
      if (outcome === 'throttled') {
        next = throttled();
      } else if (outcome === 'quota-exceeded') {
        next = { ...next, createBackoffUntil: new Date(nowMs + HOUR).toISOString() };
      }
      break;
    }
    case 'StartExport': {
      const mine = next.inFlight && next.inFlight.exportName === action.exportName ? next.inFlight : undefined;
      if (!mine) {
        break;
      }
      if (outcome === 'ok' || outcome === 'already-exists') {
        next = { ...next, inFlight: { ...mine, confirmed: true } };
      } else if (outcome === 'unknown') {
        // keep it unconfirmed: the next run re-issues the same name, which is idempotent
      } else if (outcome === 'throttled' || outcome === 'skipped' || outcome === 'quota-exceeded') {
        // Not started: release the slot and the attempt number (the name was never used).
        const attempts = { ...next.exportAttempts };
        if (!action.reissue) {
          attempts[action.snapshotName] = Math.max(0, (attempts[action.snapshotName] ?? 1) - 1);
          if (attempts[action.snapshotName] === 0) {
            delete attempts[action.snapshotName];
          }
        }
        next = { ...next, inFlight: action.reissue ? mine : undefined, exportAttempts: attempts };
        if (outcome === 'throttled') {
          next = throttled();
        } else if (outcome === 'quota-exceeded') {
          next = { ...next, exportBackoffUntil: new Date(nowMs + 30 * MINUTE).toISOString() };
        }
      } else {
        // refused / not-found: this attempt is spent; the next one gets a new name.
        next = { ...next, inFlight: undefined };
      }
      break;
    }
    case 'CommitManifest': {
      if (outcome !== 'ok') {
        // Keep the export in flight: the next run commits it.
        next = { ...next, inFlight: next.inFlight ?? action.export };
      }
      break;
    }
    case 'DeleteSnapshot': {
      if (outcome === 'throttled') {
        next = throttled();
      }
      break;
    }
  }
  if (outcome === 'ok' && next.consecutiveThrottles !== 0) {
    next = { ...next, consecutiveThrottles: 0 };
  }
  return compact(next);
}

/** Drops undefined fields, so states compare and serialize stably. */
function compact(state: GroupState): GroupState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v !== undefined) {
      out[k] = v;
    }
  }
  return out as unknown as GroupState;
}

/** Parses a persisted state, falling back to an empty one for anything unreadable (never throws). */
export function parseState(text: string | undefined): GroupState {
  if (!text) {
    return emptyState();
  }
  try {
    const raw = JSON.parse(text) as Partial<GroupState>;
    if (raw.formatVersion !== 1) {
      return emptyState();
    }
    return {
      ...emptyState(),
      ...raw,
      exportAttempts: raw.exportAttempts ?? {},
      created: Array.isArray(raw.created) ? raw.created : [],
      consecutiveThrottles: raw.consecutiveThrottles ?? 0,
    } as GroupState;
  } catch {
    return emptyState();
  }
}

export function serializeState(state: GroupState): string {
  return JSON.stringify(compact(state));
}

export { compactTimestamp };
