/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * The RDB grammar as small programs the walker interprets.
 *
 * Opcodes and type ids are from the engines' public headers: redis `src/rdb.h` (RDB 12: types 0-25, opcodes 244-255)
 * and valkey `src/rdb.h` (RDB 11 and 80+: types 0-21, 22 = hash with field expiry in RDB 80, opcode 243 = slot
 * import). How each type is laid out is from `rdbLoadObject` / `rdbLoadRioWithLoadingCtx` in both engines' `src/rdb.c`.
 *
 * Each program is a list of operations over primitive reads (lengths, strings, fixed-size fields) with counted
 * loops; the walker runs them one operation at a time so it can stop at any byte and resume with the next chunk.
 */

/** Top-level opcodes (redis/valkey `src/rdb.h`). */
export const Opcode = {
  SLOT_IMPORT: 243,
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Operations. Those marked (arg) are followed by one argument in the code. */
export const Op = {
  /** The key of a key-value pair (a string). */
  KEY: 1,
  /** A string whose content is not needed. */
  STR: 2,
  /** A string of exactly 16 bytes (a stream node's master ID). */
  ID16: 3,
  /** (arg: blob kind) A string holding an encoded value, walked once complete. */
  BLOB: 4,
  /** (arg: pc after the loop) A length, then the loop body that many times. */
  LOOP: 5,
  /** (arg) Like LOOP, for the element count of a key's value: zero means an empty key, which engines skip. */
  LOOP_KEY: 6,
  /** (arg: pc of the loop body) End of a loop body. */
  END: 7,
  /** A length whose value is not needed. */
  LEN: 8,
  /** (arg: byte count) Fixed-size bytes whose value is not needed. */
  FIXED: 9,
  /** A double as text (zset before RDB 8): length byte (253 NaN, 254 +inf, 255 -inf) then the text. */
  OLD_DOUBLE: 10,
  /** A binary double (8 bytes little-endian), which must not be NaN. */
  BIN_DOUBLE: 11,
  /** Quicklist 2 node container: 1 (plain element) or 2 (listpack). */
  QL2_CONTAINER: 12,
  /** Quicklist 2 node: a plain string or a listpack, as the container said. */
  QL2_NODE: 13,
  /** A 64-bit module type id (9-character name and encoding version). */
  MODULE_ID: 14,
  /** Module-2 annotated values: (opcode, value) pairs up to opcode 0. */
  MODULE_BODY: 15,
  /** (arg: value) A length that must equal the argument. */
  EXPECT_LEN: 16,
  SELECTDB: 17,
  /** A key-value pair is complete: count it. */
  KEY_DONE: 18,
  AUX_KEY: 19,
  AUX_VALUE: 20,
  FUNCTION_DONE: 21,
  /** A length that says whether the next FLAG_STR is present. */
  LEN_FLAG: 22,
  FLAG_STR: 23,
  EXPIRE_S: 24,
  EXPIRE_MS: 25,
  EOF: 26,
  /** End of a program: back to reading an opcode. */
  RET: 27,
} as const;

/** What to walk inside a BLOB string. */
export const Blob = {
  ZIPMAP: 1,
  ZIPLIST: 2,
  ZIPLIST_PAIRS: 3,
  INTSET: 4,
  LISTPACK: 5,
  LISTPACK_PAIRS: 6,
  LISTPACK_TRIPLES: 7,
  STREAM_LISTPACK: 8,
  /** A quicklist node: its element count adds to the key's. */
  QUICKLIST_ZIPLIST: 9,
  QUICKLIST_LISTPACK: 10,
} as const;

class Assembler {
  public readonly code: number[] = [];
  public emit(...ops: number[]): void {
    this.code.push(...ops);
  }
  public loop(kind: number, body: () => void): void {
    this.code.push(kind, 0);
    const patch = this.code.length - 1;
    const bodyPc = this.code.length;
    body();
    this.code.push(Op.END, bodyPc);
    this.code[patch] = this.code.length;
  }
  /** Starts a program; returns its entry point. */
  public get pc(): number {
    return this.code.length;
  }
}

const asm = new Assembler();

function keyProgram(value: () => void): number {
  const entry = asm.pc;
  asm.emit(Op.KEY);
  value();
  asm.emit(Op.KEY_DONE, Op.RET);
  return entry;
}

function opcodeProgram(...ops: number[]): number {
  const entry = asm.pc;
  asm.emit(...ops, Op.RET);
  return entry;
}

const blob = (kind: number) => () => asm.emit(Op.BLOB, kind);

/** Stream consumer groups, versions 1 to 3 (redis/valkey rdb.c, RDB_TYPE_STREAM_LISTPACKS*). */
function streamProgram(version: 1 | 2 | 3): () => void {
  return () => {
    asm.loop(Op.LOOP, () => asm.emit(Op.ID16, Op.BLOB, Blob.STREAM_LISTPACK));
    asm.emit(Op.LEN, Op.LEN, Op.LEN); // length, last id ms, last id seq
    if (version >= 2) asm.emit(Op.LEN, Op.LEN, Op.LEN, Op.LEN, Op.LEN); // first id, max deleted id, entries added
    asm.loop(Op.LOOP, () => {
      asm.emit(Op.STR, Op.LEN, Op.LEN); // group name, last delivered id
      if (version >= 2) asm.emit(Op.LEN); // entries read
      asm.loop(Op.LOOP, () => asm.emit(Op.FIXED, 16, Op.FIXED, 8, Op.LEN)); // PEL: raw id, delivery time, count
      asm.loop(Op.LOOP, () => {
        asm.emit(Op.STR, Op.FIXED, 8); // consumer name, seen time
        if (version >= 3) asm.emit(Op.FIXED, 8); // active time
        asm.loop(Op.LOOP, () => asm.emit(Op.FIXED, 16)); // consumer PEL: raw ids
      });
    });
  };
}

/** Entry points for value types shared by every engine family (ids 0-21). */
const COMMON_TYPES: ReadonlyArray<[number, string, () => void]> = [
  [0, 'string', () => asm.emit(Op.STR)],
  [1, 'list', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR))],
  [2, 'set', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR))],
  [3, 'zset', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR, Op.OLD_DOUBLE))],
  [4, 'hash', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR, Op.STR))],
  [5, 'zset-2', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR, Op.BIN_DOUBLE))],
  [7, 'module-2', () => asm.emit(Op.MODULE_ID, Op.MODULE_BODY)],
  [9, 'hash-zipmap', blob(Blob.ZIPMAP)],
  [10, 'list-ziplist', blob(Blob.ZIPLIST)],
  [11, 'set-intset', blob(Blob.INTSET)],
  [12, 'zset-ziplist', blob(Blob.ZIPLIST_PAIRS)],
  [13, 'hash-ziplist', blob(Blob.ZIPLIST_PAIRS)],
  [14, 'list-quicklist', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.BLOB, Blob.QUICKLIST_ZIPLIST))],
  [15, 'stream-listpacks', streamProgram(1)],
  [16, 'hash-listpack', blob(Blob.LISTPACK_PAIRS)],
  [17, 'zset-listpack', blob(Blob.LISTPACK_PAIRS)],
  [18, 'list-quicklist-2', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.QL2_CONTAINER, Op.QL2_NODE))],
  [19, 'stream-listpacks-2', streamProgram(2)],
  [20, 'set-listpack', blob(Blob.LISTPACK)],
  [21, 'stream-listpacks-3', streamProgram(3)],
];

/** Redis 7.4+ (RDB 12) hashes with field expiry (redis rdb.h / rdb.c, RDB_TYPE_HASH_METADATA*). */
const REDIS_TYPES: ReadonlyArray<[number, string, () => void]> = [
  [22, 'hash-metadata-pre-ga', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.LEN, Op.STR, Op.STR))],
  [23, 'hash-listpack-ex-pre-ga', blob(Blob.LISTPACK_TRIPLES)],
  [24, 'hash-metadata', () => {
    asm.emit(Op.FIXED, 8); // min expire
    asm.loop(Op.LOOP_KEY, () => asm.emit(Op.LEN, Op.STR, Op.STR)); // ttl (relative), field, value
  }],
  [25, 'hash-listpack-ex', () => asm.emit(Op.FIXED, 8, Op.BLOB, Blob.LISTPACK_TRIPLES)],
];

/** Valkey 9.0+ (RDB 80) hash with field expiry (valkey rdb.c, RDB_TYPE_HASH_2): field, value, expire ms. */
const VALKEY_TYPES: ReadonlyArray<[number, string, () => void]> = [
  [22, 'hash-2', () => asm.loop(Op.LOOP_KEY, () => asm.emit(Op.STR, Op.STR, Op.FIXED, 8))],
];

function typeTable(extra: ReadonlyArray<[number, string, () => void]>): { entry: Int32Array; names: string[] } {
  const entry = new Int32Array(256).fill(-1);
  const names: string[] = [];
  for (const [id, name, value] of [...COMMON_TYPES, ...extra]) {
    entry[id] = keyProgram(value);
    names[id] = name;
  }
  return { entry, names };
}

export const REDIS_TYPE_TABLE = typeTable(REDIS_TYPES);
export const VALKEY_TYPE_TABLE = typeTable(VALKEY_TYPES);
/** Files before RDB 12 under the REDIS magic: only the shared ids. */
export const COMMON_TYPE_TABLE = typeTable([]);

/** Entry points of the top-level opcodes (-1: not an opcode; the walker treats it as a type id). */
export const OPCODE_ENTRY = new Int32Array(256).fill(-1);
OPCODE_ENTRY[Opcode.AUX] = opcodeProgram(Op.AUX_KEY, Op.AUX_VALUE);
OPCODE_ENTRY[Opcode.SELECTDB] = opcodeProgram(Op.SELECTDB);
OPCODE_ENTRY[Opcode.RESIZEDB] = opcodeProgram(Op.LEN, Op.LEN);
OPCODE_ENTRY[Opcode.SLOT_INFO] = opcodeProgram(Op.LEN, Op.LEN, Op.LEN); // slot id, keys, keys with expiry
OPCODE_ENTRY[Opcode.EXPIRETIME] = opcodeProgram(Op.EXPIRE_S);
OPCODE_ENTRY[Opcode.EXPIRETIME_MS] = opcodeProgram(Op.EXPIRE_MS);
OPCODE_ENTRY[Opcode.FREQ] = opcodeProgram(Op.FIXED, 1);
OPCODE_ENTRY[Opcode.IDLE] = opcodeProgram(Op.LEN);
// Module aux: module id, when-opcode (must be 2, "unsigned"), when, then the annotated values up to opcode 0.
OPCODE_ENTRY[Opcode.MODULE_AUX] = opcodeProgram(Op.MODULE_ID, Op.EXPECT_LEN, 2, Op.LEN, Op.MODULE_BODY);
OPCODE_ENTRY[Opcode.FUNCTION2] = opcodeProgram(Op.STR, Op.FUNCTION_DONE);
// Redis 7.0 rc1/rc2 (redis 7.0-rc2 rdb.c rdbFunctionLoad): name, engine, has-description, [description], code.
OPCODE_ENTRY[Opcode.FUNCTION_PRE_GA] = opcodeProgram(Op.STR, Op.STR, Op.LEN_FLAG, Op.FLAG_STR, Op.STR, Op.FUNCTION_DONE);
OPCODE_ENTRY[Opcode.EOF] = opcodeProgram(Op.EOF);

/**
 * Valkey 9.0+ slot import state (valkey cluster_migrateslots.c, clusterRDBLoadSlotImport): a job name, then
 * a count of slot ranges, each a start and an end.
 */
export const SLOT_IMPORT_ENTRY = (() => {
  const entry = asm.pc;
  asm.emit(Op.STR);
  asm.loop(Op.LOOP, () => asm.emit(Op.LEN, Op.LEN));
  asm.emit(Op.RET);
  return entry;
})();

/** All programs. */
export const CODE = Int32Array.from(asm.code);

/** Module type names are 9 characters from this set, 6 bits each (redis/valkey module.c, moduleTypeNameByID). */
const MODULE_NAME_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 9-character name of a 64-bit module type id given as halves (the low 10 bits are the encoding version). */
export function moduleTypeName(hi: number, lo: number): string {
  let id = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  id >>= 10n;
  let name = '';
  for (let j = 0; j < 9; j++) {
    name = MODULE_NAME_CHARSET[Number(id & 63n)] + name;
    id >>= 6n;
  }
  return name;
}
