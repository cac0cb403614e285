/**
 * Names the plan creates (issue 9, item 2) and the default export timeout (item 5).
 */
import * as fc from 'fast-check';
import {
  isPlanSnapshotName, legacyPlanNamePattern, MAX_SNAPSHOT_NAME_LENGTH, planExportName, planNamePattern, planNamePrefix, planSnapshotName,
  randomSuffix,
} from '../../lib/backup-plan/constants';
import { defaultExportTimeoutSeconds } from '../../lib/backup-plan/export-timeout';

/** IAM's glob (`*` any run of characters, `?` one character) as a regular expression: the test's own oracle. */
function iamGlob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\-]/g, '\\$&'))).join('')}$`);
}
/** ElastiCache's rules for a snapshot name (CreateSnapshot / CopySnapshot), with the 40-character limit of the older guide. */
function validSnapshotName(name: string): boolean {
  return name.length >= 1 && name.length <= 40 && /^[a-z][a-z0-9-]*$/.test(name) && !name.includes('--') && !name.endsWith('-');
}
/** A replication group id as ElastiCache accepts it: 1-40 characters, a letter first, letters, digits and single hyphens. */
const groupId = fc.stringMatching(/^[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,9}){0,3}$/).filter((s) => s.length <= 40);
const time = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
const suffix = fc.stringMatching(/^[a-z2-7]{8}$/);

describe('plan names', () => {
  const longest = 'a'.repeat(20) + '-' + 'b'.repeat(19); // 40 characters: the longest replication group id

  test('every name for the longest group id is at most 40 characters and a valid snapshot name', () => {
    expect(longest).toHaveLength(40);
    const t = new Date('2026-12-31T23:59:59Z');
    expect(planSnapshotName(longest, t)).toHaveLength(30);
    expect(planExportName(longest, t, 'abcdefgh')).toHaveLength(39);
    // The keys ElastiCache writes append -0001.rdb to the export name; names, not keys, carry the limit.
    for (const name of [planSnapshotName(longest, t), planExportName(longest, t, 'abcdefgh')]) {
      expect(name.length).toBeLessThanOrEqual(MAX_SNAPSHOT_NAME_LENGTH);
      expect(validSnapshotName(name)).toBe(true);
    }
    expect(planNamePattern(longest)).toHaveLength(14);
  });

  test('property: names are valid, at most 40 characters, and covered by their own group\'s IAM pattern only', () => {
    fc.assert(fc.property(groupId, groupId, time, suffix, (a, b, t, s) => {
      fc.pre(a !== b);
      for (const name of [planSnapshotName(a, t), planExportName(a, t, s)]) {
        expect(validSnapshotName(name)).toBe(true);
        expect(iamGlob(planNamePattern(a)).test(name)).toBe(true);
        expect(iamGlob(planNamePattern(b)).test(name)).toBe(false);
      }
    }), { numRuns: 500 });
  });

  test('a group whose id extends another\'s (orders, orders-eu) gets a prefix that does not match the other\'s names', () => {
    const t = new Date('2026-03-10T12:00:00Z');
    expect(iamGlob(planNamePattern('orders')).test(planSnapshotName('orders-eu', t))).toBe(false);
    expect(iamGlob(planNamePattern('orders-eu')).test(planSnapshotName('orders', t))).toBe(false);
    // The old pattern did: this is what the new names fix.
    expect(iamGlob('orders-*').test('orders-eu-plan-20260310t120000z')).toBe(true);
  });

  test('prefixes are stable (synth time = run time) and case-insensitive like ElastiCache ids', () => {
    expect(planNamePrefix('Orders')).toBe(planNamePrefix('orders'));
    expect(planNamePrefix('orders')).toBe(planNamePrefix('orders'));
    expect(planNamePrefix('orders')).toMatch(/^ceb-[a-z2-7]{8}-$/);
  });

  test('export names are unguessable: distinct random suffixes make distinct names; the suffix is checked', () => {
    const t = new Date('2026-03-10T12:00:00Z');
    const suffixes = new Set(Array.from({ length: 200 }, () => randomSuffix()));
    expect(suffixes.size).toBe(200);
    for (const s of suffixes) {
      expect(s).toMatch(/^[a-z2-7]{8}$/);
    }
    expect(() => planExportName('orders', t, 'ABC')).toThrow('export name suffix must be 8 lowercase base32 characters, got "ABC"');
  });

  test('recognizes its own backup names, new and legacy, and nothing else', () => {
    const t = new Date('2026-03-10T12:00:00Z');
    expect(isPlanSnapshotName('orders', planSnapshotName('orders', t))).toBe(true);
    expect(isPlanSnapshotName('orders', 'orders-plan-20260310t120000z')).toBe(true);
    expect(isPlanSnapshotName('orders', planSnapshotName('orders-eu', t))).toBe(false);
    expect(isPlanSnapshotName('orders', 'orders-eu-plan-20260310t120000z')).toBe(false);
    expect(isPlanSnapshotName('orders', planExportName('orders', t, 'abcdefgh'))).toBe(false);
    expect(legacyPlanNamePattern('Orders')).toBe('orders-plan-*');
  });
});

describe('default export timeout', () => {
  test.each([
    // 30 min + 10 min per GiB of memory (AWS's node memory table), capped at 12 h; unknown types: 2 h.
    ['cache.t3.micro', 1800 + 0.5 * 600],
    ['cache.r7g.large', 1800 + Math.ceil(13.07 * 600)],
    ['cache.m7g.xlarge', 1800 + Math.ceil(12.93 * 600)],
    ['cache.r7g.2xlarge', 1800 + Math.ceil(52.82 * 600)],
    ['cache.r7g.16xlarge', 12 * 3600],
    ['cache.x9.huge', 2 * 3600],
  ])('%s -> %d s', (nodeType, seconds) => {
    expect(defaultExportTimeoutSeconds(nodeType)).toBe(seconds);
  });
});
