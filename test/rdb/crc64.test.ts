import * as fc from 'fast-check';
import { referenceCrc64 } from './rdb-builder';
import { Crc64, crc64Hex, crc64Update } from '../../lib/rdb/crc64';
import { crc64UpdateFast, crc64WasmAvailable } from '../../lib/rdb/crc64-wasm';

describe('crc64', () => {
  test('matches the check value of redis crc64.c: "123456789" -> e9c6d914c4b8d9ca', () => {
    expect(crc64Hex(Buffer.from('123456789'))).toBe('e9c6d914c4b8d9ca');
  });

  test('the CRC of nothing is zero', () => {
    expect(crc64Hex(new Uint8Array(0))).toBe('0000000000000000');
  });

  test('property: equals a bit-at-a-time reference for any bytes at any alignment', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (bytes, shift) => {
      // Copy at an offset inside a larger buffer so the word-aligned middle starts at every alignment.
      const host = new Uint8Array(bytes.length + 8);
      host.set(bytes, shift);
      const view = host.subarray(shift, shift + bytes.length);
      expect(BigInt('0x' + crc64Hex(view))).toBe(referenceCrc64(bytes));
    }), { numRuns: 300 });
  });

  test('property: feeding in pieces gives the same CRC as one call', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 }), (bytes, cuts) => {
      const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const crc = new Crc64();
      let start = 0;
      for (const p of [...points, bytes.length]) {
        crc.update(bytes, start, p);
        start = p;
      }
      expect(crc.hex()).toBe(crc64Hex(bytes));
    }), { numRuns: 300 });
  });

  test('crc64Update continues from a given register', () => {
    const data = Buffer.from('123456789');
    const first = crc64Update(0, 0, data, 0, 4);
    const { lo, hi } = first;
    const second = crc64Update(lo, hi, data, 4, 9);
    expect(second.hi.toString(16) + second.lo.toString(16).padStart(8, '0')).toBe('e9c6d914c4b8d9ca');
  });
});

describe('crc64 in WebAssembly', () => {
  test('the module assembles and is in use on Node', () => {
    expect(crc64WasmAvailable()).toBe(true);
  });

  test('property: equals the JavaScript version for any length and start, from any register', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(100), fc.nat(0xffffffff), fc.nat(0xffffffff), (bytes, skip, lo, hi) => {
      const start = Math.min(skip, bytes.length);
      const expected = { ...crc64Update(lo, hi, bytes, start, bytes.length) };
      expect({ ...crc64UpdateFast(lo, hi, bytes, start, bytes.length) }).toEqual(expected);
    }), { numRuns: 300 });
  });

  test('inputs larger than its 1 MB window are folded in pieces', () => {
    const big = new Uint8Array(2_500_000).map((_, i) => (i * 31 + 7) % 251);
    expect({ ...crc64UpdateFast(0, 0, big, 0, big.length) }).toEqual({ ...crc64Update(0, 0, big, 0, big.length) });
  });
});
