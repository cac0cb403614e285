/* eslint-disable no-bitwise */ // a binary file format: bit operations are the clearest way to say it
/**
 * Builds RDB files byte by byte for the tests, independently of lib/rdb: its own encoders (lengths, strings, LZF,
 * ziplist, listpack, intset, zipmap, stream listpacks) and its own bit-at-a-time CRC-64. Files it builds in formats
 * the installed engines read are checked with redis-check-rdb / valkey-check-rdb (engines.test.ts), which is what
 * makes it a trustworthy oracle for the encodings real servers no longer write.
 */

export type Bytes = number[];

/** CRC-64/Jones as Redis computes it, one bit at a time with BigInt (slow, obviously right). */
export function referenceCrc64(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let i = 0; i < 8; i++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

export const bytesOf = (text: string): Bytes => [...Buffer.from(text, 'latin1')];

function le(value: number | bigint, width: number): Bytes {
  let v = BigInt.asUintN(width * 8, BigInt(value));
  const out: Bytes = [];
  for (let i = 0; i < width; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

function be(value: number | bigint, width: number): Bytes {
  return le(value, width).reverse();
}

/** An RDB length (6, 14, 32 or 64 bits). */
export function len(n: number | bigint): Bytes {
  const v = BigInt(n);
  if (v < 64n) return [Number(v)];
  if (v < 16384n) return [0x40 | Number(v >> 8n), Number(v & 0xffn)];
  if (v < 2n ** 32n) return [0x80, ...be(v, 4)];
  return [0x81, ...be(v, 8)];
}

/** A raw RDB string. */
export function str(s: string | Bytes): Bytes {
  const b = typeof s === 'string' ? bytesOf(s) : s;
  return [...len(b.length), ...b];
}

/** An integer-encoded RDB string (8, 16 or 32 bits). */
export function intStr(v: number): Bytes {
  if (v >= -128 && v <= 127) return [0xc0, ...le(v, 1)];
  if (v >= -32768 && v <= 32767) return [0xc1, ...le(v, 2)];
  return [0xc2, ...le(v, 4)];
}

/** LZF-compresses (greedy, 8 KB window), as liblzf's format defines; returns the compressed bytes. */
export function lzfCompress(input: Bytes): Bytes {
  const out: Bytes = [];
  let literal: Bytes = [];
  const flush = () => {
    for (let i = 0; i < literal.length; i += 32) {
      const run = literal.slice(i, i + 32);
      out.push(run.length - 1, ...run);
    }
    literal = [];
  };
  let i = 0;
  while (i < input.length) {
    let bestLen = 0;
    let bestDist = 0;
    for (let d = 1; d <= Math.min(i, 8192); d++) {
      let l = 0;
      while (l < 264 && i + l < input.length && input[i + l] === input[i - d + l]) l++;
      if (l > bestLen) {
        bestLen = l;
        bestDist = d;
      }
    }
    if (bestLen < 3) {
      literal.push(input[i++]);
      continue;
    }
    flush();
    const l = bestLen - 2;
    const off = bestDist - 1;
    if (l < 7) {
      out.push((l << 5) | (off >> 8), off & 0xff);
    } else {
      out.push((7 << 5) | (off >> 8), l - 7, off & 0xff);
    }
    i += bestLen;
  }
  flush();
  return out;
}

/** An LZF-encoded RDB string. */
export function lzfStr(s: string | Bytes): Bytes {
  const b = typeof s === 'string' ? bytesOf(s) : s;
  const c = lzfCompress(b);
  return [0xc3, ...len(c.length), ...len(b.length), ...c];
}

export type Element = string | number;

/** A ziplist (redis ziplist.c layout). */
export function ziplist(elements: Element[]): Bytes {
  const entries: Bytes[] = [];
  let prev = 0;
  for (const e of elements) {
    const body = ziplistPayload(e);
    const prevlen = prev < 254 ? [prev] : [0xfe, ...le(prev, 4)];
    const entry = [...prevlen, ...body];
    entries.push(entry);
    prev = entry.length;
  }
  const header = 10;
  const total = header + entries.reduce((a, e) => a + e.length, 0) + 1;
  const tail = entries.length ? total - 1 - entries[entries.length - 1].length : header;
  return [...le(total, 4), ...le(tail, 4), ...le(Math.min(entries.length, 0xffff), 2), ...entries.flat(), 0xff];
}

function ziplistPayload(e: Element): Bytes {
  if (typeof e === 'number') {
    if (e >= 0 && e <= 12) return [0xf1 + e];
    if (e >= -128 && e <= 127) return [0xfe, ...le(e, 1)];
    if (e >= -32768 && e <= 32767) return [0xc0, ...le(e, 2)];
    if (e >= -(2 ** 23) && e < 2 ** 23) return [0xf0, ...le(e, 3)];
    if (e >= -(2 ** 31) && e < 2 ** 31) return [0xd0, ...le(e, 4)];
    return [0xe0, ...le(e, 8)];
  }
  const b = bytesOf(e);
  if (b.length < 64) return [b.length, ...b];
  if (b.length < 16384) return [0x40 | (b.length >> 8), b.length & 0xff, ...b];
  return [0x80, ...be(b.length, 4), ...b];
}

/** A listpack (redis listpack.c layout). */
export function listpack(elements: Element[]): Bytes {
  const entries = elements.map((e) => {
    const enc = listpackPayload(e);
    return [...enc, ...backlen(enc.length)];
  });
  const total = 6 + entries.reduce((a, e) => a + e.length, 0) + 1;
  return [...le(total, 4), ...le(Math.min(entries.length, 0xffff), 2), ...entries.flat(), 0xff];
}

function listpackPayload(e: Element): Bytes {
  if (typeof e === 'number') {
    if (e >= 0 && e <= 127) return [e];
    if (e >= -4096 && e <= 4095) {
      const v = e & 0x1fff;
      return [0xc0 | (v >> 8), v & 0xff];
    }
    if (e >= -32768 && e <= 32767) return [0xf1, ...le(e, 2)];
    if (e >= -(2 ** 23) && e < 2 ** 23) return [0xf2, ...le(e, 3)];
    if (e >= -(2 ** 31) && e < 2 ** 31) return [0xf3, ...le(e, 4)];
    return [0xf4, ...le(e, 8)];
  }
  const b = bytesOf(e);
  if (b.length < 64) return [0x80 | b.length, ...b];
  if (b.length < 4096) return [0xe0 | (b.length >> 8), b.length & 0xff, ...b];
  return [0xf0, ...le(b.length, 4), ...b];
}

function backlen(l: number): Bytes {
  if (l <= 127) return [l];
  if (l < 16383) return [l >> 7, (l & 127) | 128];
  if (l < 2097151) return [l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128];
  return [l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128];
}

/** An intset of the given width (2, 4 or 8); values are sorted here. */
export function intset(width: 2 | 4 | 8, values: number[]): Bytes {
  const sorted = [...values].sort((a, b) => a - b);
  return [...le(width, 4), ...le(sorted.length, 4), ...sorted.flatMap((v) => le(v, width))];
}

/** A zipmap (redis zipmap.c layout), with one byte of free space after each value. */
export function zipmap(pairs: Array<[string, string]>): Bytes {
  const zmlen = (n: number) => (n < 254 ? [n] : [254, ...le(n, 4)]);
  const body = pairs.flatMap(([k, v]) => [...zmlen(k.length), ...bytesOf(k), ...zmlen(v.length), 1, ...bytesOf(v), 0]);
  return [pairs.length < 254 ? pairs.length : 254, ...body, 0xff];
}

/** A stream node listpack: entries `[msDelta, seqDelta, fields]` sharing the master fields when they match. */
export function streamListpack(masterFields: string[], entries: Array<[number, number, Array<[string, string]>]>, deleted = 0): Bytes {
  const elements: Element[] = [entries.length - deleted, deleted, masterFields.length, ...masterFields, 0];
  for (const [ms, seq, fields] of entries) {
    const same = fields.length === masterFields.length && fields.every(([f], i) => f === masterFields[i]);
    if (same) {
      elements.push(2, ms, seq, ...fields.map(([, v]) => v), masterFields.length + 3);
    } else {
      elements.push(0, ms, seq, fields.length, ...fields.flat(), 2 * fields.length + 4);
    }
  }
  return listpack(elements);
}

/** A 64-bit module type id from a 9-character name and an encoding version (redis module.c layout). */
export function moduleId(name: string, encver: number): bigint {
  const charset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(charset.indexOf(ch));
  return (id << 10n) | BigInt(encver);
}

/** Assembles a file: magic, records, EOF and trailer. */
export class RdbBuilder {
  private readonly parts: Bytes = [];
  public keys = 0;
  constructor(magic: string) {
    this.parts.push(...bytesOf(magic));
  }
  public raw(bytes: Bytes): this {
    this.parts.push(...bytes);
    return this;
  }
  public aux(key: string, value: Bytes | string): this {
    return this.raw([0xfa, ...str(key), ...(typeof value === 'string' ? str(value) : value)]);
  }
  public selectDb(db: number): this {
    return this.raw([0xfe, ...len(db)]);
  }
  /** A key-value pair: type byte, key, value bytes. */
  public key(type: number, key: string, value: Bytes): this {
    this.keys++;
    return this.raw([type, ...str(key), ...value]);
  }
  /** The file; `checksum` 'ok' (computed), 'zero' (disabled) or 'none' (before RDB 5: no trailer). */
  public build(checksum: 'ok' | 'zero' | 'none' = 'ok'): Buffer {
    const body = Buffer.from([...this.parts, 0xff]);
    if (checksum === 'none') return body;
    const crc = checksum === 'ok' ? referenceCrc64(body) : 0n;
    return Buffer.concat([body, Buffer.from(le(crc, 8))]);
  }
}

export const u64le = (v: number | bigint): Bytes => le(v, 8);
export const u32le = (v: number): Bytes => le(v, 4);
export const f64le = (v: number): Bytes => [...Buffer.from(new Float64Array([v]).buffer)];
export const f32le = (v: number): Bytes => [...Buffer.from(new Float32Array([v]).buffer)];
