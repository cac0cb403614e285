/**
 * Rules 1 and 2 of the plan: the export in flight (verify, commit, time out, retry) and starting the next export.
 *
 * An export counts only when every shard object exists, was written by this export (non-empty, last modified after
 * its CopySnapshot call), and was verified by the verifier Lambda against the very version that is listed now.
 * Not part of the jsii API.
 */
import { planExportName } from '../constants';
import type { VerificationResult } from '../verify-core';
import { completeExportObjects, isBusy, manualBackupsInWindow, manifestKeyTime, ms, PlanContext, quotaFreeSlots } from './context';
import { InFlightExport, ObjectInfo, VerifyRecord } from './types';
import { FUTURE_TOLERANCE_MS } from '../../manifest/integrity';
import { manifestPrefix } from '../../manifest/manifest';

/** Fails the attempt: counted, recorded for the circuit breaker, and retried under a new name by rule 2. */
function failExport(ctx: PlanContext, flight: InFlightExport, errorName: string, why: string): void {
  ctx.failures++;
  ctx.recordExportFailure(flight.snapshotName, errorName);
  ctx.notes.push(`export ${flight.exportName} of ${flight.snapshotName} failed (${errorName}): ${why}; will retry under a new name`);
  ctx.lateAttempts = ctx.lateAttempts.filter((a) => a.exportName !== flight.exportName);
  if (ctx.inFlight?.exportName === flight.exportName) {
    ctx.inFlight = undefined;
  }
}

/** A timed-out attempt whose objects now all exist takes the slot, when it is free or held by the same snapshot. */
export function promoteLateAttempt(ctx: PlanContext): void {
  const late = ctx.lateAttempts.find((a) => completeExportObjects(a, ctx.obs.exportObjects) !== undefined
    && (!ctx.inFlight || ctx.inFlight.snapshotName === a.snapshotName));
  if (!late) {
    return;
  }
  ctx.lateAttempts = ctx.lateAttempts.filter((a) => a !== late);
  if (ctx.inFlight?.confirmed) {
    ctx.lateAttempts.push(ctx.inFlight);
  }
  ctx.notes.push(`earlier attempt ${late.exportName} of ${late.snapshotName} completed: taking it instead of ${ctx.inFlight?.exportName ?? 'nothing'}`);
  ctx.inFlight = late;
}

/** Rule 1: the export in flight. */
export function handleInFlight(ctx: PlanContext): void {
  const flight = ctx.inFlight;
  if (!flight) {
    return;
  }
  const key = ctx.flightKey(flight);
  const objects = completeExportObjects(flight, ctx.obs.exportObjects);
  if (ctx.committed.has(key)) {
    ctx.notes.push(`export ${flight.exportName} is already committed`);
    ctx.inFlight = undefined;
  } else if (objects) {
    handleCompleteExport(ctx, flight, key, objects);
  } else if (!flight.confirmed) {
    handleUnconfirmed(ctx, flight);
  } else {
    handleRunning(ctx, flight);
  }
}

/** Why the listed objects cannot be this export's, or undefined. */
function provenanceProblem(ctx: PlanContext, flight: InFlightExport, objects: readonly ObjectInfo[]): [string, string] | undefined {
  const earliest = ms(flight.startedAt) - ctx.settings.objectTimeSkewSeconds * 1000;
  for (const o of objects) {
    if (o.sizeBytes === 0) {
      return ['EmptyObject', `object ${o.key} is empty (0 bytes): an export writes an RDB file`];
    }
    if (o.lastModified !== undefined && o.lastModified.getTime() < earliest) {
      return ['NotWrittenByExport', `object ${o.key} was last modified at ${o.lastModified.toISOString()}, before this export's CopySnapshot `
        + `call at ${flight.startedAt} (less ${ctx.settings.objectTimeSkewSeconds} s of clock skew): it was not written by this export`];
    }
  }
  return undefined;
}

function handleCompleteExport(ctx: PlanContext, flight: InFlightExport, key: string, objects: ObjectInfo[]): void {
  const provenance = provenanceProblem(ctx, flight, objects);
  if (provenance) {
    failExport(ctx, flight, provenance[0], provenance[1]);
    return;
  }
  const results = new Map((ctx.obs.verificationResults ?? []).map((r) => [r.key, r]));
  const records = flight.verifications ?? [];
  const verified: VerificationResult[] = [];
  const pending: ObjectInfo[] = [];
  for (const o of objects) {
    const r = results.get(o.key);
    const asked = records.find((x) => x.key === o.key);
    // The version that was asked for or verified: ElastiCache writes each object once, so another version now is an overwrite.
    const pinned = r ?? asked;
    if (pinned && (pinned.versionId !== o.versionId || (r !== undefined && r.sizeBytes !== o.sizeBytes))) {
      failExport(ctx, flight, 'ObjectOverwritten', `object ${o.key} changed after it was listed for verification: version `
        + `${pinned.versionId ?? '(none)'} was ${r ? 'verified' : 'sent to the verifier'}, the current version is ${o.versionId ?? '(none)'} `
        + `(${o.sizeBytes} bytes): not committed`);
      return;
    }
    if (r && !r.ok) {
      failExport(ctx, flight, 'ShardCorrupt', `shard ${o.key} version ${o.versionId ?? '(none)'} is not intact: ${r.error?.message ?? 'no reason given'}`);
      return;
    }
    if (r) {
      verified.push(r);
    } else {
      pending.push(o);
    }
  }
  if (pending.length === 0) {
    commit(ctx, flight, key, objects, verified);
  } else {
    requestVerifications(ctx, flight, pending, records);
  }
}

function commit(ctx: PlanContext, flight: InFlightExport, key: string, objects: ObjectInfo[], verified: VerificationResult[]): void {
  const replacesDistrusted = ctx.distrusted.has(key);
  ctx.actions.push({
    kind: 'CommitManifest', export: flight, manifestKey: key, objects, verifications: verified, ...(replacesDistrusted ? { replacesDistrusted } : {}),
  });
  ctx.committing.add(key);
  ctx.distrusted.delete(key);
  ctx.lateAttempts = ctx.lateAttempts.filter((a) => a.snapshotName !== flight.snapshotName);
  const partial = verified.filter((r) => r.verification === 'partial').length;
  ctx.notes.push(`export ${flight.exportName} complete and verified${partial ? ` (${partial} shards partially: above the size limit)` : ''}: committing ${key}`);
  ctx.inFlight = undefined; // assuming success; applyOutcome restores it on failure
}

/** Asks for the verification of every shard without a result (again, when a request got no answer in time). */
function requestVerifications(ctx: PlanContext, flight: InFlightExport, pending: ObjectInfo[], records: readonly VerifyRecord[]): void {
  const next = new Map(records.map((r) => [r.key, r]));
  const timeoutMs = ctx.settings.verifyTimeoutSeconds * 1000;
  let asked = 0;
  for (const o of pending) {
    const rec = next.get(o.key);
    if (rec && ctx.nowMs - ms(rec.at) < timeoutMs) {
      continue; // requested recently: wait for the result (its S3 event wakes the reconciler)
    }
    if (rec && rec.requests >= ctx.settings.maxVerifyRequests) {
      failExport(ctx, flight, 'VerificationTimedOut', `no verification result for ${o.key} after ${rec.requests} requests `
        + `(${ctx.settings.verifyTimeoutSeconds} s each): check the verifier function's logs and errors`);
      return;
    }
    const requests = (rec?.requests ?? 0) + 1;
    next.set(o.key, { key: o.key, versionId: o.versionId, at: ctx.now.toISOString(), requests });
    ctx.actions.push({ kind: 'VerifyShard', exportName: flight.exportName, object: o, request: requests });
    asked++;
  }
  ctx.inFlight = { ...flight, verifications: [...next.values()] };
  ctx.notes.push(asked > 0 ? `export ${flight.exportName}: all objects present, verifying ${asked} shards`
    : `export ${flight.exportName}: waiting for ${pending.length} shard verifications`);
}

function handleUnconfirmed(ctx: PlanContext, flight: InFlightExport): void {
  const source = ctx.obs.snapshots.find((s) => s.name === flight.snapshotName);
  if (source && isBusy(source.status)) {
    // The source is busy: the CopySnapshot whose answer was lost was most likely accepted. Re-issuing it now could
    // be refused (InvalidSnapshotStateFault) and spend the attempt; wait for the objects, the status or the timeout.
    ctx.inFlight = { ...flight, confirmed: true, sourceBusySeen: true };
    ctx.notes.push(`export ${flight.exportName} unconfirmed, but ${flight.snapshotName} is ${source.status}: treating it as started`);
  } else if (!ctx.backoff && !ctx.exportBackoff) {
    ctx.actions.push({ kind: 'StartExport', snapshotName: flight.snapshotName, exportName: flight.exportName, attempt: flight.attempt, reissue: true });
    ctx.exportCalls.push({ name: flight.exportName, at: ctx.now.toISOString() });
    ctx.notes.push(`re-issuing unconfirmed export ${flight.exportName}`);
  }
}

/** A confirmed export without all its objects: failed (event), ended (status), timed out, or still running. */
function handleRunning(ctx: PlanContext, flight: InFlightExport): void {
  const startedMs = ms(flight.startedAt);
  // Matched on the export name (the TargetSnapshotName, unique per attempt) only: a failed export of the same snapshot
  // by someone else, or an earlier attempt's failure, names the snapshot too and must not drop this export.
  const signalled = ctx.obs.exportFailureSignals.some((sig) => sig.time.getTime() >= startedMs && sig.text.includes(flight.exportName));
  const timeoutSeconds = ctx.config.exportTimeoutSeconds ?? ctx.settings.exportTimeoutSeconds;
  const source = ctx.obs.snapshots.find((s) => s.name === flight.snapshotName);
  const busyNow = source !== undefined && isBusy(source.status);
  // Never timed out while the source is seen busy: the export may still be writing.
  const timedOut = !busyNow && ctx.nowMs - startedMs > timeoutSeconds * 1000;
  let next: InFlightExport = flight;
  let endedWithoutObjects = false;
  if (busyNow) {
    next = { ...flight, sourceBusySeen: true, sourceIdleSince: undefined };
  } else if (source && source.status === 'available' && flight.sourceBusySeen) {
    if (flight.sourceIdleSince === undefined) {
      next = { ...flight, sourceIdleSince: ctx.now.toISOString() };
    } else if (ctx.nowMs > ms(flight.sourceIdleSince)) {
      endedWithoutObjects = true;
    }
  }
  if (signalled) {
    failExport(ctx, flight, 'ExportFailed', 'ElastiCache reported the export failed');
  } else if (endedWithoutObjects || timedOut) {
    const why = endedWithoutObjects ? 'ended without all its objects (snapshot status)' : `timed out after ${timeoutSeconds} s`;
    failExport(ctx, flight, endedWithoutObjects ? 'ExportEndedWithoutObjects' : 'ExportTimedOut', why);
    // Its objects may still arrive: keep watching them; a later run commits them if they complete and verify.
    ctx.lateAttempts.push(flight);
  } else {
    if (busyNow && ctx.nowMs - startedMs > timeoutSeconds * 1000) {
      ctx.notes.push(`export ${flight.exportName} is past its timeout, but ${flight.snapshotName} is ${source!.status}: still waiting`);
    }
    ctx.inFlight = next;
  }
}

/** The newest committed export the plan can rely on, and the manifest keys it ignored because they are dated in the future. */
export interface CommittedExports {
  /** The snapshot time of the newest committed export; -Infinity when there is none. */
  readonly newestMs: number;
  /** Keys dated later than now plus `FUTURE_TOLERANCE_MS`. */
  readonly futureKeys: readonly string[];
}

/**
 * The newest committed export, by the snapshot time in its key. A key dated in the future (beyond the clock skew
 * tolerance) is planted, copied from a clock that is wrong, or corrupt: trusting it would stop exports of automatic
 * backups for good and hold the export age at 0, so the RPO alarm could never fire. It is ignored and reported.
 */
export function newestCommitted(ctx: PlanContext): CommittedExports {
  const latest = ctx.nowMs + FUTURE_TOLERANCE_MS;
  const prefix = manifestPrefix(ctx.group);
  let newestMs = Number.NEGATIVE_INFINITY;
  const futureKeys: string[] = [];
  for (const k of ctx.committing) {
    const t = k.startsWith(prefix) ? manifestKeyTime(k)?.getTime() : undefined;
    if (t === undefined) {
      continue;
    }
    if (t > latest) {
      futureKeys.push(k);
    } else {
      newestMs = Math.max(newestMs, t);
    }
  }
  for (const k of futureKeys) {
    ctx.notes.push(`manifest ${k} is dated in the future (now ${ctx.now.toISOString()}): ignored; check who wrote it and delete it`);
  }
  return { newestMs, futureKeys };
}

/** Rule 2: when nothing is in flight, export the newest exportable snapshot without a (trusted) manifest. */
export function startExport(ctx: PlanContext, newestCommittedMs: number): void {
  const { settings, nowMs } = ctx;
  // A watched attempt whose objects all arrived is committed as soon as the slot is free: exporting its snapshot again
  // would spend an export (and a quota slot) on a copy the plan already has.
  const arrived = new Set(ctx.lateAttempts.filter((a) => completeExportObjects(a, ctx.obs.exportObjects) !== undefined).map((a) => a.snapshotName));
  const exportable = ctx.available.filter((s) => ctx.isExportedByPlan(s) && !ctx.committing.has(ctx.keyOf(s)) && !arrived.has(s.name));

  // Newer than everything committed: this is what lowers the RPO. Older plan backups without an export are
  // exported afterwards (a backfill), so that they can be pruned; automated ones are not (the plan never deletes them).
  const fresh = exportable.filter((s) => s.createTime.getTime() > newestCommittedMs);
  const backfill = exportable.filter((s) => s.createTime.getTime() <= newestCommittedMs && s.source === 'manual');
  // Backfill only in the first half of the interval after the plan's newest backup, so the slot is free when the next is due.
  const backfillWindowOpen = ctx.config.intervalSeconds === undefined
    || (nowMs - ctx.newestExportedBackupMs()) < (ctx.config.intervalSeconds * 1000) / 2;

  const pick = fresh[0] ?? (backfillWindowOpen ? backfill[0] : undefined);
  if (pick && !ctx.inFlight && !ctx.backoff && !ctx.exportBackoff) {
    const used = manualBackupsInWindow(ctx.obs, { ...ctx.obs.state, created: ctx.created, exportCalls: ctx.exportCalls }, ctx.now, settings);
    if (ctx.obs.state.exportsCountAgainstQuota && used + 1 > settings.quotaPerNode) {
      ctx.notes.push(`export of ${pick.name} waits: exports count against the quota, and ${used} of ${settings.quotaPerNode} are used`);
    } else {
      const quotaFreeBefore = quotaFreeSlots(ctx);
      const attempt = (ctx.exportAttempts[pick.name] ?? 0) + 1;
      const name = planExportName(ctx.group, pick.createTime, ctx.random());
      ctx.exportAttempts[pick.name] = attempt;
      ctx.inFlight = {
        snapshotName: pick.name,
        snapshotSource: pick.source,
        snapshotCreateTime: pick.createTime.toISOString(),
        shardCount: Math.max(1, pick.shardCount),
        meta: pick.meta,
        exportName: name,
        attempt,
        startedAt: ctx.now.toISOString(),
        confirmed: false,
      };
      ctx.exportCalls.push({ name, at: ctx.now.toISOString() });
      ctx.actions.push({ kind: 'StartExport', snapshotName: pick.name, exportName: name, attempt, reissue: false, quotaFreeBefore });
      ctx.notes.push(`exporting ${pick.name} as ${name}${fresh[0] ? '' : ' (backfill)'}`);
    }
  }
  for (const s of ctx.available) {
    const spent = (ctx.exportAttempts[s.name] ?? 0) >= settings.maxExportAttempts;
    if (spent && !ctx.committing.has(ctx.keyOf(s)) && ctx.inFlight?.snapshotName !== s.name) {
      ctx.notes.push(`gave up exporting ${s.name} after ${ctx.exportAttempts[s.name]} attempts`);
    }
  }
}
