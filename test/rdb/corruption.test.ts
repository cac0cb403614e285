/* eslint-disable no-bitwise */ // bit flips and binary fields are what these tests are about
import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { syntheticFiles } from './synthetic';
import { RdbVerifier, RdbVerifyError, verifyRdb } from '../../lib/rdb/verifier';

const fixtures = path.join(__dirname, '..', 'fixtures', 'rdb');
const realDumps = ['redis-7.0.rdb', 'valkey-8.0.rdb', 'redis-7.0-all-types.rdb', 'valkey-8.0-all-types.rdb']
  .map((name) => ({ name, bytes: fs.readFileSync(path.join(fixtures, name)) }));
const synthetic = syntheticFiles().map((f) => ({ name: f.name, bytes: f.bytes }));

/** Runs the verifier; returns the report, or the RdbVerifyError; anything else fails the test. */
function outcome(bytes: Uint8Array, requireChecksum = false) {
  try {
    return verifyRdb(bytes, { requireChecksum });
  } catch (e) {
    if (e instanceof RdbVerifyError) return e;
    throw new Error(`the verifier threw something other than RdbVerifyError: ${String(e)}`);
  }
}

describe('truncation', () => {
  test.each([...realDumps.slice(0, 2), ...synthetic].map((f) => [f.name, f.bytes] as const))(
    '%s: every proper prefix is refused as truncated, at its own length',
    (_name, bytes) => {
      for (let cut = 0; cut < bytes.length; cut++) {
        const result = outcome(bytes.subarray(0, cut));
        expect(result).toBeInstanceOf(RdbVerifyError);
        const error = result as RdbVerifyError;
        expect(error.offset).toBeLessThanOrEqual(cut);
        if (cut >= 9) expect(error.message).toContain('truncated');
      }
    },
  );

  test.each(realDumps.slice(2).map((f) => [f.name, f.bytes] as const))('%s: prefixes at 400 offsets are refused as truncated', (_name, bytes) => {
    const step = Math.ceil(bytes.length / 400);
    for (let cut = 9; cut < bytes.length; cut += step) {
      const result = outcome(bytes.subarray(0, cut));
      expect(result).toBeInstanceOf(RdbVerifyError);
      expect((result as RdbVerifyError).message).toMatch(new RegExp(`^at byte ${cut}: truncated`));
    }
  });
});

/** A bit flip, a byte set to a value, a deleted range or an inserted run, at a position drawn from the file. */
type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'set'; at: number; value: number }
  | { kind: 'delete'; at: number; count: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function apply(original: Buffer, m: Mutation): Buffer {
  const at = m.at % original.length;
  switch (m.kind) {
    case 'flip': {
      const copy = Buffer.from(original);
      copy[at] ^= 1 << m.bit;
      return copy;
    }
    case 'set': {
      const copy = Buffer.from(original);
      copy[at] = m.value;
      return copy;
    }
    case 'delete':
      return Buffer.concat([original.subarray(0, at), original.subarray(at + m.count)]);
    case 'insert':
      return Buffer.concat([original.subarray(0, at), Buffer.from(m.bytes), original.subarray(at)]);
  }
}

describe('random edits of real dumps', () => {
  test('property: 10,000 bit flips and byte edits are never accepted, and the error is always RdbVerifyError', () => {
    const files = [...realDumps, ...synthetic.filter((f) => f.name !== 'redis-4-no-trailer')];
    // The two 36 KB all-types dumps take most of the time: one run in five edits one of them.
    const small = files.filter((f) => f.bytes.length < 10_000);
    const large = files.filter((f) => f.bytes.length >= 10_000);
    const file = fc.oneof({ arbitrary: fc.constantFrom(...small), weight: 4 }, { arbitrary: fc.constantFrom(...large), weight: 1 });
    let edited = 0;
    fc.assert(fc.property(file, mutation, (picked, m) => {
      const original = picked.bytes;
      const mutated = apply(original, m);
      if (mutated.equals(original)) return; // setting a byte to its own value changes nothing
      edited++;
      const result = outcome(mutated, true);
      expect(result).toBeInstanceOf(RdbVerifyError);
      expect((result as RdbVerifyError).offset).toBeGreaterThanOrEqual(0);
      expect((result as RdbVerifyError).offset).toBeLessThanOrEqual(mutated.length);
    }), { numRuns: 10_000 });
    expect(edited).toBeGreaterThan(9_900);
  });

  test('property: with the checksum disabled, edits give a structurally valid report or RdbVerifyError, nothing else', () => {
    const files = [...realDumps, ...synthetic].map((f) => {
      const copy = Buffer.from(f.bytes);
      if (f.name !== 'redis-4-no-trailer') copy.fill(0, copy.length - 8);
      return copy;
    });
    const file = fc.oneof(
      { arbitrary: fc.constantFrom(...files.filter((f) => f.length < 10_000)), weight: 4 },
      { arbitrary: fc.constantFrom(...files.filter((f) => f.length >= 10_000)), weight: 1 },
    );
    fc.assert(fc.property(file, fc.array(mutation, { minLength: 1, maxLength: 3 }), (picked, ms) => {
      let mutated: Buffer = picked;
      for (const m of ms) if (mutated.length > 0) mutated = apply(mutated, m);
      const result = outcome(mutated);
      if (!(result instanceof RdbVerifyError)) {
        expect(result.sizeBytes).toBe(mutated.length);
        expect(result.keys).toBe(result.databases.reduce((a, d) => a + d.keys, 0));
      }
    }), { numRuns: 3_000 });
  });

  test('property: fed in random chunks, an edited file gets the same verdict, offset and message as in one piece', () => {
    const files = [...realDumps.slice(0, 2), ...synthetic].map((f) => {
      const copy = Buffer.from(f.bytes);
      if (f.name !== 'redis-4-no-trailer') copy.fill(0, copy.length - 8); // let the structure, not the CRC, decide
      return copy;
    });
    fc.assert(fc.property(fc.constantFrom(...files), mutation, fc.array(fc.nat(), { maxLength: 20 }), (original, m, cuts) => {
      const mutated = apply(original, m);
      const whole = outcome(mutated);
      const v = new RdbVerifier();
      const points = [...new Set(cuts.map((c) => c % (mutated.length + 1)))].sort((a, b) => a - b);
      let chunked: unknown;
      try {
        let start = 0;
        for (const p of [...points, mutated.length]) {
          v.update(mutated.subarray(start, p));
          start = p;
        }
        chunked = v.finish();
      } catch (e) {
        chunked = e;
      }
      if (whole instanceof RdbVerifyError) {
        expect(chunked).toBeInstanceOf(RdbVerifyError);
        const got = chunked as RdbVerifyError;
        expect({ offset: got.offset, message: got.message }).toEqual({ offset: whole.offset, message: whole.message });
      } else {
        expect(chunked).toEqual(whole);
      }
    }), { numRuns: 1_000 });
  });

  test('property: arbitrary bytes after a valid header never crash the verifier', () => {
    fc.assert(fc.property(fc.constantFrom('REDIS0010', 'REDIS0011', 'REDIS0012', 'VALKEY080', 'REDIS0004'), fc.uint8Array({ maxLength: 400 }), (magic, tail) => {
      outcome(Buffer.concat([Buffer.from(magic), tail]));
    }), { numRuns: 3_000 });
  });
});
