import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { CacheEngine } from '../../lib/engine';
import { checkRdbCompatibility, parseRdbHeader, RdbParseError } from '../../lib/rdb/header';

const fixtures = path.join(__dirname, '..', 'fixtures', 'rdb');
const ascii = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));
/** An aux field: 0xFA, then two 6-bit-length strings. */
const aux = (key: string, value: string) =>
  Buffer.concat([Buffer.from([0xfa, key.length]), Buffer.from(key), Buffer.from([value.length]), Buffer.from(value)]);

describe('parseRdbHeader', () => {
  test('reads RDB 10 and the redis-ver field from the committed redis-server 7.0 fixture', () => {
    const header = parseRdbHeader(fs.readFileSync(path.join(fixtures, 'redis-7.0.rdb')));
    expect(header).toEqual({ format: 'redis', rdbVersion: 10, writerEngine: 'redis', writerVersion: expect.stringMatching(/^7\.0\.\d+$/) });
  });

  test('reads RDB 11 and the valkey-ver field from the committed valkey-server 8.0 fixture', () => {
    const header = parseRdbHeader(fs.readFileSync(path.join(fixtures, 'valkey-8.0.rdb')));
    expect(header).toEqual({ format: 'redis', rdbVersion: 11, writerEngine: 'valkey', writerVersion: expect.stringMatching(/^8\.0\.\d+$/) });
  });

  test('reads only the first 256 bytes (a ranged GET) of a fixture', () => {
    const bytes = fs.readFileSync(path.join(fixtures, 'valkey-8.0.rdb')).subarray(0, 256);
    expect(parseRdbHeader(bytes).rdbVersion).toBe(11);
  });

  test('reads the VALKEY magic of Valkey 9 (RDB 80)', () => {
    expect(parseRdbHeader(Buffer.concat([Buffer.from('VALKEY080'), aux('valkey-ver', '9.0.0')]))).toEqual({
      format: 'valkey', rdbVersion: 80, writerEngine: 'valkey', writerVersion: '9.0.0',
    });
  });

  test('a header without aux fields has no writer', () => {
    expect(parseRdbHeader(ascii('REDIS0009'))).toEqual({ format: 'redis', rdbVersion: 9 });
  });

  test('prefers valkey-ver over redis-ver when both are present', () => {
    const bytes = Buffer.concat([Buffer.from('REDIS0011'), aux('redis-ver', '7.2.4'), aux('valkey-ver', '8.1.0')]);
    expect(parseRdbHeader(bytes)).toMatchObject({ writerEngine: 'valkey', writerVersion: '8.1.0' });
  });

  test('skips integer-encoded and LZF-compressed aux values before the version field', () => {
    const intAux = Buffer.from([0xfa, 0x05, ...Buffer.from('ctime'), 0xc2, 1, 2, 3, 4]);
    const lzfAux = Buffer.from([0xfa, 0x03, ...Buffer.from('big'), 0xc3, 0x02, 0x05, 0xaa, 0xbb]);
    const bytes = Buffer.concat([Buffer.from('REDIS0010'), intAux, lzfAux, aux('redis-ver', '7.0.15')]);
    expect(parseRdbHeader(bytes)).toMatchObject({ writerEngine: 'redis', writerVersion: '7.0.15' });
  });

  test('stops quietly at an aux field cut off by the end of the buffer', () => {
    const full = Buffer.concat([Buffer.from('REDIS0010'), aux('redis-ver', '7.0.15')]);
    expect(parseRdbHeader(full.subarray(0, full.length - 3))).toEqual({ format: 'redis', rdbVersion: 10 });
  });

  test.each([
    ['an empty object', '', 'not an RDB file: the object is empty (expected a header such as REDIS0011 or VALKEY080)'],
    ['a short object', 'REDIS', "not an RDB file: 5 byte(s) is shorter than the 9-byte header (got 'REDIS')"],
    ['a JSON file', '{"formatVersion":1}', "not an RDB file: expected the header to start with 'REDIS' or 'VALKEY', got '{\"formatVersion\"'..."],
    ['an AOF file', '*2\r\n$6\r\nSELECT\r\n', "not an RDB file: expected the header to start with 'REDIS' or 'VALKEY', got '*2\\x0d\\x0a$6\\x0d\\x0aSELECT\\x0d\\x0a' (this looks like an append-only file, not an RDB snapshot)"],
    ['a non-numeric version', 'REDIS00x1', "not an RDB file: the version in the header must be ASCII digits, got 'REDIS00x1'"],
    ['version 0', 'REDIS0000', "not an RDB file: RDB version 0 in header 'REDIS0000' is not a valid version (versions start at 1)"],
    ['the VALKEY magic below 80', 'VALKEY011', "not an RDB file: header 'VALKEY011' uses the VALKEY magic with RDB version 11; Valkey uses that magic only from version 80 on"],
  ])('fails on %s with a clear message', (_name, text, message) => {
    expect(() => parseRdbHeader(ascii(text))).toThrow(new RdbParseError(message));
  });

  test('fails on a gzip-compressed file and says to gunzip it', () => {
    expect(() => parseRdbHeader(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))).toThrow(
      'not an RDB file: the object is gzip-compressed; ElastiCache reads uncompressed .rdb files only (gunzip it first)',
    );
  });

  test('property: arbitrary bytes either parse or throw RdbParseError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        const header = parseRdbHeader(bytes);
        expect(Number.isInteger(header.rdbVersion) && header.rdbVersion >= 1).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(RdbParseError);
        expect((e as Error).message).toMatch(/^not an RDB file: /);
      }
    }), { numRuns: 5000 });
  });

  test('property: a valid magic followed by arbitrary bytes always parses with the magic\'s version', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9999 }), fc.uint8Array({ maxLength: 300 }), (version, tail) => {
      const header = parseRdbHeader(Buffer.concat([Buffer.from(`REDIS${String(version).padStart(4, '0')}`), tail]));
      expect(header.rdbVersion).toBe(version);
      expect(header.format).toBe('redis');
    }), { numRuns: 2000 });
  });

  test('property: aux fields with arbitrary keys and values never hide the version field after them', () => {
    const str = fc.string({ unit: 'binary-ascii', maxLength: 60 });
    fc.assert(fc.property(fc.array(fc.tuple(str, str), { maxLength: 5 }), (fields) => {
      const bytes = Buffer.concat([Buffer.from('REDIS0011'), ...fields.map(([k, v]) => aux(k, v)), aux('valkey-ver', '8.0.1')]);
      expect(parseRdbHeader(bytes)).toMatchObject({ rdbVersion: 11, writerVersion: '8.0.1' });
    }));
  });
});

describe('checkRdbCompatibility', () => {
  test.each([
    [10, CacheEngine.REDIS_7_0, 'ok'],
    [9, CacheEngine.REDIS_7_0, 'ok'],
    [11, CacheEngine.REDIS_7_0, 'error'],
    [10, CacheEngine.VALKEY_8_0, 'ok'],
    [11, CacheEngine.VALKEY_8_0, 'ok'],
    [11, CacheEngine.VALKEY_7_2, 'ok'],
    [80, CacheEngine.VALKEY_8_1, 'error'],
    [10, CacheEngine.REDIS_6_2, 'error'],
    [11, CacheEngine.REDIS_7_1, 'warning'],
    [10, CacheEngine.REDIS_7_1, 'ok'],
    [11, CacheEngine.valkey('9.9'), 'ok'],
    [80, CacheEngine.valkey('9.9'), 'warning'],
    [12, CacheEngine.VALKEY_8_1, 'error'],
    [79, CacheEngine.valkey('9.9'), 'error'],
  ])('RDB %d into %s: %s', (rdbVersion, engine, status) => {
    expect(checkRdbCompatibility(rdbVersion, engine).status).toBe(status);
  });

  test('a too-new file names the engine error and what to change', () => {
    expect(checkRdbCompatibility(11, CacheEngine.REDIS_7_0).message).toBe(
      'RDB version 11 is newer than redis 7.0 can load (it reads up to RDB 10; the engine would fail with "Can\'t handle RDB format version 11"): '
      + 'choose an engine that reads RDB 11 (Valkey 7.2 or newer) or restore from a backup written by redis 7.0 or older',
    );
  });

  test('an uncertain table entry warns and says so', () => {
    expect(checkRdbCompatibility(11, CacheEngine.REDIS_7_1).message).toBe(
      'RDB version 11 may be too new for redis 7.1 (newest readable version believed to be 10, not documented for this ElastiCache build); '
      + 'if the restore fails, choose an engine that reads RDB 11 (Valkey 7.2 or newer) or restore from a backup written by redis 7.1 or older',
    );
  });

  test('Redis 7.4+ formats are rejected for every engine', () => {
    expect(checkRdbCompatibility(12, CacheEngine.VALKEY_8_1).message).toBe(
      'RDB version 12 is a Redis 7.4+ format (not open source) that no ElastiCache engine reads; '
      + 'export the data from a Redis OSS 7.2 or older / Valkey server, or migrate it with a tool that replays keys',
    );
  });

  test('an engine version the table does not know gives a warning naming it', () => {
    expect(checkRdbCompatibility(80, CacheEngine.valkey('9.9')).message).toBe(
      'cannot tell whether valkey 9.9 reads RDB version 80: this version of cdk-elasticache-backup does not know the newest RDB version valkey 9.9 reads',
    );
  });
});
