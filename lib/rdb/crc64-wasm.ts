/* eslint-disable no-bitwise */ // a binary format: bit operations are the clearest way to say it
/**
 * CRC-64 (Jones, reflected; see crc64.ts) in WebAssembly, where 64-bit integers are native: slice-by-8 with one
 * 64-bit load and eight 64-bit table loads per 8 input bytes, against sixteen 32-bit loads in plain JavaScript.
 *
 * The module is assembled here, instruction by instruction, from the list below (no binary blob is shipped). Memory:
 * the eight 256-entry tables (16 KB, filled from crc64.ts's tables) at address 0, then an input area the chunks are
 * copied into. Measured against the JavaScript version in the team's notes (rdb-crc.md).
 */
import { crc64Tables, crc64Update } from './crc64';

/** Input bytes folded per step: 16 tables of 256 64-bit entries. */
const SLICES = 16;
const TABLES_BYTES = SLICES * 256 * 8;
/** Input is copied into wasm memory in pieces of at most this size. */
const WINDOW = 1 << 20;

// Opcodes of the WebAssembly binary format (spec, section 5.4).
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_ADD = 0x6a;
const I32_GT_U = 0x4b;
const I32_GE_U = 0x4f;
const I32_SHL = 0x74;
const I32_WRAP_I64 = 0xa7;
const I64_LOAD = 0x29;
const I64_LOAD8_U = 0x31;
const I64_XOR = 0x85;
const I64_AND = 0x83;
const I64_SHR_U = 0x88;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// Locals: 0 = crc (i64), 1 = p (i32), 2 = end (i32), 3 = x (i64), 4 = y (i64).
const CRC = 0;
const P = 1;
const LIMIT = 2;
const X = 3;
const Y = 4;

/** T_k[(v >> shift) & 0xff]: push the table entry for one byte of local v. */
function tableEntry(v: number, table: number, shift: number): number[] {
  return [
    LOCAL_GET, v, ...(shift ? [I64_CONST, ...sleb(shift), I64_SHR_U] : []), I64_CONST, ...sleb(0xff), I64_AND, I32_WRAP_I64,
    I32_CONST, 3, I32_SHL, I64_LOAD, 3, ...uleb(table * 2048),
  ];
}

/** crc(crc: i64, p: i32, end: i32) -> i64 over memory[p, end). */
function body(): number[] {
  const fold: number[] = [];
  // x = crc ^ load64(p), y = load64(p + 8); crc = T15[x.b0] ^ ... ^ T8[x.b7] ^ T7[y.b0] ^ ... ^ T0[y.b7].
  for (let i = 0; i < 16; i++) {
    fold.push(...tableEntry(i < 8 ? X : Y, 15 - i, 8 * (i % 8)));
    if (i > 0) fold.push(I64_XOR);
  }
  return [
    BLOCK, VOID, LOOP, VOID,
    LOCAL_GET, P, I32_CONST, 16, I32_ADD, LOCAL_GET, LIMIT, I32_GT_U, BR_IF, 1,
    LOCAL_GET, CRC, LOCAL_GET, P, I64_LOAD, 0, 0, I64_XOR, LOCAL_SET, X,
    LOCAL_GET, P, I64_LOAD, 0, 8, LOCAL_SET, Y,
    ...fold, LOCAL_SET, CRC,
    LOCAL_GET, P, I32_CONST, 16, I32_ADD, LOCAL_SET, P,
    BR, 0, END, END,
    // The last bytes one at a time: crc = T0[(crc ^ b) & 0xff] ^ (crc >> 8).
    BLOCK, VOID, LOOP, VOID,
    LOCAL_GET, P, LOCAL_GET, LIMIT, I32_GE_U, BR_IF, 1,
    LOCAL_GET, CRC, LOCAL_GET, P, I64_LOAD8_U, 0, 0, I64_XOR, I64_CONST, ...sleb(0xff), I64_AND, I32_WRAP_I64,
    I32_CONST, 3, I32_SHL, I64_LOAD, 3, 0,
    LOCAL_GET, CRC, I64_CONST, 8, I64_SHR_U, I64_XOR, LOCAL_SET, CRC,
    LOCAL_GET, P, I32_CONST, 1, I32_ADD, LOCAL_SET, P,
    BR, 0, END, END,
    LOCAL_GET, CRC, END,
  ];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/** The module's bytes: one function `crc` and one exported memory. */
export function crc64WasmModule(): Uint8Array {
  const I64 = 0x7e;
  const I32 = 0x7f;
  const code = body();
  const locals = [1, 2, I64]; // one group: 2 locals of type i64 (x, y)
  const func = [...uleb(locals.length + code.length), ...locals, ...code];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, I64, I32, I32, 1, I64]), // type: (i64, i32, i32) -> i64
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x00, 1]), // one memory, at least 1 page
    ...section(7, [2, ...name('crc'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...func]),
  ]);
}

type CrcFunction = (crc: bigint, p: number, end: number) => bigint;

/** The part of the WebAssembly API used here (the project compiles without the DOM typings that declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** One instance for the whole process (updates are synchronous, so verifiers can share it); built on first use. */
let shared: { fn: CrcFunction; heap: Uint8Array } | null | undefined;

function instance(): { fn: CrcFunction; heap: Uint8Array } | null {
  if (shared !== undefined) return shared;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (!api) throw new Error('no WebAssembly');
    const inst = new api.Instance(new api.Module(crc64WasmModule()), {});
    const memory = inst.exports.memory as WasmMemory;
    memory.grow(Math.ceil((TABLES_BYTES + WINDOW) / 65536) - memory.buffer.byteLength / 65536);
    const { lo, hi } = crc64Tables(SLICES);
    const words = new Uint32Array(memory.buffer, 0, TABLES_BYTES / 4);
    for (let i = 0; i < SLICES * 256; i++) {
      words[2 * i] = lo[i];
      words[2 * i + 1] = hi[i];
    }
    shared = { fn: inst.exports.crc as CrcFunction, heap: new Uint8Array(memory.buffer) };
  } catch {
    shared = null; // no WebAssembly here: the JavaScript version does the work
  }
  return shared;
}

/** Below this many bytes the JavaScript version is as fast as crossing into WebAssembly. */
const WASM_MIN_BYTES = 512;

/**
 * Folds `bytes[start, end)` into the register (lo, hi), in WebAssembly when available. Returns a shared object: read
 * it before the next call.
 */
export function crc64UpdateFast(lo: number, hi: number, bytes: Uint8Array, start: number, end: number): { lo: number; hi: number } {
  const wasm = end - start >= WASM_MIN_BYTES ? instance() : null;
  if (!wasm) return crc64Update(lo, hi, bytes, start, end);
  let value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  for (let p = start; p < end; p += WINDOW) {
    const n = Math.min(WINDOW, end - p);
    wasm.heap.set(bytes.subarray(p, p + n), TABLES_BYTES);
    value = wasm.fn(value, TABLES_BYTES, TABLES_BYTES + n);
  }
  const v = BigInt.asUintN(64, value);
  out.lo = Number(v & 0xffffffffn);
  out.hi = Number(v >> 32n);
  return out;
}

const out = { lo: 0, hi: 0 };

/** Whether the WebAssembly version is in use (for the benchmark notes). */
export function crc64WasmAvailable(): boolean {
  return instance() !== null;
}
