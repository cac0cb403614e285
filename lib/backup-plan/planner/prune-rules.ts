/**
 * Rule 4 of the plan: prune backups the plan created, past retention (plus a clock skew margin), whose export is
 * committed and trusted. The reconciler re-reads the manifest and HEADs every object before each deletion
 * (reconcile-core.ts); a manifest that fails that check is distrusted, and its snapshot is exported again instead.
 * Not part of the jsii API.
 */
import { ms, PlanContext } from './context';
import { RefusedDeletionRecord } from './types';

export interface PruneResult {
  /** Pruning was skipped: the reconciler's and the service's clocks disagree by more than the margin. */
  readonly heldForClockSkew: boolean;
}

/**
 * Why the clocks cannot be trusted for pruning, or undefined. Two signs, each beyond the margin: a snapshot dated after
 * now (the service's clock, or a listing, is ahead), or the plan's newest backup dated before the CreateSnapshot call
 * that made it (the reconciler's clock is ahead: it would prune early by that much). Only the newest backup is judged,
 * so pruning resumes with the first backup taken after the clock is fixed.
 */
export function clockSkewProblem(ctx: PlanContext): string | undefined {
  const marginMs = ctx.settings.clockSkewMarginSeconds * 1000;
  const ahead = ctx.obs.snapshots.filter((s) => s.createTime !== undefined && s.createTime.getTime() > ctx.nowMs + marginMs);
  if (ahead.length) {
    return `snapshot ${ahead[0].name} is dated ${ahead[0].createTime!.toISOString()}, after now (${ctx.now.toISOString()})`;
  }
  const calls = new Map(ctx.obs.state.created.filter((c) => !c.refused).map((c) => [c.name, ms(c.at)]));
  const newestMine = ctx.available.find((s) => s.createdByPlan && calls.has(s.name));
  if (newestMine && newestMine.createTime.getTime() < calls.get(newestMine.name)! - marginMs) {
    return `backup ${newestMine.name} is dated ${newestMine.createTime.toISOString()}, before the CreateSnapshot call that made it `
      + `(${new Date(calls.get(newestMine.name)!).toISOString()} by this function's clock): the function's clock is ahead`;
  }
  return undefined;
}

/** Whether a refused deletion may be tried again now (once per retry period). */
function mayRetry(ctx: PlanContext, refused: RefusedDeletionRecord): boolean {
  return ctx.nowMs - ms(refused.at) >= ctx.settings.refusedDeletionRetrySeconds * 1000;
}

export function prune(ctx: PlanContext): PruneResult {
  if (ctx.backoff) {
    return { heldForClockSkew: false };
  }
  const behind = ctx.obs.clockBehindSeconds ?? 0;
  // `now` was corrected forward from AWS timestamps: the evidence could be wrong, and a deletion must never be early.
  const skew = behind > 0 ? `this function's clock is ${behind} s behind AWS (time corrected for ages only)` : clockSkewProblem(ctx);
  if (skew) {
    ctx.notes.push(`not pruning: ${skew}; the clocks disagree by more than ${ctx.settings.clockSkewMarginSeconds} s`);
    return { heldForClockSkew: true };
  }
  const cutoff = ctx.nowMs - (ctx.config.retentionSeconds + ctx.settings.clockSkewMarginSeconds) * 1000;
  const watched = new Set(ctx.lateAttempts.map((a) => a.snapshotName));
  const refused = new Map(ctx.refusedDeletions.map((r) => [r.name, r]));
  let deletions = 0;
  // Oldest first.
  for (const s of [...ctx.available].reverse()) {
    if (deletions >= ctx.settings.maxDeletionsPerRun) {
      break;
    }
    const key = ctx.keyOf(s);
    const prunable = s.source === 'manual' && s.createdByPlan && s.createTime.getTime() < cutoff
      && ctx.committed.has(key) && ctx.inFlight?.snapshotName !== s.name && !watched.has(s.name);
    const refusal = refused.get(s.name);
    // A refused deletion takes no slot (it was reported when refused) until its retry is due.
    if (!prunable || (refusal && !mayRetry(ctx, refusal))) {
      continue;
    }
    if (refusal) {
      ctx.notes.push(`trying again to delete ${s.name}: refused ${refusal.refusals} time(s), last at ${refusal.at} (${refusal.reason})`);
    }
    ctx.actions.push({ kind: 'DeleteSnapshot', snapshotName: s.name, manifestKey: key });
    deletions++;
  }
  return { heldForClockSkew: false };
}
