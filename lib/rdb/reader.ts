/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * The input side of the streaming walker: a window over the current chunk (plus a few carried-over bytes), RDB
 * lengths, and RDB strings that may span any number of chunks.
 *
 * Memory stays flat: a string whose content is not needed is skipped byte-count-wise (or, when LZF-compressed,
 * checked by `LzfScanner` without keeping its output); only strings that must be looked inside (encoded values such
 * as listpacks, aux fields) are gathered, and they are bounded by one element of one key.
 *
 * String layout (redis/valkey `src/rdb.c`, rdbGenericLoadStringObject / rdbLoadLenByRef): a length whose first two
 * bits say 6-bit, 14-bit, or (0x80 / 0x81) 32 / 64-bit big-endian; or first bits 11 and an encoding in the low six
 * bits: 0, 1, 2 = an 8, 16 or 32-bit little-endian integer, 3 = LZF (compressed length, length, data).
 */
import { RdbVerifyError } from './errors';
import { lzfCheck, LzfScanner, lzfDecompress, lzfMaxOutput } from './lzf';

/** What a string is for; kinds from CONTENT_KINDS on need their bytes. */
export const Str = {
  SKIP: 0,
  /** Must be exactly 16 bytes (a stream node's master ID). */
  ID16: 1,
  /** A quicklist plain node: must not be empty. */
  NONEMPTY: 2,
  AUX_KEY: 3,
  AUX_VALUE: 4,
  /** Blob kinds are BLOB_BASE + a `Blob` value from format.ts. */
  BLOB_BASE: 16,
} as const;
const CONTENT_KINDS = Str.AUX_KEY;
const TEXT_KINDS_END = Str.BLOB_BASE;

/**
 * Largest encoded value (listpack, ziplist, ...) gathered to be walked: 512 MiB, the engines' default
 * proto-max-bulk-len; listpacks stop growing at 1 GiB (LISTPACK_MAX_SAFETY_SIZE) and real ones are kilobytes. Stops a
 * corrupt length from making the verifier buffer the rest of the file.
 */
const MAX_ENCODED_VALUE = 512 * 1024 * 1024;
/** Longest aux value kept as text; longer ones are skipped and reported by size. */
const MAX_TEXT = 64 * 1024;
/** Longest an op other than a string payload needs contiguous (an old-style double: 1 + 255 bytes). */
export const MAX_ATOM = 256;

const enum Mode { NONE = 0, SKIP = 1, LZF = 2, GATHER = 3 }

const EMPTY = new Uint8Array(0);

export abstract class StreamReader {
  /** The current window: bytes [pos, end) of buf are unread; buf[0] is at file offset `base`. */
  protected buf: Uint8Array = EMPTY;
  protected pos = 0;
  protected end = 0;
  protected base = 0;
  /** Bytes fed so far. */
  protected fed = 0;
  private readonly carry = new Uint8Array(MAX_ATOM * 2);
  private carryLen = 0;
  private scratch: Uint8Array = EMPTY;

  /** The last length read by `peekLen`: value, 64-bit halves, and whether it was an encoding marker (11xxxxxx). */
  protected lv = 0;
  protected lvHi = 0;
  protected lvLo = 0;
  protected lvEnc = false;

  /** The string being read across chunks. */
  protected strMode: number = Mode.NONE;
  protected strLeft = 0;
  protected strTotal = 0;
  private strKind = 0;
  private strNext = 0;
  private strAt = 0;
  private strPayloadAt = 0;
  private strUlen = -1;
  private gather: Uint8Array = EMPTY;
  private gatherLen = 0;
  private readonly lzf = new LzfScanner();

  /** The program counter of the walker (-1 between programs). */
  protected pc = -1;

  /** Called with the content of a string of a content kind (aux text or an encoded value). */
  protected abstract content(kind: number, bytes: Uint8Array, start: number, end: number, at: number, payloadAt: number): void;
  /** Called with the decimal text of an integer-encoded string of a content kind. */
  protected abstract integerContent(kind: number, text: string, at: number): void;
  /** Where the walker is, for messages. */
  protected abstract where(): string;
  /** Consumes as much of the window as possible; returns when it needs more bytes. */
  protected abstract run(): void;

  /** Feeds one chunk. */
  protected feed(chunk: Uint8Array): void {
    const chunkBase = this.fed;
    this.fed += chunk.length;
    let from = 0;
    if (this.carryLen > 0) {
      // Finish the record cut by the previous chunk's end in a small window (carried bytes + the chunk's first
      // bytes), then go on in the chunk itself: no copy of the whole chunk.
      const head = Math.min(chunk.length, this.carry.length * 2);
      const total = this.carryLen + head;
      if (this.scratch.length < total) this.scratch = new Uint8Array(this.carry.length * 3);
      this.scratch.set(this.carry.subarray(0, this.carryLen), 0);
      this.scratch.set(chunk.subarray(0, head), this.carryLen);
      this.window(this.scratch.subarray(0, total), chunkBase - this.carryLen, 0);
      const carried = this.carryLen;
      this.carryLen = 0;
      this.run();
      if (head === chunk.length) {
        this.keepRest();
        return;
      }
      // The window held a whole atom after the carried bytes, so the walk is now inside the chunk.
      if (this.pos < carried) throw this.error(this.base + this.pos, `internal error: a record cut by a chunk end is longer than expected ${this.where()}`);
      from = this.pos - carried;
    }
    this.window(chunk, chunkBase, from);
    this.run();
    this.keepRest();
  }

  private window(buf: Uint8Array, base: number, pos: number): void {
    this.buf = buf;
    this.base = base;
    this.pos = pos;
    this.end = buf.length;
  }

  /** Carries the unread end of the window (the start of an atom cut by the chunk's end) to the next chunk. */
  private keepRest(): void {
    const rest = this.end - this.pos;
    if (rest > 0) {
      if (rest > this.carry.length) throw this.error(this.base + this.pos, `internal error: ${rest} bytes left unread ${this.where()}`);
      this.carry.set(this.buf.subarray(this.pos, this.end), 0);
      this.carryLen = rest;
    }
    this.buf = EMPTY;
    this.pos = 0;
    this.end = 0;
  }

  /** Bytes carried over, waiting for the next chunk (for the "ends early" message). */
  protected get pending(): Uint8Array {
    return this.carry.subarray(0, this.carryLen);
  }

  protected error(offset: number, message: string): RdbVerifyError {
    return new RdbVerifyError(`at byte ${offset}: ${message}`, offset);
  }

  /**
   * Reads a length at `p` without consuming it. Returns its size in bytes (1, 2, 5 or 9), or 0 when the window
   * ends first. Sets `lv` (and `lvHi`/`lvLo`, `lvEnc`).
   */
  protected peekLen(p: number): number {
    const b = this.buf;
    if (p >= this.end) return 0;
    const c = b[p];
    switch (c >> 6) {
      case 0:
        this.setLen(c, false);
        return 1;
      case 1:
        if (p + 2 > this.end) return 0;
        this.setLen(((c & 0x3f) << 8) | b[p + 1], false);
        return 2;
      case 3:
        this.setLen(c & 0x3f, true);
        return 1;
      default:
        break;
    }
    if (c === 0x80) {
      if (p + 5 > this.end) return 0;
      this.setLen(be32(b, p + 1), false);
      return 5;
    }
    if (c === 0x81) {
      if (p + 9 > this.end) return 0;
      const hi = be32(b, p + 1);
      const lo = be32(b, p + 5);
      this.lv = hi * 4294967296 + lo;
      this.lvHi = hi;
      this.lvLo = lo;
      this.lvEnc = false;
      return 9;
    }
    throw this.error(this.base + p, `invalid length byte 0x${c.toString(16)} ${this.where()} (a length starts with 0x00-0x7f, 0x80, 0x81 or 0xc0-0xff)`);
  }

  private setLen(v: number, encoded: boolean): void {
    this.lv = v;
    this.lvHi = 0;
    this.lvLo = v;
    this.lvEnc = encoded;
  }

  /** Reads a plain length (not an encoding marker) and consumes it; false when the window ends first. */
  protected readLen(what: string): boolean {
    const size = this.peekLen(this.pos);
    if (size === 0) return false;
    if (this.lvEnc) throw this.error(this.base + this.pos, `expected ${what} (a length), got the string-encoding byte 0x${this.buf[this.pos].toString(16)} ${this.where()}`);
    this.pos += size;
    return true;
  }

  /**
   * Starts reading a string of `kind` at the window's position. Returns false (nothing consumed) when the window
   * ends inside the string's header; otherwise consumes what is there, and sets `pc = next` once the string is
   * complete (now, or in a later chunk through `continueString`).
   */
  protected beginString(kind: number, next: number): boolean {
    const p = this.pos;
    const size = this.peekLen(p);
    if (size === 0) return false;
    const at = this.base + p;
    if (!this.lvEnc) {
      this.pos = p + size;
      this.rawPayload(kind, this.lv, at, next);
      return true;
    }
    const enc = this.lv;
    if (enc <= 2) {
      const width = 1 << enc;
      if (p + 1 + width > this.end) return false;
      this.pos = p + 1 + width;
      this.integerString(kind, readIntLE(this.buf, p + 1, width), at);
      this.pc = next;
      return true;
    }
    if (enc !== 3) throw this.error(at, `unknown string encoding 0x${this.buf[p].toString(16)} ${this.where()} (0xc0-0xc3 are defined)`);
    const csize = this.peekLen(p + 1);
    if (csize === 0) return false;
    if (this.lvEnc) throw this.error(at, `invalid compressed length in an LZF string ${this.where()}`);
    const clen = this.lv;
    const usize = this.peekLen(p + 1 + csize);
    if (usize === 0) return false;
    if (this.lvEnc) throw this.error(at, `invalid length in an LZF string ${this.where()}`);
    this.pos = p + 1 + csize + usize;
    this.lzfPayload(kind, clen, this.lv, at, next);
    return true;
  }

  /**
   * The end of a string at `p` whose content is not needed, when the whole string is in the window (an LZF string is
   * checked on the way); -1 when it is not (nothing consumed). The fast path for the most common records.
   */
  protected skipStringAt(p: number): number {
    const first = this.buf[p];
    if (first < 0x40 && p < this.end) {
      const e = p + 1 + first; // the common short string: 6-bit length
      return e <= this.end ? e : -1;
    }
    const size = this.peekLen(p);
    if (size === 0) return -1;
    if (!this.lvEnc) {
      const e = p + size + this.lv;
      return e <= this.end ? e : -1;
    }
    const enc = this.lv;
    if (enc <= 2) {
      const e = p + 1 + (1 << enc);
      return e <= this.end ? e : -1;
    }
    if (enc !== 3) throw this.error(this.base + p, `unknown string encoding 0x${this.buf[p].toString(16)} ${this.where()} (0xc0-0xc3 are defined)`);
    const csize = this.peekLen(p + 1);
    if (csize === 0) return -1;
    if (this.lvEnc) throw this.error(this.base + p, `invalid compressed length in an LZF string ${this.where()}`);
    const clen = this.lv;
    const usize = this.peekLen(p + 1 + csize);
    if (usize === 0) return -1;
    if (this.lvEnc) throw this.error(this.base + p, `invalid length in an LZF string ${this.where()}`);
    const start = p + 1 + csize + usize;
    const e = start + clen;
    if (e > this.end) return -1;
    const ulen = this.lv;
    if (ulen > lzfMaxOutput(clen)) throw this.error(this.base + p, `an LZF string of ${clen} compressed bytes cannot decompress to the announced ${ulen} bytes ${this.where()}`);
    const problem = lzfCheck(this.buf, start, e, ulen);
    if (problem !== undefined) throw this.error(this.base + p, `corrupt LZF-compressed string: ${problem} ${this.where()}`);
    return e;
  }

  private integerString(kind: number, value: number, at: number): void {
    if (kind === Str.ID16) throw this.error(at, `expected a 16-byte stream ID, got an integer-encoded string ${this.where()}`);
    if (kind >= CONTENT_KINDS) this.integerContent(kind, String(value), at);
  }

  private rawPayload(kind: number, len: number, at: number, next: number): void {
    if (kind === Str.ID16 && len !== 16) throw this.error(at, `expected a 16-byte stream ID, got a ${len}-byte string ${this.where()}`);
    if (kind === Str.NONEMPTY && len === 0) throw this.error(at, `expected a non-empty string ${this.where()}`);
    const avail = this.end - this.pos;
    if (kind < CONTENT_KINDS || (kind < TEXT_KINDS_END && len > MAX_TEXT)) {
      if (kind >= CONTENT_KINDS) this.integerContent(kind, `<${len} bytes>`, at);
      if (len <= avail) {
        this.pos += len;
        this.pc = next;
      } else {
        this.startStreaming(Mode.SKIP, kind, len, avail, at, next);
      }
      return;
    }
    if (len <= avail) {
      const s = this.pos;
      this.pos += len;
      this.content(kind, this.buf, s, s + len, at, this.base + s);
      this.pc = next;
      return;
    }
    this.strUlen = -1;
    this.strPayloadAt = this.base + this.pos;
    this.startGather(kind, len, avail, at, next);
  }

  private lzfPayload(kind: number, clen: number, ulen: number, at: number, next: number): void {
    if (kind === Str.ID16 && ulen !== 16) throw this.error(at, `expected a 16-byte stream ID, got a ${ulen}-byte compressed string ${this.where()}`);
    if (kind === Str.NONEMPTY && ulen === 0) throw this.error(at, `expected a non-empty string ${this.where()}`);
    if (ulen > lzfMaxOutput(clen)) throw this.error(at, `an LZF string of ${clen} compressed bytes cannot decompress to the announced ${ulen} bytes ${this.where()}`);
    const avail = this.end - this.pos;
    if (kind < CONTENT_KINDS || (kind < TEXT_KINDS_END && ulen > MAX_TEXT)) {
      if (kind >= CONTENT_KINDS) this.integerContent(kind, `<${ulen} bytes>`, at);
      this.lzf.reset(ulen);
      const take = Math.min(clen, avail);
      this.scanLzf(take, at);
      if (take === clen) {
        this.endLzf(at);
        this.pc = next;
      } else {
        this.startStreaming(Mode.LZF, kind, clen, take, at, next);
      }
      return;
    }
    this.strUlen = ulen;
    if (clen <= avail) {
      const s = this.pos;
      this.pos += clen;
      this.decompressed(kind, this.buf, s, s + clen, at);
      this.pc = next;
      return;
    }
    this.startGather(kind, clen, avail, at, next);
  }

  private startStreaming(mode: Mode, kind: number, total: number, taken: number, at: number, next: number): void {
    this.pos += mode === Mode.SKIP ? taken : 0;
    this.strMode = mode;
    this.strKind = kind;
    this.strTotal = total;
    this.strLeft = total - taken;
    this.strAt = at;
    this.strNext = next;
  }

  private startGather(kind: number, total: number, avail: number, at: number, next: number): void {
    if (total > MAX_ENCODED_VALUE || this.strUlen > MAX_ENCODED_VALUE) {
      throw this.error(at, `an encoded value of ${Math.max(total, this.strUlen)} bytes is larger than the ${MAX_ENCODED_VALUE}-byte limit ${this.where()}`);
    }
    // Grow with the data actually received, so a corrupt length cannot make us allocate what never arrives.
    const initial = Math.min(total, Math.max(64 * 1024, avail * 2));
    if (this.gather.length < initial) this.gather = new Uint8Array(initial);
    this.gather.set(this.buf.subarray(this.pos, this.end), 0);
    this.gatherLen = avail;
    this.pos = this.end;
    this.strMode = Mode.GATHER;
    this.strKind = kind;
    this.strTotal = total;
    this.strLeft = total - avail;
    this.strAt = at;
    this.strNext = next;
  }

  /** Continues the string in progress; false when the window is used up before it ends. */
  protected continueString(): boolean {
    const avail = this.end - this.pos;
    if (avail === 0) return false;
    const take = Math.min(this.strLeft, avail);
    if (this.strMode === Mode.SKIP) {
      this.pos += take;
    } else if (this.strMode === Mode.LZF) {
      this.scanLzf(take, this.strAt);
    } else {
      this.appendGather(take);
    }
    this.strLeft -= take;
    if (this.strLeft > 0) return true;
    const mode = this.strMode;
    this.strMode = Mode.NONE;
    if (mode === Mode.LZF) {
      this.endLzf(this.strAt);
    } else if (mode === Mode.GATHER) {
      if (this.strUlen >= 0) {
        this.decompressed(this.strKind, this.gather, 0, this.gatherLen, this.strAt);
      } else {
        this.content(this.strKind, this.gather, 0, this.gatherLen, this.strAt, this.strPayloadAt);
      }
      if (this.gather.length > 1024 * 1024) this.gather = EMPTY; // do not hold on to one big value's buffer
    }
    this.pc = this.strNext;
    return true;
  }

  private appendGather(take: number): void {
    const needed = this.gatherLen + take;
    if (this.gather.length < needed) {
      const grown = new Uint8Array(Math.min(this.strTotal, Math.max(needed, this.gather.length * 2)));
      grown.set(this.gather.subarray(0, this.gatherLen), 0);
      this.gather = grown;
    }
    this.gather.set(this.buf.subarray(this.pos, this.pos + take), this.gatherLen);
    this.gatherLen = needed;
    this.pos += take;
  }

  private scanLzf(take: number, at: number): void {
    const problem = this.lzf.scan(this.buf, this.pos, this.pos + take);
    if (problem !== undefined) throw this.error(at, `corrupt LZF-compressed string: ${problem} ${this.where()}`);
    this.pos += take;
  }

  private endLzf(at: number): void {
    const problem = this.lzf.end();
    if (problem !== undefined) throw this.error(at, `corrupt LZF-compressed string: ${problem} ${this.where()}`);
  }

  private decompressed(kind: number, src: Uint8Array, start: number, end: number, at: number): void {
    if (this.strUlen > MAX_ENCODED_VALUE) {
      throw this.error(at, `an encoded value of ${this.strUlen} bytes is larger than the ${MAX_ENCODED_VALUE}-byte limit ${this.where()}`);
    }
    const out = new Uint8Array(this.strUlen);
    const problem = lzfDecompress(src, start, end, out);
    if (problem !== undefined) throw this.error(at, `corrupt LZF-compressed string: ${problem} ${this.where()}`);
    this.content(kind, out, 0, out.length, at, -1);
  }
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function readIntLE(b: Uint8Array, p: number, width: number): number {
  if (width === 1) return (b[p] << 24) >> 24;
  if (width === 2) return ((b[p] | (b[p + 1] << 8)) << 16) >> 16;
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}
