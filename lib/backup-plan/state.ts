/**
 * The reconciler's persisted per-group state: parsed and validated field by field, and serialized (pure).
 *
 * The state is the plan's only memory of its exports in flight and of the backups it created, so an unreadable one is
 * never mistaken for a fresh one: a missing object is a fresh state, anything else that is not a valid state of a
 * format this version reads throws a `StateError` (the reconciler fails the group's run and never overwrites it).
 * Not part of the jsii API.
 */
import { compact } from './planner/outcome';
import { emptyState, GroupState } from './planner/types';

/** The format this version writes. 1: up to issue 9; 2: validated strictly, `refusedDeletions`. */
export const STATE_FORMAT_VERSION = 2;

/** A persisted state that cannot be used: unreadable, malformed, or written by a newer version. */
export class StateError extends Error {
  /** Set on every error the handler must report loudly (fail the invocation). */
  public readonly loud = true;
  constructor(public readonly where: string, public readonly problem: string, newer = false) {
    super(`backup plan state ${where} ${problem}. The reconciler does not run this group, and never overwrites this object, until it is fixed: `
      + (newer ? 'deploy the newer version of cdk-elasticache-backup again, or ' : '')
      + 'restore its previous version from the export bucket\'s versioning (list-object-versions, then copy the last good version over it), '
      + 'or delete it to rebuild the state (the plan\'s backups are recognized again by their plan tag; an export in flight is started again)');
    this.name = 'StateError';
  }
}

type Json = Record<string, unknown>;

/**
 * The shape of a state, field by field. Leaves: `s` non-empty string, `r` a reason (at most 300 characters), `t` ISO
 * time, `b` boolean, `n` integer >= 0, `p` integer >= 1, `src` snapshot source. `[x]`: an array of x; `{ '*': x }`:
 * a record of x; a field name ending in `?` is optional. Table-driven so that the handler bundle stays small.
 */
type Schema = string | readonly [Schema] | { readonly [field: string]: Schema };

const EXPECTED: Record<string, [test: (v: unknown) => boolean, expected: string]> = {
  s: [(v) => typeof v === 'string' && v.length > 0, 'a non-empty string'],
  r: [(v) => typeof v === 'string' && v.length > 0 && v.length <= 300, 'a non-empty string of at most 300 characters'],
  t: [(v) => typeof v === 'string' && Number.isFinite(Date.parse(v)), 'an ISO date-time string'],
  b: [(v) => typeof v === 'boolean', 'true or false'],
  n: [(v) => Number.isInteger(v) && (v as number) >= 0, 'an integer >= 0'],
  p: [(v) => Number.isInteger(v) && (v as number) >= 1, 'an integer >= 1'],
  src: [(v) => v === 'manual' || v === 'automated', "'manual' or 'automated'"],
};

const IN_FLIGHT: Schema = {
  'snapshotName': 's',
  'snapshotSource': 'src',
  'snapshotCreateTime': 't',
  'shardCount': 'p',
  'meta?': { engine: 's', engineVersion: 's', nodeType: 's', clusterModeEnabled: 'b' },
  'exportName': 's',
  'attempt': 'p',
  'startedAt': 't',
  'confirmed': 'b',
  'sourceBusySeen?': 'b',
  'sourceIdleSince?': 't',
  'verifications?': [{ 'key': 's', 'versionId?': 's', 'at': 't', 'requests': 'n' }],
};

const STATE: Schema = {
  'formatVersion': 'p',
  'inFlight?': IN_FLIGHT,
  'lateAttempts?': [IN_FLIGHT],
  'exportAttempts': { '*': 'n' },
  'exportFailures?': { '*': { 'failures': 'p', 'lastError': 's', 'at?': 't' } },
  'created': [{ 'name': 's', 'at': 't', 'refused?': 'b', 'failureNoted?': 'b' }],
  'exportCalls?': [{ name: 's', at: 't' }],
  'exportsCountAgainstQuota?': 'b',
  'quotaRefusals?': [{ at: 't', hidden: 'p' }],
  'distrustedManifests?': ['s'],
  'backoffUntil?': 't',
  'createBackoffUntil?': 't',
  'exportBackoffUntil?': 't',
  'consecutiveThrottles': 'n',
  'refusedDeletions?': [{ name: 's', reason: 'r', at: 't', refusals: 'p' }],
};

function malformed(where: string, path: string, expected: string, value: unknown): StateError {
  const got = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 80);
  return new StateError(where, `is malformed: field '${path}' must be ${expected}, got ${got}`);
}

/** Throws `StateError` naming the first field of `value` (at `path`) that does not have the shape `schema`. */
function check(where: string, path: string, value: unknown, schema: Schema): void {
  if (typeof schema === 'string') {
    const [test, expected] = EXPECTED[schema];
    if (!test(value)) {
      throw malformed(where, path, expected, value);
    }
    return;
  }
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) {
      throw malformed(where, path, 'an array', value);
    }
    value.forEach((item, i) => check(where, `${path}[${i}]`, item, schema[0]));
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(where, path, 'an object', value);
  }
  const fields = schema as Record<string, Schema>;
  const prefix = path ? `${path}.` : '';
  for (const [key, item] of Object.entries(value as Json)) {
    // Own properties only: a field named `constructor` or `toString` is unknown, not Object.prototype's.
    const own = (k: string) => (Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined);
    const itemSchema = own('*') ?? own(key) ?? own(`${key}?`);
    if (itemSchema === undefined) {
      throw malformed(where, `${prefix}${key}`, `absent (not a field of format version ${STATE_FORMAT_VERSION})`, item);
    }
    check(where, `${prefix}${key}`, item, itemSchema);
  }
  for (const key of Object.keys(fields)) {
    if (key !== '*' && !key.endsWith('?') && (value as Json)[key] === undefined) {
      check(where, `${prefix}${key}`, undefined, fields[key]);
    }
  }
}

/**
 * Parses a persisted state. `undefined` (no object) is a fresh, empty state; anything else that is not a valid state
 * of format version 1 or 2 throws a `StateError` naming `where` (the object's location), what is wrong and what to do.
 */
export function parseState(text: string | undefined, where: string = 'state object'): GroupState {
  if (text === undefined) {
    return emptyState();
  }
  if (text.trim() === '') {
    throw new StateError(where, 'is empty (0 bytes of JSON)');
  }
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StateError(where, `is not valid JSON (${text.length} bytes; truncated or corrupt: ${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw malformed(where, '', 'an object', raw);
  }
  // The version first: a newer version may have fields this one does not know.
  const version = raw.formatVersion;
  if (!Number.isInteger(version) || (version as number) < 1) {
    throw malformed(where, 'formatVersion', `1 or ${STATE_FORMAT_VERSION}`, version);
  }
  if ((version as number) > STATE_FORMAT_VERSION) {
    throw new StateError(where, `was written by a newer version of cdk-elasticache-backup (format version ${version}; this version reads `
      + `1 to ${STATE_FORMAT_VERSION})`, true);
  }
  // Version 1 states may lack collections plan() writes today.
  const state = version === 1 ? { exportAttempts: {}, created: [], consecutiveThrottles: 0, ...raw } : raw;
  check(where, '', state, STATE);
  // The in-memory format version is the planner's own; the file's is this module's.
  return { ...state, formatVersion: emptyState().formatVersion } as unknown as GroupState;
}

/** Like `parseState`, but undefined instead of an error (for code that only looks at a state, never writes it). */
export function tryParseState(text: string | undefined): GroupState | undefined {
  try {
    return parseState(text);
  } catch (e) {
    if (e instanceof StateError) {
      return undefined;
    }
    throw e;
  }
}

/**
 * A state another writer wrote meanwhile, with this run's outcomes replayed onto it (`replays`, in order), and every
 * record of a call this run made that the replay did not bring back: backups created, export calls, attempt numbers.
 * A backup or export is never dropped from the record because two runs overlapped.
 */
export function rebaseOutcomes(theirs: GroupState, ours: GroupState, replays: readonly ((s: GroupState) => GroupState)[]): GroupState {
  const next = replays.reduce((s, replay) => replay(s), theirs);
  const createdNames = new Set(next.created.map((c) => c.name));
  const callNames = new Set((next.exportCalls ?? []).map((c) => c.name));
  const exportCalls = [...(next.exportCalls ?? []), ...(ours.exportCalls ?? []).filter((c) => !callNames.has(c.name))];
  const exportAttempts = { ...next.exportAttempts };
  for (const [name, n] of Object.entries(ours.exportAttempts)) {
    exportAttempts[name] = Math.max(n, exportAttempts[name] ?? 0);
  }
  const refusalTimes = new Set((next.quotaRefusals ?? []).map((r) => r.at));
  const quotaRefusals = [...(next.quotaRefusals ?? []), ...(ours.quotaRefusals ?? []).filter((r) => !refusalTimes.has(r.at))];
  return compact({
    ...next,
    quotaRefusals: quotaRefusals.length ? quotaRefusals : undefined,
    created: [...next.created, ...ours.created.filter((c) => !createdNames.has(c.name))],
    exportCalls: exportCalls.length ? exportCalls : undefined,
    exportAttempts,
  });
}

/** The persisted form: compact JSON of format version `STATE_FORMAT_VERSION`. */
export function serializeState(state: GroupState): string {
  return JSON.stringify({ ...compact(state), formatVersion: STATE_FORMAT_VERSION });
}
