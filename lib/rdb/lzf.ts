/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * LZF, the compression RDB uses for strings (encoding 0xC3: compressed length, uncompressed length, data).
 *
 * The format (liblzf as vendored by redis and valkey, `src/lzf_d.c`): a control byte `c`; `c < 32` starts a literal
 * run of `c + 1` bytes; otherwise `c >> 5` is a length (7 means "add the next byte") and the low 5 bits with the next
 * byte give a distance back into the output, from which `length + 2` bytes are copied. The engines refuse a string whose
 * decompressed size is not exactly the announced one, or whose back-reference points before the output's start.
 *
 * A back-reference only needs to know how many bytes were produced, so a plain string can be checked while streaming
 * without keeping any output (`LzfScanner`). Encoded blobs (listpacks inside a compressed string) are decompressed
 * whole (`lzfDecompress`), which is bounded by that one element.
 */

/** Streaming check of one compressed string: feed the compressed bytes in any pieces, then call `end`. */
export class LzfScanner {
  /** Bytes the data decompresses to so far. */
  public produced = 0;
  /** 0: expecting a control byte; 1: inside a literal run; 2: expecting the extra length byte; 3: expecting the distance byte. */
  private phase = 0;
  private literalLeft = 0;
  private control = 0;
  private length = 0;
  private expected = 0;

  /** Starts a new string that must decompress to `expected` bytes. */
  public reset(expected: number): void {
    this.produced = 0;
    this.phase = 0;
    this.literalLeft = 0;
    this.control = 0;
    this.length = 0;
    this.expected = expected;
  }

  /**
   * Consumes `bytes[start, end)`. Returns `undefined`, or what is wrong (the caller adds the offset).
   */
  public scan(bytes: Uint8Array, start: number, end: number): string | undefined {
    let p = start;
    let produced = this.produced;
    let phase = this.phase;
    let literalLeft = this.literalLeft;
    let length = this.length;
    const expected = this.expected;
    while (p < end) {
      if (phase === 1) {
        const take = Math.min(literalLeft, end - p);
        p += take;
        literalLeft -= take;
        if (literalLeft === 0) phase = 0;
        continue;
      }
      const b = bytes[p++];
      if (phase === 0) {
        if (b < 32) {
          literalLeft = b + 1;
          produced += literalLeft;
          if (produced > expected) return this.fail(produced, `a literal run decompresses past the announced ${expected} bytes`);
          phase = 1;
        } else {
          this.control = b;
          length = b >>> 5;
          phase = length === 7 ? 2 : 3;
        }
      } else if (phase === 2) {
        length += b;
        phase = 3;
      } else {
        const distance = ((this.control & 0x1f) << 8) + b + 1;
        if (distance > produced) return this.fail(produced, `a back-reference points ${distance} bytes back when only ${produced} were produced`);
        produced += length + 2;
        if (produced > expected) return this.fail(produced, `a back-reference decompresses past the announced ${expected} bytes`);
        phase = 0;
      }
    }
    this.produced = produced;
    this.phase = phase;
    this.literalLeft = literalLeft;
    this.length = length;
    return undefined;
  }

  /** Called when all compressed bytes were fed. Returns what is wrong, or `undefined`. */
  public end(): string | undefined {
    if (this.phase !== 0) {
      return 'the compressed data ends in the middle of a token';
    }
    if (this.produced !== this.expected) {
      return `the data decompresses to ${this.produced} bytes, not the announced ${this.expected}`;
    }
    return undefined;
  }

  private fail(produced: number, message: string): string {
    this.produced = produced;
    return message;
  }
}

/**
 * Checks a compressed string held whole in `src[start, end)` against its announced size `expected`, without output:
 * the one-piece form of `LzfScanner` (same rules), for the common case of a short value inside one chunk.
 * Returns `undefined` when valid, otherwise what is wrong.
 */
export function lzfCheck(src: Uint8Array, start: number, end: number, expected: number): string | undefined {
  let ip = start;
  let produced = 0;
  while (ip < end) {
    const c = src[ip++];
    if (c < 32) {
      ip += c + 1;
      produced += c + 1;
      if (ip > end) return 'the compressed data ends in the middle of a token';
      if (produced > expected) return `a literal run decompresses past the announced ${expected} bytes`;
      continue;
    }
    let length = c >>> 5;
    if (length === 7) length += src[ip++];
    if (ip >= end) return 'the compressed data ends in the middle of a token';
    const distance = ((c & 0x1f) << 8) + src[ip++] + 1;
    if (distance > produced) return `a back-reference points ${distance} bytes back when only ${produced} were produced`;
    produced += length + 2;
    if (produced > expected) return `a back-reference decompresses past the announced ${expected} bytes`;
  }
  if (produced !== expected) return `the data decompresses to ${produced} bytes, not the announced ${expected}`;
  return undefined;
}

/**
 * Decompresses `src[start, end)` into `out` (whose length is the announced size). Returns `undefined` on success,
 * otherwise what is wrong.
 */
export function lzfDecompress(src: Uint8Array, start: number, end: number, out: Uint8Array): string | undefined {
  let ip = start;
  let op = 0;
  const outEnd = out.length;
  while (ip < end) {
    const c = src[ip++];
    if (c < 32) {
      const run = c + 1;
      if (op + run > outEnd) return `a literal run decompresses past the announced ${outEnd} bytes`;
      if (ip + run > end) return 'a literal run goes past the end of the compressed data';
      // At most 32 bytes: a plain loop beats creating a subarray view (a Buffer's subarray is costly).
      for (let i = 0; i < run; i++) out[op++] = src[ip++];
      continue;
    }
    let len = c >>> 5;
    if (len === 7) {
      if (ip >= end) return 'the compressed data ends in the middle of a token';
      len += src[ip++];
    }
    if (ip >= end) return 'the compressed data ends in the middle of a token';
    const distance = ((c & 0x1f) << 8) + src[ip++] + 1;
    if (distance > op) return `a back-reference points ${distance} bytes back when only ${op} were produced`;
    const count = len + 2;
    if (op + count > outEnd) return `a back-reference decompresses past the announced ${outEnd} bytes`;
    let ref = op - distance;
    if (distance >= count && count > 16) {
      out.copyWithin(op, ref, ref + count);
      op += count;
    } else {
      // Overlapping copies are the point of LZ77 (a run of one byte): copy forward byte by byte.
      for (let i = 0; i < count; i++) out[op++] = out[ref++];
    }
  }
  if (op !== outEnd) return `the data decompresses to ${op} bytes, not the announced ${outEnd}`;
  return undefined;
}

/**
 * The most an LZF stream can expand: a 3-byte back-reference produces at most 264 bytes (7 + 255 + 2).
 * An announced size above this is corrupt; checking it first avoids allocating a buffer for a corrupt length.
 */
export function lzfMaxOutput(compressedLength: number): number {
  return Math.ceil(compressedLength / 3) * 264 + 32;
}
