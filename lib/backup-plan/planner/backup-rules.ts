/**
 * Rule 3 of the plan: create a backup when one is due, within the quota, unless the circuit breaker is open. Due is
 * measured from the newest backup the plan exports (`PlanContext.newestExportedBackupMs`), never from backups of others.
 * Not part of the jsii API.
 */
import { planSnapshotName } from '../constants';
import { manualBackupsInWindow, ms, PlanContext, quotaFreeSlots } from './context';

export interface CircuitState {
  /** Backups the plan created, exported by no attempt so far although at least one attempt failed. */
  readonly unexported: number;
  readonly open: boolean;
  /** The most recent export error among them. */
  readonly reason?: string;
}

/**
 * The circuit breaker: a group with `circuitBreakerThreshold` or more backups that the plan created and could not
 * export (a failed or given-up attempt, no committed export) gets no new backups: they would never be exported nor
 * pruned, and would fill the quota. Exporting and pruning go on; automatic backups are the service's and continue.
 */
export function circuitState(ctx: PlanContext): CircuitState {
  let unexported = 0;
  let reason: string | undefined;
  let reasonAt = Number.NEGATIVE_INFINITY;
  for (const s of ctx.available) {
    const failure = ctx.exportFailures[s.name];
    if (!s.createdByPlan || !failure || ctx.committing.has(ctx.keyOf(s))) {
      continue;
    }
    unexported++;
    const at = ms(failure.at);
    if (reason === undefined || at > reasonAt) {
      reason = failure.lastError;
      reasonAt = at;
    }
  }
  return { unexported, open: unexported >= ctx.settings.circuitBreakerThreshold, reason };
}

/**
 * A snapshot listed as available (or in another settled status) without a create time is never taken for a new backup
 * (it would postpone the plan's backups for ever) and is never exported or pruned (its manifest key needs the time).
 */
export function noteUndatedSnapshots(ctx: PlanContext): void {
  for (const s of ctx.obs.snapshots) {
    if (s.createTime === undefined && s.status !== 'creating' && s.status !== 'failed' && s.status !== 'deleting') {
      ctx.notes.push(`snapshot ${s.name} is ${s.status} but listed without a create time: ignored for the backup interval, exports and pruning`);
    }
  }
}

export interface BackupDecision {
  /** Manual backups (and learned exports) counted against the quota, including the one created now. */
  readonly counted: number;
  readonly blockedByQuota: boolean;
}

/** Rule 3. */
export function createBackup(ctx: PlanContext, circuit: CircuitState): BackupDecision {
  const { settings, nowMs, notes } = ctx;
  const count = manualBackupsInWindow(ctx.obs, { ...ctx.obs.state, created: ctx.created, exportCalls: ctx.exportCalls }, ctx.now, settings);
  const backupEverySeconds = ctx.config.intervalSeconds ?? ctx.config.fallbackAfterSeconds;
  if (backupEverySeconds === undefined || ctx.backoff || ctx.createBackoff) {
    return { counted: count, blockedByQuota: false };
  }
  const due = nowMs - ctx.newestExportedBackupMs() >= backupEverySeconds * 1000;
  if (!due) {
    return { counted: count, blockedByQuota: false };
  }
  // Once exports are known to count against the quota, one slot stays free for the next export.
  const reserve = ctx.obs.state.exportsCountAgainstQuota ? 1 : 0;
  const recentFailure = ctx.obs.snapshots.some((s) => s.createdByPlan && s.status === 'failed'
    && ctx.created.some((c) => c.name === s.name && ms(c.at) > nowMs - settings.failedBackupCooldownSeconds * 1000));
  const name = planSnapshotName(ctx.group, ctx.now);
  if (circuit.open) {
    notes.push(`backup due, but the circuit breaker is open: ${circuit.unexported} backups the plan created could not be exported `
      + `(last error: ${circuit.reason}); no new backups until they export or are deleted (automatic backups continue)`);
  } else if (!ctx.obs.groupAvailable) {
    notes.push('backup due, but the group is not available');
  } else if (ctx.obs.snapshots.some((s) => s.status === 'creating')) {
    notes.push('backup due, but a backup is being created');
  } else if (recentFailure) {
    notes.push('backup due, but the last backup the plan created failed recently');
  } else if (count + 1 + reserve > settings.quotaPerNode) {
    notes.push(`backup due, but ${count} manual backups${reserve ? ' and exports' : ''} in the last 24 h: the quota is ${settings.quotaPerNode} per node`
      + (reserve ? ', less one slot kept for the next export' : ''));
    return { counted: count, blockedByQuota: true };
  } else if (ctx.observedNames.has(name) || ctx.created.some((c) => c.name === name)) {
    notes.push(`backup ${name} already requested`);
  } else {
    const backupsOnly = { ...ctx.obs.state, created: ctx.created, exportsCountAgainstQuota: false };
    const room = !ctx.obs.state.exportsCountAgainstQuota
      && manualBackupsInWindow(ctx.obs, backupsOnly, ctx.now, settings) + 1 <= settings.quotaPerNode;
    ctx.actions.push({ kind: 'CreateSnapshot', snapshotName: name, ...(room ? { roomWithoutExports: true } : {}), quotaFreeBefore: quotaFreeSlots(ctx) });
    ctx.created = [...ctx.created, { name, at: ctx.now.toISOString() }];
    notes.push(`creating backup ${name}`);
    return { counted: count + 1, blockedByQuota: false };
  }
  return { counted: count, blockedByQuota: false };
}
