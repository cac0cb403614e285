import { CacheEngine, EngineType } from '../../lib/engine';
import { checkRdbCompatibility } from '../../lib/rdb/header';

/*
 * Oracle: valkey-io/valkey src/rdb.h (RDB_VERSION_MAP {11: 7.2, 80: 9.0, 81: 9.2}; 12-79 foreign; 80+ written under the
 * VALKEY magic) and redis/redis src/rdb.c (only the REDIS magic loads). Written out by hand, not derived from the table.
 */
describe('engine constants', () => {
  test.each([
    [CacheEngine.VALKEY_8_2, 'valkey', '8.2', 'valkey8', 11],
    [CacheEngine.VALKEY_9_0, 'valkey', '9.0', 'valkey9', 80],
    [CacheEngine.VALKEY_9_1, 'valkey', '9.1', 'valkey9', 80],
    [CacheEngine.valkey('9.0'), 'valkey', '9.0', 'valkey9', 80],
  ])('%s: engine %s %s, family %s, reads up to RDB %d with certainty', (engine, type, version, family, newest) => {
    expect(engine.engineType).toBe(type);
    expect(engine.engineVersion).toBe(version);
    expect(engine.parameterGroupFamily).toBe(family);
    expect(engine.newestReadableRdbVersion).toBe(newest);
    expect(engine.rdbCompatibilityCertain).toBe(true);
  });

  test('an unlisted Valkey 9 minor still gets the valkey9 family but no RDB claim', () => {
    const engine = CacheEngine.valkey('9.3');
    expect(engine.engineType).toBe(EngineType.VALKEY);
    expect(engine.parameterGroupFamily).toBe('valkey9');
    expect(engine.newestReadableRdbVersion).toBeUndefined();
    expect(engine.rdbCompatibilityCertain).toBe(false);
  });
});

describe('RDB compatibility of the new engines', () => {
  test.each([
    // A VALKEY-magic file (80+) is a certain error for every Redis OSS target, listed or not, certain or not.
    [80, CacheEngine.REDIS_6_2, 'error'],
    [80, CacheEngine.REDIS_7_0, 'error'],
    [80, CacheEngine.REDIS_7_1, 'error'],
    [81, CacheEngine.REDIS_7_1, 'error'],
    [80, CacheEngine.redis('7.2'), 'error'],
    [80, CacheEngine.redis('8.0'), 'error'],
    // Valkey 9.0 and 9.1 read RDB 9 to 11 and their own 80.
    [9, CacheEngine.VALKEY_9_0, 'ok'],
    [10, CacheEngine.VALKEY_9_0, 'ok'],
    [11, CacheEngine.VALKEY_9_0, 'ok'],
    [80, CacheEngine.VALKEY_9_0, 'ok'],
    [9, CacheEngine.VALKEY_9_1, 'ok'],
    [11, CacheEngine.VALKEY_9_1, 'ok'],
    [80, CacheEngine.VALKEY_9_1, 'ok'],
    // Valkey 9.2's RDB 81 is too new for them, with certainty.
    [81, CacheEngine.VALKEY_9_0, 'error'],
    [81, CacheEngine.VALKEY_9_1, 'error'],
    // Foreign Redis 7.4+ versions stay errors.
    [12, CacheEngine.VALKEY_9_0, 'error'],
    [79, CacheEngine.VALKEY_9_1, 'error'],
    // Valkey 8.2 reads 11 (certain now), not 80.
    [11, CacheEngine.VALKEY_8_2, 'ok'],
    [80, CacheEngine.VALKEY_8_2, 'error'],
    // Any Valkey reads up to RDB 11, even a version the library does not list.
    [11, CacheEngine.valkey('9.3'), 'ok'],
    [80, CacheEngine.valkey('9.3'), 'warning'],
  ])('RDB %d into %s: %s', (rdbVersion, engine, status) => {
    expect(checkRdbCompatibility(rdbVersion, engine).status).toBe(status);
  });

  test('the Redis OSS error names the format, the target and the engine to use', () => {
    expect(checkRdbCompatibility(80, CacheEngine.REDIS_7_1).message).toBe(
      'RDB version 80 is a Valkey 9+ format (VALKEY magic) that no Redis OSS engine reads, got target redis 7.1; restore into Valkey 9.0 or newer',
    );
    expect(checkRdbCompatibility(81, CacheEngine.REDIS_7_0).message).toMatch(/restore into Valkey 9\.2 or newer$/);
  });

  test('a Valkey 9.2 file into Valkey 9.1 says what to choose', () => {
    expect(checkRdbCompatibility(81, CacheEngine.VALKEY_9_1).message).toContain('choose an engine that reads RDB 81 (Valkey 9.2 or newer)');
  });
});
