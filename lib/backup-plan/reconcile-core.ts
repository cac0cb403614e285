/**
 * One reconciler run for one group: observe through `ReconcileIo`, decide with the planner, execute, persist.
 *
 * The AWS SDK lives behind `ReconcileIo` (implemented in reconcile.lambda.ts, and by the simulator), so this file is
 * the exact code the Lambda runs, minus the clients. Not part of the jsii API.
 */
import { PLAN_TAG_KEY, stateKey } from './constants';
import { BackupManifest, compactTimestamp, manifestPrefix, serializeManifest } from '../manifest/manifest';
import {
  applyOutcome, Decision, DEFAULT_SETTINGS, ExportFailureSignal, GroupConfig, GroupState, ObjectInfo, ObservedSnapshot,
  OutcomeKind, parseState, plan, PlanAction, PlannerSettings, CommitManifestAction, serializeState,
} from './planner';
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
}

/** Everything the reconciler reads and writes. Methods throw the service's errors (see `classifyError`). */
export interface ReconcileIo {
  readonly region: string;
  readonly bucketName: string;
  describeSnapshots(replicationGroupId: string): Promise<SnapshotDescription[]>;
  /** Undefined when the group does not exist. */
  describeGroup(replicationGroupId: string): Promise<GroupDescription | undefined>;
  /** Every object under `prefix` (all pages), optionally after `startAfter`. */
  listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]>;
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
}

export interface ExecutedAction {
  readonly action: PlanAction;
  readonly outcome: OutcomeKind;
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

/** Observes one group: snapshots, the group, manifests (bounded listing), the in-flight export's objects, the state. */
export async function observe(io: ReconcileIo, groupId: string, planState?: GroupState) {
  const state = planState ?? parseState(await io.getText(stateKey(groupId)));
  const snapshots = await io.describeSnapshots(groupId);
  const group = await io.describeGroup(groupId);
  const mine = new Set(state.created.map((c) => c.name));
  const observed: ObservedSnapshot[] = snapshots.map((s) => ({ ...s, createdByPlan: mine.has(s.name) }));

  // Manifest keys sort by snapshot time: list only from the oldest snapshot whose manifest matters on: the plan's
  // own backups (pruning, backfill), the newest automatic backup, and the export in flight. Older automatic backups
  // are never exported once something newer is committed.
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
  if (state.inFlight) {
    times.push(Date.parse(state.inFlight.snapshotCreateTime));
  }
  const oldest = times.length ? Math.min(...times) : undefined;
  const startAfter = oldest === undefined ? undefined : `${prefix}${compactTimestamp(new Date(oldest - 1000))}`;
  let manifestKeys = (await io.listObjects(prefix, startAfter)).map((o) => o.key);
  if (manifestKeys.length === 0 && startAfter !== undefined) {
    // Nothing committed since the oldest snapshot: list everything once, for the export age.
    manifestKeys = (await io.listObjects(prefix)).map((o) => o.key);
  }
  const exportObjects = state.inFlight ? await io.listObjects(`${state.inFlight.exportName}-`) : [];
  return { state, snapshots: observed, group, manifestKeys, exportObjects };
}

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
    state: seen.state,
    exportFailureSignals: options.signals ?? [],
  }, config, now, settings);

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
  const run = async (action: PlanAction, body: () => Promise<OutcomeKind | void>) => {
    let outcome: OutcomeKind = 'ok';
    let error: string | undefined;
    if (outOfTime()) {
      outcome = 'skipped';
    } else {
      try {
        outcome = (await body()) ?? 'ok';
      } catch (e) {
        outcome = classifyError(e);
        error = describeError(e);
      }
    }
    executed.push({ action, outcome, error });
    state = applyOutcome(state, action, outcome, options.now());
  };

  // Commits first, before the write-ahead: a manifest is idempotent and needs no intent record.
  for (const action of decision.actions) {
    if (action.kind === 'CommitManifest') {
      await run(action, () => commit(io, groupId, action, seen.group, options.now()));
    }
  }
  const writes = decision.actions.filter((a) => a.kind !== 'CommitManifest');
  if (writes.length > 0) {
    // Write-ahead: the names of backups and exports are recorded before the calls, so a crash can be resumed.
    await persist();
  }
  for (const action of writes) {
    switch (action.kind) {
      case 'CreateSnapshot':
        await run(action, () => io.createSnapshot({
          replicationGroupId: groupId,
          cacheClusterId: seen.group?.snapshotClusterId,
          snapshotName: action.snapshotName,
          tags: { [PLAN_TAG_KEY]: options.planId },
        }));
        break;
      case 'StartExport':
        await run(action, () => io.copySnapshot({
          sourceSnapshotName: action.snapshotName, targetSnapshotName: action.exportName, targetBucket: io.bucketName,
        }));
        break;
      case 'DeleteSnapshot':
        await run(action, async () => {
          // Belt and braces: the planner only deletes snapshots the state says the plan created; the tag must agree
          // (and the IAM policy only allows deleting snapshots with this tag).
          const tag = await io.snapshotTag(action.snapshotName, PLAN_TAG_KEY);
          if (tag !== options.planId) {
            return 'refused';
          }
          await io.deleteSnapshot(action.snapshotName);
          return 'ok';
        });
        break;
    }
  }
  await persist();
  const refused = executed.filter((x) => x.outcome === 'refused' || x.outcome === 'quota-exceeded').length;
  return { replicationGroupId: groupId, decision, executed, failures: decision.metrics.failures + refused, state };
}

async function commit(io: ReconcileIo, groupId: string, action: CommitManifestAction, group: GroupDescription | undefined, now: Date): Promise<void> {
  const shards = [];
  for (const o of action.objects) {
    const header = await io.readRange(o.key, RDB_HEADER_BYTES);
    shards.push({ key: o.key, sizeBytes: o.sizeBytes, rdbVersion: rdbVersionOf(header) });
  }
  const x = action.export;
  const manifest: BackupManifest = {
    formatVersion: 1, // unverified until the verifier is wired in
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
    shardCount: shards.length,
    shards: shards.map((s) => (s.rdbVersion === undefined ? { key: s.key, sizeBytes: s.sizeBytes } : s)),
  };
  await io.putText(action.manifestKey, serializeManifest(manifest));
}
