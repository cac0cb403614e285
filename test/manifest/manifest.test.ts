import { asV1, manifestV2, verifiedShard } from './fixtures';
import { ManifestError, parseManifest, serializeManifest } from '../../lib/manifest/manifest';

const WHERE = 's3://replica/manifests/orders/20261120t031500z_automatic.orders.json';
const time = new Date('2026-11-20T03:15:00Z');
const good = manifestV2({
  group: 'orders',
  time,
  snapshotName: 'automatic.orders',
  exportName: 'orders-20261120t031500z',
  shards: [
    verifiedShard('orders-20261120t031500z-0001.rdb', 269, 'v1', '"etag1"'),
    verifiedShard('orders-20261120t031500z-0002.rdb', 300, 'v2', '"etag2"', {
      verification: 'partial', databases: undefined, keys: undefined, keysWithExpiry: undefined, expiryHistogram: undefined,
    }),
  ],
});

/** The manifest as JSON with one shard field replaced (undefined: removed). */
function withShardField(index: number, field: string, value: unknown): string {
  const raw = JSON.parse(serializeManifest(good));
  if (value === undefined) {
    delete raw.shards[index][field];
  } else {
    raw.shards[index][field] = value;
  }
  return JSON.stringify(raw);
}

function problemOf(text: string): string {
  try {
    parseManifest(text, WHERE);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as Error).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('parseManifest, format 2', () => {
  test('reads a manifest with a fully and a partially verified shard back unchanged', () => {
    expect(parseManifest(serializeManifest(good), WHERE)).toEqual(good);
  });

  test('reads a format 1 manifest without any verification field', () => {
    const v1 = asV1(good);
    expect(parseManifest(serializeManifest(v1), WHERE)).toEqual(v1);
  });

  test('ignores fields it does not know (a newer writer may add some)', () => {
    const raw = JSON.parse(serializeManifest(good));
    raw.shards[0].futureField = 'x';
    raw.futureTopLevel = 1;
    expect(parseManifest(JSON.stringify(raw), WHERE).shards[0].versionId).toBe('v1');
  });

  test.each([
    ['versionId', "shards[0] lacks 'versionId', which a format 2 manifest records for every fully verified shard"],
    ['etag', "shards[0] lacks 'etag', which a format 2 manifest records for every fully verified shard"],
    ['verification', "shards[0] lacks 'verification', which a format 2 manifest records for every shard"],
    ['verifiedAt', "shards[0] lacks 'verifiedAt', which a format 2 manifest records for every fully verified shard"],
    ['crc64', "shards[0] lacks 'crc64', which a format 2 manifest records for every fully verified shard"],
    ['databases', "shards[0] lacks 'databases', which a format 2 manifest records for every fully verified shard"],
    ['expiryHistogram', "shards[0] lacks 'expiryHistogram', which a format 2 manifest records for every fully verified shard"],
  ])('refuses a format 2 shard without %s, naming it', (field, message) => {
    expect(problemOf(withShardField(0, field, undefined))).toBe(`manifest ${WHERE}: ${message}`);
  });

  test('a partially verified shard needs no key counts, but a crc64 unless the checksum is absent', () => {
    expect(problemOf(withShardField(1, 'crc64', undefined))).toBe(`manifest ${WHERE}: shards[1] lacks 'crc64', which a format 2 manifest records for every shard`);
    const raw = JSON.parse(withShardField(1, 'crc64', undefined));
    raw.shards[1].checksum = 'absent';
    expect(parseManifest(JSON.stringify(raw), WHERE).shards[1].crc64).toBeUndefined();
  });

  test.each([
    ['sizeBytes', 0, 'shards[0].sizeBytes must be a positive integer (a verified object is never empty), got 0'],
    ['sizeBytes', 1.5, 'shards[0].sizeBytes must be a positive integer (a verified object is never empty), got 1.5'],
    ['versionId', '', 'shards[0].versionId must be a non-empty string (the S3 VersionId that was verified), got ""'],
    ['etag', 7, 'shards[0].etag must be a non-empty string (the ETag S3 returned), got 7'],
    ['rdbVersion', 0, 'shards[0].rdbVersion must be an integer of at least 1, got 0'],
    ['verification', 'header', "shards[0].verification must be 'full' or 'partial', got \"header\""],
    ['checksum', 'bad', "shards[0].checksum must be 'ok', 'disabled' or 'absent', got \"bad\""],
    ['crc64', '5C301B03EBC04F42', 'shards[0].crc64 must be 16 lowercase hex digits, got "5C301B03EBC04F42"'],
    ['crc64', '5c301b03', 'shards[0].crc64 must be 16 lowercase hex digits, got "5c301b03"'],
    ['verifiedAt', 'yesterday', 'shards[0].verifiedAt must be an ISO-8601 time, got "yesterday"'],
    ['writerEngine', 'keydb', "shards[0].writerEngine must be 'redis' or 'valkey', got \"keydb\""],
    ['keys', -1, 'shards[0].keys must be a non-negative integer, got -1'],
    ['keys', 3, 'shards[0].keys is 3, but shards[0].databases add up to 2 keys'],
    ['keysWithExpiry', 2, 'shards[0].keysWithExpiry is 2, but shards[0].databases add up to 1 keys with an expiry'],
    ['databases', {}, 'shards[0].databases must be an array of { db, keys, keysWithExpiry }, got {}'],
    ['databases', [{ db: 0, keys: 1, keysWithExpiry: 2 }], 'shards[0].databases[0].keysWithExpiry (2) cannot exceed shards[0].databases[0].keys (1)'],
    ['databases', [{ db: 0, keys: 1, keysWithExpiry: 1 }, { db: 0, keys: 1, keysWithExpiry: 0 }], 'shards[0].databases[1].db 0 is listed more than once'],
    ['databases', [{ db: -1, keys: 2, keysWithExpiry: 1 }],
      'shards[0].databases[0] must be { db, keys, keysWithExpiry } with non-negative integers, got {"db":-1,"keys":2,"keysWithExpiry":1}'],
    ['expiryHistogram', [{ notBefore: 5, notAfter: 5, keys: 1 }], 'shards[0].expiryHistogram[0]: notBefore (5) must be before notAfter (5)'],
    ['expiryHistogram', [{ notBefore: 0, notAfter: 10, keys: 0 }, { notBefore: 5, notAfter: 20, keys: 1 }],
      'shards[0].expiryHistogram[1] starts at 5, before the previous bucket ends (10): buckets must be sorted and disjoint'],
    ['expiryHistogram', [{ notBefore: 0, notAfter: 10, keys: 2 }], 'shards[0].expiryHistogram holds 2 keys, but shards[0].keysWithExpiry is 1'],
    ['expiryHistogram', [{ notBefore: '0', notAfter: 10, keys: 1 }],
      'shards[0].expiryHistogram[0] must be { notBefore, notAfter, keys } (epoch milliseconds and a count), got {"notBefore":"0","notAfter":10,"keys":1}'],
  ])('refuses shards[0].%s = %j with a message naming the field', (field, value, message) => {
    expect(problemOf(withShardField(0, field, value))).toBe(`manifest ${WHERE}: ${message}`);
  });

  test('refuses a shard listed twice', () => {
    expect(problemOf(withShardField(1, 'key', good.shards[0].key))).toBe(`manifest ${WHERE}: shards[1].key '${good.shards[0].key}' is listed more than once`);
  });

  test('refuses a shard key that is not an export object, and one with a comma', () => {
    expect(problemOf(withShardField(0, 'key', 'orders.rdb'))).toBe(`manifest ${WHERE}: shards[0].key 'orders.rdb' is not an export object key (<name>-NNNN.rdb)`);
    expect(problemOf(withShardField(0, 'key', 'a,b-0001.rdb')))
      .toBe(`manifest ${WHERE}: shards[0].key 'a,b-0001.rdb' contains a comma, which ElastiCache does not accept in a seed ARN`);
  });

  test('a format 1 manifest may list an empty object (it is refused later, as unverified and empty), a format 2 one may not', () => {
    const v1 = JSON.parse(serializeManifest(asV1(good)));
    v1.shards[0].sizeBytes = 0;
    expect(parseManifest(JSON.stringify(v1), WHERE).shards[0].sizeBytes).toBe(0);
  });

  test('refuses a snapshot time that is not ISO-8601, even one Date.parse would read', () => {
    const raw = JSON.parse(serializeManifest(good));
    raw.snapshotCreateTime = 'November 20, 2026';
    expect(problemOf(JSON.stringify(raw))).toBe(`manifest ${WHERE}: field 'snapshotCreateTime' must be an ISO-8601 time, got "November 20, 2026"`);
  });

  test('refuses an unknown format version, saying which it reads', () => {
    const raw = JSON.parse(serializeManifest(good));
    raw.formatVersion = 3;
    expect(problemOf(JSON.stringify(raw))).toBe(`manifest ${WHERE} has formatVersion 3; this version of cdk-elasticache-backup reads formatVersion 1 and 2`);
  });
});
