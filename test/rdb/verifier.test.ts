/* eslint-disable no-bitwise */ // bit flips and binary fields are what these tests are about
import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { f64le, intStr, len, listpack, RdbBuilder, str, u64le, ziplist } from './rdb-builder';
import { syntheticFiles } from './synthetic';
import { RdbVerifier, RdbVerifyError, verifyRdb, verifyRdbStream } from '../../lib/rdb/verifier';

const fixtures = path.join(__dirname, '..', 'fixtures', 'rdb');
const read = (name: string) => fs.readFileSync(path.join(fixtures, name));

/** `INFO keyspace` lines the fixture script recorded from the server that wrote the dump. */
function keyspace(name: string): Array<{ db: number; keys: number; keysWithExpiry: number }> {
  return fs.readFileSync(path.join(fixtures, name), 'utf8').trim().split('\n').map((line) => {
    const m = /^db(\d+):keys=(\d+),expires=(\d+)/.exec(line)!;
    return { db: Number(m[1]), keys: Number(m[2]), keysWithExpiry: Number(m[3]) };
  });
}

function errorOf(f: () => unknown): RdbVerifyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RdbVerifyError);
    return e as RdbVerifyError;
  }
  throw new Error('expected an RdbVerifyError, nothing was thrown');
}

function feedInPieces(bytes: Uint8Array, cuts: number[]) {
  const v = new RdbVerifier();
  let start = 0;
  for (const p of [...cuts, bytes.length]) {
    v.update(bytes.subarray(start, p));
    start = p;
  }
  return v.finish();
}

describe('verifier on dumps written by the real engines', () => {
  test.each([
    ['redis-7.0-all-types', 'redis', /^7\.0\./, 10],
    ['valkey-8.0-all-types', 'valkey', /^8\.0\./, 11],
  ])('%s: key counts per database equal the server\'s INFO keyspace', (name, engine, version, rdbVersion) => {
    const file = read(`${name}.rdb`);
    const report = verifyRdb(file);
    expect(report.databases).toEqual(keyspace(`${name}.keyspace`));
    expect(report).toMatchObject({ format: 'redis', rdbVersion, writerEngine: engine, writerVersion: expect.stringMatching(version), checksum: 'ok', functions: 1, sizeBytes: file.length });
    expect(report.keys).toBe(report.databases.reduce((a, d) => a + d.keys, 0));
    expect(report.crc64).toBe(Buffer.from(file.subarray(file.length - 8)).reverse().toString('hex'));
    expect(report.createdAtMs).toBe(Number(report.aux.ctime) * 1000);
  });

  test('the dumps hold the encodings the fixture script asks for', () => {
    expect(Object.keys(verifyRdb(read('redis-7.0-all-types.rdb')).valueTypes).sort()).toEqual(
      ['hash', 'hash-listpack', 'list-quicklist-2', 'set', 'set-intset', 'stream-listpacks-2', 'string', 'zset-2', 'zset-listpack'],
    );
    expect(Object.keys(verifyRdb(read('valkey-8.0-all-types.rdb')).valueTypes).sort()).toEqual(
      ['hash', 'hash-listpack', 'list-quicklist-2', 'set', 'set-intset', 'set-listpack', 'stream-listpacks-3', 'string', 'zset-2', 'zset-listpack'],
    );
  });

  test('the expiry histogram holds every key with an expiry, the far-future one (2100) in its own bucket', () => {
    const report = verifyRdb(read('redis-7.0-all-types.rdb'));
    expect(report.expiryHistogram.reduce((a, b) => a + b.keys, 0)).toBe(report.keysWithExpiry);
    const far = report.expiryHistogram.filter((b) => b.notBefore <= 4102444800000 && 4102444800000 < b.notAfter);
    expect(far).toEqual([expect.objectContaining({ keys: 1 })]);
    // The others (1 h, 10 min, 1 day, 2 h TTLs) lie within a day and a half of the dump's creation.
    const near = report.expiryHistogram.filter((b) => b.notAfter <= report.createdAtMs! + 36 * 3600_000);
    expect(near.reduce((a, b) => a + b.keys, 0)).toBe(report.keysWithExpiry - 1);
  });

  test.each(['redis-7.0.rdb', 'valkey-8.0.rdb'])('%s: five keys, fed one byte at a time', (name) => {
    const file = read(name);
    const v = new RdbVerifier();
    for (let i = 0; i < file.length; i++) v.update(file.subarray(i, i + 1));
    expect(v.finish()).toEqual(verifyRdb(file));
    expect(verifyRdb(file).keys).toBe(5);
  });

  test('property: any split into chunks gives the same report', () => {
    const file = read('valkey-8.0-all-types.rdb');
    const whole = verifyRdb(file);
    fc.assert(fc.property(fc.array(fc.nat(file.length), { maxLength: 40 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      expect(feedInPieces(file, points)).toEqual(whole);
    }), { numRuns: 100 });
  });

  test('verifyRdbStream reads an async stream of chunks', async () => {
    const file = read('redis-7.0-all-types.rdb');
    async function* chunks() {
      for (let i = 0; i < file.length; i += 1000) yield file.subarray(i, i + 1000);
    }
    expect(await verifyRdbStream(chunks())).toEqual(verifyRdb(file));
  });
});

describe('verifier on hand-built files of every encoding', () => {
  test.each(syntheticFiles().map((f) => [f.name, f] as const))('%s: counts what was built', (_name, file) => {
    const report = verifyRdb(file.bytes);
    expect(report.databases).toEqual(file.databases);
    expect(feedInPieces(file.bytes, Array.from({ length: file.bytes.length }, (_, i) => i))).toEqual(report);
  });

  test('every value type id of each engine family is walked', () => {
    const types = new Set(syntheticFiles().flatMap((f) => Object.keys(verifyRdb(f.bytes).valueTypes)));
    expect([...types].sort()).toEqual([...new Set([
      'hash', 'hash-2', 'hash-listpack', 'hash-listpack-ex', 'hash-listpack-ex-pre-ga', 'hash-metadata', 'hash-metadata-pre-ga',
      'hash-zipmap', 'hash-ziplist', 'list', 'list-quicklist', 'list-quicklist-2', 'list-ziplist', 'module-2', 'set', 'set-intset',
      'set-listpack', 'stream-listpacks', 'stream-listpacks-2', 'stream-listpacks-3', 'string', 'zset', 'zset-2', 'zset-listpack',
      'zset-ziplist',
    ])].sort());
  });

  test('module values and module aux data are walked and their type names reported', () => {
    const module = syntheticFiles().find((f) => f.name === 'redis-10-module')!;
    expect(verifyRdb(module.bytes)).toMatchObject({ modules: { synthtype: 2 }, keys: 2 });
  });

  test('functions are counted, old (7.0 release candidate) and new', () => {
    const files = syntheticFiles();
    expect(verifyRdb(files.find((f) => f.name === 'redis-10-function-pre-ga')!.bytes).functions).toBe(2);
    expect(verifyRdb(files.find((f) => f.name === 'redis-10-every-encoding')!.bytes).functions).toBe(1);
  });

  test('RDB 4 has no trailer: checksum absent, CRC of the whole file', () => {
    expect(verifyRdb(syntheticFiles().find((f) => f.name === 'redis-4-no-trailer')!.bytes).checksum).toBe('absent');
  });

  test('a 3 MB raw string and a 3 MB LZF string stream through 64 KB chunks', () => {
    const random = Buffer.alloc(3 << 20);
    for (let i = 0, x = 1; i < random.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      random[i] = x >>> 24;
    }
    // A long compressible string: one literal byte, then maximal back-references (264 bytes each).
    const refs = Math.floor(((3 << 20) - 1) / 264);
    const tokens = Buffer.concat([Buffer.from([0, 0x61]), Buffer.alloc(refs * 3, Buffer.from([0xe0, 255, 0]))]);
    const produced = 1 + refs * 264;
    const file = Buffer.concat([
      Buffer.from('REDIS0011'), Buffer.from([0xfe, 0]),
      Buffer.from([0, ...str('big-raw'), ...len(random.length)]), random,
      Buffer.from([0, ...str('big-lzf'), 0xc3, ...len(tokens.length), ...len(produced)]), tokens,
      Buffer.from([0, ...str('small'), ...str('v'), 0xff]), Buffer.alloc(8),
    ]);
    const cuts = Array.from({ length: Math.floor(file.length / 65536) }, (_, i) => (i + 1) * 65536);
    expect(feedInPieces(file, cuts)).toMatchObject({ keys: 3, checksum: 'disabled' });
  });
});

describe('verifier errors', () => {
  const file = read('redis-7.0.rdb');

  test('a truncated file names the offset where it ends and what was being read', () => {
    const e = errorOf(() => verifyRdb(file.subarray(0, 100)));
    expect(e.offset).toBe(100);
    expect(e.message).toMatch(/^at byte 100: truncated: the file ends (in key #\d+|in the \w+ record|before an opcode)/);
  });

  test('a file cut right after the EOF opcode misses its trailer', () => {
    const e = errorOf(() => verifyRdb(file.subarray(0, file.length - 8)));
    expect(e.message).toBe(`at byte ${file.length - 8}: truncated: the file ends in the 8-byte checksum trailer; expected the 8-byte CRC-64 trailer after the EOF opcode`);
  });

  test('a changed byte fails the CRC-64 check and the message gives both values', () => {
    const copy = Buffer.from(file);
    const valueAt = copy.indexOf('written by') + 1;
    copy[valueAt] ^= 0x20;
    const e = errorOf(() => verifyRdb(copy));
    expect(e.offset).toBe(copy.length - 8);
    expect(e.message).toMatch(/^at byte \d+: CRC-64 mismatch: the trailer says [0-9a-f]{16}, the \d+ bytes before it hash to [0-9a-f]{16} \(the file is corrupt\)$/);
  });

  test('a zero trailer is reported as checksum disabled, or refused with requireChecksum', () => {
    const disabled = new RdbBuilder('REDIS0011').selectDb(0).key(0, 'k', str('v')).build('zero');
    expect(verifyRdb(disabled).checksum).toBe('disabled');
    const e = errorOf(() => verifyRdb(disabled, { requireChecksum: true }));
    expect(e.message).toContain('the checksum trailer is zero (the writer had rdbchecksum off), and a checksum is required');
  });

  test('bytes after the trailer are refused', () => {
    const e = errorOf(() => verifyRdb(Buffer.concat([file, Buffer.from([0])])));
    expect(e).toMatchObject({ offset: file.length });
    expect(e.message).toContain('unexpected data after the end of the file');
  });

  test.each([
    ['empty', Buffer.alloc(0), 'at byte 0: not an RDB file: the object is empty (expected a header such as REDIS0011 or VALKEY080)'],
    ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), 'at byte 0: not an RDB file: the object is gzip-compressed; ElastiCache reads uncompressed .rdb files only (gunzip it first)'],
    ['JSON', Buffer.from('{"formatVersion": 2}'), "at byte 0: not an RDB file: expected the header to start with 'REDIS' or 'VALKEY', got '{\"formatV'"],
  ])('%s: the header parser\'s message', (_name, bytes, message) => {
    expect(errorOf(() => verifyRdb(bytes)).message).toBe(message);
  });

  test('an unknown type byte names the byte and what was expected', () => {
    const bad = new RdbBuilder('REDIS0010').selectDb(0).raw([30, ...str('k'), ...str('v')]).build();
    expect(errorOf(() => verifyRdb(bad)).message).toBe(
      'at byte 11: unknown type or opcode 30 (0x1e) after 0 key(s) in db 0; expected a value type (0-5, 7, 9-21) or an opcode (244-255)',
    );
  });

  test('after an error, update() and finish() throw the same error; finish() twice returns the same report', () => {
    const v = new RdbVerifier();
    const first = errorOf(() => v.update(Buffer.from('NOTANRDBFILE')));
    expect(errorOf(() => v.update(file))).toBe(first);
    expect(errorOf(() => v.finish())).toBe(first);
    const ok = new RdbVerifier();
    ok.update(file);
    expect(ok.finish()).toBe(ok.finish());
    expect(() => ok.update(file)).toThrow('update() after finish()');
  });

  test('a corrupt length announcing a huge encoded value fails at once instead of buffering the rest of the file', () => {
    const bytes = new RdbBuilder('REDIS0011').selectDb(0).key(16, 'k', [0x80, 0x40, 0, 0, 0, 1, 2, 3]).build();
    const e = errorOf(() => verifyRdb(bytes));
    expect(e.message).toMatch(/an encoded value of 1073741824 bytes is larger than the 536870912-byte limit in key #1 \(type 16 hash-listpack/);
  });

  // With the checksum disabled only the structure can tell: each of these is caught by the walk itself.
  const structural: Array<[string, number, number[]]> = [
    ['listpack back-length', 16, (() => { const lp = listpack(['a', 'b']); lp[8] = 9; return str(lp); })()],
    ['ziplist previous-entry length', 10, (() => { const zl = ziplist(['a', 'b']); zl[13] = 7; return str(zl); })()],
    ['listpack pairs with an odd count', 16, str(listpack(['f1', 'v1', 'f2']))],
    ['LZF back-reference before the start', 0, [0xc3, 2, 5, 0x60, 0x05]],
    ['LZF announced length', 0, [0xc3, 2, 9, 0x00, 0x61]],
    ['NaN zset score', 5, [...len(1), ...str('m'), ...f64le(NaN)]],
    ['length byte', 1, [0xbf]],
    ['string encoding', 0, [0xc4]],
    ['stream master ID size', 15, [...len(1), ...str('short'), ...str(listpack([1]))]],
    ['integer where a listpack belongs', 16, intStr(5)],
    ['quicklist container', 18, [...len(1), ...len(3), ...str('x')]],
    ['hash field-expiry min-expire cut', 25, u64le(0).slice(0, 3)],
    ['zipmap whose key length runs past its end', 9, str([1, 200, 0x61, 0x62, 0xff])],
  ];
  test.each(structural)('with the checksum disabled, a corrupt %s is still an RdbVerifyError', (_what, type, value) => {
    const bytes = new RdbBuilder('REDIS0012').selectDb(0).key(type, 'k', value).build('zero');
    const e = errorOf(() => verifyRdb(bytes));
    expect(e.message).toMatch(/^at byte \d+: /);
    expect(e.offset).toBeGreaterThanOrEqual(11);
    expect(e.offset).toBeLessThanOrEqual(bytes.length);
  });
});
