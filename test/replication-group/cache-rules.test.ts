import * as fc from 'fast-check';
import {
  AUTH_TOKEN_EXCLUDED_CHARACTERS,
  authTokenProblems,
  generateReplicationGroupId,
  isBurstableNodeType,
  isDataTieringNodeType,
  recommendedReservedMemoryPercent,
  replicationGroupIdProblems,
} from '../../lib/private/cache-rules';

describe('replicationGroupIdProblems', () => {
  test('accepts a valid id', () => {
    expect(replicationGroupIdProblems('orders-cache-1')).toEqual([]);
  });

  test('accepts exactly 40 characters', () => {
    expect(replicationGroupIdProblems('a'.repeat(40))).toEqual([]);
  });

  test.each([
    ['', ['must be 1 to 40 characters long (it has 0)', 'must start with a lowercase letter']],
    ['a'.repeat(41), ['must be 1 to 40 characters long (it has 41)']],
    ['1cache', ['must start with a lowercase letter']],
    ['my--cache', ['must not contain two consecutive hyphens']],
    ['my-cache-', ['must not end with a hyphen']],
    ['my_cache', ['may only contain lowercase letters, digits and hyphens']],
    ['MyCache', ['may only contain lowercase letters, digits and hyphens', 'must start with a lowercase letter']],
  ])('reports the problems of %p', (id, problems) => {
    expect(replicationGroupIdProblems(id)).toEqual(problems);
  });
});

describe('generateReplicationGroupId', () => {
  test('keeps the path readable and appends a hash', () => {
    expect(generateReplicationGroupId(['Stack', 'Cache'])).toMatch(/^stack-cache-[0-9a-f]{8}$/);
  });

  test('is stable for the same path', () => {
    expect(generateReplicationGroupId(['Stack', 'Orders', 'Cache'])).toBe(generateReplicationGroupId(['Stack', 'Orders', 'Cache']));
  });

  test('differs for paths that read the same', () => {
    expect(generateReplicationGroupId(['Stack', 'my_cache'])).not.toBe(generateReplicationGroupId(['Stack', 'my-cache']));
  });

  test('falls back to rg- when the path has no letters', () => {
    expect(generateReplicationGroupId(['123', '456'])).toMatch(/^rg-[0-9a-f]{8}$/);
  });

  test('is always a valid replication group id', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 0, maxLength: 60 }), { minLength: 1, maxLength: 6 }), parts => {
      const id = generateReplicationGroupId(parts);
      expect(replicationGroupIdProblems(id)).toEqual([]);
    }), { numRuns: 500 });
  });

  test('is valid for long paths of typical construct ids', () => {
    const constructId = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,30}$/);
    fc.assert(fc.property(fc.array(constructId, { minLength: 1, maxLength: 8 }), parts => {
      const id = generateReplicationGroupId(parts);
      expect(id.length).toBeLessThanOrEqual(40);
      expect(replicationGroupIdProblems(id)).toEqual([]);
    }), { numRuns: 500 });
  });
});

describe('authTokenProblems', () => {
  test('accepts letters, digits and the allowed special characters', () => {
    expect(authTokenProblems('Abcdefgh12345678!&#$^<>-')).toEqual([]);
  });

  test('rejects a short token without repeating it', () => {
    expect(authTokenProblems('short')).toEqual(['must be 16 to 128 characters long, got 5 characters']);
  });

  test('rejects a long token', () => {
    expect(authTokenProblems('a'.repeat(129))).toEqual(['must be 16 to 128 characters long, got 129 characters']);
  });

  test('names each rejected character once', () => {
    expect(authTokenProblems('abcdefgh12345678@@ /é')).toEqual([
      'contains characters ElastiCache rejects, got \'@\', space, \'/\', non-ASCII or non-printable; only letters, digits and ! & # $ ^ < > - are allowed',
    ]);
  });

  test('the characters excluded from generated tokens are exactly the punctuation the service rejects', () => {
    const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
    const rejected = printable.filter(c => authTokenProblems(`${'a'.repeat(16)}${c}`).length > 0);
    expect(rejected.sort().join('')).toBe([...AUTH_TOKEN_EXCLUDED_CHARACTERS].sort().join(''));
  });
});

describe('node types', () => {
  test.each([
    ['cache.r7g.large', 25],
    ['cache.m7g.xlarge', 25],
    ['cache.t4g.medium', 25],
    ['cache.t3.small', 30],
    ['cache.t4g.small', 30],
    ['cache.t4g.micro', 50],
    ['cache.t3.micro', 50],
    ['cache.r6gd.xlarge', 25],
    ['cache.r8g.large', 25],
  ])('recommends reserved-memory-percent for %s: %d', (nodeType, percent) => {
    expect(recommendedReservedMemoryPercent(nodeType)).toBe(percent);
  });

  // AWS: "For write-heavy workloads on ElastiCache clusters with data tiering, ... up to 50%"; nothing else changes.
  test.each([
    ['cache.r6gd.xlarge', false, 25],
    ['cache.r6gd.xlarge', true, 50],
    ['cache.r6gd.16xlarge', true, 50],
    ['cache.r7g.large', true, 25],
    ['cache.t4g.small', true, 30],
    ['cache.t4g.micro', false, 50],
  ])('recommends for %s with writeHeavy %s: %d', (nodeType, writeHeavy, percent) => {
    expect(recommendedReservedMemoryPercent(nodeType, writeHeavy)).toBe(percent);
  });

  test('recognises burstable node types', () => {
    expect(['cache.t2.micro', 'cache.t3.small', 'cache.t4g.medium', 'cache.r7g.large'].map(isBurstableNodeType)).toEqual([true, true, true, false]);
  });

  test('recognises data tiering node types', () => {
    expect(['cache.r6gd.xlarge', 'cache.r6g.xlarge', 'cache.m6gd.large'].map(isDataTieringNodeType)).toEqual([true, false, false]);
  });
});
