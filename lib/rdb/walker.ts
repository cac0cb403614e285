/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * The streaming RDB walker: runs the programs of `format.ts` over the bytes `StreamReader` provides, one operation
 * at a time, and counts what it meets. Pure: no I/O. The public face is `RdbVerifier` in `verifier.ts`.
 *
 * File layout (redis/valkey `src/rdb.c`, rdbLoadRioWithLoadingCtx): a 9-byte magic (`REDIS0012`, `VALKEY080`), then
 * opcodes (aux fields, SELECTDB, RESIZEDB, expire times, LRU/LFU, module aux, functions, slot info) and key-value
 * pairs (a type byte, the key, the value), then EOF (0xFF) and, from RDB 5 on, an 8-byte CRC-64 trailer.
 */
import { Blob, CODE, COMMON_TYPE_TABLE, moduleTypeName, Op, Opcode, OPCODE_ENTRY, REDIS_TYPE_TABLE, SLOT_IMPORT_ENTRY, VALKEY_TYPE_TABLE } from './format';
import { parseRdbHeader, RdbParseError } from './header';
import { ExpiryHistogramBuilder } from './histogram';
import { PackedError, walkIntset, walkListpack, walkStreamListpack, walkZiplist, walkZipmap } from './packed';
import { StreamReader, Str } from './reader';

const HEADER_LENGTH = 9;
const TRAILER_LENGTH = 8;
/** The first RDB version with a CRC-64 trailer (redis rdb.c: `if (rdbver >= 5)`). */
const FIRST_VERSION_WITH_CHECKSUM = 5;

const enum Stage { HEADER, BODY, TRAILER, DONE }

/** Per-database counters. */
export interface DbCounter {
  readonly db: number;
  keys: number;
  keysWithExpiry: number;
}

const OPCODE_NAMES: Record<number, string> = {
  [Opcode.SLOT_IMPORT]: 'SLOT_IMPORT',
  [Opcode.SLOT_INFO]: 'SLOT_INFO',
  [Opcode.FUNCTION2]: 'FUNCTION2',
  [Opcode.FUNCTION_PRE_GA]: 'FUNCTION (pre-GA)',
  [Opcode.MODULE_AUX]: 'MODULE_AUX',
  [Opcode.IDLE]: 'IDLE',
  [Opcode.FREQ]: 'FREQ',
  [Opcode.AUX]: 'AUX',
  [Opcode.RESIZEDB]: 'RESIZEDB',
  [Opcode.EXPIRETIME_MS]: 'EXPIRETIME_MS',
  [Opcode.EXPIRETIME]: 'EXPIRETIME',
  [Opcode.SELECTDB]: 'SELECTDB',
  [Opcode.EOF]: 'EOF',
};

export class RdbWalker extends StreamReader {
  public format: 'redis' | 'valkey' = 'redis';
  public rdbVersion = 0;
  public readonly aux: Record<string, string> = {};
  public readonly databases = new Map<number, DbCounter>();
  public readonly modules: Record<string, number> = {};
  public readonly histogram = new ExpiryHistogramBuilder();
  public keys = 0;
  public keysWithExpiry = 0;
  public functions = 0;
  public hasTrailer = true;
  /** Keys per type id. */
  private readonly typeCounts = new Float64Array(256);

  private stage = Stage.HEADER;
  private typeEntry = COMMON_TYPE_TABLE.entry;
  private typeNames = COMMON_TYPE_TABLE.names;
  private readonly loopLeft = new Float64Array(16);
  private readonly loopBody = new Int32Array(16);
  private depth = 0;
  private db: DbCounter = this.counter(0);
  /** The program running: a type id (>= 0) for a key-value pair, or -(opcode + 1). */
  private running = 0;
  private recordAt = 0;
  private keyIndex = 0;
  private expireMs = NaN;
  private emptyKey = false;
  private quicklistElements = 0;
  private container = 0;
  private flag = false;
  private auxKey = '';
  private moduleOp = -1;

  /** Feeds a chunk of the file. */
  public update(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.stage === Stage.DONE) throw this.error(this.fed, this.afterEnd());
    this.feed(chunk);
  }

  /** Keys per value type name. */
  public valueTypes(): Record<string, number> {
    const out: Record<string, number> = {};
    this.typeCounts.forEach((n, id) => {
      if (n > 0) out[this.typeNames[id]] = n;
    });
    return out;
  }

  private afterEnd(): string {
    return `unexpected data after the end of the file (the ${this.hasTrailer ? 'checksum trailer' : 'EOF opcode'} was already read)`;
  }

  /** Whether the whole file was walked (EOF and trailer read). */
  public get complete(): boolean {
    return this.stage === Stage.DONE;
  }

  /** Bytes fed so far. */
  public get size(): number {
    return this.fed;
  }

  /** The error for a file that ended here. */
  public truncated(): Error {
    if (this.stage === Stage.HEADER) {
      try {
        parseRdbHeader(this.pendingBytes());
      } catch (e) {
        if (e instanceof RdbParseError) return this.error(0, e.message);
      }
      return this.error(this.fed, `truncated: the file ends in the ${HEADER_LENGTH}-byte header`);
    }
    const inString = this.strMode !== 0 ? ` (${this.strLeft} of ${this.strTotal} bytes of a string missing)` : '';
    return this.error(this.fed, `truncated: the file ends ${this.where()}${inString}; expected ${this.expectation()}`);
  }

  protected run(): void {
    for (;;) {
      if (this.strMode !== 0) {
        if (!this.continueString()) return;
      } else if (this.pc >= 0) {
        if (!this.exec()) return;
      } else if (this.stage === Stage.BODY) {
        if (!this.readOpcode()) return;
      } else if (this.stage === Stage.HEADER) {
        if (!this.readHeader()) return;
      } else if (this.stage === Stage.TRAILER) {
        if (this.end - this.pos < TRAILER_LENGTH) return;
        this.pos += TRAILER_LENGTH;
        this.stage = Stage.DONE;
      } else {
        if (this.pos < this.end) throw this.error(this.base + this.pos, this.afterEnd());
        return;
      }
    }
  }

  /** Executes the operation at `pc`; false when the window ends first (nothing consumed). */
  private exec(): boolean {
    const pc = this.pc;
    switch (CODE[pc]) {
      case Op.KEY: return this.beginString(Str.SKIP, pc + 1);
      case Op.STR: {
        const e = this.skipStringAt(this.pos); // fast path: the whole string is in the window
        if (e < 0) return this.beginString(Str.SKIP, pc + 1);
        this.pos = e;
        this.pc = pc + 1;
        return true;
      }
      case Op.ID16: return this.beginString(Str.ID16, pc + 1);
      case Op.BLOB: return this.beginString(Str.BLOB_BASE + CODE[pc + 1], pc + 2);
      case Op.LOOP:
      case Op.LOOP_KEY: return this.loopStart(pc);
      case Op.END: return this.loopEnd(pc);
      case Op.LEN: return this.skipLen(pc + 1);
      case Op.FIXED: return this.skipFixed(CODE[pc + 1], pc + 2);
      case Op.OLD_DOUBLE: return this.oldDouble();
      case Op.BIN_DOUBLE: return this.binaryDouble();
      case Op.QL2_CONTAINER: return this.quicklistContainer();
      case Op.QL2_NODE: return this.quicklistNode(pc);
      case Op.MODULE_ID: return this.moduleId();
      case Op.MODULE_BODY: return this.moduleBody();
      case Op.EXPECT_LEN: return this.expectLen(CODE[pc + 1]);
      case Op.SELECTDB: return this.selectDb();
      case Op.KEY_DONE: return this.keyDone();
      case Op.AUX_KEY: return this.beginString(Str.AUX_KEY, pc + 1);
      case Op.AUX_VALUE: return this.beginString(Str.AUX_VALUE, pc + 1);
      case Op.FUNCTION_DONE:
        this.functions++;
        this.pc = pc + 1;
        return true;
      case Op.LEN_FLAG: return this.lenFlag();
      case Op.FLAG_STR:
        if (this.flag) return this.beginString(Str.SKIP, pc + 1);
        this.pc = pc + 1;
        return true;
      case Op.EXPIRE_S: return this.expire(4);
      case Op.EXPIRE_MS: return this.expire(8);
      case Op.EOF:
        this.stage = this.hasTrailer ? Stage.TRAILER : Stage.DONE;
        this.pc = -1;
        return true;
      case Op.RET:
        this.pc = -1;
        return true;
      default:
        throw this.error(this.base + this.pos, `internal error: unknown operation ${CODE[pc]} at ${pc}`);
    }
  }

  private readHeader(): boolean {
    if (this.end - this.pos < HEADER_LENGTH) return false;
    const head = this.buf.subarray(this.pos, this.pos + HEADER_LENGTH);
    let header;
    try {
      header = parseRdbHeader(head);
    } catch (e) {
      if (e instanceof RdbParseError) throw this.error(0, e.message);
      throw e;
    }
    this.format = header.format;
    this.rdbVersion = header.rdbVersion;
    this.hasTrailer = header.rdbVersion >= FIRST_VERSION_WITH_CHECKSUM;
    // Type ids 22 and up mean different things to Redis 7.4+ (RDB 12) and Valkey 9+ (RDB 80, VALKEY magic).
    const table = header.format === 'valkey' ? VALKEY_TYPE_TABLE : header.rdbVersion >= 12 ? REDIS_TYPE_TABLE : COMMON_TYPE_TABLE;
    this.typeEntry = table.entry;
    this.typeNames = table.names;
    this.pos += HEADER_LENGTH;
    this.stage = Stage.BODY;
    return true;
  }

  private readOpcode(): boolean {
    if (this.pos >= this.end) return false;
    const b = this.buf[this.pos];
    this.recordAt = this.base + this.pos;
    let entry = OPCODE_ENTRY[b];
    if (entry >= 0) {
      this.running = -(b + 1);
    } else if (b === Opcode.SLOT_IMPORT && this.format === 'valkey') {
      entry = SLOT_IMPORT_ENTRY;
      this.running = -(b + 1);
    } else {
      if (b === 0 && this.stringRecord()) return true;
      entry = this.typeEntry[b];
      if (entry < 0) throw this.error(this.recordAt, this.unknownType(b));
      this.running = b;
      this.keyIndex++;
      this.quicklistElements = 0;
      this.emptyKey = false;
    }
    this.pos++;
    this.pc = entry;
    return true;
  }

  /**
   * Fast path for the most common record, a string key with a string value, when it lies wholly in the window:
   * the same checks as the STRING program without the interpreter. False (nothing consumed) otherwise.
   */
  private stringRecord(): boolean {
    this.running = 0;
    this.keyIndex++;
    this.pc = this.typeEntry[0]; // so that messages say "in key #N (type 0 string ...)"
    const keyEnd = this.skipStringAt(this.pos + 1);
    const valueEnd = keyEnd < 0 ? -1 : this.skipStringAt(keyEnd);
    this.pc = -1;
    if (valueEnd < 0) {
      this.keyIndex--;
      return false;
    }
    this.pos = valueEnd;
    this.emptyKey = false;
    this.countKey();
    return true;
  }

  private unknownType(b: number): string {
    const hint = b === 6
      ? 'type 6 is the Redis 4.0 release-candidate module format, which no engine loads'
      : b === 23 && this.format === 'valkey'
        ? 'type 23 is the Valkey 9.2 (RDB 81) path hash, which this verifier does not know yet'
        : b === 242 ? 'opcode 242 is a replication-stream command, not part of a dump file'
          : `expected a value type (${this.knownTypes()}) or an opcode (${this.format === 'valkey' ? '243' : '244'}-255)`;
    return `unknown type or opcode ${b} (0x${b.toString(16)}) after ${this.keys} key(s) in db ${this.db.db}; ${hint}`;
  }

  private knownTypes(): string {
    const ids = this.typeNames.map((n, i) => (n ? i : -1)).filter((i) => i >= 0);
    return `0-5, 7, 9-${ids[ids.length - 1]}`;
  }

  private loopStart(pc: number): boolean {
    if (!this.readLen('an element count')) return false;
    const n = this.lv;
    if (n === 0) {
      if (CODE[pc] === Op.LOOP_KEY) this.emptyKey = true;
      this.pc = CODE[pc + 1];
      return true;
    }
    if (this.depth === this.loopLeft.length) throw this.error(this.base + this.pos, 'internal error: loops nested too deep');
    this.loopLeft[this.depth] = n;
    this.loopBody[this.depth] = pc + 2;
    this.depth++;
    this.pc = pc + 2;
    return true;
  }

  private loopEnd(pc: number): boolean {
    const top = this.depth - 1;
    if (--this.loopLeft[top] > 0) {
      this.pc = this.loopBody[top];
    } else {
      this.depth = top;
      this.pc = pc + 2;
    }
    return true;
  }

  private skipLen(next: number): boolean {
    if (!this.readLen('a length')) return false;
    this.pc = next;
    return true;
  }

  private skipFixed(n: number, next: number): boolean {
    if (this.end - this.pos < n) return false;
    this.pos += n;
    this.pc = next;
    return true;
  }

  /** A zset score before RDB 8 (redis rdb.c, rdbLoadDoubleValue). NaN scores are refused, as the engines do. */
  private oldDouble(): boolean {
    if (this.pos >= this.end) return false;
    const len = this.buf[this.pos];
    if (len === 253) throw this.error(this.base + this.pos, `a sorted-set score is NaN ${this.where()}`);
    if (len >= 254) {
      this.pos++;
      this.pc++;
      return true;
    }
    if (this.end - this.pos < 1 + len) return false;
    let text = '';
    for (let i = 1; i <= len; i++) text += String.fromCharCode(this.buf[this.pos + i]);
    if (Number.isNaN(Number.parseFloat(text))) throw this.error(this.base + this.pos, `a sorted-set score '${text}' is not a number ${this.where()}`);
    this.pos += 1 + len;
    this.pc++;
    return true;
  }

  private binaryDouble(): boolean {
    if (this.end - this.pos < 8) return false;
    const b = this.buf;
    const p = this.pos;
    const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    const loNonZero = (b[p] | b[p + 1] | b[p + 2] | b[p + 3]) !== 0;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || loNonZero)) {
      throw this.error(this.base + p, `a sorted-set score is NaN ${this.where()}`);
    }
    this.pos += 8;
    this.pc++;
    return true;
  }

  /** Quicklist 2 node container (redis rdb.c: QUICKLIST_NODE_CONTAINER_PLAIN = 1, PACKED = 2). */
  private quicklistContainer(): boolean {
    const at = this.base + this.pos;
    if (!this.readLen('a quicklist node container')) return false;
    if (this.lv !== 1 && this.lv !== 2) throw this.error(at, `a quicklist node container must be 1 (plain) or 2 (packed), got ${this.lv} ${this.where()}`);
    this.container = this.lv;
    this.pc++;
    return true;
  }

  private quicklistNode(pc: number): boolean {
    if (this.container === 2) return this.beginString(Str.BLOB_BASE + Blob.QUICKLIST_LISTPACK, pc + 1);
    if (!this.beginString(Str.NONEMPTY, pc + 1)) return false;
    this.quicklistElements++;
    return true;
  }

  private moduleId(): boolean {
    if (!this.readLen('a module type id')) return false;
    const name = moduleTypeName(this.lvHi, this.lvLo);
    this.modules[name] = (this.modules[name] ?? 0) + 1;
    this.pc++;
    return true;
  }

  /**
   * Module-2 annotated values (redis/valkey rdb.c, rdbLoadCheckModuleValue): an opcode length, then 1/2 = a length
   * (signed/unsigned integer), 3 = a 4-byte float, 4 = an 8-byte double, 5 = a string, up to opcode 0.
   */
  private moduleBody(): boolean {
    switch (this.moduleOp) {
      case -1: {
        const at = this.base + this.pos;
        if (!this.readLen('a module value opcode')) return false;
        const op = this.lv;
        if (op === 0) {
          this.pc++;
        } else if (op >= 1 && op <= 5) {
          this.moduleOp = op;
        } else {
          throw this.error(at, `unknown module value opcode ${op} ${this.where()} (expected 0-5)`);
        }
        return true;
      }
      case 1:
      case 2:
        if (!this.readLen('a module integer')) return false;
        break;
      case 3:
      case 4: {
        const n = this.moduleOp === 3 ? 4 : 8;
        if (this.end - this.pos < n) return false;
        this.pos += n;
        break;
      }
      default:
        if (!this.beginString(Str.SKIP, this.pc)) return false;
        break;
    }
    this.moduleOp = -1;
    return true;
  }

  private expectLen(expected: number): boolean {
    const at = this.base + this.pos;
    if (!this.readLen('a length')) return false;
    if (this.lv !== expected) throw this.error(at, `expected ${expected}, got ${this.lv} ${this.where()}`);
    this.pc += 2;
    return true;
  }

  private selectDb(): boolean {
    if (!this.readLen('a database number')) return false;
    this.db = this.databases.get(this.lv) ?? this.counter(this.lv);
    this.pc++;
    return true;
  }

  private counter(db: number): DbCounter {
    const c = { db, keys: 0, keysWithExpiry: 0 };
    this.databases.set(db, c);
    return c;
  }

  private keyDone(): boolean {
    this.countKey();
    this.pc++;
    return true;
  }

  private countKey(): void {
    const quicklist = this.running === 14 || this.running === 18;
    if (!this.emptyKey && !(quicklist && this.quicklistElements === 0)) {
      this.db.keys++;
      this.keys++;
      this.typeCounts[this.running]++;
      if (!Number.isNaN(this.expireMs)) {
        this.db.keysWithExpiry++;
        this.keysWithExpiry++;
        this.histogram.add(this.expireMs);
      }
    }
    this.emptyKey = false;
    this.expireMs = NaN;
  }

  private lenFlag(): boolean {
    if (!this.readLen('a has-description flag')) return false;
    this.flag = this.lv !== 0;
    this.pc++;
    return true;
  }

  /** EXPIRETIME: 4-byte seconds; EXPIRETIME_MS: 8-byte milliseconds; both little-endian and signed. */
  private expire(width: 4 | 8): boolean {
    if (this.end - this.pos < width) return false;
    const b = this.buf;
    const p = this.pos;
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    if (width === 4) {
      this.expireMs = (lo | 0) * 1000;
    } else {
      const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
      this.expireMs = hi * 4294967296 + lo;
    }
    this.pos += width;
    this.pc++;
    return true;
  }

  protected content(kind: number, bytes: Uint8Array, start: number, end: number, at: number, payloadAt: number): void {
    if (kind === Str.AUX_KEY || kind === Str.AUX_VALUE) {
      this.integerContent(kind, latin1(bytes, start, end), at);
      return;
    }
    let count: number;
    try {
      count = this.walkBlob(kind - Str.BLOB_BASE, bytes, start, end);
    } catch (e) {
      if (!(e instanceof PackedError)) throw e;
      const inner = Math.min(Math.max(e.at, 0), end - start); // a length that runs past the value points outside it
      const offset = payloadAt >= 0 ? payloadAt + inner : at;
      const inside = payloadAt >= 0 ? '' : ` (byte ${inner} of the decompressed value)`;
      throw this.error(offset, `${e.message}${inside} ${this.where()}`);
    }
    if (kind === Str.BLOB_BASE + Blob.QUICKLIST_ZIPLIST || kind === Str.BLOB_BASE + Blob.QUICKLIST_LISTPACK) {
      this.quicklistElements += count;
    } else if (count === 0) {
      this.emptyKey = true;
    }
  }

  private walkBlob(blob: number, bytes: Uint8Array, start: number, end: number): number {
    switch (blob) {
      case Blob.ZIPMAP: return walkZipmap(bytes, start, end);
      case Blob.ZIPLIST:
      case Blob.QUICKLIST_ZIPLIST: return walkZiplist(bytes, start, end);
      case Blob.ZIPLIST_PAIRS: return multipleOf(walkZiplist(bytes, start, end), 2, 'ziplist');
      case Blob.INTSET: return walkIntset(bytes, start, end);
      case Blob.LISTPACK:
      case Blob.QUICKLIST_LISTPACK: return walkListpack(bytes, start, end);
      case Blob.LISTPACK_PAIRS: return multipleOf(walkListpack(bytes, start, end), 2, 'listpack');
      case Blob.LISTPACK_TRIPLES: return multipleOf(walkListpack(bytes, start, end), 3, 'listpack');
      case Blob.STREAM_LISTPACK: return walkStreamListpack(bytes, start, end);
      default: throw new PackedError(`internal error: unknown encoded value kind ${blob}`, 0);
    }
  }

  protected integerContent(kind: number, text: string, at: number): void {
    if (kind === Str.AUX_KEY) {
      this.auxKey = text;
    } else if (kind === Str.AUX_VALUE) {
      this.aux[this.auxKey] = text;
      if (this.auxKey === 'ctime' && /^\d+$/.test(text)) this.histogram.setReference(Number(text) * 1000);
    } else {
      throw this.error(at, `expected an encoded value (ziplist, listpack, intset, zipmap), got an integer-encoded string ${this.where()}`);
    }
  }

  protected where(): string {
    if (this.stage === Stage.HEADER) return 'in the header';
    if (this.stage === Stage.TRAILER) return 'in the 8-byte checksum trailer';
    if (this.stage === Stage.DONE) return 'after the end of the file';
    if (this.pc < 0) return `before an opcode or type byte (after ${this.keys} key(s))`;
    if (this.running >= 0) {
      return `in key #${this.keyIndex} (type ${this.running} ${this.typeNames[this.running]}, db ${this.db.db}, record at byte ${this.recordAt})`;
    }
    const opcode = -this.running - 1;
    return `in the ${OPCODE_NAMES[opcode] ?? opcode} record at byte ${this.recordAt}`;
  }

  private expectation(): string {
    if (this.stage === Stage.TRAILER) return `the ${TRAILER_LENGTH}-byte CRC-64 trailer after the EOF opcode`;
    if (this.pc < 0) return 'a type byte, an opcode, or the EOF opcode (0xff) that ends every dump';
    return 'the rest of the record, then the EOF opcode (0xff)';
  }

  private pendingBytes(): Uint8Array {
    return this.pending;
  }
}

function multipleOf(count: number, n: number, what: string): number {
  if (count % n !== 0) throw new PackedError(`the ${what} holds ${count} elements, not a multiple of ${n}`, 0);
  return count;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  if (end - start <= 64) {
    for (let p = start; p < end; p++) text += String.fromCharCode(bytes[p]);
    return text;
  }
  for (let p = start; p < end; p += 4096) {
    text += String.fromCharCode(...bytes.subarray(p, Math.min(end, p + 4096)));
  }
  return text;
}
