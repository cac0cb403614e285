/**
 * Field-by-field validation of a manifest's shards (format versions 1 and 2). Pure; used by `parseManifest`.
 *
 * Every message names the field (`shards[2].versionId`), the value received and what is allowed, so that an operator
 * who finds a manifest refused in a log knows what is wrong with it without reading this code.
 */

/** A shard's fields as read from JSON, before validation. */
type RawShard = Record<string, unknown>;

const CRC64_HEX = /^[0-9a-f]{16}$/;
const RDB_SUFFIX = /-(\d{4})\.rdb$/;

/**
 * Validates the shards of a manifest and returns the first problem (a message without the manifest's location), or
 * undefined when every shard is valid.
 *
 * @param formatVersion 1 or 2: version 2 requires the verification fields
 */
export function shardsProblem(shards: readonly unknown[], formatVersion: number): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < shards.length; i++) {
    const problem = shardProblem(shards[i], `shards[${i}]`, formatVersion);
    if (problem) {
      return problem;
    }
    const key = (shards[i] as RawShard).key as string;
    if (seen.has(key)) {
      return `shards[${i}].key '${key}' is listed more than once`;
    }
    seen.add(key);
  }
  return undefined;
}

function shardProblem(shard: unknown, at: string, formatVersion: number): string | undefined {
  if (typeof shard !== 'object' || shard === null || Array.isArray(shard)) {
    return `${at} must be an object, got ${JSON.stringify(shard)}`;
  }
  const s = shard as RawShard;
  return keyProblem(s, at)
    ?? sizeProblem(s, at, formatVersion)
    ?? (formatVersion >= 2 ? requiredV2Problem(s, at) : undefined)
    ?? optionalFieldsProblem(s, at)
    ?? contentProblem(s, at);
}

function keyProblem(s: RawShard, at: string): string | undefined {
  if (typeof s.key !== 'string' || s.key.length === 0) {
    return `${at}.key must be a non-empty string, got ${JSON.stringify(s.key)}`;
  }
  if (s.key.includes(',')) {
    return `${at}.key '${s.key}' contains a comma, which ElastiCache does not accept in a seed ARN`;
  }
  if (!RDB_SUFFIX.test(s.key)) {
    return `${at}.key '${s.key}' is not an export object key (<name>-NNNN.rdb)`;
  }
  return undefined;
}

function sizeProblem(s: RawShard, at: string, formatVersion: number): string | undefined {
  const minimum = formatVersion >= 2 ? 1 : 0;
  if (!isInteger(s.sizeBytes) || s.sizeBytes < minimum) {
    const allowed = minimum === 1 ? 'a positive integer (a verified object is never empty)' : 'a non-negative integer';
    return `${at}.sizeBytes must be ${allowed}, got ${JSON.stringify(s.sizeBytes)}`;
  }
  return undefined;
}

/** The fields every shard of a format 2 manifest carries: what was verified, which version, and when. */
function requiredV2Problem(s: RawShard, at: string): string | undefined {
  const missing = ['versionId', 'etag', 'rdbVersion', 'verification', 'checksum', 'verifiedAt'].filter((f) => s[f] === undefined);
  if (s.crc64 === undefined && s.checksum !== 'absent') {
    missing.push('crc64');
  }
  if (s.verification === 'full') {
    missing.push(...['databases', 'keys', 'keysWithExpiry', 'expiryHistogram'].filter((f) => s[f] === undefined));
  }
  if (missing.length === 0) {
    return undefined;
  }
  return `${at} lacks ${missing.map((f) => `'${f}'`).join(', ')}, which a format 2 manifest records for every `
    + `${s.verification === 'full' ? 'fully verified ' : ''}shard`;
}

/** Type checks of the v2 scalar fields, whenever they are present (also in v1, where they carry no trust). */
function optionalFieldsProblem(s: RawShard, at: string): string | undefined {
  const checks: Array<[string, (v: unknown) => boolean, string]> = [
    ['versionId', isNonEmptyString, 'a non-empty string (the S3 VersionId that was verified)'],
    ['etag', isNonEmptyString, 'a non-empty string (the ETag S3 returned)'],
    ['rdbVersion', (v) => isInteger(v) && v >= 1, 'an integer of at least 1'],
    ['verification', (v) => v === 'full' || v === 'partial', "'full' or 'partial'"],
    ['checksum', (v) => v === 'ok' || v === 'disabled' || v === 'absent', "'ok', 'disabled' or 'absent'"],
    ['crc64', (v) => typeof v === 'string' && CRC64_HEX.test(v), '16 lowercase hex digits'],
    ['verifiedAt', isTime, 'an ISO-8601 time'],
    ['writerEngine', (v) => v === 'redis' || v === 'valkey', "'redis' or 'valkey'"],
    ['writerVersion', isNonEmptyString, 'a non-empty string'],
    ['keys', isCount, 'a non-negative integer'],
    ['keysWithExpiry', isCount, 'a non-negative integer'],
  ];
  for (const [field, ok, allowed] of checks) {
    if (s[field] !== undefined && !ok(s[field])) {
      return `${at}.${field} must be ${allowed}, got ${JSON.stringify(s[field])}`;
    }
  }
  return undefined;
}

/** Keys per database and the expiry histogram: well formed, and consistent with the shard's totals. */
function contentProblem(s: RawShard, at: string): string | undefined {
  const databases = s.databases === undefined ? undefined : databasesProblem(s.databases, `${at}.databases`);
  if (typeof databases === 'string') {
    return databases;
  }
  if (databases && s.keys !== undefined && databases.keys !== s.keys) {
    return `${at}.keys is ${s.keys}, but ${at}.databases add up to ${databases.keys} keys`;
  }
  if (databases && s.keysWithExpiry !== undefined && databases.keysWithExpiry !== s.keysWithExpiry) {
    return `${at}.keysWithExpiry is ${s.keysWithExpiry}, but ${at}.databases add up to ${databases.keysWithExpiry} keys with an expiry`;
  }
  if (isCount(s.keys) && isCount(s.keysWithExpiry) && s.keysWithExpiry > s.keys) {
    return `${at}.keysWithExpiry (${s.keysWithExpiry}) cannot exceed ${at}.keys (${s.keys})`;
  }
  if (s.expiryHistogram === undefined) {
    return undefined;
  }
  const histogram = histogramProblem(s.expiryHistogram, `${at}.expiryHistogram`);
  if (typeof histogram === 'string') {
    return histogram;
  }
  if (s.keysWithExpiry !== undefined && histogram !== s.keysWithExpiry) {
    return `${at}.expiryHistogram holds ${histogram} keys, but ${at}.keysWithExpiry is ${s.keysWithExpiry}`;
  }
  return undefined;
}

function databasesProblem(value: unknown, at: string): string | { keys: number; keysWithExpiry: number } {
  if (!Array.isArray(value)) {
    return `${at} must be an array of { db, keys, keysWithExpiry }, got ${JSON.stringify(value)}`;
  }
  const dbs = new Set<number>();
  let keys = 0;
  let keysWithExpiry = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value[i] as Record<string, unknown>;
    const where = `${at}[${i}]`;
    if (typeof d !== 'object' || d === null || !isCount(d.db) || !isCount(d.keys) || !isCount(d.keysWithExpiry)) {
      return `${where} must be { db, keys, keysWithExpiry } with non-negative integers, got ${JSON.stringify(d)}`;
    }
    if (d.keysWithExpiry > d.keys) {
      return `${where}.keysWithExpiry (${d.keysWithExpiry}) cannot exceed ${where}.keys (${d.keys})`;
    }
    if (dbs.has(d.db)) {
      return `${where}.db ${d.db} is listed more than once`;
    }
    dbs.add(d.db);
    keys += d.keys;
    keysWithExpiry += d.keysWithExpiry;
  }
  return { keys, keysWithExpiry };
}

/** Returns the number of keys in the histogram, or the problem. */
function histogramProblem(value: unknown, at: string): string | number {
  if (!Array.isArray(value)) {
    return `${at} must be an array of { notBefore, notAfter, keys }, got ${JSON.stringify(value)}`;
  }
  let total = 0;
  let previousEnd = -Infinity;
  for (let i = 0; i < value.length; i++) {
    const b = value[i] as Record<string, unknown>;
    const where = `${at}[${i}]`;
    if (typeof b !== 'object' || b === null || !isFiniteNumber(b.notBefore) || !isFiniteNumber(b.notAfter) || !isCount(b.keys)) {
      return `${where} must be { notBefore, notAfter, keys } (epoch milliseconds and a count), got ${JSON.stringify(b)}`;
    }
    if (b.notBefore >= b.notAfter) {
      return `${where}: notBefore (${b.notBefore}) must be before notAfter (${b.notAfter})`;
    }
    if (b.notBefore < previousEnd) {
      return `${where} starts at ${b.notBefore}, before the previous bucket ends (${previousEnd}): buckets must be sorted and disjoint`;
    }
    previousEnd = b.notAfter;
    total += b.keys;
  }
  return total;
}

function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isCount(v: unknown): v is number {
  return isInteger(v) && v >= 0;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function isTime(v: unknown): boolean {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
}
