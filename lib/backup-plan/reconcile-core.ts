/**
 * One reconciler run for one group: observe through `ReconcileIo`, decide with the planner, execute, persist.
 *
 * The AWS SDK lives behind `ReconcileIo` (implemented in reconcile.lambda.ts, and by the simulator), so this file is
 * the exact code the Lambda runs, minus the clients. Not part of the jsii API.
 */
import { isPlanSnapshotName, PLAN_TAG_KEY, randomSuffix, stateKey } from './constants';
import {
  applyOutcome, CommitManifestAction, Decision, DEFAULT_SETTINGS, DeleteSnapshotAction, ExportFailureSignal, GroupConfig, GroupState, InFlightExport,
  ObjectInfo, ObservedSnapshot, OutcomeKind, parseState, plan, PlanAction, PlannerSettings, serializeState, VerifyShardAction,
} from './planner';
import { parseVerificationResult, verificationRequestKey, verificationResultKey, verificationResultPrefix, VerificationResult, VerifyRequest } from './verify-core';
import { checkManifestKey, checkObjectsAgainstManifest, describeProblems, isVerifiedManifest, ObjectHead } from '../manifest/integrity';
import {
  BackupManifest, compactTimestamp, MANIFEST_FORMAT_VERSION, ManifestShard, manifestPrefix, parseManifest, serializeManifest, shardNumberOf,
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

/** Everything the reconciler reads and writes. Methods throw the service's errors (see `classifyError`). */
export interface ReconcileIo {
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
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'ThrottledException']);
const REFUSED = new Set([
  'InvalidSnapshotStateFault', 'InvalidReplicationGroupStateFault', 'InvalidCacheClusterStateFault', 'InvalidParameterValueException',
  'InvalidParameterCombinationException', 'AccessDenied', 'AccessDeniedException', 'ReplicationGroupNotFoundFault', 'CacheClusterNotFoundFault',
  'SnapshotFeatureNotSupportedFault', 'TagQuotaPerResourceExceeded', 'InvalidARNFault', 'UnauthorizedOperation',
]);

/** Maps an SDK error to the planner's outcome kinds. */
export function classifyError(error: unknown): OutcomeKind {
  const e = error as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? e?.Code ?? '';
  const message = e?.message ?? '';
  if (THROTTLING.has(name)) {
    return 'throttled';
  }
  if (name === 'SnapshotQuotaExceededFault') {
    return 'quota-exceeded';
  }
  if (name === 'SnapshotAlreadyExistsFault' || /already contains an object/i.test(message)) {
    return 'already-exists';
  }
  if (name === 'SnapshotNotFoundFault') {
    return 'not-found';
  }
  if (REFUSED.has(name)) {
    return 'refused';
  }
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return 'refused';
  }
  return 'unknown';
}

function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
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

/** Observes one group: the group, its snapshots, manifests (bounded listing), the watched exports, the state. */
export async function observe(io: ReconcileIo, groupId: string, planState?: GroupState) {
  const state = planState ?? parseState(await io.getText(stateKey(groupId)));
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

type BodyResult = OutcomeKind | { outcome: OutcomeKind; error: string } | void;

/** Runs one group to completion (or until out of time). */
export async function reconcileGroup(io: ReconcileIo, config: GroupConfig, options: RunOptions): Promise<GroupRunResult> {
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const outOfTime = options.outOfTime ?? (() => false);
  const groupId = config.replicationGroupId;
  const seen = await observe(io, groupId);
  const now = options.now();
  const decision = plan({
    replicationGroupId: groupId,
    groupAvailable: seen.group?.status === 'available',
    snapshots: seen.snapshots,
    manifestKeys: seen.manifestKeys,
    exportObjects: seen.exportObjects,
    verificationResults: seen.verificationResults,
    state: seen.state,
    exportFailureSignals: options.signals ?? [],
  }, config, now, settings, options.random ?? randomSuffix);

  const executed: ExecutedAction[] = [];
  let written = serializeState(seen.state);
  let state = decision.state;
  const persist = async () => {
    const text = serializeState(state);
    if (text !== written) {
      await io.putText(stateKey(groupId), text);
      written = text;
    }
  };
  const run = async (action: PlanAction, body: () => Promise<BodyResult>) => {
    let outcome: OutcomeKind = 'ok';
    let error: string | undefined;
    let errorName: string | undefined;
    if (outOfTime()) {
      outcome = 'skipped';
    } else {
      try {
        const r = (await body()) ?? 'ok';
        [outcome, error] = typeof r === 'string' ? [r, undefined] : [r.outcome, r.error];
      } catch (e) {
        outcome = classifyError(e);
        error = describeError(e);
        errorName = (e as Error)?.name;
        if (action.kind === 'StartExport' && !action.reissue && outcome === 'already-exists') {
          error = `${error} (first CopySnapshot of ${action.exportName}: the object was there before this export, so it is `
            + 'somebody else\'s, not ours; retrying under a new name)';
        }
      }
    }
    executed.push({ action, outcome, error });
    state = applyOutcome(state, action, outcome, options.now(), errorName);
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
    // crash can be resumed.
    await persist();
  }
  for (const action of writes) {
    await run(action, () => execute(io, groupId, action, seen.group, options));
  }
  await persist();
  const failed = executed.filter((x) => x.outcome === 'refused' || x.outcome === 'quota-exceeded' || x.outcome === 'integrity-failed'
    || (x.action.kind === 'StartExport' && !x.action.reissue && x.outcome === 'already-exists')).length;
  return { replicationGroupId: groupId, decision, executed, failures: decision.metrics.failures + failed, state };
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

/**
 * A manifest must be this old before its snapshot is deleted: long enough for S3 replication (15 minutes with
 * Replication Time Control) to deliver the export to the replica bucket, when the objects report no replication status.
 */
export const PRUNE_SETTLE_SECONDS = 30 * 60;

/** Why a snapshot must not be deleted yet: `wait` (replication pending), or `refuse` (no longer intact). */
export interface DeleteBlock {
  readonly kind: 'wait' | 'refuse';
  readonly why: string;
}

/**
 * Why a snapshot must not be deleted now, or undefined: its manifest or an object is no longer intact (refuse), or
 * the export has not reached the replica bucket yet (wait).
 */
export async function checkBeforeDelete(io: ReconcileIo, action: DeleteSnapshotAction, now: Date): Promise<DeleteBlock | undefined> {
  const where = `s3://${io.bucketName}/${action.manifestKey}`;
  const refuse = (why: string): DeleteBlock => ({ kind: 'refuse', why: `refusing to delete ${action.snapshotName}: ${why}` });
  const text = await io.getText(action.manifestKey);
  if (text === undefined) {
    return refuse(`manifest ${where} no longer exists`);
  }
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(text, where);
  } catch (e) {
    return refuse((e as Error).message);
  }
  const keyProblem = checkManifestKey(action.manifestKey, manifest, now);
  if (keyProblem) {
    return refuse(`manifest ${where}: ${keyProblem}`);
  }
  if (manifest.snapshotName !== action.snapshotName) {
    return refuse(`manifest ${where} describes snapshot ${manifest.snapshotName}, not ${action.snapshotName}`);
  }
  if (!isVerifiedManifest(manifest)) {
    return refuse(`manifest ${where} (format version ${manifest.formatVersion}) does not record a verification of every shard against a pinned `
      + 'version: the plan never deletes a backup on an unverified manifest; it exports the snapshot again');
  }
  const heads = new Map<string, ObjectInfo | undefined>();
  for (const shard of manifest.shards) {
    heads.set(shard.key, await io.headObject(shard.key));
  }
  const problems = checkObjectsAgainstManifest(manifest, heads as ReadonlyMap<string, ObjectHead | undefined>, io.bucketName);
  if (problems.length) {
    return refuse(describeProblems(where, problems));
  }
  return replicationBlock(io, action, manifest, heads, now);
}

/** The export must have reached the replica bucket before its snapshot goes: the only other copy of the data. */
async function replicationBlock(io: ReconcileIo, action: DeleteSnapshotAction, manifest: BackupManifest,
  heads: ReadonlyMap<string, ObjectInfo | undefined>, now: Date): Promise<DeleteBlock | undefined> {
  const manifestHead = await io.headObject(action.manifestKey);
  const objects = [...heads.values(), manifestHead].filter((o): o is ObjectInfo => o !== undefined);
  const pending = objects.filter((o) => o.replicationStatus !== undefined && o.replicationStatus !== 'COMPLETED');
  if (pending.length) {
    return {
      kind: 'wait',
      why: `not deleting ${action.snapshotName} yet: replication of ${pending.map((o) => `${o.key} (${o.replicationStatus})`).join(', ')} `
        + 'to the replica bucket has not completed',
    };
  }
  const ageSeconds = (now.getTime() - Date.parse(manifest.exportTime)) / 1000;
  if (objects.every((o) => o.replicationStatus === undefined) && ageSeconds < PRUNE_SETTLE_SECONDS) {
    return {
      kind: 'wait',
      why: `not deleting ${action.snapshotName} yet: its export was committed ${Math.round(ageSeconds)} s ago; waiting `
        + `${PRUNE_SETTLE_SECONDS} s for replication to deliver it to the replica bucket`,
    };
  }
  return undefined;
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
