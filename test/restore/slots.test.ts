import { evenSlotRanges, HASH_SLOTS, nodeGroupId } from '../../lib/restore/slots';

describe('evenSlotRanges', () => {
  test('for every shard count from 1 to 500 the ranges cover 0-16383 exactly once, in order', () => {
    for (let n = 1; n <= 500; n++) {
      const ranges = evenSlotRanges(n);
      expect(ranges).toHaveLength(n);
      const seen = new Uint16Array(HASH_SLOTS);
      let expectedStart = 0;
      const sizes: number[] = [];
      for (const range of ranges) {
        const match = /^(\d+)-(\d+)$/.exec(range);
        expect(match).not.toBeNull();
        const [start, end] = [Number(match![1]), Number(match![2])];
        expect(start).toBe(expectedStart);
        expect(end).toBeGreaterThanOrEqual(start);
        for (let slot = start; slot <= end; slot++) {
          seen[slot]++;
        }
        sizes.push(end - start + 1);
        expectedStart = end + 1;
      }
      expect(expectedStart).toBe(HASH_SLOTS);
      expect(seen.every((count) => count === 1)).toBe(true);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test('renders the documented form', () => {
    expect(evenSlotRanges(1)).toEqual(['0-16383']);
    expect(evenSlotRanges(3)).toEqual(['0-5460', '5461-10921', '10922-16383']);
  });

  test.each([0, 501, 2.5, -1, NaN])('fails for shard count %p', (n) => {
    expect(() => evenSlotRanges(n)).toThrow(`shard count must be an integer from 1 to 500, got ${n}`);
  });

  test('node group ids are four digits', () => {
    expect([1, 12, 500].map(nodeGroupId)).toEqual(['0001', '0012', '0500']);
  });
});
