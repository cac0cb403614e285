/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * CRC-64 as Redis and Valkey compute it for the RDB trailer: the "Jones" polynomial 0xad93d23594c935a9, reflected
 * input and output, initial value 0, no final xor (redis `src/crc64.c`; check value: "123456789" -> e9c6d914c4b8d9ca).
 *
 * JavaScript has no fast 64-bit integers, so the register is kept as two unsigned 32-bit halves and the tables as
 * `Uint32Array`s. Slice-by-8: eight tables let one step fold eight input bytes (table k holds the CRC of a byte followed
 * by k zero bytes). Measurements of this and the alternatives are in the team's notes (rdb-crc.md) and BENCHMARKS.md.
 */

/** The reflected polynomial (0x95ac9329ac4bc9b5), split in halves. */
const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;

/** Table k (k = 0..7) at [k * 256, k * 256 + 256): low and high halves. */
const TABLE_LO = new Uint32Array(8 * 256);
const TABLE_HI = new Uint32Array(8 * 256);

function buildTables(): void {
  for (let b = 0; b < 256; b++) {
    let lo = b;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TABLE_LO[b] = lo;
    TABLE_HI[b] = hi;
  }
  for (let k = 1; k < 8; k++) {
    for (let b = 0; b < 256; b++) {
      const prevLo = TABLE_LO[(k - 1) * 256 + b];
      const prevHi = TABLE_HI[(k - 1) * 256 + b];
      const idx = prevLo & 0xff;
      TABLE_LO[k * 256 + b] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]) >>> 0;
      TABLE_HI[k * 256 + b] = ((prevHi >>> 8) ^ TABLE_HI[idx]) >>> 0;
    }
  }
}
buildTables();

/** A running CRC-64. `update` as often as needed, then read `hex()` or the halves. */
export class Crc64 {
  /** Low and high 32 bits of the register. */
  public lo = 0;
  public hi = 0;

  /** Folds `bytes[start, end)` into the register. */
  public update(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const r = crc64Update(this.lo, this.hi, bytes, start, end);
    this.lo = r.lo;
    this.hi = r.hi;
  }

  /** The register as 16 lowercase hex digits (most significant first, as `printf("%016llx")` shows it). */
  public hex(): string {
    return hex64(this.lo, this.hi);
  }
}

/** Result of one update; reused to avoid an allocation per call. */
const result = { lo: 0, hi: 0 };

/**
 * Folds `bytes[start, end)` into the register (lo, hi). Returns a shared object: read it before the next call.
 */
export function crc64Update(lo: number, hi: number, bytes: Uint8Array, start: number, end: number): { lo: number; hi: number } {
  let p = start;
  // Byte steps up to a 4-byte aligned address, so the middle can be read as 32-bit words.
  while (p < end && ((bytes.byteOffset + p) & 3) !== 0) {
    const idx = (lo ^ bytes[p++]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx];
    hi = (hi >>> 8) ^ TABLE_HI[idx];
  }
  const blocks = (end - p) >>> 3;
  if (blocks > 0 && LITTLE_ENDIAN) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + p, blocks * 2);
    const r = sliceBy8(lo, hi, words);
    lo = r.lo;
    hi = r.hi;
    p += blocks * 8;
  }
  while (p < end) {
    const idx = (lo ^ bytes[p++]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx];
    hi = (hi >>> 8) ^ TABLE_HI[idx];
  }
  result.lo = lo >>> 0;
  result.hi = hi >>> 0;
  return result;
}

/** The slice-by-8 inner loop over little-endian 32-bit words (two words per step). */
function sliceBy8(lo: number, hi: number, words: Uint32Array): { lo: number; hi: number } {
  const tlo = TABLE_LO;
  const thi = TABLE_HI;
  const n = words.length;
  for (let i = 0; i < n; i += 2) {
    const a = lo ^ words[i];
    const b = hi ^ words[i + 1];
    const i7 = 1792 + (a & 0xff);
    const i6 = 1536 + ((a >>> 8) & 0xff);
    const i5 = 1280 + ((a >>> 16) & 0xff);
    const i4 = 1024 + (a >>> 24);
    const i3 = 768 + (b & 0xff);
    const i2 = 512 + ((b >>> 8) & 0xff);
    const i1 = 256 + ((b >>> 16) & 0xff);
    const i0 = b >>> 24;
    lo = tlo[i7] ^ tlo[i6] ^ tlo[i5] ^ tlo[i4] ^ tlo[i3] ^ tlo[i2] ^ tlo[i1] ^ tlo[i0];
    hi = thi[i7] ^ thi[i6] ^ thi[i5] ^ thi[i4] ^ thi[i3] ^ thi[i2] ^ thi[i1] ^ thi[i0];
  }
  result.lo = lo;
  result.hi = hi;
  return result;
}

/** Whether the platform stores 32-bit words little-endian (every platform Node runs on today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The CRC-64 of a whole buffer as 16 hex digits. */
export function crc64Hex(bytes: Uint8Array): string {
  const r = crc64Update(0, 0, bytes, 0, bytes.length);
  return hex64(r.lo, r.hi);
}

/** A 64-bit value given as halves, as 16 lowercase hex digits. */
export function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * Slice-by-n tables (table k at [k * 256, k * 256 + 256): the CRC of byte b followed by k zero bytes), low and high
 * halves; for the WebAssembly variant.
 */
export function crc64Tables(slices: number): { lo: Uint32Array; hi: Uint32Array } {
  const lo = new Uint32Array(slices * 256);
  const hi = new Uint32Array(slices * 256);
  lo.set(TABLE_LO.subarray(0, 256));
  hi.set(TABLE_HI.subarray(0, 256));
  for (let k = 1; k < slices; k++) {
    for (let b = 0; b < 256; b++) {
      const prevLo = lo[(k - 1) * 256 + b];
      const prevHi = hi[(k - 1) * 256 + b];
      const idx = prevLo & 0xff;
      lo[k * 256 + b] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]) >>> 0;
      hi[k * 256 + b] = ((prevHi >>> 8) ^ TABLE_HI[idx]) >>> 0;
    }
  }
  return { lo, hi };
}
