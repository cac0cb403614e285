import * as fc from 'fast-check';
import { keysExpiringBetween } from '../../lib/rdb/expiry';
import { ExpiryHistogramBuilder } from '../../lib/rdb/histogram';

const HOUR = 3600_000;
const REF = 1_700_000_000_000;

describe('expiry histogram', () => {
  test('buckets are relative to the reference: 1 s wide near it, four per power of two farther away', () => {
    const h = new ExpiryHistogramBuilder();
    h.setReference(REF);
    h.add(REF + 500);
    h.add(REF + 1000);
    h.add(REF + 1249);
    h.add(REF + 1250);
    expect(h.buckets()).toEqual([
      { notBefore: REF, notAfter: REF + 1000, keys: 1 },
      { notBefore: REF + 1000, notAfter: REF + 1250, keys: 2 },
      { notBefore: REF + 1250, notAfter: REF + 1500, keys: 1 },
    ]);
  });

  test('keys already expired when the file was written fall in buckets ending at or before the reference', () => {
    const h = new ExpiryHistogramBuilder();
    h.setReference(REF);
    h.add(REF - 1);
    h.add(REF - 1000);
    h.add(REF - 1001);
    expect(h.buckets()).toEqual([
      { notBefore: REF - 1250, notAfter: REF - 1000, keys: 1 },
      { notBefore: REF - 1000, notAfter: REF, keys: 2 },
    ]);
  });

  test('without a reference the first expire time, rounded down to the second, is the reference', () => {
    const h = new ExpiryHistogramBuilder();
    h.add(REF + 1234);
    expect(h.buckets()).toEqual([{ notBefore: REF + 1000, notAfter: REF + 2000, keys: 1 }]);
  });

  test('property: every key lands in exactly one bucket that contains its time; buckets are sorted and disjoint', () => {
    const offset = fc.integer({ min: -(2 ** 45), max: 2 ** 45 });
    fc.assert(fc.property(fc.array(offset, { minLength: 1, maxLength: 60 }), (offsets) => {
      const h = new ExpiryHistogramBuilder();
      h.setReference(REF);
      offsets.forEach((d) => h.add(REF + d));
      const buckets = h.buckets();
      expect(buckets.reduce((a, b) => a + b.keys, 0)).toBe(offsets.length);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i].notBefore).toBeGreaterThanOrEqual(buckets[i - 1].notAfter);
      for (const d of offsets) {
        const t = REF + d;
        const holding = buckets.filter((b) => b.notBefore <= t && t < b.notAfter);
        expect(holding).toHaveLength(1);
      }
      // Coarse but bounded: a bucket is at most a quarter of its distance from the reference (or 1 s) wide.
      for (const b of buckets) {
        const distance = Math.min(Math.abs(b.notBefore - REF), Math.abs(b.notAfter - REF));
        expect(b.notAfter - b.notBefore).toBeLessThanOrEqual(Math.max(1000, distance / 4));
      }
    }), { numRuns: 300 });
  });
});

describe('keysExpiringBetween', () => {
  const histogram = [
    { notBefore: REF, notAfter: REF + HOUR, keys: 5 },
    { notBefore: REF + HOUR, notAfter: REF + 2 * HOUR, keys: 7 },
    { notBefore: REF + 2 * HOUR, notAfter: REF + 4 * HOUR, keys: 11 },
  ];

  test('counts buckets wholly inside the range as certain and overlapping ones as possible', () => {
    expect(keysExpiringBetween(histogram, REF, REF + 2 * HOUR)).toEqual({ atLeast: 12, atMost: 12 });
    expect(keysExpiringBetween(histogram, REF + HOUR / 2, REF + 3 * HOUR)).toEqual({ atLeast: 7, atMost: 23 });
  });

  test('a range before, after or between buckets, or empty, counts nothing', () => {
    expect(keysExpiringBetween(histogram, 0, REF)).toEqual({ atLeast: 0, atMost: 0 });
    expect(keysExpiringBetween(histogram, REF + 4 * HOUR, REF + 9 * HOUR)).toEqual({ atLeast: 0, atMost: 0 });
    expect(keysExpiringBetween(histogram, REF + HOUR, REF + HOUR)).toEqual({ atLeast: 0, atMost: 0 });
    expect(keysExpiringBetween(histogram, REF + HOUR, REF)).toEqual({ atLeast: 0, atMost: 0 });
  });

  test('property: atLeast <= true count <= atMost for keys drawn inside the buckets', () => {
    const builder = fc.array(fc.integer({ min: -(2 ** 35), max: 2 ** 35 }), { minLength: 1, maxLength: 50 });
    fc.assert(fc.property(builder, fc.integer({ min: -(2 ** 35), max: 2 ** 35 }), fc.nat(2 ** 35), (offsets, from, width) => {
      const h = new ExpiryHistogramBuilder();
      h.setReference(REF);
      offsets.forEach((d) => h.add(REF + d));
      const fromMs = REF + from;
      const toMs = fromMs + width;
      const truth = offsets.filter((d) => REF + d >= fromMs && REF + d < toMs).length;
      const { atLeast, atMost } = keysExpiringBetween(h.buckets(), fromMs, toMs);
      expect(atLeast).toBeLessThanOrEqual(truth);
      expect(atMost).toBeGreaterThanOrEqual(truth);
    }), { numRuns: 300 });
  });
});
