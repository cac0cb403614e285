/**
 * The persisted state (lib/backup-plan/state.ts): a missing object is a fresh state; anything unreadable, malformed or
 * newer fails loudly with the location and what to do; every field is validated; a rebase keeps every record.
 */
import { stateErrorOf, STATE_WHERE } from './support/state-errors';
import { emptyState, GroupState } from '../../lib/backup-plan/planner/types';
import { parseState, rebaseOutcomes, serializeState, STATE_FORMAT_VERSION, tryParseState } from '../../lib/backup-plan/state';

const WHERE = STATE_WHERE;

/** A state using every field (hand-written: the oracle is the format, not the parser). */
const FULL = {
  formatVersion: 2,
  inFlight: {
    snapshotName: 'ceb-abcdefgh-b20260310t110000z',
    snapshotSource: 'manual',
    snapshotCreateTime: '2026-03-10T11:00:00.000Z',
    shardCount: 2,
    meta: { engine: 'valkey', engineVersion: '8.0.1', nodeType: 'cache.r7g.large', clusterModeEnabled: true },
    exportName: 'ceb-abcdefgh-x20260310t110000z-aaaaaaaa',
    attempt: 1,
    startedAt: '2026-03-10T11:05:00.000Z',
    confirmed: true,
    sourceBusySeen: true,
    sourceIdleSince: '2026-03-10T11:30:00.000Z',
    verifications: [{ key: 'ceb-abcdefgh-x20260310t110000z-aaaaaaaa-0001.rdb', versionId: 'v1', at: '2026-03-10T11:40:00.000Z', requests: 1 }],
  },
  lateAttempts: [{
    snapshotName: 'ceb-abcdefgh-b20260310t090000z',
    snapshotSource: 'automated',
    snapshotCreateTime: '2026-03-10T09:00:00.000Z',
    shardCount: 1,
    exportName: 'ceb-abcdefgh-x20260310t090000z-bbbbbbbb',
    attempt: 2,
    startedAt: '2026-03-10T09:05:00.000Z',
    confirmed: true,
  }],
  exportAttempts: { 'ceb-abcdefgh-b20260310t110000z': 1 },
  exportFailures: { 'ceb-abcdefgh-b20260310t090000z': { failures: 1, lastError: 'ExportTimedOut', at: '2026-03-10T10:05:00.000Z' } },
  created: [{ name: 'ceb-abcdefgh-b20260310t110000z', at: '2026-03-10T11:00:00.000Z', refused: false, failureNoted: true }],
  exportCalls: [{ name: 'ceb-abcdefgh-x20260310t110000z-aaaaaaaa', at: '2026-03-10T11:05:00.000Z' }],
  exportsCountAgainstQuota: true,
  distrustedManifests: ['manifests/orders/20260309t110000z_x.json'],
  backoffUntil: '2026-03-10T12:05:00.000Z',
  createBackoffUntil: '2026-03-10T13:00:00.000Z',
  exportBackoffUntil: '2026-03-10T12:30:00.000Z',
  consecutiveThrottles: 2,
  refusedDeletions: [{ name: 'ceb-abcdefgh-b20260301t110000z', reason: 'refused: tag removed', at: '2026-03-10T11:00:00.000Z', refusals: 1 }],
};


/** FULL with one field changed (path: dot-separated, array indexes as numbers); `undefined` deletes it. */
function withField(path: string, value: unknown): string {
  const copy = JSON.parse(JSON.stringify(FULL));
  const parts = path.split('.');
  let o = copy;
  for (const p of parts.slice(0, -1)) {
    o = o[p];
  }
  const last = parts[parts.length - 1];
  if (value === undefined) {
    delete o[last];
  } else {
    o[last] = value;
  }
  return JSON.stringify(copy);
}

describe('parseState', () => {
  test('no object is a fresh, empty state', () => {
    expect(parseState(undefined, WHERE)).toEqual(emptyState());
  });

  test('a state using every field is read back as written, and serializes with the current format version', () => {
    const state = parseState(JSON.stringify(FULL), WHERE);
    expect({ ...state, formatVersion: 2 }).toEqual(FULL);
    const text = serializeState(state);
    expect(JSON.parse(text).formatVersion).toBe(STATE_FORMAT_VERSION);
    expect(parseState(text, WHERE)).toEqual(state);
  });

  test('a format version 1 state (before issue 10) is read, and collections it lacks are empty', () => {
    const state = parseState(JSON.stringify({ formatVersion: 1, created: [{ name: 'ceb-x-b20260310t110000z', at: '2026-03-10T11:00:00Z' }] }), WHERE);
    expect(state.created).toEqual([{ name: 'ceb-x-b20260310t110000z', at: '2026-03-10T11:00:00Z' }]);
    expect(state.exportAttempts).toEqual({});
    expect(state.consecutiveThrottles).toBe(0);
  });

  test.each([
    ['an empty object', '', 'is empty'],
    ['a truncated object', JSON.stringify(FULL).slice(0, 120), 'is not valid JSON'],
    ['text that is not JSON', '<html>Access Denied</html>', 'is not valid JSON'],
    ['a JSON array', '[]', "field '' must be an object"],
    ['JSON null', 'null', "field '' must be an object"],
    ['no format version', '{"created":[]}', "field 'formatVersion' must be 1 or 2, got nothing"],
    ['a format version that is not a number', '{"formatVersion":"2"}', "field 'formatVersion' must be 1 or 2, got \"2\""],
  ])('%s fails with the location, the problem and what to do', (_what, text, problem) => {
    const e = stateErrorOf(text);
    expect(e.message).toContain(`backup plan state ${WHERE} `);
    expect(e.message).toContain(problem);
    expect(e.message).toContain('never overwrites this object');
    expect(e.message).toContain('restore its previous version from the export bucket\'s versioning');
    expect(e.message).toContain('or delete it to rebuild the state');
    expect(e.loud).toBe(true);
  });

  test('a newer format version fails, even with fields this version does not know, and says to deploy the newer version', () => {
    const e = stateErrorOf(JSON.stringify({ ...FULL, formatVersion: 3, somethingNew: { a: 1 } }));
    expect(e.message).toContain('was written by a newer version of cdk-elasticache-backup (format version 3; this version reads 1 to 2)');
    expect(e.message).toContain('deploy the newer version of cdk-elasticache-backup again, or restore');
  });

  test('an export in flight without its snapshot time is rejected naming the field (not a RangeError later)', () => {
    const e = stateErrorOf(withField('inFlight.snapshotCreateTime', undefined));
    expect(e.message).toContain("is malformed: field 'inFlight.snapshotCreateTime' must be an ISO date-time string, got nothing");
  });

  test.each([
    ['inFlight', 'x', "'inFlight' must be an object"],
    ['inFlight.snapshotName', '', "'inFlight.snapshotName' must be a non-empty string"],
    ['inFlight.snapshotSource', 'user', "'inFlight.snapshotSource' must be 'manual' or 'automated', got \"user\""],
    ['inFlight.snapshotCreateTime', 'yesterday', "'inFlight.snapshotCreateTime' must be an ISO date-time string, got \"yesterday\""],
    ['inFlight.shardCount', 0, "'inFlight.shardCount' must be an integer >= 1, got 0"],
    ['inFlight.shardCount', 1.5, "'inFlight.shardCount' must be an integer >= 1, got 1.5"],
    ['inFlight.meta', [], "'inFlight.meta' must be an object"],
    ['inFlight.meta.engine', 7, "'inFlight.meta.engine' must be a non-empty string, got 7"],
    ['inFlight.meta.engineVersion', undefined, "'inFlight.meta.engineVersion' must be a non-empty string, got nothing"],
    ['inFlight.meta.nodeType', null, "'inFlight.meta.nodeType' must be a non-empty string, got null"],
    ['inFlight.meta.clusterModeEnabled', 'yes', "'inFlight.meta.clusterModeEnabled' must be true or false"],
    ['inFlight.exportName', undefined, "'inFlight.exportName' must be a non-empty string"],
    ['inFlight.attempt', 0, "'inFlight.attempt' must be an integer >= 1"],
    ['inFlight.startedAt', 12, "'inFlight.startedAt' must be an ISO date-time string, got 12"],
    ['inFlight.confirmed', 'true', "'inFlight.confirmed' must be true or false"],
    ['inFlight.sourceBusySeen', 1, "'inFlight.sourceBusySeen' must be true or false"],
    ['inFlight.sourceIdleSince', 'soon', "'inFlight.sourceIdleSince' must be an ISO date-time string"],
    ['inFlight.verifications', {}, "'inFlight.verifications' must be an array"],
    ['inFlight.verifications.0.key', '', "'inFlight.verifications[0].key' must be a non-empty string"],
    ['inFlight.verifications.0.versionId', 3, "'inFlight.verifications[0].versionId' must be a non-empty string"],
    ['inFlight.verifications.0.at', undefined, "'inFlight.verifications[0].at' must be an ISO date-time string"],
    ['inFlight.verifications.0.requests', -1, "'inFlight.verifications[0].requests' must be an integer >= 0"],
    ['lateAttempts', {}, "'lateAttempts' must be an array"],
    ['lateAttempts.0.snapshotCreateTime', undefined, "'lateAttempts[0].snapshotCreateTime' must be an ISO date-time string"],
    ['exportAttempts', [], "'exportAttempts' must be an object"],
    ['exportAttempts.ceb-abcdefgh-b20260310t110000z', -1, "'exportAttempts.ceb-abcdefgh-b20260310t110000z' must be an integer >= 0"],
    ['exportFailures.ceb-abcdefgh-b20260310t090000z.failures', 0, "'exportFailures.ceb-abcdefgh-b20260310t090000z.failures' must be an integer >= 1"],
    ['exportFailures.ceb-abcdefgh-b20260310t090000z.lastError', '', "'exportFailures.ceb-abcdefgh-b20260310t090000z.lastError' must be a non-empty"],
    ['exportFailures.ceb-abcdefgh-b20260310t090000z.at', 'x', "'exportFailures.ceb-abcdefgh-b20260310t090000z.at' must be an ISO date-time"],
    ['created', {}, "'created' must be an array"],
    ['created.0.name', '', "'created[0].name' must be a non-empty string"],
    ['created.0.at', 'later', "'created[0].at' must be an ISO date-time string"],
    ['created.0.refused', 'no', "'created[0].refused' must be true or false"],
    ['created.0.failureNoted', 0, "'created[0].failureNoted' must be true or false"],
    ['exportCalls.0.name', 5, "'exportCalls[0].name' must be a non-empty string"],
    ['exportCalls.0.at', undefined, "'exportCalls[0].at' must be an ISO date-time string"],
    ['exportsCountAgainstQuota', 'true', "'exportsCountAgainstQuota' must be true or false"],
    ['distrustedManifests', 'a', "'distrustedManifests' must be an array"],
    ['distrustedManifests.0', '', "'distrustedManifests[0]' must be a non-empty string"],
    ['backoffUntil', 'never', "'backoffUntil' must be an ISO date-time string"],
    ['createBackoffUntil', 1, "'createBackoffUntil' must be an ISO date-time string"],
    ['exportBackoffUntil', true, "'exportBackoffUntil' must be an ISO date-time string"],
    ['consecutiveThrottles', -1, "'consecutiveThrottles' must be an integer >= 0"],
    ['refusedDeletions.0.name', '', "'refusedDeletions[0].name' must be a non-empty string"],
    ['refusedDeletions.0.reason', 'r'.repeat(301), "'refusedDeletions[0].reason' must be a non-empty string of at most 300 characters"],
    ['refusedDeletions.0.at', 'x', "'refusedDeletions[0].at' must be an ISO date-time string"],
    ['refusedDeletions.0.refusals', 0, "'refusedDeletions[0].refusals' must be an integer >= 1"],
  ])('field %s is rejected (case %#)', (path, value, message) => {
    expect(stateErrorOf(withField(path, value)).message).toContain(`is malformed: field ${message}`);
  });

  test.each([
    ['exportAttempts', 'an object'], ['created', 'an array'], ['consecutiveThrottles', 'an integer >= 0'],
  ])('a format version 2 state without %s is rejected', (field, expected) => {
    expect(stateErrorOf(withField(field, undefined)).message).toContain(`field '${field}' must be ${expected}, got nothing`);
  });

  test.each([
    ['somethingNew', "field 'somethingNew' must be absent"],
    ['inFlight.extra', "field 'inFlight.extra' must be absent"],
    ['created.0.owner', "field 'created[0].owner' must be absent"],
    ['constructor', "field 'constructor' must be absent"],
  ])('an unknown field %s is rejected (a newer writer that did not change the version)', (path, message) => {
    expect(stateErrorOf(withField(path, 1)).message).toContain(message);
  });

  test('tryParseState returns undefined instead of throwing, and the state when it is valid', () => {
    expect(tryParseState('{')).toBeUndefined();
    expect(tryParseState(JSON.stringify(FULL))?.created).toHaveLength(1);
  });
});

describe('rebaseOutcomes', () => {
  const base: GroupState = { ...emptyState(), created: [{ name: 'theirs', at: '2026-03-10T11:00:00Z' }], exportAttempts: { s: 1 } };
  const ours: GroupState = {
    ...emptyState(),
    created: [{ name: 'ours', at: '2026-03-10T11:01:00Z' }],
    exportAttempts: { s: 2, t: 1 },
    exportCalls: [{ name: 'x-ours', at: '2026-03-10T11:01:00Z' }],
  };

  test('keeps the other writer\'s records, adds every backup, export call and attempt number of this run', () => {
    const merged = rebaseOutcomes(base, ours, []);
    expect(merged.created.map((c) => c.name)).toEqual(['theirs', 'ours']);
    expect(merged.exportCalls).toEqual([{ name: 'x-ours', at: '2026-03-10T11:01:00Z' }]);
    expect(merged.exportAttempts).toEqual({ s: 2, t: 1 });
  });

  test('replays this run\'s outcomes onto the other writer\'s state, in order', () => {
    const merged = rebaseOutcomes(base, ours, [
      (s) => ({ ...s, consecutiveThrottles: s.consecutiveThrottles + 1 }),
      (s) => ({ ...s, consecutiveThrottles: s.consecutiveThrottles * 10 }),
    ]);
    expect(merged.consecutiveThrottles).toBe(10);
    expect(merged.created.map((c) => c.name)).toEqual(['theirs', 'ours']);
  });

  test('a record both have is kept once (the other writer\'s, after the replay)', () => {
    const both = rebaseOutcomes({ ...base, created: [{ name: 'ours', at: '2026-03-10T11:01:00Z', refused: true }] }, ours, []);
    expect(both.created).toEqual([{ name: 'ours', at: '2026-03-10T11:01:00Z', refused: true }]);
    expect(rebaseOutcomes(base, { ...ours, exportCalls: undefined }, []).exportCalls).toBeUndefined();
  });
});
