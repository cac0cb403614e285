/**
 * RDB file header parsing and engine compatibility (pure; no I/O, no aws-cdk-lib at runtime).
 *
 * Used by the restore preflight handler on the first bytes of each `.rdb` object (a ranged GET), so the
 * parser must cope with a truncated buffer: only the 9-byte magic is required, the auxiliary fields after
 * it are read as far as the buffer goes.
 *
 * File layout (redis `rdb.c` / valkey `rdb.c`):
 * - `REDIS` + 4 ASCII digits (`REDIS0010`, RDB 1..11 and Redis 7.4+'s 12), or
 *   `VALKEY` + 3 ASCII digits (`VALKEY080`, Valkey 9.0+ from RDB 80 on);
 * - then opcodes; auxiliary fields are opcode 0xFA followed by two RDB strings (key, value), for example
 *   `redis-ver` = `7.0.15` or `valkey-ver` = `8.0.1`. Valkey 8.0 writes `REDIS0011` with a `valkey-ver` field.
 */

/** The target engine, as far as RDB compatibility is concerned. `CacheEngine` satisfies it. */
export interface RdbTarget {
  /** `valkey` or `redis`. */
  readonly engineType: string;
  /** For example `8.0`. */
  readonly engineVersion: string;
  /** The newest RDB version the engine loads; undefined when unknown. */
  readonly newestReadableRdbVersion?: number;
  /** Whether `newestReadableRdbVersion` is documented for this exact ElastiCache build. */
  readonly rdbCompatibilityCertain: boolean;
}

/** What the header of an `.rdb` file says. */
export interface RdbHeader {
  /** Which magic the file starts with: `REDIS00NN` or `VALKEYNNN`. */
  readonly format: 'redis' | 'valkey';
  /** The RDB format version from the magic. */
  readonly rdbVersion: number;
  /** The engine that wrote the file, from the `valkey-ver` / `redis-ver` auxiliary field, when present. */
  readonly writerEngine?: 'redis' | 'valkey';
  /** The writer's version, for example `7.0.15`, when the auxiliary field is present. */
  readonly writerVersion?: string;
}

/** The bytes are not the start of an RDB file this library understands. */
export class RdbParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RdbParseError';
  }
}

const REDIS_MAGIC = 'REDIS';
const VALKEY_MAGIC = 'VALKEY';
const HEADER_LENGTH = 9;
const OPCODE_AUX = 0xfa;
/** Aux strings longer than this are not version strings: stop reading rather than allocate. */
const MAX_AUX_STRING = 1024;

/** Lowest RDB version Valkey writes with the `VALKEY` magic; 12..79 are "foreign" (Redis 7.4+, non-OSS). */
export const FIRST_VALKEY_MAGIC_RDB_VERSION = 80;
/** The last RDB version of open-source Redis (7.2); every Valkey reads it and all older ones. */
export const LAST_OPEN_SOURCE_RDB_VERSION = 11;
/** Redis 7.4 and later write RDB 12 and up under a non-OSS licence; Valkey reserves 12-79 for them and rejects them. */
export const FOREIGN_RDB_VERSIONS = { first: 12, last: 79 } as const;

/**
 * Parses the header of an RDB file (the first bytes are enough; 256 are plenty).
 *
 * @throws RdbParseError when the bytes do not start with a valid RDB magic; never anything else
 */
export function parseRdbHeader(bytes: Uint8Array): RdbHeader {
  if (bytes.length === 0) {
    throw new RdbParseError('not an RDB file: the object is empty (expected a header such as REDIS0011 or VALKEY080)');
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new RdbParseError('not an RDB file: the object is gzip-compressed; ElastiCache reads uncompressed .rdb files only (gunzip it first)');
  }
  if (bytes.length < HEADER_LENGTH) {
    throw new RdbParseError(`not an RDB file: ${bytes.length} byte(s) is shorter than the ${HEADER_LENGTH}-byte header (got ${printable(bytes)})`);
  }
  const head = bytes.subarray(0, HEADER_LENGTH);
  let format: 'redis' | 'valkey';
  let digits: Uint8Array;
  if (startsWith(head, REDIS_MAGIC)) {
    format = 'redis';
    digits = head.subarray(REDIS_MAGIC.length);
  } else if (startsWith(head, VALKEY_MAGIC)) {
    format = 'valkey';
    digits = head.subarray(VALKEY_MAGIC.length);
  } else {
    const hint = startsWith(head, '*') || startsWith(head, 'REDIS-AOF') ? ' (this looks like an append-only file, not an RDB snapshot)' : '';
    throw new RdbParseError(`not an RDB file: expected the header to start with 'REDIS' or 'VALKEY', got ${printable(bytes)}${hint}`);
  }
  if (!digits.every(isDigit)) {
    throw new RdbParseError(`not an RDB file: the version in the header must be ASCII digits, got ${printable(head)}`);
  }
  const rdbVersion = Number(String.fromCharCode(...digits));
  if (rdbVersion < 1) {
    throw new RdbParseError(`not an RDB file: RDB version ${rdbVersion} in header ${printable(head)} is not a valid version (versions start at 1)`);
  }
  if (format === 'valkey' && rdbVersion < FIRST_VALKEY_MAGIC_RDB_VERSION) {
    throw new RdbParseError(`not an RDB file: header ${printable(head)} uses the VALKEY magic with RDB version ${rdbVersion}; Valkey uses that magic only from version ${FIRST_VALKEY_MAGIC_RDB_VERSION} on`);
  }
  const writer = readWriter(bytes, HEADER_LENGTH);
  return { format, rdbVersion, ...writer };
}

/** The outcome of checking whether an engine can load an RDB version. */
export interface RdbCompatibility {
  /** `ok`: loads. `error`: will not load. `warning`: unknown, or the table is not certain for this engine build. */
  readonly status: 'ok' | 'error' | 'warning';
  /** What was decided and why; for `error` and `warning`, what to change. */
  readonly message: string;
}

/**
 * Whether the target engine can load a file of the given RDB version.
 *
 * An engine refuses an RDB version newer than its own (`Can't handle RDB format version N`). Where the
 * library's table is not certain for the engine build (ElastiCache's Redis OSS 7.1, versions not in the
 * table) the answer is a warning rather than an error.
 */
export function checkRdbCompatibility(rdbVersion: number, target: RdbTarget): RdbCompatibility {
  const engine = `${target.engineType} ${target.engineVersion}`;
  if (rdbVersion >= FOREIGN_RDB_VERSIONS.first && rdbVersion <= FOREIGN_RDB_VERSIONS.last) {
    return {
      status: 'error',
      message: `RDB version ${rdbVersion} is a Redis 7.4+ format (not open source) that no ElastiCache engine reads; `
        + 'export the data from a Redis OSS 7.2 or older / Valkey server, or migrate it with a tool that replays keys',
    };
  }
  if (rdbVersion >= FIRST_VALKEY_MAGIC_RDB_VERSION && target.engineType === 'redis') {
    // Redis OSS loaders accept only the REDIS magic (redis/redis src/rdb.c, "Wrong signature"); RDB 80+ is written with
    // the VALKEY magic (valkey-io/valkey src/rdb.h, rdbUseValkeyMagic), so this holds for every Redis OSS version.
    return {
      status: 'error',
      message: `RDB version ${rdbVersion} is a Valkey 9+ format (VALKEY magic) that no Redis OSS engine reads, got target ${engine}; `
        + `restore into ${engineThatReads(rdbVersion)}`,
    };
  }
  if (target.engineType === 'valkey' && rdbVersion <= LAST_OPEN_SOURCE_RDB_VERSION) {
    // Every Valkey (7.2 on) reads RDB 1 to 11: valkey-io/valkey src/rdb.h (RDB_VERSION_MAP starts at 11 for 7.2).
    return { status: 'ok', message: `every Valkey version reads RDB versions up to ${LAST_OPEN_SOURCE_RDB_VERSION}; the file is RDB ${rdbVersion}` };
  }
  const newest = target.newestReadableRdbVersion;
  if (newest === undefined) {
    return {
      status: 'warning',
      message: `cannot tell whether ${engine} reads RDB version ${rdbVersion}: this version of cdk-elasticache-backup does not know the newest RDB version ${engine} reads`,
    };
  }
  if (rdbVersion <= newest) {
    return { status: 'ok', message: `${engine} reads RDB versions up to ${newest}; the file is RDB ${rdbVersion}` };
  }
  const fix = `choose an engine that reads RDB ${rdbVersion} (${engineThatReads(rdbVersion)}) or restore from a backup written by ${engine} or older`;
  if (!target.rdbCompatibilityCertain) {
    return {
      status: 'warning',
      message: `RDB version ${rdbVersion} may be too new for ${engine} (newest readable version believed to be ${newest}, not documented for this ElastiCache build); if the restore fails, ${fix}`,
    };
  }
  return {
    status: 'error',
    message: `RDB version ${rdbVersion} is newer than ${engine} can load (it reads up to RDB ${newest}; the engine would fail with "Can't handle RDB format version ${rdbVersion}"): ${fix}`,
  };
}

function engineThatReads(rdbVersion: number): string {
  if (rdbVersion <= 9) {
    return 'Redis OSS 6.x or newer, or any Valkey';
  }
  if (rdbVersion === 10) {
    return 'Redis OSS 7.0 or newer, or any Valkey';
  }
  if (rdbVersion === 11) {
    return 'Valkey 7.2 or newer';
  }
  if (rdbVersion === 80) {
    return 'Valkey 9.0 or newer';
  }
  if (rdbVersion === 81) {
    return 'Valkey 9.2 or newer';
  }
  return 'a newer Valkey';
}

/** Reads the auxiliary fields after the header as far as the buffer goes; never throws. */
function readWriter(bytes: Uint8Array, start: number): { writerEngine?: 'redis' | 'valkey'; writerVersion?: string } {
  let pos = start;
  let redisVer: string | undefined;
  let valkeyVer: string | undefined;
  while (pos < bytes.length && bytes[pos] === OPCODE_AUX) {
    const key = readString(bytes, pos + 1);
    if (!key) {
      break;
    }
    const value = readString(bytes, key.next);
    if (!value) {
      break;
    }
    pos = value.next;
    if (key.text === 'valkey-ver' && isVersionString(value.text)) {
      valkeyVer = value.text;
    } else if (key.text === 'redis-ver' && isVersionString(value.text)) {
      redisVer = value.text;
    }
  }
  // Valkey writes both `valkey-ver` and (for compatibility) sometimes `redis-ver`: valkey wins.
  if (valkeyVer !== undefined) {
    return { writerEngine: 'valkey', writerVersion: valkeyVer };
  }
  if (redisVer !== undefined) {
    return { writerEngine: 'redis', writerVersion: redisVer };
  }
  return {};
}

interface Read<T> {
  readonly value: T;
  readonly next: number;
}

/** An RDB length: 6-bit, 14-bit, 32-bit or 64-bit, or a special encoding (integer / LZF string). */
function readLength(bytes: Uint8Array, pos: number): Read<{ special: boolean; n: number }> | undefined {
  if (pos >= bytes.length) {
    return undefined;
  }
  const first = bytes[pos];
  const type = Math.floor(first / 64);
  const low6 = first % 64;
  if (type === 0) {
    return { value: { special: false, n: low6 }, next: pos + 1 };
  }
  if (type === 1) {
    if (pos + 1 >= bytes.length) {
      return undefined;
    }
    return { value: { special: false, n: low6 * 256 + bytes[pos + 1] }, next: pos + 2 };
  }
  if (type === 3) {
    return { value: { special: true, n: low6 }, next: pos + 1 };
  }
  if (first === 0x80) {
    if (pos + 4 >= bytes.length) {
      return undefined;
    }
    const n = bigEndian(bytes, pos + 1, 4);
    return { value: { special: false, n }, next: pos + 5 };
  }
  if (first === 0x81) {
    if (pos + 8 >= bytes.length) {
      return undefined;
    }
    // Anything over 2^32 is far beyond a version string: report it as huge without precision.
    const high = bigEndian(bytes, pos + 1, 4);
    const low = bigEndian(bytes, pos + 5, 4);
    return { value: { special: false, n: high * 2 ** 32 + low }, next: pos + 9 };
  }
  return undefined;
}

/** An RDB string: length-prefixed bytes, or an integer encoded as a string. LZF strings are skipped (text undefined). */
function readString(bytes: Uint8Array, pos: number): { text?: string; next: number } | undefined {
  const len = readLength(bytes, pos);
  if (!len) {
    return undefined;
  }
  const { special, n } = len.value;
  let p = len.next;
  if (special) {
    if (n === 0 || n === 1 || n === 2) {
      const size = 2 ** n;
      if (p + size > bytes.length) {
        return undefined;
      }
      let v = 0;
      for (let i = size - 1; i >= 0; i--) {
        v = v * 256 + bytes[p + i];
      }
      const signed = v >= 2 ** (8 * size - 1) ? v - 2 ** (8 * size) : v;
      return { text: String(signed), next: p + size };
    }
    if (n === 3) {
      const clen = readLength(bytes, p);
      if (!clen || clen.value.special) {
        return undefined;
      }
      const ulen = readLength(bytes, clen.next);
      if (!ulen || ulen.value.special) {
        return undefined;
      }
      const end = ulen.next + clen.value.n;
      return end <= bytes.length ? { next: end } : undefined;
    }
    return undefined;
  }
  if (n > MAX_AUX_STRING || p + n > bytes.length) {
    return undefined;
  }
  let text = '';
  for (let i = 0; i < n; i++) {
    text += String.fromCharCode(bytes[p + i]);
  }
  p += n;
  return { text, next: p };
}

function bigEndian(bytes: Uint8Array, pos: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) {
    v = v * 256 + bytes[pos + i];
  }
  return v;
}

function isVersionString(text: string | undefined): text is string {
  return text !== undefined && /^\d+\.\d+(\.\d+)?$/.test(text);
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) {
    return false;
  }
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix.charCodeAt(i)) {
      return false;
    }
  }
  return true;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Bytes as a quoted string with non-printable bytes escaped, for messages. */
function printable(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes.subarray(0, 16)) {
    out += b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `'${out}'${bytes.length > 16 ? '...' : ''}`;
}
