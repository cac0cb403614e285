/**
 * Every decision of the backup plan, as pure functions of (observed state, config, time).
 *
 * `plan()` says what to do in one reconciler run for one replication group; `applyOutcome()` says how the
 * persisted state changes when an action succeeded or failed. Neither does I/O, so the same code runs in the
 * Lambda (reconcile.lambda.ts through reconcile-core.ts), in unit and property tests, and in the simulation.
 * The rules live in planner/ (export-rules, backup-rules, prune-rules, outcome); this file orders them.
 *
 * Not part of the jsii API (not exported from index.ts).
 */
import { randomSuffix } from './constants';
import { circuitState, createBackup } from './planner/backup-rules';
import { PlanContext } from './planner/context';
import { handleInFlight, promoteLateAttempt, startExport } from './planner/export-rules';
import { compact } from './planner/outcome';
import { prune } from './planner/prune-rules';
import { Decision, DEFAULT_SETTINGS, emptyState, GroupConfig, GroupMetrics, GroupState, ObservedGroup, PlanAction, PlannerSettings } from './planner/types';
import { compactTimestamp } from '../manifest/manifest';

export * from './planner/types';
export { applyOutcome } from './planner/outcome';
export { manualBackupsInWindow, manifestKeyTime, parseCompactTimestamp, throttleBackoffMs } from './planner/context';
export { circuitState } from './planner/backup-rules';
export { compactTimestamp };

/** Execution order: commit first (S3 only, lowers the RPO), then verification requests, export, create, prune. */
const ORDER: Record<PlanAction['kind'], number> = { CommitManifest: 0, VerifyShard: 1, StartExport: 2, CreateSnapshot: 3, DeleteSnapshot: 4 };

/**
 * Decides one run for one group.
 *
 * Rules (in this order):
 * 1. The export in flight (or an earlier, timed-out attempt whose objects arrived late): when every shard object
 *    exists, each must be non-empty and newer than the CopySnapshot call, then verified by the verifier Lambda
 *    (asked for with VerifyShard, answered by a result object); the manifest is written, last, once every shard
 *    verified against the version listed now. A corrupt, overwritten, planted or empty shard fails the attempt.
 *    A failed (event) or timed-out attempt (never while the source is seen busy) is retried under a new name.
 *    An unconfirmed one (CopySnapshot's answer never recorded) is re-issued under the same name.
 * 2. When nothing is in flight: the newest exportable snapshot without a trusted manifest is exported.
 * 3. When a backup is due: create one, unless the circuit breaker is open, the quota (plus a slot for exports, once
 *    they are known to count) is used up, a backup is being created, or the group is busy.
 * 4. Prune manual backups the plan created, older than retention, whose export is committed and trusted.
 *
 * @param random 8 lowercase base32 characters per call, for export names (cryptographic by default)
 */
export function plan(obs: ObservedGroup, config: GroupConfig, now: Date, settings: PlannerSettings = DEFAULT_SETTINGS,
  random: () => string = randomSuffix): Decision {
  const ctx = new PlanContext(obs, config, now, { ...DEFAULT_SETTINGS, ...settings }, random);
  if (ctx.backoff) {
    ctx.notes.push(`backing off ElastiCache calls until ${obs.state.backoffUntil}`);
  }
  promoteLateAttempt(ctx);
  handleInFlight(ctx);
  const newestCommittedMs = startExport(ctx);
  const circuit = circuitState(ctx);
  const backup = createBackup(ctx, circuit);
  prune(ctx);
  noteFailedBackups(ctx);

  const nowMs = ctx.nowMs;
  const newestAvailable = ctx.available[0]?.createTime.getTime();
  const metrics: GroupMetrics = {
    backupAgeSeconds: newestAvailable === undefined ? undefined : Math.max(0, Math.round((nowMs - newestAvailable) / 1000)),
    exportAgeSeconds: Number.isFinite(newestCommittedMs) ? Math.max(0, Math.round((nowMs - newestCommittedMs) / 1000)) : undefined,
    exportsInFlight: ctx.inFlight ? 1 : 0,
    failures: ctx.failures,
    manualBackupsLast24h: backup.counted,
    unexportedBackups: circuit.unexported,
    circuitOpen: circuit.open ? 1 : 0,
    ...(circuit.open ? { circuitReason: circuit.reason } : {}),
  };
  const actions = [...ctx.actions].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  const state: GroupState = {
    formatVersion: 1,
    inFlight: ctx.inFlight,
    lateAttempts: ctx.lateAttempts.length ? ctx.lateAttempts : undefined,
    exportAttempts: ctx.exportAttempts,
    exportFailures: Object.keys(ctx.exportFailures).length ? ctx.exportFailures : undefined,
    created: ctx.created,
    exportCalls: ctx.exportCalls.length ? ctx.exportCalls : undefined,
    exportsCountAgainstQuota: obs.state.exportsCountAgainstQuota || undefined,
    distrustedManifests: ctx.distrusted.size ? [...ctx.distrusted] : undefined,
    backoffUntil: ctx.backoff ? obs.state.backoffUntil : undefined,
    createBackoffUntil: ctx.createBackoff ? obs.state.createBackoffUntil : undefined,
    exportBackoffUntil: ctx.exportBackoff ? obs.state.exportBackoffUntil : undefined,
    consecutiveThrottles: obs.state.consecutiveThrottles,
  };
  return { actions, state: compact(state), metrics, notes: ctx.notes, ...(backup.blockedByQuota ? { backupBlockedByQuota: true } : {}) };
}

/** A failed backup the plan created counts as one failure, once. */
function noteFailedBackups(ctx: PlanContext): void {
  const failedNames = new Set(ctx.obs.snapshots.filter((s) => s.status === 'failed').map((s) => s.name));
  ctx.created = ctx.created.map((c) => {
    if (!c.failureNoted && failedNames.has(c.name)) {
      ctx.failures++;
      ctx.notes.push(`backup ${c.name} failed`);
      return { ...c, failureNoted: true };
    }
    return c;
  });
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
