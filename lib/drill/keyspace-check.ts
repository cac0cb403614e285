/**
 * The restore drill's data check: does a restored replication group hold the keys its export's manifest promised?
 *
 * Pure: the verifier Lambda (`verify-keyspace.lambda.ts`) reads `INFO keyspace`, `CLUSTER INFO` and sampled key types
 * from the restored group's primaries and hands them here with the manifest.
 *
 * Keys can be missing for a good reason: a key whose expire time passed before the check is gone (the engine drops
 * keys already expired when it loads an RDB, and expires the rest as time goes on). The manifest's expiry histogram
 * bounds how many keys that can be: every key in a bucket that starts before the check time may be gone (a bucket
 * straddling the check time counts whole, since the histogram cannot say how many of its keys are past). Only keys
 * with an expiry can vanish, so a database may also lose at most its own keys with an expiry. More keys than the
 * manifest holds can never come from expiry.
 *
 * Layering: `lib/rdb` < `lib/manifest` < `lib/drill`.
 */
import type { BackupManifest } from '../manifest/manifest';
import { keysExpiringBetween } from '../rdb/expiry';
import type { RdbDatabaseCount, RdbExpiryBucket } from '../rdb/types';

/** Error types the verifier Lambda throws (the `errorType` a Step Functions `Catch` matches). */
export const DRILL_CONNECT_ERROR = 'DrillConnectError';
export const DRILL_AUTH_ERROR = 'DrillAuthError';
export const DRILL_TIMEOUT_ERROR = 'DrillTimeoutError';
export const DRILL_INPUT_ERROR = 'DrillInputError';
export const DRILL_VERIFIER_ERRORS: readonly string[] = [DRILL_CONNECT_ERROR, DRILL_AUTH_ERROR, DRILL_TIMEOUT_ERROR, DRILL_INPUT_ERROR];

/**
 * - `MATCH`: every expected key is there, except at most those the expiry histogram allows to be gone.
 * - `MISSING_KEYS`: more keys are gone than expiry explains.
 * - `EXTRA_KEYS`: a database holds more keys than the manifest says (a different export, or writes to the drill group).
 * - `CLUSTER_NOT_OK`: a sharded group whose `cluster_state` is not `ok`, or with fewer primaries owning slots than shards.
 * - `TYPE_MISMATCH`: a sampled key has a type the manifest counted no key of.
 * - `COUNTS_UNKNOWN`: the manifest has no key counts for some shard (format 1, or only partly verified): nothing to compare.
 */
export type KeyspaceVerdict = 'MATCH' | 'MISSING_KEYS' | 'EXTRA_KEYS' | 'CLUSTER_NOT_OK' | 'TYPE_MISMATCH' | 'COUNTS_UNKNOWN';

/** What the manifest promises, summed over its shards. */
export interface ExpectedKeyspace {
  /** Per database, sorted by number; undefined when some shard has no counts. */
  readonly databases?: readonly RdbDatabaseCount[];
  /** Every shard's histogram, concatenated (buckets of different shards may overlap: they are only summed). */
  readonly expiryHistogram: readonly RdbExpiryBucket[];
  readonly shardCount: number;
  readonly clusterMode: boolean;
  /** Keys per `TYPE` name (`string`, `hash`, ...; `module` for module values), when the manifest carries value types. */
  readonly keyTypes?: Readonly<Record<string, number>>;
  /** Shards without counts, as `shard N (reason)`, for the report. */
  readonly uncountedShards: readonly string[];
}

/** What one primary of the restored group reported. */
export interface PrimaryObservation {
  /** `host:port`, for messages. */
  readonly address: string;
  /** From `INFO keyspace`. */
  readonly databases: readonly RdbDatabaseCount[];
  /** From `CLUSTER INFO` (sharded groups only). */
  readonly clusterState?: string;
  /** `TYPE` of keys picked with `RANDOMKEY` (`none` when the key vanished in between). */
  readonly sampledTypes?: readonly string[];
}

export interface DatabaseComparison {
  readonly db: number;
  readonly expectedKeys: number;
  readonly foundKeys: number;
  readonly expectedKeysWithExpiry: number;
  readonly foundKeysWithExpiry: number;
}

export interface TypeSample {
  readonly sampled: number;
  readonly byType: Readonly<Record<string, number>>;
  /** Types seen in the sample of which the manifest counted no key. */
  readonly unexpectedTypes: readonly string[];
}

export interface KeyspaceCheckResult {
  readonly verdict: KeyspaceVerdict;
  /** `verdict === 'MATCH'`. */
  readonly passed: boolean;
  readonly expectedKeys: number;
  readonly foundKeys: number;
  /** Keys that may have expired by the check time (from the histogram; includes keys already expired at backup). */
  readonly expiryAllowance: number;
  /** Sum over databases of the keys fewer than expected. */
  readonly missingKeys: number;
  /** Sum over databases of the keys more than expected. */
  readonly extraKeys: number;
  /** `foundKeys / expectedKeys`; 1 when both are 0 (and when nothing was expected, whatever was found: see verdict). */
  readonly restoredKeysRatio: number;
  readonly databases: readonly DatabaseComparison[];
  readonly primaries: number;
  readonly expectedShards: number;
  /** Sharded groups: `ok` when every primary says so, else the first other state met. */
  readonly clusterState?: string;
  readonly typeSample?: TypeSample;
  /** Why the verdict is not MATCH, one sentence each. */
  readonly problems: readonly string[];
}

/** Core `TYPE` names; anything else a `TYPE` returns is a module type name. */
const CORE_TYPES = new Set(['string', 'list', 'set', 'zset', 'hash', 'stream']);

/**
 * The `TYPE` reply for a verifier value encoding name (`list-quicklist-2` -> `list`, `module-2` -> `module`).
 */
export function typeOfEncoding(encoding: string): string {
  return encoding.split('-')[0];
}

/** The manifest shard fields this check reads (value types are optional: manifests may not carry them). */
interface CountedShard {
  readonly databases?: readonly RdbDatabaseCount[];
  readonly expiryHistogram?: readonly RdbExpiryBucket[];
  readonly verification?: 'full' | 'partial';
  readonly valueTypes?: Readonly<Record<string, number>>;
}

/** Sums a manifest's per-shard counts. Never throws: shards without counts are listed in `uncountedShards`. */
export function expectedFromManifest(manifest: BackupManifest): ExpectedKeyspace {
  const perDb = new Map<number, { keys: number; keysWithExpiry: number }>();
  const histogram: RdbExpiryBucket[] = [];
  const uncounted: string[] = [];
  const keyTypes: Record<string, number> = {};
  let everyShardTyped = true;
  manifest.shards.forEach((raw, i) => {
    const shard = raw as CountedShard;
    if (manifest.formatVersion < 2 || shard.verification !== 'full' || !Array.isArray(shard.databases)) {
      uncounted.push(`shard ${i + 1} (${manifest.formatVersion < 2 ? 'manifest format 1 carries no counts' : `verification '${shard.verification ?? 'none'}'`})`);
      return;
    }
    for (const d of shard.databases) {
      const sum = perDb.get(d.db) ?? { keys: 0, keysWithExpiry: 0 };
      perDb.set(d.db, { keys: sum.keys + d.keys, keysWithExpiry: sum.keysWithExpiry + d.keysWithExpiry });
    }
    histogram.push(...(shard.expiryHistogram ?? []));
    if (shard.valueTypes) {
      for (const [encoding, n] of Object.entries(shard.valueTypes)) {
        const type = typeOfEncoding(encoding);
        keyTypes[type] = (keyTypes[type] ?? 0) + n;
      }
    } else {
      everyShardTyped = false;
    }
  });
  return {
    databases: uncounted.length > 0 ? undefined : sortedDatabases(perDb),
    expiryHistogram: histogram,
    shardCount: manifest.shardCount,
    clusterMode: manifest.clusterModeEnabled,
    keyTypes: uncounted.length === 0 && everyShardTyped ? keyTypes : undefined,
    uncountedShards: uncounted,
  };
}

/** Keys of the histogram that may be gone at `nowMs`: every bucket starting before it. */
export function expiryAllowanceAt(histogram: readonly RdbExpiryBucket[], nowMs: number): number {
  return keysExpiringBetween(histogram, Number.NEGATIVE_INFINITY, nowMs).atMost;
}

/** Compares what the primaries report with what the manifest promises, at `nowMs`. */
export function checkKeyspace(expected: ExpectedKeyspace, primaries: readonly PrimaryObservation[], nowMs: number): KeyspaceCheckResult {
  const found = sumDatabases(primaries.flatMap((p) => p.databases));
  const foundKeys = total(found, 'keys');
  const cluster: { state?: string; problems: string[] } = expected.clusterMode ? clusterFindings(expected, primaries) : { problems: [] };
  const base = {
    foundKeys, primaries: primaries.length, expectedShards: expected.shardCount, ...(cluster.state ? { clusterState: cluster.state } : {}),
  };
  if (!expected.databases) {
    const problems = [...cluster.problems, `the manifest has no key counts for ${expected.uncountedShards.join(', ')}: the restored keys cannot be compared`];
    return {
      ...base,
      verdict: cluster.problems.length > 0 ? 'CLUSTER_NOT_OK' : 'COUNTS_UNKNOWN',
      passed: false,
      expectedKeys: 0,
      expiryAllowance: 0,
      missingKeys: 0,
      extraKeys: 0,
      restoredKeysRatio: 0,
      databases: found.map((d) => comparison(d.db, undefined, d)),
      problems,
    };
  }
  const databases = compareDatabases(expected.databases, found);
  const expectedKeys = total(expected.databases, 'keys');
  const expiryAllowance = expiryAllowanceAt(expected.expiryHistogram, nowMs);
  const counts = countFindings(databases, expiryAllowance);
  const typeSample = sampleFindings(expected.keyTypes, primaries);
  const problems = [...cluster.problems, ...counts.problems, ...(typeSample?.problems ?? [])];
  return {
    ...base,
    verdict: verdictOf(cluster.problems.length > 0, counts, (typeSample?.sample.unexpectedTypes.length ?? 0) > 0),
    passed: problems.length === 0,
    expectedKeys,
    expiryAllowance,
    missingKeys: counts.missingKeys,
    extraKeys: counts.extraKeys,
    restoredKeysRatio: expectedKeys === 0 ? 1 : foundKeys / expectedKeys,
    databases,
    ...(typeSample ? { typeSample: typeSample.sample } : {}),
    problems,
  };
}

interface CountFindings {
  readonly missingKeys: number;
  readonly extraKeys: number;
  readonly missingBeyondAllowance: boolean;
  readonly problems: readonly string[];
}

function verdictOf(clusterNotOk: boolean, counts: CountFindings, typeMismatch: boolean): KeyspaceVerdict {
  if (clusterNotOk) return 'CLUSTER_NOT_OK';
  if (counts.missingBeyondAllowance) return 'MISSING_KEYS';
  if (counts.extraKeys > 0) return 'EXTRA_KEYS';
  if (typeMismatch) return 'TYPE_MISMATCH';
  return 'MATCH';
}

function countFindings(databases: readonly DatabaseComparison[], allowance: number): CountFindings {
  const problems: string[] = [];
  let missingKeys = 0;
  let extraKeys = 0;
  let missingBeyondAllowance = false;
  for (const d of databases) {
    const missing = Math.max(0, d.expectedKeys - d.foundKeys);
    const extra = Math.max(0, d.foundKeys - d.expectedKeys);
    missingKeys += missing;
    extraKeys += extra;
    if (missing > d.expectedKeysWithExpiry) {
      missingBeyondAllowance = true;
      problems.push(`db${d.db}: ${missing} of ${d.expectedKeys} keys are missing, but only ${d.expectedKeysWithExpiry} of them had an expiry`);
    }
    if (extra > 0) {
      problems.push(`db${d.db}: ${d.foundKeys} keys found, ${extra} more than the ${d.expectedKeys} the manifest holds`);
    }
  }
  if (missingKeys > allowance) {
    missingBeyondAllowance = true;
    problems.push(`${missingKeys} keys are missing, but the expiry histogram allows at most ${allowance} to have expired by the check time`);
  }
  return { missingKeys, extraKeys, missingBeyondAllowance, problems };
}

function clusterFindings(expected: ExpectedKeyspace, primaries: readonly PrimaryObservation[]): { state: string; problems: string[] } {
  const problems: string[] = [];
  const notOk = primaries.find((p) => p.clusterState !== 'ok');
  if (notOk) {
    problems.push(`${notOk.address} reports cluster_state '${notOk.clusterState ?? 'unknown'}', expected 'ok'`);
  }
  if (primaries.length < expected.shardCount) {
    problems.push(`${primaries.length} primaries own slots, but the export has ${expected.shardCount} shards`);
  }
  return { state: notOk ? notOk.clusterState ?? 'unknown' : 'ok', problems };
}

function sampleFindings(
  keyTypes: Readonly<Record<string, number>> | undefined, primaries: readonly PrimaryObservation[],
): { sample: TypeSample; problems: string[] } | undefined {
  const sampled = primaries.flatMap((p) => p.sampledTypes ?? []).filter((t) => t !== 'none');
  if (!keyTypes || sampled.length === 0) return undefined;
  const byType: Record<string, number> = {};
  for (const t of sampled) byType[t] = (byType[t] ?? 0) + 1;
  const counted = (t: string): boolean => (keyTypes[CORE_TYPES.has(t) ? t : 'module'] ?? 0) > 0;
  const unexpectedTypes = Object.keys(byType).filter((t) => !counted(t)).sort();
  const problems = unexpectedTypes.map((t) => `${byType[t]} sampled keys have type '${t}', of which the manifest counted no key`);
  return { sample: { sampled: sampled.length, byType, unexpectedTypes }, problems };
}

function compareDatabases(expected: readonly RdbDatabaseCount[], found: readonly RdbDatabaseCount[]): DatabaseComparison[] {
  const dbs = [...new Set([...expected.map((d) => d.db), ...found.map((d) => d.db)])].sort((a, b) => a - b);
  return dbs.map((db) => comparison(db, expected.find((d) => d.db === db), found.find((d) => d.db === db)));
}

function comparison(db: number, expected: RdbDatabaseCount | undefined, found: RdbDatabaseCount | undefined): DatabaseComparison {
  return {
    db,
    expectedKeys: expected?.keys ?? 0,
    foundKeys: found?.keys ?? 0,
    expectedKeysWithExpiry: expected?.keysWithExpiry ?? 0,
    foundKeysWithExpiry: found?.keysWithExpiry ?? 0,
  };
}

function sumDatabases(counts: readonly RdbDatabaseCount[]): RdbDatabaseCount[] {
  const perDb = new Map<number, { keys: number; keysWithExpiry: number }>();
  for (const d of counts) {
    const sum = perDb.get(d.db) ?? { keys: 0, keysWithExpiry: 0 };
    perDb.set(d.db, { keys: sum.keys + d.keys, keysWithExpiry: sum.keysWithExpiry + d.keysWithExpiry });
  }
  return sortedDatabases(perDb);
}

function sortedDatabases(perDb: Map<number, { keys: number; keysWithExpiry: number }>): RdbDatabaseCount[] {
  return [...perDb.entries()].sort((a, b) => a[0] - b[0]).map(([db, c]) => ({ db, keys: c.keys, keysWithExpiry: c.keysWithExpiry }));
}

function total(counts: readonly RdbDatabaseCount[], field: 'keys' | 'keysWithExpiry'): number {
  return counts.reduce((s, d) => s + d[field], 0);
}

/**
 * Parses `INFO keyspace` (`db0:keys=3,expires=1,avg_ttl=0`; later engines add fields after these). Lines of other
 * sections and comments are ignored.
 */
export function parseInfoKeyspace(text: string): RdbDatabaseCount[] {
  const out: RdbDatabaseCount[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^db(\d+):(.*)$/.exec(line.trim());
    if (!m) continue;
    const fields = Object.fromEntries(m[2].split(',').map((kv) => kv.split('=') as [string, string]));
    if (!/^\d+$/.test(fields.keys ?? '') || !/^\d+$/.test(fields.expires ?? '')) {
      throw new Error(`unexpected INFO keyspace line '${line.trim()}': expected 'db<n>:keys=<n>,expires=<n>,...'`);
    }
    out.push({ db: Number(m[1]), keys: Number(fields.keys), keysWithExpiry: Number(fields.expires) });
  }
  return out;
}

/** `cluster_state` of a `CLUSTER INFO` reply, or undefined when absent. */
export function parseClusterState(text: string): string | undefined {
  return /^cluster_state:(\S+)/m.exec(text)?.[1];
}

/** A primary from `CLUSTER NODES`. `hostname` is set when the engine announces one (Redis 7+, ElastiCache with TLS). */
export interface ClusterPrimary {
  readonly id: string;
  readonly ip: string;
  readonly port: number;
  readonly hostname?: string;
  readonly slots: number;
}

/**
 * Primaries that own slots and are not failed, from `CLUSTER NODES`
 * (`<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot> ...`).
 */
export function parseClusterPrimaries(text: string): ClusterPrimary[] {
  const out: ClusterPrimary[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 8) continue;
    const flags = parts[2].split(',');
    if (!flags.includes('master') || flags.includes('fail') || flags.includes('noaddr')) continue;
    const slots = parts.slice(8).filter((s) => !s.startsWith('[')).reduce((n, range) => {
      const [from, to] = range.split('-').map(Number);
      return n + (to === undefined ? 1 : to - from + 1);
    }, 0);
    if (slots === 0) continue;
    const m = /^(.*):(\d+)(?:@\d+)?(?:,(.*))?$/.exec(parts[1]);
    if (!m) throw new Error(`unexpected CLUSTER NODES address '${parts[1]}' in line '${line.trim()}'`);
    out.push({ id: parts[0], ip: m[1], port: Number(m[2]), ...(m[3] ? { hostname: m[3] } : {}), slots });
  }
  return out;
}
