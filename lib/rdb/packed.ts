/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * Walkers for the compact encodings that RDB stores inside a string: ziplist, listpack, intset, zipmap and the
 * stream listpack layout. Each checks what the engines' own integrity checks (deep sanitization) check, from the
 * engines' public sources: redis/valkey `src/ziplist.c` (ziplistValidateIntegrity), `src/listpack.c`
 * (lpValidateNext, lpEncodeBacklen), `src/intset.c` (intsetValidateIntegrity), `src/zipmap.c`
 * (zipmapValidateIntegrity) and `src/t_stream.c` (streamValidateListpackIntegrity).
 *
 * Each walker reads `bytes[start, end)` (the whole encoded value) and returns the number of elements, or throws a
 * `PackedError` whose `at` is the offset inside the encoded value.
 */

/** What is wrong inside an encoded value, `at` bytes from its start. */
export class PackedError extends Error {
  constructor(message: string, public readonly at: number) {
    super(message);
    this.name = 'PackedError';
  }
}

function fail(message: string, at: number): never {
  throw new PackedError(message, at);
}

function u16(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}

function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

const ZIPLIST_HEADER = 10;
const END = 0xff;

/** A ziplist (RDB types 10, 12, 13 and quicklist 14 nodes). Returns the number of entries. */
export function walkZiplist(b: Uint8Array, start: number, end: number): number {
  const size = end - start;
  if (size < ZIPLIST_HEADER + 1) fail(`a ziplist needs at least ${ZIPLIST_HEADER + 1} bytes, got ${size}`, 0);
  const declared = u32(b, start);
  if (declared !== size) fail(`the ziplist header says ${declared} bytes, the string holds ${size}`, 0);
  if (b[end - 1] !== END) fail(`a ziplist must end with 0xff, got 0x${hexByte(b[end - 1])}`, size - 1);
  const tail = u32(b, start + 4);
  const headerCount = u16(b, start + 8);
  let p = start + ZIPLIST_HEADER;
  let prevLength = 0;
  let last = -1;
  let count = 0;
  while (b[p] !== END) {
    const entry = p;
    let prevLen: number;
    if (b[p] < 0xfe) {
      prevLen = b[p];
      p += 1;
    } else {
      if (p + 5 > end - 1) fail('a ziplist entry header runs past the end', entry - start);
      prevLen = u32(b, p + 1);
      p += 5;
    }
    if (prevLen !== prevLength) fail(`a ziplist entry says the previous entry has ${prevLen} bytes, it has ${prevLength}`, entry - start);
    p = skipZiplistPayload(b, p, end - 1, start);
    prevLength = p - entry;
    last = entry;
    count++;
  }
  if (p !== end - 1) fail('the ziplist end marker is not at the end', p - start);
  const expectedTail = last < 0 ? ZIPLIST_HEADER : last - start;
  if (tail !== expectedTail) fail(`the ziplist tail offset is ${tail}, the last entry starts at ${expectedTail}`, 4);
  if (headerCount !== 0xffff && headerCount !== count) fail(`the ziplist header counts ${headerCount} entries, it holds ${count}`, 8);
  return count;
}

/** Skips a ziplist entry's encoding and data starting at `p`; `limit` is the end marker's offset. */
function skipZiplistPayload(b: Uint8Array, p: number, limit: number, start: number): number {
  if (p >= limit) fail('a ziplist entry header runs past the end', p - start);
  const c = b[p];
  let next: number;
  switch (c >> 6) {
    case 0:
      next = p + 1 + (c & 0x3f);
      break;
    case 1:
      if (p + 2 > limit) fail('a ziplist entry header runs past the end', p - start);
      next = p + 2 + (((c & 0x3f) << 8) | b[p + 1]);
      break;
    case 2:
      // Any 10xxxxxx byte announces a 32-bit big-endian length (ziplist.c masks the low bits away).
      if (p + 5 > limit) fail('a ziplist entry header runs past the end', p - start);
      next = p + 5 + ((b[p + 1] * 0x1000000) + ((b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]));
      break;
    default:
      next = p + 1 + ziplistIntSize(c, p - start);
  }
  if (next > limit) fail('a ziplist entry runs past the end', p - start);
  return next;
}

function ziplistIntSize(c: number, at: number): number {
  switch (c) {
    case 0xc0: return 2;
    case 0xd0: return 4;
    case 0xe0: return 8;
    case 0xf0: return 3;
    case 0xfe: return 1;
    default:
      if (c >= 0xf1 && c <= 0xfd) return 0;
      return fail(`invalid ziplist integer encoding 0x${hexByte(c)}`, at);
  }
}

const LISTPACK_HEADER = 6;

/** The size of a listpack entry's encoding and data (without the back-length), or -1 for an invalid encoding byte. */
function listpackEntrySize(b: Uint8Array, p: number, limit: number): number {
  const c = b[p];
  if (c < 0x80) return 1;
  if (c < 0xc0) return 1 + (c & 0x3f);
  if (c < 0xe0) return 2;
  if (c < 0xf0) return p + 1 < limit ? 2 + (((c & 0x0f) << 8) | b[p + 1]) : Infinity;
  switch (c) {
    case 0xf0: return p + 4 < limit ? 5 + u32(b, p + 1) : Infinity;
    case 0xf1: return 3;
    case 0xf2: return 4;
    case 0xf3: return 5;
    case 0xf4: return 9;
    default: return -1;
  }
}

function backlenSize(entry: number): number {
  if (entry <= 127) return 1;
  if (entry < 16383) return 2;
  if (entry < 2097151) return 3;
  if (entry < 268435455) return 4;
  return 5;
}

/** Checks a listpack's structure; returns the offset of each entry through `visit` when given. Returns the count. */
export function walkListpack(b: Uint8Array, start: number, end: number, visit?: (p: number) => void): number {
  const size = end - start;
  if (size < LISTPACK_HEADER + 1) fail(`a listpack needs at least ${LISTPACK_HEADER + 1} bytes, got ${size}`, 0);
  const declared = u32(b, start);
  if (declared !== size) fail(`the listpack header says ${declared} bytes, the string holds ${size}`, 0);
  if (b[end - 1] !== END) fail(`a listpack must end with 0xff, got 0x${hexByte(b[end - 1])}`, size - 1);
  const headerCount = u16(b, start + 4);
  const limit = end - 1;
  let p = start + LISTPACK_HEADER;
  let count = 0;
  while (p < limit) {
    const entry = listpackEntrySize(b, p, limit);
    if (entry < 0) fail(`invalid listpack encoding byte 0x${hexByte(b[p])}`, p - start);
    const back = backlenSize(entry);
    const next = p + entry + back;
    if (next > limit) fail('a listpack entry runs past the end', p - start);
    // The back-length is written most significant group first; every byte but the first has the high bit set.
    let value = b[p + entry];
    if (value & 0x80) fail('invalid listpack back-length', p + entry - start);
    for (let i = 1; i < back; i++) {
      const x = b[p + entry + i];
      if (!(x & 0x80)) fail('invalid listpack back-length', p + entry + i - start);
      value = value * 128 + (x & 0x7f);
    }
    if (value !== entry) fail(`a listpack back-length says ${value}, the entry has ${entry} bytes`, p + entry - start);
    if (visit) visit(p);
    p = next;
    count++;
  }
  if (headerCount !== 0xffff && headerCount !== count) fail(`the listpack header counts ${headerCount} entries, it holds ${count}`, 4);
  return count;
}

/** Offset of the listpack entry after the one at `p` (the listpack is already validated). */
function listpackNext(b: Uint8Array, p: number): number {
  const entry = listpackEntrySize(b, p, Infinity);
  return p + entry + backlenSize(entry);
}

/**
 * The integer value of a validated listpack entry: integer encodings, or a string holding a decimal integer
 * (as lpGetIntegerIfValid accepts). NaN when it is not an integer. 64-bit values lose precision past 2^53.
 */
function listpackInteger(b: Uint8Array, p: number): number {
  const c = b[p];
  if (c < 0x80) return c;
  if (c >= 0xc0 && c < 0xe0) {
    const v = ((c & 0x1f) << 8) | b[p + 1];
    return v >= 4096 ? v - 8192 : v;
  }
  switch (c) {
    case 0xf1: return (b[p + 1] | (b[p + 2] << 8)) << 16 >> 16;
    case 0xf2: return (b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8 >> 8;
    case 0xf3: return b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24);
    case 0xf4: return u32(b, p + 1) + (b[p + 5] | (b[p + 6] << 8) | (b[p + 7] << 16) | (b[p + 8] << 24)) * 4294967296;
    default:
      break;
  }
  let len: number;
  let data: number;
  if (c < 0xc0) {
    len = c & 0x3f;
    data = p + 1;
  } else if (c < 0xf0) {
    len = ((c & 0x0f) << 8) | b[p + 1];
    data = p + 2;
  } else {
    len = u32(b, p + 1);
    data = p + 5;
  }
  return decimalInteger(b, data, len);
}

function decimalInteger(b: Uint8Array, p: number, len: number): number {
  if (len === 0 || len > 20) return NaN;
  let i = 0;
  let negative = false;
  if (b[p] === 0x2d) {
    negative = true;
    i = 1;
    if (len === 1) return NaN;
  }
  if (b[p + i] === 0x30 && len > i + 1) return NaN;
  let v = 0;
  for (; i < len; i++) {
    const d = b[p + i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

const STREAM_SAMEFIELDS = 2;

/**
 * A stream node listpack (RDB types 15, 19, 21): a master entry (count, deleted, field count, fields, 0), then
 * `count + deleted` entries (flags, ms delta, seq delta, [field count, fields,] values, lp-count). Returns the
 * number of listpack elements.
 */
export function walkStreamListpack(b: Uint8Array, start: number, end: number): number {
  const elements = walkListpack(b, start, end);
  if (elements === 0) fail('a stream listpack is empty', 0);
  const limit = end - 1;
  let p = start + LISTPACK_HEADER;
  const int = (what: string): number => {
    if (p >= limit) fail(`the stream listpack ends before the ${what}`, p - start);
    const v = listpackInteger(b, p);
    if (!Number.isFinite(v)) fail(`the stream listpack's ${what} is not an integer`, p - start);
    p = listpackNext(b, p);
    return v;
  };
  const skip = (n: number, what: string): void => {
    for (let i = 0; i < n; i++) {
      if (p >= limit) fail(`the stream listpack ends inside the ${what}`, p - start);
      p = listpackNext(b, p);
    }
  };
  let entries = int('entry count') + int('deleted count');
  const masterFields = int('master field count');
  skip(masterFields, 'master fields');
  if (int('master terminator') !== 0) fail('the stream master entry does not end with 0', p - start);
  while (entries-- > 0) {
    const flags = int('entry flags');
    int('entry ms delta');
    int('entry seq delta');
    let fields = masterFields;
    let extra = 3;
    if (!(flags & STREAM_SAMEFIELDS)) {
      fields = int('entry field count');
      skip(fields, 'entry fields');
      extra += fields + 1;
    }
    skip(fields, 'entry values');
    const lpCount = int('entry lp-count');
    if (lpCount !== fields + extra) fail(`a stream entry's lp-count is ${lpCount}, expected ${fields + extra}`, p - start);
  }
  if (p !== limit) fail('the stream listpack holds more elements than its entries', p - start);
  return elements;
}

/** An intset (RDB type 11): encoding 2, 4 or 8, a count, then strictly ascending integers. Returns the count. */
export function walkIntset(b: Uint8Array, start: number, end: number): number {
  const size = end - start;
  if (size < 8) fail(`an intset needs at least 8 bytes, got ${size}`, 0);
  const width = u32(b, start);
  if (width !== 2 && width !== 4 && width !== 8) fail(`invalid intset encoding ${width} (expected 2, 4 or 8)`, 0);
  const count = u32(b, start + 4);
  if (8 + count * width !== size) fail(`the intset header counts ${count} ${width}-byte integers, the string holds ${size - 8} bytes`, 4);
  if (count === 0) fail('an intset is empty', 4);
  let prevHi = -Infinity;
  let prevLo = 0;
  for (let i = 0, p = start + 8; i < count; i++, p += width) {
    let hi: number;
    let lo: number;
    if (width === 8) {
      lo = u32(b, p);
      hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
    } else {
      lo = 0;
      hi = width === 2 ? (b[p] | (b[p + 1] << 8)) << 16 >> 16 : b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    }
    if (hi < prevHi || (hi === prevHi && lo <= prevLo)) fail('intset members are not strictly ascending', p - start);
    prevHi = hi;
    prevLo = lo;
  }
  return count;
}

const ZIPMAP_BIGLEN = 254;

/** A zipmap (RDB type 9, written before Redis 2.6): count byte, then (len, key, len, free, value, free bytes) pairs. */
export function walkZipmap(b: Uint8Array, start: number, end: number): number {
  const size = end - start;
  if (size < 2) fail(`a zipmap needs at least 2 bytes, got ${size}`, 0);
  if (b[end - 1] !== END) fail(`a zipmap must end with 0xff, got 0x${hexByte(b[end - 1])}`, size - 1);
  const limit = end - 1;
  let p = start + 1;
  let count = 0;
  const length = (): number => {
    if (p >= limit) fail('a zipmap entry runs past the end', p - start);
    if (b[p] < ZIPMAP_BIGLEN) return b[p++];
    if (b[p] === END) fail('a zipmap entry is cut by the end marker', p - start);
    if (p + 5 > limit) fail('a zipmap length runs past the end', p - start);
    const v = u32(b, p + 1);
    p += 5;
    return v;
  };
  while (p < limit && b[p] !== END) {
    const entry = p;
    const keyLength = length(); // (not `p += length()`: length() moves p itself)
    p += keyLength;
    const valueLength = length();
    if (p >= limit) fail('a zipmap entry runs past the end', entry - start);
    const free = b[p++];
    p += valueLength + free;
    if (p > limit) fail('a zipmap entry runs past the end', entry - start);
    count++;
  }
  if (p !== limit) fail('the zipmap end marker is not at the end', p - start);
  if (count === 0) fail('a zipmap is empty', 0);
  if (b[start] !== ZIPMAP_BIGLEN && b[start] !== count) fail(`the zipmap header counts ${b[start]} entries, it holds ${count}`, 0);
  return count;
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}
