import * as fs from 'fs';
import * as path from 'path';
import { loadRdb, serverVersion } from './engine-server';
import { CacheEngine } from '../../lib/engine';
import { checkRdbCompatibility, parseRdbHeader } from '../../lib/rdb/header';
import { describeWithTool } from '../support/tools';

/**
 * The compatibility table against real engines: Debian's redis-server 7.0 and valkey-server 8.0 each load
 * the other's .rdb (fixtures written by scripts/make-rdb-fixtures.sh), and the library's decision must match.
 */
const fixtures = path.join(__dirname, '..', 'fixtures', 'rdb');
const redisFile = fs.readFileSync(path.join(fixtures, 'redis-7.0.rdb'));
const valkeyFile = fs.readFileSync(path.join(fixtures, 'valkey-8.0.rdb'));

/** The same file with another RDB version in its header (the engines check the version before anything else). */
function withHeader(file: Buffer, magic: string): Buffer {
  return Buffer.concat([Buffer.from(magic, 'latin1'), file.subarray(9)]);
}

/** The CacheEngine matching an installed server, from its `--version`. */
function engineOf(server: string): CacheEngine {
  const { engine, version } = serverVersion(server);
  const majorMinor = version.split('.').slice(0, 2).join('.');
  return engine === 'valkey' ? CacheEngine.valkey(majorMinor) : CacheEngine.redis(majorMinor);
}

describe('fixtures', () => {
  test('the redis fixture is RDB 10 written by redis 7.0 and the valkey fixture RDB 11 written by valkey 8.0', () => {
    expect(parseRdbHeader(redisFile)).toMatchObject({ rdbVersion: 10, writerEngine: 'redis', writerVersion: expect.stringMatching(/^7\.0\./) });
    expect(parseRdbHeader(valkeyFile)).toMatchObject({ rdbVersion: 11, writerEngine: 'valkey', writerVersion: expect.stringMatching(/^8\.0\./) });
  });
});

describeWithTool('redis-server')('real redis-server 7.0', () => {
  const engine = () => engineOf('redis-server');

  test('the installed redis-server is 7.0 and the library marks 7.0 as certain', () => {
    expect(serverVersion('redis-server')).toMatchObject({ engine: 'redis', version: expect.stringMatching(/^7\.0\./) });
    expect(engine().rdbCompatibilityCertain).toBe(true);
  });

  test('loads its own RDB 10 file, and checkRdbCompatibility(10, REDIS_7_0) is ok', async () => {
    const result = await loadRdb('redis-server', redisFile, 'fixture:string');
    expect(result.loaded).toBe(true);
    expect(result.value).toBe('written by redis-server');
    expect(checkRdbCompatibility(parseRdbHeader(redisFile).rdbVersion, engine()).status).toBe('ok');
  });

  test('refuses the valkey 8.0 RDB 11 file, and checkRdbCompatibility(11, REDIS_7_0) is an error', async () => {
    const result = await loadRdb('redis-server', valkeyFile);
    expect(result.loaded).toBe(false);
    expect(result.log).toContain("Can't handle RDB format version 11");
    expect(checkRdbCompatibility(parseRdbHeader(valkeyFile).rdbVersion, engine()).status).toBe('error');
    expect(checkRdbCompatibility(11, CacheEngine.REDIS_7_0).status).toBe('error');
  });

  test('refuses a Redis 7.4 RDB 12 header, and the library rejects RDB 12 for 7.0', async () => {
    const result = await loadRdb('redis-server', withHeader(redisFile, 'REDIS0012'));
    expect(result.loaded).toBe(false);
    expect(result.log).toContain("Can't handle RDB format version 12");
    expect(checkRdbCompatibility(12, engine()).status).toBe('error');
  });
});

describeWithTool('valkey-server')('real valkey-server 8.0', () => {
  const engine = () => engineOf('valkey-server');

  test('the installed valkey-server is 8.0 and the library marks 8.0 as certain', () => {
    expect(serverVersion('valkey-server')).toMatchObject({ engine: 'valkey', version: expect.stringMatching(/^8\.0\./) });
    expect(engine().rdbCompatibilityCertain).toBe(true);
  });

  test('loads the redis 7.0 RDB 10 file, and checkRdbCompatibility(10, VALKEY_8_0) is ok', async () => {
    const result = await loadRdb('valkey-server', redisFile, 'fixture:string');
    expect(result.loaded).toBe(true);
    expect(result.value).toBe('written by redis-server');
    expect(checkRdbCompatibility(parseRdbHeader(redisFile).rdbVersion, engine()).status).toBe('ok');
    expect(checkRdbCompatibility(10, CacheEngine.VALKEY_8_0).status).toBe('ok');
  });

  test('loads its own RDB 11 file, and checkRdbCompatibility(11, VALKEY_8_0) is ok', async () => {
    const result = await loadRdb('valkey-server', valkeyFile, 'fixture:string');
    expect(result.loaded).toBe(true);
    expect(result.value).toBe('written by valkey-server');
    expect(checkRdbCompatibility(11, engine()).status).toBe('ok');
  });

  test('refuses a Valkey 9 VALKEY080 header, and the library rejects RDB 80 for 8.0', async () => {
    const result = await loadRdb('valkey-server', withHeader(valkeyFile, 'VALKEY080'));
    expect(result.loaded).toBe(false);
    // Valkey 8.0 predates the VALKEY magic: it rejects the file as not an RDB at all.
    expect(result.log).toContain('Wrong signature trying to load DB from file');
    expect(checkRdbCompatibility(80, engine()).status).toBe('error');
  });

  test('refuses a Redis 7.4 RDB 12 header (foreign format), and the library rejects RDB 12 for every engine', async () => {
    const result = await loadRdb('valkey-server', withHeader(valkeyFile, 'REDIS0012'));
    expect(result.loaded).toBe(false);
    expect(result.log).toMatch(/RDB format version 12/);
    expect(checkRdbCompatibility(12, engine()).status).toBe('error');
  });
});
