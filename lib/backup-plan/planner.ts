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
import { BackupDecision, circuitState, CircuitState, createBackup, noteUndatedSnapshots } from './planner/backup-rules';
import { PlanContext } from './planner/context';
import { CommittedExports, handleInFlight, newestCommitted, promoteLateAttempt, startExport } from './planner/export-rules';
import { compact } from './planner/outcome';
import { prune, PruneResult } from './planner/prune-rules';
import { Decision, DEFAULT_SETTINGS, GroupConfig, GroupMetrics, GroupState, ObservedGroup, PlanAction, PlannerSettings } from './planner/types';
import { compactTimestamp } from '../manifest/manifest';

export * from './planner/types';
export { applyOutcome } from './planner/outcome';
export { manualBackupsInWindow, manifestKeyTime, parseCompactTimestamp, throttleBackoffMs } from './planner/context';
export { circuitState } from './planner/backup-rules';
export { compactTimestamp };
export { parseState, serializeState, StateError, tryParseState } from './state';

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
 *    A failed (an event naming the export) or timed-out attempt (never while the source is seen busy) is retried
 *    under a new name. An unconfirmed one (CopySnapshot's answer never recorded) is re-issued under the same name.
 * 2. When nothing is in flight: the newest exportable snapshot without a trusted manifest is exported. Manifest keys
 *    dated in the future are ignored (and reported) when finding the newest committed export.
 * 3. When a backup is due (measured from the newest backup the plan exports, never from others' backups): create
 *    one, unless the circuit breaker is open, the quota (plus a slot for exports, once they are known to count) is
 *    used up, a backup is being created, or the group is busy.
 * 4. Prune manual backups the plan created, older than retention plus a clock skew margin, whose export is
 *    committed and trusted, at most `maxDeletionsPerRun`; none while the clocks disagree; a refused deletion
 *    takes no slot until its retry time.
 *
 * @param random 8 lowercase base32 characters per call, for export names (cryptographic by default)
 */
export function plan(obs: ObservedGroup, config: GroupConfig, now: Date, settings: PlannerSettings = DEFAULT_SETTINGS,
  random: () => string = randomSuffix): Decision {
  const ctx = new PlanContext(obs, config, now, withDefaults(settings), random);
  noteBackoff(ctx);
  noteUndatedSnapshots(ctx);
  promoteLateAttempt(ctx);
  handleInFlight(ctx);
  const committed = newestCommitted(ctx);
  startExport(ctx, committed.newestMs);
  const circuit = circuitState(ctx);
  const backup = createBackup(ctx, circuit);
  const pruning = prune(ctx);
  noteFailedBackups(ctx);
  return {
    actions: [...ctx.actions].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]),
    state: nextState(ctx),
    metrics: groupMetrics(ctx, { committed, circuit, backup, pruning }),
    notes: ctx.notes,
    ...(backup.blockedByQuota ? { backupBlockedByQuota: true } : {}),
  };
}

/** The settings with a default for every one left out (or given as undefined). */
function withDefaults(settings: PlannerSettings): Required<PlannerSettings> {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_SETTINGS, ...given };
}

function noteBackoff(ctx: PlanContext): void {
  if (ctx.backoff) {
    ctx.notes.push(`backing off ElastiCache calls until ${ctx.obs.state.backoffUntil}`);
  }
}

const seconds = (fromMs: number, toMs: number) => Math.max(0, Math.round((toMs - fromMs) / 1000));

interface RuleResults {
  readonly committed: CommittedExports;
  readonly circuit: CircuitState;
  readonly backup: BackupDecision;
  readonly pruning: PruneResult;
}

function groupMetrics(ctx: PlanContext, r: RuleResults): GroupMetrics {
  const newestAvailable = ctx.available[0]?.createTime.getTime();
  return {
    backupAgeSeconds: newestAvailable === undefined ? undefined : seconds(newestAvailable, ctx.nowMs),
    exportAgeSeconds: Number.isFinite(r.committed.newestMs) ? seconds(r.committed.newestMs, ctx.nowMs) : undefined,
    exportsInFlight: ctx.inFlight ? 1 : 0,
    failures: ctx.failures,
    manualBackupsLast24h: r.backup.counted,
    unexportedBackups: r.circuit.unexported,
    circuitOpen: r.circuit.open ? 1 : 0,
    ...(r.circuit.open ? { circuitReason: r.circuit.reason } : {}),
    futureManifests: r.committed.futureKeys.length,
    refusedDeletions: ctx.refusedDeletions.length,
    pruningHeldForClockSkew: r.pruning.heldForClockSkew ? 1 : 0,
    ...(ctx.obs.clockBehindSeconds ? { clockBehindSeconds: ctx.obs.clockBehindSeconds } : {}),
  };
}

/** The state to persist (write-ahead): what the rules left in the context. */
function nextState(ctx: PlanContext): GroupState {
  const old = ctx.obs.state;
  return compact({
    formatVersion: 1,
    inFlight: ctx.inFlight,
    lateAttempts: ctx.lateAttempts.length ? ctx.lateAttempts : undefined,
    exportAttempts: ctx.exportAttempts,
    exportFailures: Object.keys(ctx.exportFailures).length ? ctx.exportFailures : undefined,
    created: ctx.created,
    exportCalls: ctx.exportCalls.length ? ctx.exportCalls : undefined,
    exportsCountAgainstQuota: old.exportsCountAgainstQuota || undefined,
    quotaRefusals: ctx.quotaRefusals.length ? ctx.quotaRefusals : undefined,
    distrustedManifests: ctx.distrusted.size ? [...ctx.distrusted] : undefined,
    backoffUntil: ctx.backoff ? old.backoffUntil : undefined,
    createBackoffUntil: ctx.createBackoff ? old.createBackoffUntil : undefined,
    exportBackoffUntil: ctx.exportBackoff ? old.exportBackoffUntil : undefined,
    consecutiveThrottles: old.consecutiveThrottles,
    refusedDeletions: ctx.refusedDeletions.length ? ctx.refusedDeletions : undefined,
  });
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
