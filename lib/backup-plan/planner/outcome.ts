/**
 * How the persisted state changes when an action ended (pure). Not part of the jsii API.
 */
import { HOUR, MINUTE, throttleBackoffMs } from './context';
import { DeleteSnapshotAction, GroupState, InFlightExport, MAX_REFUSAL_REASON_CHARS, OutcomeKind, PlanAction, StartExportAction } from './types';

/** Drops undefined fields, so states compare and serialize stably. */
export function compact(state: GroupState): GroupState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    if (v !== undefined) {
      out[k] = v;
    }
  }
  return out as unknown as GroupState;
}

/** Records a refusal for the quota: the uses the plan could not see count for 24 hours (see `QuotaRefusalRecord`). */
function withQuotaRefusal(state: GroupState, quotaFreeBefore: number | undefined, now: Date): GroupState {
  const record = { at: now.toISOString(), hidden: Math.max(1, quotaFreeBefore ?? 1) };
  return { ...state, quotaRefusals: [...(state.quotaRefusals ?? []), record] };
}

function withExportFailure(state: GroupState, snapshotName: string, errorName: string, now: Date): GroupState {
  const failures = { ...(state.exportFailures ?? {}) };
  failures[snapshotName] = { failures: (failures[snapshotName]?.failures ?? 0) + 1, lastError: errorName, at: now.toISOString() };
  return { ...state, exportFailures: failures };
}

function startExportOutcome(state: GroupState, action: StartExportAction, outcome: OutcomeKind, now: Date, errorName?: string): GroupState {
  const mine = state.inFlight && state.inFlight.exportName === action.exportName ? state.inFlight : undefined;
  if (!mine) {
    return state;
  }
  if (outcome === 'ok' || (outcome === 'already-exists' && action.reissue)) {
    // A re-issue of our own unconfirmed call is the only case where "already exists" means ours.
    return { ...state, inFlight: { ...mine, confirmed: true } };
  }
  if (outcome === 'already-exists') {
    // On a first attempt, the name was taken by somebody else's object: not ours. Spent; retried under a new name.
    return withExportFailure({ ...state, inFlight: undefined }, action.snapshotName, 'ExportNameTaken', now);
  }
  if (outcome === 'unknown') {
    return state; // kept unconfirmed: the next run re-issues the same name, which is idempotent
  }
  if (outcome === 'throttled' || outcome === 'skipped' || outcome === 'quota-exceeded') {
    // Not started: release the slot and the attempt number (the name was never used).
    const attempts = { ...state.exportAttempts };
    if (!action.reissue) {
      attempts[action.snapshotName] = Math.max(0, (attempts[action.snapshotName] ?? 1) - 1);
      if (attempts[action.snapshotName] === 0) {
        delete attempts[action.snapshotName];
      }
    }
    // A call that was refused or never made created nothing: it does not count against the quota.
    const calls = action.reissue ? state.exportCalls : (state.exportCalls ?? []).filter((x) => x.name !== action.exportName);
    let next: GroupState = {
      ...state, inFlight: action.reissue ? mine : undefined, exportAttempts: attempts, exportCalls: calls?.length ? calls : undefined,
    };
    if (outcome === 'quota-exceeded') {
      // Learned (persisted): exports count against the manual backup quota; from now on the plan keeps slots for them.
      next = { ...next, exportsCountAgainstQuota: true, exportBackoffUntil: new Date(now.getTime() + 30 * MINUTE).toISOString() };
      next = withQuotaRefusal(next, action.quotaFreeBefore, now);
    }
    return next;
  }
  // refused / not-found: this attempt is spent; the next one gets a new name.
  return withExportFailure({ ...state, inFlight: undefined }, action.snapshotName, errorName ?? 'ExportRefused', now);
}

/**
 * A refused deletion is remembered (name, reason, time, count): pruning then skips it without using a slot until its
 * retry time, and it is reported once per refusal. A deletion that succeeded, or found the snapshot gone, forgets it.
 */
function deleteSnapshotOutcome(state: GroupState, action: DeleteSnapshotAction, outcome: OutcomeKind, now: Date,
  reason: string | undefined): GroupState {
  if (outcome === 'integrity-failed') {
    // The manifest or its objects are no longer intact: never prune on it; export the snapshot again.
    return { ...state, distrustedManifests: [...new Set([...(state.distrustedManifests ?? []), action.manifestKey])] };
  }
  const others = (state.refusedDeletions ?? []).filter((r) => r.name !== action.snapshotName);
  if (outcome === 'refused') {
    const previous = state.refusedDeletions?.find((r) => r.name === action.snapshotName);
    const record = {
      name: action.snapshotName,
      reason: (reason || 'refused').slice(0, MAX_REFUSAL_REASON_CHARS),
      at: now.toISOString(),
      refusals: (previous?.refusals ?? 0) + 1,
    };
    return { ...state, refusedDeletions: [...others, record] };
  }
  if (outcome === 'ok' || outcome === 'not-found') {
    return { ...state, refusedDeletions: others.length ? others : undefined };
  }
  return state;
}

/**
 * A complete export whose manifest could not be written stays the plan's to commit: in flight when the slot is free
 * (the next run commits it), otherwise watched as a late attempt, because the same decision may already have started
 * the next export (a late attempt takes the slot, and is committed, once that export is done).
 */
function keepUncommittedExport(state: GroupState, exported: InFlightExport): GroupState {
  if (!state.inFlight) {
    return { ...state, inFlight: exported };
  }
  if (state.inFlight.exportName === exported.exportName) {
    return state;
  }
  const others = (state.lateAttempts ?? []).filter((a) => a.exportName !== exported.exportName);
  return { ...state, lateAttempts: [...others, exported] };
}

/**
 * The state after an action ended with `outcome`. `state` is the write-ahead state of the decision (or the result of
 * applying earlier outcomes of the same run). `errorName` is the service error's name, when there was one; `detail`
 * the error's text or the reconciler's reason (kept, shortened, for a refused deletion).
 */
export function applyOutcome(state: GroupState, action: PlanAction, outcome: OutcomeKind, now: Date, errorName?: string,
  detail?: string): GroupState {
  const nowMs = now.getTime();
  let next: GroupState = state;
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
      if (outcome === 'quota-exceeded') {
        next = withQuotaRefusal({ ...next, createBackoffUntil: new Date(nowMs + HOUR).toISOString() }, action.quotaFreeBefore, now);
        if (action.roomWithoutExports) {
          // Refused although the backups alone left room: the exports use the quota too (learned, persisted).
          next = { ...next, exportsCountAgainstQuota: true };
        }
      }
      break;
    }
    case 'StartExport':
      next = startExportOutcome(next, action, outcome, now, errorName);
      break;
    case 'VerifyShard': {
      const flight = next.inFlight;
      if (outcome !== 'ok' && flight?.exportName === action.exportName) {
        // The request object was not written: ask again in the next run (the request count still bounds the retries).
        const verifications = (flight.verifications ?? []).map((v) => (v.key === action.object.key ? { ...v, at: new Date(0).toISOString() } : v));
        next = { ...next, inFlight: { ...flight, verifications } };
      }
      break;
    }
    case 'CommitManifest': {
      if (outcome !== 'ok') {
        next = keepUncommittedExport(next, action.export);
        if (action.replacesDistrusted) {
          next = { ...next, distrustedManifests: [...new Set([...(next.distrustedManifests ?? []), action.manifestKey])] };
        }
      }
      break;
    }
    case 'DeleteSnapshot':
      next = deleteSnapshotOutcome(next, action, outcome, now, detail ?? errorName);
      break;
  }
  if (outcome === 'throttled' && (action.kind === 'CreateSnapshot' || action.kind === 'StartExport' || action.kind === 'DeleteSnapshot')) {
    // ElastiCache throttled: back off every ElastiCache write of the group (S3 calls are not throttled together).
    const n = state.consecutiveThrottles + 1;
    next = { ...next, consecutiveThrottles: n, backoffUntil: new Date(nowMs + throttleBackoffMs(n)).toISOString() };
  }
  if (outcome === 'ok' && next.consecutiveThrottles !== 0) {
    next = { ...next, consecutiveThrottles: 0 };
  }
  return compact(next);
}
