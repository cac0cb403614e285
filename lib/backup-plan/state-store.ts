/**
 * Reads and writes the reconciler's state object with S3 conditional writes (I/O over `StateIo`).
 *
 * Every write is conditioned on the version read (`If-Match: <ETag>`), or on the key not existing (`If-None-Match: *`)
 * when there was none, so an overlapping run (or another writer) is detected instead of silently overwritten: S3
 * answers 412 PreconditionFailed when the condition does not hold and 409 ConditionalRequestConflict when a concurrent
 * conditional write won (S3 User Guide, "How to prevent object overwrites with conditional writes"). The caller
 * re-reads and re-plans or rebases its outcomes (reconcile-core.ts). Not part of the jsii API.
 */
import { legacyStateKey, stateKey } from './constants';
import { GroupState } from './planner/types';
import { parseState, serializeState } from './state';

/** A text object with the ETag of the version read (quoted, as S3 returns it). */
export interface VersionedText {
  readonly text: string;
  readonly etag: string;
  /** GetObject's LastModified (S3's clock): evidence of the time for the reconciler's clock check (clock.ts). */
  readonly lastModified?: Date;
}

/** A PutObject condition: exactly one of the two. */
export interface WriteCondition {
  /** The ETag read: the write succeeds only while the object is still that version. */
  readonly ifMatch?: string;
  /** Create only: the write succeeds only while the key does not exist. */
  readonly ifNoneMatch?: '*';
}

/** The part of `ReconcileIo` the store uses. */
export interface StateIo {
  readonly bucketName: string;
  /** GetObject with its ETag; undefined when the object does not exist. */
  getVersionedText(key: string): Promise<VersionedText | undefined>;
  /** Conditional PutObject; resolves to the new ETag; throws the service's error when the condition fails. */
  putTextIf(key: string, body: string, condition: WriteCondition): Promise<string>;
}

/** Where a loaded state came from. */
export type StateOrigin = 'current' | 'legacy' | 'fresh';

export interface LoadedState {
  readonly state: GroupState;
  /** The key the state is written to (always the plan's own key, also when adopted from the legacy one). */
  readonly key: string;
  /** ETag of the version at `key`; undefined when there is none (the next write creates it). */
  readonly etag?: string;
  /** The serialized state as last read from or written to `key` (for a fresh state: the empty state's; for an adopted one: none). */
  readonly text?: string;
  readonly origin: StateOrigin;
  /** S3's LastModified of the version read (current or legacy), when the store reported it. */
  readonly lastModified?: Date;
}

/** The run lost every attempt to write its state against concurrent writers. */
export class StateConflictError extends Error {
  public readonly loud = true;
  constructor(public readonly where: string, attempts: number, cause: string) {
    super(`backup plan state ${where} was changed by another writer ${attempts} times while this run wrote it (${cause}). Two reconciler `
      + 'runs (or two plans with the same id) overlap: this run stopped; the next one retries. If this repeats, check that only one '
      + 'reconciler (reserved concurrency 1) writes this group\'s state');
    this.name = 'StateConflictError';
  }
}

/** HTTP statuses and error names meaning "the condition of a conditional write does not hold (any more)". */
const CONDITION_FAILED = new Set(['PreconditionFailed', 'ConditionalRequestConflict']);

/**
 * Whether a PutObject failed because its condition did not hold: 412 (the ETag differs, or the key exists for
 * If-None-Match), 409 (a concurrent conditional write), or 404 NoSuchKey (If-Match on a key deleted meanwhile).
 */
export function isConditionFailure(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? e?.Code ?? '';
  const status = e?.$metadata?.httpStatusCode;
  return CONDITION_FAILED.has(name) || name === 'NoSuchKey' || status === 412 || status === 409;
}

export function stateLocation(io: StateIo, key: string): string {
  return `s3://${io.bucketName}/${key}`;
}

/**
 * Reads the plan's state of a group. The plan's key first; when it does not exist, the key of versions before plan
 * ids (`state/<group>/plan.json`) is adopted once (the first write creates the plan's key; the old object is left as
 * it is). An unreadable or newer state throws `StateError` (and is never written over).
 */
export async function loadState(io: StateIo, groupId: string, planId: string): Promise<LoadedState> {
  const key = stateKey(groupId, planId);
  const current = await io.getVersionedText(key);
  if (current) {
    const state = parseState(current.text, stateLocation(io, key));
    return { state, key, etag: current.etag, text: current.text, origin: 'current', lastModified: current.lastModified };
  }
  const legacyKey = legacyStateKey(groupId);
  const legacy = await io.getVersionedText(legacyKey);
  if (legacy) {
    return { state: parseState(legacy.text, stateLocation(io, legacyKey)), key, origin: 'legacy', lastModified: legacy.lastModified };
  }
  const fresh = parseState(undefined);
  // Nothing is written for a group where nothing happened.
  return { state: fresh, key, text: serializeState(fresh), origin: 'fresh' };
}

/**
 * Writes `state` over the version `loaded` read (or creates the key), unless it serializes to what is there already
 * (and `rewrite` is false).
 * Throws the service's error when the condition fails (see `isConditionFailure`); nothing is written then.
 */
export async function saveState(io: StateIo, loaded: LoadedState, state: GroupState, rewrite: boolean = false): Promise<LoadedState> {
  const text = serializeState(state);
  // `rewrite`: written even when unchanged, so that its LastModified is fresh evidence of the time for the next run.
  if (text === loaded.text && !rewrite) {
    return loaded;
  }
  const condition: WriteCondition = loaded.etag !== undefined ? { ifMatch: loaded.etag } : { ifNoneMatch: '*' };
  const etag = await io.putTextIf(loaded.key, text, condition);
  return { state, key: loaded.key, etag, text, origin: 'current' };
}
