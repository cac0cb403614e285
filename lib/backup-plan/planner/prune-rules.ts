/**
 * Rule 4 of the plan: prune backups the plan created, past retention, whose export is committed and trusted.
 * The reconciler re-reads the manifest and HEADs every object before each deletion (reconcile-core.ts); a manifest
 * that fails that check is distrusted, and its snapshot is exported again instead. Not part of the jsii API.
 */
import { PlanContext } from './context';

export function prune(ctx: PlanContext): void {
  if (ctx.backoff) {
    return;
  }
  const cutoff = ctx.nowMs - ctx.config.retentionSeconds * 1000;
  const watched = new Set(ctx.lateAttempts.map((a) => a.snapshotName));
  let deletions = 0;
  // Oldest first.
  for (const s of [...ctx.available].reverse()) {
    if (deletions >= ctx.settings.maxDeletionsPerRun) {
      break;
    }
    const key = ctx.keyOf(s);
    if (s.source === 'manual' && s.createdByPlan && s.createTime.getTime() < cutoff
      && ctx.committed.has(key) && ctx.inFlight?.snapshotName !== s.name && !watched.has(s.name)) {
      ctx.actions.push({ kind: 'DeleteSnapshot', snapshotName: s.name, manifestKey: key });
      deletions++;
    }
  }
}
