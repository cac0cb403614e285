/**
 * One reconciler run for one group: observe through `ReconcileIo`, decide with the planner, execute, persist.
 *
 * The AWS SDK lives behind `ReconcileIo` (implemented in reconcile.lambda.ts, and by the simulator), so this file is
 * the exact code the Lambda runs, minus the clients. Not part of the jsii API.
 */
import { clockBehindNote, ClockReading, readClock, ServiceTime } from './clock';
import { isPlanSnapshotName, legacyStateKey, PLAN_TAG_KEY, randomSuffix, stateKey } from './constants';
import { checkBeforeDelete } from './delete-check';
import { classifyError, describeError } from './errors';
import { withoutForeignNewest } from './manifest-check';
import {
  applyOutcome, CommitManifestAction, Decision, DEFAULT_SETTINGS, ExportFailureSignal, GroupConfig, GroupState, InFlightExport,
  ObjectInfo, ObservedSnapshot, OutcomeKind, plan, PlanAction, PlannerSettings, VerifyShardAction,
} from './planner';
import {
  DEFAULT_MAX_TAG_CHECKS, ForeignSnapshot, foreignPlanMessage, forgetUnverifiedOwnership, judgeOwnership, planExportObjectPrefix, snapshotsToCheck,
  TagFinding, withRebuiltCreated, withRebuiltExportCalls,
} from './planner/ownership-rules';
import { rebaseOutcomes } from './state';
import { isConditionFailure, LoadedState, loadState, saveState, StateConflictError, StateIo, stateLocation } from './state-store';
import { parseVerificationResult, verificationRequestKey, verificationResultKey, verificationResultPrefix, VerificationResult, VerifyRequest } from './verify-core';
import {
  BackupManifest, compactTimestamp, MANIFEST_FORMAT_VERSION, ManifestShard, manifestPrefix, serializeManifest, shardNumberOf,
} from '../manifest/manifest';
import { parseRdbHeader } from '../rdb/header';

/** How many bytes of each `.rdb` to fetch with a ranged GET for the manifest: the 9-byte magic carries the version. */
export const RDB_HEADER_BYTES = 9;

/** The RDB version in an object's first bytes (the restore module's parser), or undefined when they are not an RDB header. */
export function rdbVersionOf(bytes: Uint8Array): number | undefined {
  try {
    return parseRdbHeader(bytes).rdbVersion;
  } catch {
    return undefined;
  }
}

/** A snapshot as DescribeSnapshots reports it (whether the plan created it is decided here). */
export type SnapshotDescription = Omit<ObservedSnapshot, 'createdByPlan'>;

export interface GroupDescription {
  /** available | creating | modifying | snapshotting | deleting | ... */
  readonly status: string;
  readonly clusterModeEnabled: boolean;
  /** The member to take manual backups from (a replica when cluster mode is disabled); absent: the group. */
  readonly snapshotClusterId?: string;
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly nodeType?: string;
  /**
   * The group's member clusters (DescribeReplicationGroups MemberClusters). In cluster mode disabled, backups taken
   * from a member may be listed only by its CacheClusterId: the reconciler lists them by each member too.
   */
  readonly memberClusterIds?: readonly string[];
}

export { StateConflictError } from './state-store';
export { classifyError } from './errors';
export { checkBeforeDelete, PRUNE_SETTLE_SECONDS } from './delete-check';
export type { DeleteBlock } from './delete-check';
export type { VersionedText, WriteCondition } from './state-store';

/**
 * Everything the reconciler reads and writes. Methods throw the service's errors (see `classifyError`). The state
 * object is read with `getVersionedText` and written only with `putTextIf` (state-store.ts).
 */
export interface ReconcileIo extends StateIo {
  readonly region: string;
  readonly bucketName: string;
  /** DescribeSnapshots --replication-group-id (all pages). */
  describeSnapshots(replicationGroupId: string): Promise<SnapshotDescription[]>;
  /** DescribeSnapshots --cache-cluster-id (all pages): member-node backups may carry no ReplicationGroupId. */
  describeClusterSnapshots(cacheClusterId: string): Promise<SnapshotDescription[]>;
  /** Undefined when the group does not exist. */
  describeGroup(replicationGroupId: string): Promise<GroupDescription | undefined>;
  /** Every object under `prefix` (all pages), optionally after `startAfter` (key, size, ETag, LastModified). */
  listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]>;
  /** HEAD of the current version (with its VersionId); undefined when the object does not exist. */
  headObject(key: string): Promise<ObjectInfo | undefined>;
  /** Undefined when the object does not exist. */
  getText(key: string): Promise<string | undefined>;
  putText(key: string, body: string): Promise<void>;
  /** The first `length` bytes of an object (ranged GET). */
  readRange(key: string, length: number): Promise<Uint8Array>;
  createSnapshot(request: { replicationGroupId: string; cacheClusterId?: string; snapshotName: string; tags: Record<string, string> }): Promise<void>;
  copySnapshot(request: { sourceSnapshotName: string; targetSnapshotName: string; targetBucket: string }): Promise<void>;
  /** The value of a snapshot's tag, or undefined. */
  snapshotTag(snapshotName: string, tagKey: string): Promise<string | undefined>;
  deleteSnapshot(snapshotName: string): Promise<void>;
}

export interface RunOptions {
  readonly planId: string;
  readonly settings?: PlannerSettings;
  readonly now: () => Date;
  /** True once the run must stop starting new work. */
  readonly outOfTime?: () => boolean;
  readonly signals?: readonly ExportFailureSignal[];
  /** 8 lowercase base32 characters per call, for export names. @default - cryptographic random */
  readonly random?: () => string;
  /** ListTagsForResource calls per run for plan-named snapshots the state does not record. @default 20 */
  readonly maxTagChecks?: number;
}

export interface ExecutedAction {
  readonly action: PlanAction;
  readonly outcome: OutcomeKind;
  /** The error, or why the reconciler refused (which object, what changed). */
  readonly error?: string;
}

export interface GroupRunResult {
  readonly replicationGroupId: string;
  readonly decision: Decision;
  readonly executed: readonly ExecutedAction[];
  /** Failures seen by the planner plus actions that were refused. */
  readonly failures: number;
  readonly state: GroupState;
  /** Backups recorded again as the plan's from their plan tag in this run (a lost or adopted state). */
  readonly rebuiltFromTags: number;
  /** Runs of the group's plan (1) plus re-plans and rebases after a concurrent write of the state. */
  readonly stateAttempts: number;
}


/** Merges listings by snapshot name (a snapshot listed both by group and by member is one snapshot). */
export function mergeSnapshots(...lists: readonly (readonly SnapshotDescription[])[]): SnapshotDescription[] {
  const byName = new Map<string, SnapshotDescription>();
  for (const list of lists) {
    for (const s of list) {
      if (!byName.has(s.name)) {
        byName.set(s.name, s);
      }
    }
  }
  return [...byName.values()];
}

/**
 * Every snapshot of the group: listed by the group and, in cluster mode disabled, by each member cluster (AWS's
 * published outputs for member-node backups carry a CacheClusterId and no ReplicationGroupId). In cluster mode
 * enabled, backups are always of the whole group, so the group listing is complete.
 */
async function listGroupSnapshots(io: ReconcileIo, groupId: string, group: GroupDescription | undefined): Promise<SnapshotDescription[]> {
  const lists = [await io.describeSnapshots(groupId)];
  if (group && !group.clusterModeEnabled) {
    for (const member of group.memberClusterIds ?? []) {
      lists.push(await io.describeClusterSnapshots(member));
    }
  }
  return mergeSnapshots(...lists);
}

/** The manifest keys that matter (bounded listing; keys sort by snapshot time). */
async function listManifestKeys(io: ReconcileIo, groupId: string, observed: readonly ObservedSnapshot[], state: GroupState): Promise<string[]> {
  // List only from the oldest snapshot whose manifest matters on: the plan's own backups (pruning, backfill), the
  // newest automatic backup, and the exports being watched. Older automatic backups are never exported once
  // something newer is committed.
  const prefix = manifestPrefix(groupId);
  const times: number[] = [];
  let newestAutomated: number | undefined;
  for (const s of observed) {
    const t = s.createTime?.getTime();
    if (t === undefined || s.status === 'failed') {
      continue;
    }
    if (s.createdByPlan) {
      times.push(t);
    } else if (s.source === 'automated' && (newestAutomated === undefined || t > newestAutomated)) {
      newestAutomated = t;
    }
  }
  if (newestAutomated !== undefined) {
    times.push(newestAutomated);
  }
  for (const f of watchedExports(state)) {
    times.push(Date.parse(f.snapshotCreateTime));
  }
  const oldest = times.length ? Math.min(...times) : undefined;
  const startAfter = oldest === undefined ? undefined : `${prefix}${compactTimestamp(new Date(oldest - 1000))}`;
  let manifestKeys = (await io.listObjects(prefix, startAfter)).map((o) => o.key);
  if (manifestKeys.length === 0 && startAfter !== undefined) {
    // Nothing committed since the oldest snapshot: list everything once, for the export age.
    manifestKeys = (await io.listObjects(prefix)).map((o) => o.key);
  }
  return manifestKeys;
}

function watchedExports(state: GroupState): InFlightExport[] {
  return [...(state.inFlight ? [state.inFlight] : []), ...(state.lateAttempts ?? [])];
}

/**
 * The shard objects of a watched export and, once all exist, their current versions (HEAD) and the verifier's
 * results. Objects under the export name that are not shard files (`<name>-NNNN.rdb`) are ignored.
 */
async function observeExport(io: ReconcileIo, groupId: string, flight: InFlightExport):
Promise<{ objects: ObjectInfo[]; results: VerificationResult[] }> {
  const listed = (await io.listObjects(`${flight.exportName}-`)).filter((o) => shardNumberOf(flight.exportName, o.key) !== undefined);
  const shards = new Set(listed.map((o) => shardNumberOf(flight.exportName, o.key)));
  if (shards.size < flight.shardCount) {
    return { objects: listed, results: [] };
  }
  const objects: ObjectInfo[] = [];
  for (const o of listed) {
    const head = await io.headObject(o.key);
    if (head) {
      objects.push(head);
    }
  }
  const results: VerificationResult[] = [];
  for (const r of await io.listObjects(`${verificationResultPrefix(groupId)}${flight.exportName}-`)) {
    const result = parseVerificationResult(await io.getText(r.key));
    if (result && verificationResultKey(groupId, result.key) === r.key) {
      results.push(result);
    }
  }
  return { objects, results };
}

/** Observes one group: the group, its snapshots, manifests (bounded listing), the watched exports. */
export async function observe(io: ReconcileIo, groupId: string, state: GroupState) {
  const group = await io.describeGroup(groupId);
  const snapshots = await listGroupSnapshots(io, groupId, group);
  // The plan's own record, or a plan name (current or legacy format) when the record is gone (a lost state object).
  // Deletion still requires the plan's tag on the snapshot.
  const mine = new Set(state.created.map((c) => c.name));
  const observed: ObservedSnapshot[] = snapshots.map((s) => ({
    ...s, createdByPlan: mine.has(s.name) || (s.source === 'manual' && isPlanSnapshotName(groupId, s.name)),
  }));
  const manifestKeys = await listManifestKeys(io, groupId, observed, state);
  const exportObjects: ObjectInfo[] = [];
  const verificationResults: VerificationResult[] = [];
  for (const flight of watchedExports(state)) {
    const seen = await observeExport(io, groupId, flight);
    exportObjects.push(...seen.objects);
    verificationResults.push(...seen.results);
  }
  return { state, snapshots: observed, group, manifestKeys, exportObjects, verificationResults };
}

/** Two plans protect one group: a plan-named snapshot of it carries another plan's tag. Nothing was done. */
export class ForeignPlanError extends Error {
  public readonly loud = true;
  constructor(public readonly replicationGroupId: string, planId: string, public readonly foreign: readonly ForeignSnapshot[]) {
    super(foreignPlanMessage(replicationGroupId, planId, foreign));
    this.name = 'ForeignPlanError';
  }
}

/**
 * Reads the plan tag of the plan-named snapshots the state does not record (bounded per run): this plan's are recorded
 * again (a lost or adopted state is rebuilt), another plan's stop the run with `ForeignPlanError`.
 */
async function checkOwnership(io: ReconcileIo, groupId: string, loaded: LoadedState, snapshots: readonly ObservedSnapshot[],
  options: RunOptions, now: Date): Promise<{ state: GroupState; rebuilt: number; notes: string[] }> {
  // The key used before plan ids was shared by every plan of the group: its ownership records are checked again.
  const base = loaded.origin === 'legacy' ? forgetUnverifiedOwnership(groupId, loaded.state, snapshots) : loaded.state;
  const notes: string[] = loaded.origin === 'legacy' ? [`adopted the state of ${legacyStateKey(groupId)} (written before plan ids) as ${loaded.key}`] : [];
  const findings: TagFinding[] = [];
  for (const name of snapshotsToCheck(groupId, snapshots, base, now, options.maxTagChecks ?? DEFAULT_MAX_TAG_CHECKS)) {
    try {
      findings.push({ snapshotName: name, planTag: await io.snapshotTag(name, PLAN_TAG_KEY) });
    } catch (e) {
      if (classifyError(e) !== 'not-found') {
        notes.push(`could not read the plan tag of ${name} (${describeError(e)}): the remaining ones are checked in the next run`);
        break;
      }
    }
  }
  const verdict = judgeOwnership(options.planId, findings);
  if (verdict.foreign.length > 0) {
    throw new ForeignPlanError(groupId, options.planId, verdict.foreign);
  }
  if (verdict.ours.length > 0) {
    notes.push(`recorded ${verdict.ours.length} backup(s) as this plan's from their ${PLAN_TAG_KEY} tag: ${verdict.ours.join(', ')}`);
  }
  let state = withRebuiltCreated(base, verdict.ours, snapshots, now);
  if (loaded.origin === 'fresh') {
    const before = state.exportCalls?.length ?? 0;
    const sinceMs = now.getTime() - (86_400 + (options.settings ?? DEFAULT_SETTINGS).quotaMarginSeconds) * 1000 - 3_600_000;
    state = withRebuiltExportCalls(state, groupId, await io.listObjects(planExportObjectPrefix(groupId)), sinceMs);
    const added = (state.exportCalls?.length ?? 0) - before;
    if (added > 0) {
      notes.push(`no state: recorded ${added} export call(s) of the last 24 h again from the export objects (for the quota)`);
    }
  }
  return { state, rebuilt: verdict.ours.length, notes };
}

type BodyResult = OutcomeKind | { outcome: OutcomeKind; error: string } | void;

/** The write-ahead lost against a concurrent writer before any call was made: the whole run is redone. */
class WriteAheadConflict extends Error {}

/** Attempts per run to write the state against concurrent writers (re-plans before the calls, rebases after). */
export const MAX_STATE_ATTEMPTS = 3;

/**
 * Runs one group to completion (or until out of time). Throws `StateError` (unreadable or newer state, never
 * written over), `ForeignPlanError` (another plan's snapshots; nothing done) or `StateConflictError`.
 */
export async function reconcileGroup(io: ReconcileIo, config: GroupConfig, options: RunOptions): Promise<GroupRunResult> {
  let conflict = '';
  for (let attempt = 1; attempt <= MAX_STATE_ATTEMPTS; attempt++) {
    try {
      return await reconcileOnce(io, config, options, attempt);
    } catch (e) {
      if (!(e instanceof WriteAheadConflict)) {
        throw e;
      }
      conflict = e.message;
    }
  }
  throw new StateConflictError(stateLocation(io, stateKey(config.replicationGroupId, options.planId)), MAX_STATE_ATTEMPTS, conflict);
}

/** The outcome of one executed action, as the state needs it (replayed onto a concurrent writer's state). */
interface Outcome extends ExecutedAction {
  readonly errorName?: string;
  readonly at: Date;
}

/** `applyOutcome` with the error text as detail (planner versions that take it record why a deletion was refused). */
type ApplyOutcome = (state: GroupState, action: PlanAction, outcome: OutcomeKind, now: Date, errorName?: string, detail?: string) => GroupState;
const apply: ApplyOutcome = applyOutcome;

async function reconcileOnce(io: ReconcileIo, config: GroupConfig, given: RunOptions, attempt: number): Promise<GroupRunResult> {
  const settings = given.settings ?? DEFAULT_SETTINGS;
  const outOfTime = given.outOfTime ?? (() => false);
  const groupId = config.replicationGroupId;
  const loaded = await loadState(io, groupId, given.planId);
  const seen = await observe(io, groupId, loaded.state);
  const { options, clock, clockNotes, store: probed } = await checkedClock(io, given, loaded, seen, settings);
  const now = clock.now;
  const manifests = await withoutForeignNewest(groupId, seen.manifestKeys, now, (k) => io.getText(k));
  const owned = await checkOwnership(io, groupId, loaded, seen.snapshots, options, now);
  owned.notes.push(...clockNotes, ...manifests.notes);
  const planned = plan({
    replicationGroupId: groupId,
    groupAvailable: seen.group?.status === 'available',
    snapshots: seen.snapshots,
    manifestKeys: manifests.keys,
    ...(clock.behindSeconds > 0 ? { clockBehindSeconds: clock.behindSeconds } : {}),
    exportObjects: seen.exportObjects,
    verificationResults: seen.verificationResults,
    state: owned.state,
    exportFailureSignals: options.signals ?? [],
  }, config, now, settings, options.random ?? randomSuffix);
  const decision: Decision = owned.notes.length ? { ...planned, notes: [...owned.notes, ...planned.notes] } : planned;

  const outcomes: Outcome[] = [];
  let store = probed;
  let state = decision.state;
  const run = async (action: PlanAction, body: () => Promise<BodyResult>) => {
    const x = await runAction(action, body, outOfTime);
    const at = options.now();
    outcomes.push({ ...x, at });
    state = apply(state, action, x.outcome, at, x.errorName, x.error);
  };

  // Commits first, before the write-ahead: a manifest is idempotent and needs no intent record.
  for (const action of decision.actions) {
    if (action.kind === 'CommitManifest') {
      await run(action, () => commit(io, groupId, action, seen.group, options.now()));
    }
  }
  const writes = decision.actions.filter((a) => a.kind !== 'CommitManifest');
  if (writes.length > 0) {
    // Write-ahead: the names of backups, exports and verification requests are recorded before the calls, so a
    // crash can be resumed. Conditioned on the version read: a concurrent writer makes this run start over.
    try {
      store = await saveState(io, store, state);
    } catch (e) {
      throw isConditionFailure(e) ? new WriteAheadConflict(describeError(e)) : e;
    }
  }
  for (const action of writes) {
    const full = quotaRefusedEarlier(action, outcomes, state);
    await run(action, full ? async () => ({ outcome: 'skipped', error: full }) : () => execute(io, groupId, action, seen.group, options));
  }
  const saved = await saveFinal(io, groupId, options.planId, store, state, outcomes);
  const failed = outcomes.filter((x) => x.outcome === 'refused' || x.outcome === 'quota-exceeded' || x.outcome === 'integrity-failed'
    || (x.action.kind === 'StartExport' && !x.action.reissue && x.outcome === 'already-exists')).length;
  return {
    replicationGroupId: groupId,
    decision,
    executed: outcomes.map(({ action, outcome, error }) => ({ action, outcome, error })),
    failures: decision.metrics.failures + failed,
    state: saved.state,
    rebuiltFromTags: owned.rebuilt,
    stateAttempts: attempt + saved.rebases,
  };
}

/**
 * The run's clock, checked against the AWS timestamps just observed (clock.ts; the state object's LastModified and the
 * snapshots' create times, which every run reads anyway): when the local clock is behind, the
 * whole run (plan, outcome times, manifests) uses the corrected time, and the planner holds pruning. The timestamps
 * observed may be an interval old: then the state is written again as it was read (conditioned on its ETag) and
 * HEADed, and its LastModified is S3's time now. That write also keeps the next run's evidence fresh.
 */
async function checkedClock(io: ReconcileIo, given: RunOptions, loaded: LoadedState,
  seen: { snapshots: readonly ObservedSnapshot[] },
  settings: PlannerSettings): Promise<{ options: RunOptions; clock: ClockReading; clockNotes: string[]; store: LoadedState }> {
  const margin = settings.clockSkewMarginSeconds ?? DEFAULT_SETTINGS.clockSkewMarginSeconds;
  const evidence: ServiceTime[] = [
    { what: 'the state object\'s LastModified', at: loaded.lastModified },
    ...seen.snapshots.map((s) => ({ what: `snapshot ${s.name}'s create time`, at: s.createTime })),
  ];
  let local = given.now();
  let clock = readClock(local, evidence, margin);
  // An adopted legacy state is not written before its ownership records are checked again (checkOwnership).
  if (clock.behindSeconds === 0 || loaded.origin === 'legacy') {
    return withClock(given, local, clock, loaded);
  }
  let store = loaded;
  try {
    store = await saveState(io, loaded, loaded.state, true);
  } catch (e) {
    throw isConditionFailure(e) ? new WriteAheadConflict(describeError(e)) : e;
  }
  const written = (await io.headObject(store.key))?.lastModified;
  local = given.now();
  clock = readClock(local, [...evidence, { what: 'the state object\'s LastModified, written again now', at: written }], margin);
  return withClock(given, local, clock, store);
}

/** The run's options with the clock corrected forward by what `clock` found (unchanged when it found nothing). */
function withClock(given: RunOptions, local: Date, clock: ClockReading, store: LoadedState) {
  const offsetMs = clock.now.getTime() - local.getTime();
  const options = offsetMs > 0 ? { ...given, now: () => new Date(given.now().getTime() + offsetMs) } : given;
  return { options, clock, clockNotes: clock.behindSeconds > 0 ? [clockBehindNote(local, clock)] : [], store };
}

/**
 * Why a call that uses a slot of the per-node quota is not made, when an earlier call of the same run was refused for
 * the quota: the slots are used up now, and the call would only be refused too (a second refusal the plan cannot
 * excuse as learning). A CreateSnapshot always uses a slot; a CopySnapshot once exports are known to (the state after
 * the refusal says so).
 */
export function quotaRefusedEarlier(action: PlanAction, earlier: readonly { action: PlanAction; outcome: OutcomeKind }[],
  state: GroupState): string | undefined {
  const refused = earlier.find((x) => x.outcome === 'quota-exceeded');
  const usesSlot = action.kind === 'CreateSnapshot' || (action.kind === 'StartExport' && state.exportsCountAgainstQuota === true);
  return refused && usesSlot
    ? `not called: the ${refused.action.kind === 'CreateSnapshot' ? 'CreateSnapshot' : 'CopySnapshot'} before it in this run was refused for the quota`
    : undefined;
}

/** Executes one action (unless out of time) and classifies how it ended. */
async function runAction(action: PlanAction, body: () => Promise<BodyResult>, outOfTime: () => boolean):
Promise<{ action: PlanAction; outcome: OutcomeKind; error?: string; errorName?: string }> {
  if (outOfTime()) {
    return { action, outcome: 'skipped' };
  }
  try {
    const r = (await body()) ?? 'ok';
    return typeof r === 'string' ? { action, outcome: r } : { action, outcome: r.outcome, error: r.error };
  } catch (e) {
    const outcome = classifyError(e);
    let error = describeError(e);
    if (action.kind === 'StartExport' && !action.reissue && outcome === 'already-exists') {
      error = `${error} (first CopySnapshot of ${action.exportName}: the object was there before this export, so it is `
        + 'somebody else\'s, not ours; retrying under a new name)';
    }
    return { action, outcome, error, errorName: (e as Error)?.name };
  }
}

/**
 * Writes the state after the calls. When another writer changed it since this run's read (or write-ahead), the calls
 * were made: their outcomes are replayed onto the newer state (re-read), never dropped, within `MAX_STATE_ATTEMPTS`.
 */
async function saveFinal(io: ReconcileIo, groupId: string, planId: string, store: LoadedState, ours: GroupState, outcomes: readonly Outcome[]):
Promise<{ state: GroupState; rebases: number }> {
  let target = store;
  let state = ours;
  let cause = '';
  for (let rebases = 0; rebases < MAX_STATE_ATTEMPTS; rebases++) {
    try {
      await saveState(io, target, state);
      return { state, rebases };
    } catch (e) {
      if (!isConditionFailure(e)) {
        throw e;
      }
      cause = describeError(e);
    }
    // Never written over when unreadable: loadState throws StateError.
    target = await loadState(io, groupId, planId);
    state = rebaseOutcomes(target.state, ours, outcomes.map((o) => (s: GroupState) => apply(s, o.action, o.outcome, o.at, o.errorName, o.error)));
  }
  throw new StateConflictError(stateLocation(io, store.key), MAX_STATE_ATTEMPTS, cause);
}

async function execute(io: ReconcileIo, groupId: string, action: Exclude<PlanAction, CommitManifestAction>,
  group: GroupDescription | undefined, options: RunOptions): Promise<BodyResult> {
  switch (action.kind) {
    case 'CreateSnapshot':
      return io.createSnapshot({
        replicationGroupId: groupId,
        cacheClusterId: group?.snapshotClusterId,
        snapshotName: action.snapshotName,
        tags: { [PLAN_TAG_KEY]: options.planId },
      });
    case 'StartExport':
      return io.copySnapshot({ sourceSnapshotName: action.snapshotName, targetSnapshotName: action.exportName, targetBucket: io.bucketName });
    case 'VerifyShard':
      return requestVerification(io, groupId, action);
    case 'DeleteSnapshot': {
      // Prune only what is still intact: the manifest is re-read and every object it lists HEADed first.
      const block = await checkBeforeDelete(io, action, options.now());
      if (block) {
        // Waiting is not a failure (the next run checks again); a broken manifest or object is.
        return { outcome: block.kind === 'wait' ? 'skipped' : 'integrity-failed', error: block.why };
      }
      // Belt and braces: the planner only deletes snapshots the state says the plan created; the tag must agree
      // (and the IAM policy only allows deleting snapshots with this tag).
      const tag = await io.snapshotTag(action.snapshotName, PLAN_TAG_KEY);
      if (tag !== options.planId) {
        return { outcome: 'refused', error: `snapshot ${action.snapshotName} is tagged ${PLAN_TAG_KEY}=${tag ?? '(none)'}, not ${options.planId}: not this plan's` };
      }
      return io.deleteSnapshot(action.snapshotName);
    }
  }
}

/** Writes a request object; its S3 event invokes the verifier asynchronously (the reconciler never waits). */
async function requestVerification(io: ReconcileIo, groupId: string, action: VerifyShardAction): Promise<void> {
  const o = action.object;
  const request: VerifyRequest = {
    bucket: io.bucketName, key: o.key, versionId: o.versionId, etag: o.etag, sizeBytes: o.sizeBytes, resultKey: verificationResultKey(groupId, o.key),
  };
  await io.putText(verificationRequestKey(groupId, o.key, action.request), JSON.stringify(request));
}

/** The manifest's record of one verified shard (format version 2). */
function manifestShard(o: ObjectInfo, r: VerificationResult): ManifestShard {
  const shard: Record<string, unknown> = {
    key: o.key, sizeBytes: o.sizeBytes, versionId: o.versionId, etag: o.etag, verification: r.verification, verifiedAt: r.verifiedAt, ...r.report,
  };
  return Object.fromEntries(Object.entries(shard).filter(([, v]) => v !== undefined)) as unknown as ManifestShard;
}

async function commit(io: ReconcileIo, groupId: string, action: CommitManifestAction, group: GroupDescription | undefined, now: Date): Promise<void> {
  const x = action.export;
  const manifest: BackupManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    replicationGroupId: groupId,
    region: io.region,
    bucket: io.bucketName,
    snapshotName: x.snapshotName,
    snapshotSource: x.snapshotSource,
    snapshotCreateTime: x.snapshotCreateTime,
    exportName: x.exportName,
    exportTime: now.toISOString(),
    engine: x.meta?.engine ?? group?.engine ?? 'unknown',
    engineVersion: x.meta?.engineVersion ?? group?.engineVersion ?? 'unknown',
    nodeType: x.meta?.nodeType ?? group?.nodeType ?? 'unknown',
    clusterModeEnabled: x.meta?.clusterModeEnabled ?? group?.clusterModeEnabled ?? false,
    shardCount: action.objects.length,
    shards: action.objects.map((o, i) => manifestShard(o, action.verifications[i])),
  };
  await io.putText(action.manifestKey, serializeManifest(manifest));
}
