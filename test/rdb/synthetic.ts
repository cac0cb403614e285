/**
 * Hand-built RDB files covering the encodings and opcodes today's servers no longer write (ziplist, zipmap,
 * quicklist 1, old zset doubles, module values, EXPIRETIME in seconds, RDB 4 without trailer) and those the
 * installed servers cannot write (Redis 7.4+ RDB 12 hash field expiry, Valkey 9 RDB 80), built with the test's own
 * encoders (rdb-builder.ts). `engine` says which installed checker accepts the file (the oracle for the builder).
 */
import {
  bytesOf, Bytes, f32le, f64le, intStr, intset, len, listpack, lzfStr, moduleId, RdbBuilder, str, streamListpack, u32le, u64le,
  ziplist, zipmap,
} from './rdb-builder';

export interface SyntheticFile {
  readonly name: string;
  readonly bytes: Buffer;
  /** Keys per database and keys with an expire time, as built. */
  readonly databases: Array<{ db: number; keys: number; keysWithExpiry: number }>;
  /** The installed checker that must accept it, when one can read it; `load` when the server can also load it. */
  readonly engine?: { checker: 'redis-check-rdb' | 'valkey-check-rdb'; server: 'redis-server' | 'valkey-server'; load: boolean };
}

/** Far-future expire times (epoch ms and s) so a server loading the file keeps the keys. */
export const FAR_MS = 4102444800000; // 2100-01-01
export const FAR_S = 2100000000; // 2036-07-18, fits the signed 32-bit seconds field

/** A stream ID as stored raw (PEL) and as node keys: milliseconds then sequence, each 64-bit big-endian. */
const streamId = (ms: number, seq: number): Bytes => [...u64le(ms).reverse(), ...u64le(seq).reverse()];

/** A stream value: one node of 3 entries (two share the master fields), then metadata and one consumer group. */
function streamValue(version: 1 | 2 | 3): Bytes {
  const node = streamListpack(['temp', 'hum'], [
    [0, 0, [['temp', '20'], ['hum', '50']]],
    [5, 0, [['temp', '21'], ['hum', '51']]],
    [9, 0, [['other', 'x']]],
  ]);
  const out: Bytes = [...len(1), ...str(streamId(1000, 0)), ...str(node)];
  out.push(...len(3), ...len(1009), ...len(0)); // length, last id
  if (version >= 2) out.push(...len(1000), ...len(0), ...len(0), ...len(0), ...len(3)); // first id, max deleted, added
  out.push(...len(1), ...str('group'), ...len(1005), ...len(0)); // 1 group, last delivered 1005-0
  if (version >= 2) out.push(...len(2)); // entries read
  out.push(...len(2)); // group PEL: 2 entries
  out.push(...streamId(1000, 0), ...u64le(FAR_MS - 1), ...len(1));
  out.push(...streamId(1005, 0), ...u64le(FAR_MS - 1), ...len(3));
  out.push(...len(1), ...str('alice'), ...u64le(FAR_MS - 2)); // 1 consumer, seen time
  if (version >= 3) out.push(...u64le(FAR_MS - 3)); // active time
  out.push(...len(2), ...streamId(1000, 0), ...streamId(1005, 0));
  return out;
}

const LUA_LIBRARY = "#!lua name=synthlib\nredis.register_function('synth_fn', function(keys, args) return 1 end)";

/** RDB 10: every encoding Redis OSS 7.0 still loads, several databases, both expire opcodes, LRU and LFU info. */
function redis10(): SyntheticFile {
  const b = new RdbBuilder('REDIS0010')
    .aux('redis-ver', '7.0.15').aux('redis-bits', intStr(64)).aux('ctime', intStr(1700000000)).aux('lzf-aux', lzfStr('x'.repeat(200)))
    .raw([0xf5, ...str(LUA_LIBRARY)])
    .selectDb(0).raw([0xfb, ...len(20), ...len(3)]);
  b.key(0, 'raw', str('hello'));
  b.key(0, 'int', intStr(-42));
  b.key(0, 'int32', intStr(123456789));
  b.raw([0xfc, ...u64le(FAR_MS)]).key(0, 'lzf', lzfStr('abcabcabc'.repeat(100)));
  b.raw([0xfd, ...u32le(FAR_S)]).key(1, 'linked-list', [...len(3), ...str('a'), ...intStr(7), ...lzfStr('z'.repeat(50))]);
  b.raw([0xf8, ...len(12345)]).key(2, 'set', [...len(2), ...str('m1'), ...str('m2')]);
  b.raw([0xf9, 5]).key(3, 'zset-old', [...len(3), ...str('a'), 3, ...bytesOf('1.5'), ...str('b'), 254, ...str('c'), 255]);
  b.key(4, 'hash', [...len(2), ...str('f1'), ...str('v1'), ...str('f2'), ...intStr(2)]);
  b.key(5, 'zset2', [...len(2), ...str('a'), ...f64le(1.5), ...str('b'), ...f64le(-Infinity)]);
  b.key(9, 'zipmap', str(zipmap([['f1', 'v1'], ['field-two', 'value-two']])));
  b.key(10, 'ziplist', str(ziplist(['a', 1, 300, -70000, 2 ** 40, 'x'.repeat(100)])));
  b.key(11, 'intset16', str(intset(2, [3, 1, -2])));
  b.key(11, 'intset32', str(intset(4, [100000, -100000])));
  b.key(11, 'intset64', str(intset(8, [5000000000, -5000000000, 1])));
  b.key(12, 'zset-ziplist', str(ziplist(['m1', 1, 'm2', '2.5'])));
  b.key(13, 'hash-ziplist', lzfStr(ziplist(['f1', 'v1', 'f2', 'v2', 'f3', 'v3', 'f4', 'v4'])));
  b.key(14, 'quicklist', [...len(2), ...str(ziplist(['a', 'b', 1])), ...lzfStr(ziplist(Array(40).fill('same-value')))]);
  b.key(15, 'stream1', streamValue(1));
  b.key(16, 'hash-listpack', str(listpack(['f1', 'v1', 'f2', 5000])));
  b.key(17, 'zset-listpack', str(listpack(['m1', 1, 'm2', '-2.5'])));
  b.key(18, 'quicklist2', [...len(3), ...len(2), ...str(listpack(['a', 1, -5000, 2 ** 33])), ...len(1), ...str('p'.repeat(300)), ...len(2), ...lzfStr(listpack(Array(30).fill('rep')))]);
  b.key(19, 'stream2', streamValue(2));
  b.selectDb(2).raw([0xfc, ...u64le(FAR_MS)]).key(0, 'db2-key', str('v'));
  return {
    name: 'redis-10-every-encoding',
    bytes: b.build(),
    databases: [{ db: 0, keys: 22, keysWithExpiry: 2 }, { db: 2, keys: 1, keysWithExpiry: 1 }],
    engine: { checker: 'redis-check-rdb', server: 'redis-server', load: true },
  };
}

/** RDB 10 with module data: a module aux record and a module-2 value using every module opcode. */
function redis10Module(): SyntheticFile {
  const id = moduleId('synthtype', 3);
  const body: Bytes = [
    ...len(1), ...len(12345), // signed int
    ...len(2), ...len(2n ** 40n), // unsigned int
    ...len(3), ...f32le(1.25), // float
    ...len(4), ...f64le(2.5), // double
    ...len(5), ...str('module string'), // string
    ...len(5), ...lzfStr('m'.repeat(80)),
    ...len(0), // EOF
  ];
  const b = new RdbBuilder('REDIS0010').aux('redis-ver', '7.0.15')
    .raw([0xf7, ...len(id), ...len(2), ...len(1), ...len(1), ...len(7), ...len(0)]) // module aux: when_opcode 2, when 1, one uint
    .selectDb(0);
  b.key(7, 'module-key', [...len(id), ...body]);
  b.key(0, 'plain', str('v'));
  return {
    name: 'redis-10-module',
    bytes: b.build(),
    databases: [{ db: 0, keys: 2, keysWithExpiry: 0 }],
    engine: { checker: 'redis-check-rdb', server: 'redis-server', load: false },
  };
}

/** RDB 11 (Valkey 7.2+ / Redis 7.2): set listpack and stream version 3. */
function valkey11(): SyntheticFile {
  const b = new RdbBuilder('REDIS0011').aux('valkey-ver', '8.0.1').aux('ctime', intStr(1700000000)).selectDb(0);
  b.key(20, 'set-listpack', str(listpack(['a', 'b', 1, 2])));
  b.key(21, 'stream3', streamValue(3));
  b.raw([0xfc, ...u64le(FAR_MS)]).key(16, 'hash-listpack', str(listpack(['f', 'v'])));
  b.selectDb(5).key(0, 'db5', intStr(1));
  return {
    name: 'valkey-11',
    bytes: b.build(),
    databases: [{ db: 0, keys: 3, keysWithExpiry: 1 }, { db: 5, keys: 1, keysWithExpiry: 0 }],
    engine: { checker: 'valkey-check-rdb', server: 'valkey-server', load: true },
  };
}

/** RDB 12 (Redis 7.4+): hashes with field expiry in all four forms, and slot info. No installed engine reads it. */
function redis12(): SyntheticFile {
  const b = new RdbBuilder('REDIS0012').aux('redis-ver', '7.4.1').selectDb(0).raw([0xf4, ...len(866), ...len(4), ...len(1)]);
  b.key(22, 'hfe-meta-pre-ga', [...len(2), ...len(0), ...str('f1'), ...str('v1'), ...len(FAR_MS), ...str('f2'), ...str('v2')]);
  b.key(23, 'hfe-lp-pre-ga', str(listpack(['f1', 'v1', 0, 'f2', 'v2', FAR_MS])));
  b.key(24, 'hfe-meta', [...u64le(FAR_MS), ...len(2), ...len(0), ...str('f1'), ...str('v1'), ...len(1), ...str('f2'), ...intStr(5)]);
  b.raw([0xfc, ...u64le(FAR_MS)]).key(25, 'hfe-lp', [...u64le(FAR_MS), ...str(listpack(['f1', 'v1', FAR_MS]))]);
  return { name: 'redis-12-field-expiry', bytes: b.build(), databases: [{ db: 0, keys: 4, keysWithExpiry: 1 }] };
}

/** RDB 80 (Valkey 9.0, VALKEY magic): hash with field expiry (type 22 means this here) and slot import state. */
function valkey80(): SyntheticFile {
  const b = new RdbBuilder('VALKEY080').aux('valkey-ver', '9.0.0')
    .raw([0xf3, ...str('j'.repeat(40)), ...len(2), ...len(0), ...len(100), ...len(200), ...len(300)])
    .selectDb(0);
  b.key(22, 'hash-2', [...len(2), ...str('f1'), ...str('v1'), ...u64le(FAR_MS), ...str('f2'), ...str('v2'), ...u64le(-1)]);
  b.key(18, 'list', [...len(1), ...len(2), ...str(listpack(['x']))]);
  return { name: 'valkey-80', bytes: b.build(), databases: [{ db: 0, keys: 2, keysWithExpiry: 0 }] };
}

/** RDB 4 (Redis 2.6/2.8): no aux fields, no trailer, seconds expire times, zipmap and ziplist values. */
function redis4(): SyntheticFile {
  const b = new RdbBuilder('REDIS0004').selectDb(0);
  b.raw([0xfd, ...u32le(FAR_S)]).key(9, 'zipmap', str(zipmap([['a', '1']])));
  b.key(10, 'ziplist', str(ziplist(['x', 'y'])));
  b.key(0, 'plain', str('v'));
  return {
    name: 'redis-4-no-trailer',
    bytes: b.build('none'),
    databases: [{ db: 0, keys: 3, keysWithExpiry: 1 }],
    engine: { checker: 'redis-check-rdb', server: 'redis-server', load: true },
  };
}

/** The Redis 7.0 release-candidate function record (opcode 246); no released engine loads it. */
function functionPreGa(): SyntheticFile {
  const b = new RdbBuilder('REDIS0010')
    .raw([0xf6, ...str('lib'), ...str('LUA'), ...len(1), ...str('a description'), ...str('return 1')])
    .raw([0xf6, ...str('lib2'), ...str('LUA'), ...len(0), ...str('return 2')])
    .selectDb(0);
  b.key(0, 'k', str('v'));
  return { name: 'redis-10-function-pre-ga', bytes: b.build(), databases: [{ db: 0, keys: 1, keysWithExpiry: 0 }] };
}

export function syntheticFiles(): SyntheticFile[] {
  return [redis10(), redis10Module(), valkey11(), redis12(), valkey80(), redis4(), functionPreGa()];
}
