import * as fc from 'fast-check';
import {
  checkKeyspace,
  ExpectedKeyspace,
  expectedFromManifest,
  expiryAllowanceAt,
  parseClusterPrimaries,
  parseClusterState,
  parseInfoKeyspace,
  PrimaryObservation,
  typeOfEncoding,
} from '../../lib/drill/keyspace-check';
import type { BackupManifest, ManifestShard } from '../../lib/manifest/manifest';
import type { RdbExpiryBucket } from '../../lib/rdb/types';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

/** Expected counts written out by hand (the oracle), not derived with the code under test. */
function expected(overrides: Partial<ExpectedKeyspace> = {}): ExpectedKeyspace {
  return {
    databases: [{ db: 0, keys: 100, keysWithExpiry: 10 }, { db: 1, keys: 20, keysWithExpiry: 0 }],
    expiryHistogram: [
      { notBefore: T0 - HOUR, notAfter: T0, keys: 2 }, // already expired at backup
      { notBefore: T0 + HOUR, notAfter: T0 + 2 * HOUR, keys: 3 },
      { notBefore: T0 + 10 * HOUR, notAfter: T0 + 12 * HOUR, keys: 5 },
    ],
    shardCount: 1,
    clusterMode: false,
    uncountedShards: [],
    ...overrides,
  };
}

function primary(databases: Array<[number, number, number]>, extra: Partial<PrimaryObservation> = {}): PrimaryObservation {
  return { address: '10.0.0.1:6379', databases: databases.map(([db, keys, keysWithExpiry]) => ({ db, keys, keysWithExpiry })), ...extra };
}

describe('checkKeyspace verdicts', () => {
  test.each([
    // name, found db0, found db1, check time, verdict, missing, allowance
    ['everything restored', 100, 20, T0, 'MATCH', 0, 2],
    ['keys expired at backup time are gone', 98, 20, T0, 'MATCH', 2, 2],
    ['one key too many lost right after the backup', 97, 20, T0, 'MISSING_KEYS', 3, 2],
    ['first future bucket has started: its keys count whole', 95, 20, T0 + HOUR + 1, 'MATCH', 5, 5],
    ['first future bucket not started yet', 95, 20, T0 + HOUR, 'MISSING_KEYS', 5, 2],
    ['all buckets passed', 90, 20, T0 + 13 * HOUR, 'MATCH', 10, 10],
    ['more lost than ever had an expiry in db0', 89, 20, T0 + 13 * HOUR, 'MISSING_KEYS', 11, 10],
    ['a database without expiring keys lost one', 100, 19, T0 + 13 * HOUR, 'MISSING_KEYS', 1, 10],
    ['an extra key', 101, 20, T0, 'EXTRA_KEYS', 0, 2],
    ['missing beats extra', 95, 21, T0, 'MISSING_KEYS', 5, 2],
  ] as const)('%s', (_name, db0, db1, now, verdict, missing, allowance) => {
    const result = checkKeyspace(expected(), [primary([[0, db0, 0], [1, db1, 0]])], now);
    expect(result.verdict).toBe(verdict);
    expect(result.passed).toBe(verdict === 'MATCH');
    expect(result.missingKeys).toBe(missing);
    expect(result.expiryAllowance).toBe(allowance);
    expect(result.problems.length === 0).toBe(verdict === 'MATCH');
  });

  test('a database the manifest does not know is extra, and the ratio is found over expected', () => {
    const result = checkKeyspace(expected(), [primary([[0, 100, 10], [1, 20, 0], [7, 3, 0]])], T0);
    expect(result).toMatchObject({ verdict: 'EXTRA_KEYS', extraKeys: 3, expectedKeys: 120, foundKeys: 123 });
    expect(result.restoredKeysRatio).toBeCloseTo(123 / 120, 12);
    expect(result.databases.map((d) => d.db)).toEqual([0, 1, 7]);
    expect(result.problems).toEqual(['db7: 3 keys found, 3 more than the 0 the manifest holds']);
  });

  test('an empty export restored empty is a MATCH with ratio 1', () => {
    const result = checkKeyspace(expected({ databases: [], expiryHistogram: [] }), [primary([])], T0);
    expect(result).toMatchObject({ verdict: 'MATCH', expectedKeys: 0, foundKeys: 0, restoredKeysRatio: 1 });
  });

  test('counts of several primaries are summed per database', () => {
    const result = checkKeyspace(
      expected({ databases: [{ db: 0, keys: 30, keysWithExpiry: 0 }], expiryHistogram: [], clusterMode: true, shardCount: 3 }),
      [10, 12, 8].map((n, i) => primary([[0, n, 0]], { address: `node${i}:6379`, clusterState: 'ok' })),
      T0,
    );
    expect(result).toMatchObject({ verdict: 'MATCH', foundKeys: 30, primaries: 3, clusterState: 'ok' });
  });

  test('a sharded group with a primary whose cluster_state is fail is CLUSTER_NOT_OK, before any count problem', () => {
    const result = checkKeyspace(
      expected({ databases: [{ db: 0, keys: 30, keysWithExpiry: 0 }], expiryHistogram: [], clusterMode: true, shardCount: 2 }),
      [primary([[0, 10, 0]], { clusterState: 'ok' }), primary([[0, 10, 0]], { address: 'b:6379', clusterState: 'fail' })],
      T0,
    );
    expect(result.verdict).toBe('CLUSTER_NOT_OK');
    expect(result.clusterState).toBe('fail');
    expect(result.problems).toContain("b:6379 reports cluster_state 'fail', expected 'ok'");
    expect(result.problems).toContain('db0: 10 of 30 keys are missing, but only 0 of them had an expiry');
  });

  test('fewer primaries owning slots than exported shards is CLUSTER_NOT_OK', () => {
    const result = checkKeyspace(
      expected({ databases: [{ db: 0, keys: 10, keysWithExpiry: 0 }], expiryHistogram: [], clusterMode: true, shardCount: 2 }),
      [primary([[0, 10, 0]], { clusterState: 'ok' })],
      T0,
    );
    expect(result).toMatchObject({ verdict: 'CLUSTER_NOT_OK', problems: ['1 primaries own slots, but the export has 2 shards'] });
  });

  test('a sampled type the manifest counted no key of is TYPE_MISMATCH; vanished keys (none) are ignored', () => {
    const keyTypes = { string: 90, hash: 30 };
    const ok = checkKeyspace(expected({ keyTypes }), [primary([[0, 100, 10], [1, 20, 0]], { sampledTypes: ['string', 'hash', 'none'] })], T0);
    expect(ok.verdict).toBe('MATCH');
    expect(ok.typeSample).toEqual({ sampled: 2, byType: { string: 1, hash: 1 }, unexpectedTypes: [] });
    const bad = checkKeyspace(expected({ keyTypes }), [primary([[0, 100, 10], [1, 20, 0]], { sampledTypes: ['string', 'zset', 'ReJSON-RL'] })], T0);
    expect(bad.verdict).toBe('TYPE_MISMATCH');
    expect(bad.typeSample?.unexpectedTypes).toEqual(['ReJSON-RL', 'zset']);
  });

  test('without value types in the manifest, samples are not judged', () => {
    const result = checkKeyspace(expected(), [primary([[0, 100, 10], [1, 20, 0]], { sampledTypes: ['zset'] })], T0);
    expect(result.verdict).toBe('MATCH');
    expect(result.typeSample).toBeUndefined();
  });

  test('a manifest without counts gives COUNTS_UNKNOWN and still reports what was found', () => {
    const result = checkKeyspace(expected({ databases: undefined, uncountedShards: ["shard 2 (verification 'partial')"] }), [primary([[0, 5, 0]])], T0);
    expect(result).toMatchObject({ verdict: 'COUNTS_UNKNOWN', passed: false, foundKeys: 5 });
    expect(result.problems[0]).toMatch(/no key counts for shard 2 \(verification 'partial'\)/);
  });
});

describe('expiryAllowanceAt', () => {
  const histogram: RdbExpiryBucket[] = [
    { notBefore: 100, notAfter: 200, keys: 1 },
    { notBefore: 200, notAfter: 400, keys: 2 },
    { notBefore: 400, notAfter: 800, keys: 4 },
  ];
  test.each([[50, 0], [100, 0], [101, 1], [200, 1], [201, 3], [399, 3], [401, 7], [10_000, 7]])('at %d: %d keys', (now, keys) => {
    expect(expiryAllowanceAt(histogram, now)).toBe(keys);
  });
});

describe('property: the allowance never lets a loss beyond the histogram pass', () => {
  const bucket = fc.record({
    start: fc.integer({ min: -1000, max: 1000 }), width: fc.integer({ min: 1, max: 500 }), keys: fc.integer({ min: 0, max: 50 }),
  });
  test('MATCH implies every missing key could have expired by the check time', () => {
    fc.assert(fc.property(
      fc.array(bucket, { maxLength: 6 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: -1500, max: 1500 }),
      (buckets, dbs, now) => {
        const histogram = buckets.map((b) => ({ notBefore: T0 + b.start, notAfter: T0 + b.start + b.width, keys: b.keys }));
        const withExpiry = histogram.reduce((s, b) => s + b.keys, 0);
        // db0 holds every key with an expiry; found counts are arbitrary.
        const databases = dbs.map(([keys], db) => ({ db, keys: keys + (db === 0 ? withExpiry : 0), keysWithExpiry: db === 0 ? withExpiry : 0 }));
        const found = dbs.map(([, keys], db) => [db, keys, 0] as [number, number, number]);
        const result = checkKeyspace(expected({ databases, expiryHistogram: histogram }), [primary(found)], T0 + now);
        // Independent oracle: keys of buckets that start strictly before the check time.
        const mayHaveExpired = histogram.filter((b) => b.notBefore < T0 + now).reduce((s, b) => s + b.keys, 0);
        const lost = databases.reduce((s, d, i) => s + Math.max(0, d.keys - found[i][1]), 0);
        if (result.verdict === 'MATCH') {
          expect(lost).toBeLessThanOrEqual(mayHaveExpired);
          expect(found.every(([db, keys]) => keys <= databases[db].keys)).toBe(true);
        }
        if (lost > mayHaveExpired) expect(result.verdict).toBe('MISSING_KEYS');
      },
    ), { numRuns: 500 });
  });
});

describe('expectedFromManifest', () => {
  type TypedShard = Partial<ManifestShard> & { valueTypes?: Record<string, number> };
  const shard = (databases: Array<[number, number, number]>, extra: TypedShard = {}): ManifestShard => ({
    key: 'x-0001.rdb',
    sizeBytes: 10,
    verification: 'full',
    databases: databases.map(([db, keys, keysWithExpiry]) => ({ db, keys, keysWithExpiry })),
    expiryHistogram: [{ notBefore: 1, notAfter: 2, keys: 1 }],
    ...extra,
  });
  const manifest = (shards: ManifestShard[], formatVersion = 2): BackupManifest => ({
    formatVersion,
    replicationGroupId: 'g',
    region: 'eu-west-1',
    bucket: 'b',
    snapshotName: 's',
    snapshotSource: 'manual',
    snapshotCreateTime: '2026-12-01T00:00:00Z',
    exportName: 'e',
    exportTime: '2026-12-01T00:10:00Z',
    engine: 'redis',
    engineVersion: '7.0',
    nodeType: 'cache.t4g.micro',
    clusterModeEnabled: shards.length > 1,
    shardCount: shards.length,
    shards,
  });

  test('sums shards per database, concatenates histograms and maps encodings to TYPE names', () => {
    const e = expectedFromManifest(manifest([
      shard([[0, 5, 1]], { valueTypes: { 'string': 3, 'list-quicklist-2': 2 } }),
      shard([[0, 4, 1], [3, 2, 0]], { valueTypes: { 'hash-listpack': 5, 'module-2': 1 } }),
    ]));
    expect(e.databases).toEqual([{ db: 0, keys: 9, keysWithExpiry: 2 }, { db: 3, keys: 2, keysWithExpiry: 0 }]);
    expect(e.expiryHistogram).toHaveLength(2);
    expect(e.keyTypes).toEqual({ string: 3, list: 2, hash: 5, module: 1 });
    expect(e).toMatchObject({ shardCount: 2, clusterMode: true, uncountedShards: [] });
  });

  test('value types are only used when every shard has them', () => {
    expect(expectedFromManifest(manifest([shard([[0, 1, 0]], { valueTypes: { string: 1 } }), shard([[0, 1, 0]])])).keyTypes).toBeUndefined();
  });

  test('partial shards and format 1 manifests have no counts', () => {
    const partial = expectedFromManifest(manifest([shard([[0, 1, 0]]), { key: 'x-0002.rdb', sizeBytes: 10, verification: 'partial' }]));
    expect(partial.databases).toBeUndefined();
    expect(partial.uncountedShards).toEqual(["shard 2 (verification 'partial')"]);
    expect(expectedFromManifest(manifest([{ key: 'x-0001.rdb', sizeBytes: 10 }], 1)).uncountedShards)
      .toEqual(['shard 1 (manifest format 1 carries no counts)']);
  });
});

describe('reply parsers', () => {
  test('INFO keyspace of Redis 7.0, Valkey 8 and later fields', () => {
    expect(parseInfoKeyspace('# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\ndb12:keys=10,expires=0,avg_ttl=0,subexpiry=0\r\n')).toEqual([
      { db: 0, keys: 3, keysWithExpiry: 1 }, { db: 12, keys: 10, keysWithExpiry: 0 },
    ]);
    expect(parseInfoKeyspace('# Keyspace\r\n')).toEqual([]);
    expect(() => parseInfoKeyspace('db0:keys=x,expires=1')).toThrow(/unexpected INFO keyspace line 'db0:keys=x,expires=1'/);
  });

  test('cluster_state', () => {
    expect(parseClusterState('cluster_enabled:1\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\n')).toBe('ok');
    expect(parseClusterState('cluster_state:fail\r\n')).toBe('fail');
    expect(parseClusterState('')).toBeUndefined();
  });

  test('CLUSTER NODES: primaries owning slots, with hostnames when announced', () => {
    const text = [
      'a1 10.0.0.1:6379@16379,node-0001-001.grp.xxx.cache.amazonaws.com myself,master - 0 0 1 connected 0-5460',
      'b2 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922 10923 [10924->-c3]',
      'c3 10.0.0.3:6379@16379 master,fail - 0 0 3 disconnected 10924-16383',
      'd4 10.0.0.4:6379@16379 slave a1 0 0 1 connected',
      'e5 10.0.0.5:6379@16379 master - 0 0 5 connected',
      '',
    ].join('\n');
    expect(parseClusterPrimaries(text)).toEqual([
      { id: 'a1', ip: '10.0.0.1', port: 6379, hostname: 'node-0001-001.grp.xxx.cache.amazonaws.com', slots: 5461 },
      { id: 'b2', ip: '10.0.0.2', port: 6379, slots: 5463 },
    ]);
  });

  test('typeOfEncoding', () => {
    expect(['string', 'list-quicklist-2', 'set-intset', 'zset-listpack', 'hash-metadata', 'stream-listpacks-3', 'module-2'].map(typeOfEncoding))
      .toEqual(['string', 'list', 'set', 'zset', 'hash', 'stream', 'module']);
  });
});
