/**
 * The persisted state's shape and what its errors say (lib/backup-plan/state.ts), beyond state.test.ts: the exact
 * bounds of a refusal reason, values that are JSON but not objects (null in a nested field, a bare number), the
 * advice an error gives (deploying a newer version only for a newer format), how much of a bad value an error quotes,
 * and a rebase that keeps every export call and quota refusal exactly once. Found by mutation testing. The oracle is
 * the documented format (a reason is 1 to 300 characters; format versions 1 and 2; an error quotes at most the first
 * 80 characters of the value) and the test's own arithmetic, never the module's own predicates.
 */
import { stateErrorOf, STATE_WHERE } from './support/state-errors';
import { emptyState, GroupState } from '../../lib/backup-plan/planner/types';
import { parseState, rebaseOutcomes, tryParseState } from '../../lib/backup-plan/state';

const WHERE = STATE_WHERE;
/** Documented: a refusal reason is a non-empty string of at most 300 characters. */
const MAX_REASON = 300;
/** Documented: an error quotes the first 80 characters of the value's JSON. */
const QUOTED = 80;
const ADVICE_NEWER = 'deploy the newer version of cdk-elasticache-backup again';

/** The smallest valid state of format version 2, with `over` merged in (hand-written: the oracle is the format). */
function stateText(over: Record<string, unknown> = {}): string {
  return JSON.stringify({ formatVersion: 2, exportAttempts: {}, created: [], consecutiveThrottles: 0, ...over });
}

/** A state whose one refused deletion has `reason`. */
function withReason(reason: string): string {
  return stateText({ refusedDeletions: [{ name: 'ceb-abcdefgh-b20260301t110000z', reason, at: '2026-03-10T11:00:00.000Z', refusals: 1 }] });
}


describe('a refused deletion\'s reason', () => {
  test(`a reason of exactly ${MAX_REASON} characters is read back as written`, () => {
    const reason = 'r'.repeat(MAX_REASON);
    expect(parseState(withReason(reason), WHERE).refusedDeletions?.[0].reason).toBe(reason);
  });

  test('an empty reason is rejected naming the field', () => {
    expect(stateErrorOf(withReason('')).message)
      .toContain("is malformed: field 'refusedDeletions[0].reason' must be a non-empty string of at most 300 characters, got \"\"");
  });
});

describe('what an error about a malformed state says', () => {
  test(`a bad value is quoted up to its first ${QUOTED} characters only`, () => {
    const message = stateErrorOf(withReason('r'.repeat(MAX_REASON + 1))).message;
    // The value's JSON is a quote and 301 r's: its first 80 characters are the quote and 79 r's.
    expect(message).toContain(`got "${'r'.repeat(QUOTED - 1)}. The reconciler does not run this group`);
    expect(message).not.toContain('r'.repeat(QUOTED));
  });

  test.each([
    ['a malformed field', stateText({ created: {} })],
    ['a whitespace-only object', '  \n'],
    ['text that is not JSON', '<html>Access Denied</html>'],
  ])('%s does not advise deploying a newer version (only a newer format does)', (_what, text) => {
    const message = stateErrorOf(text).message;
    expect(message).not.toContain(ADVICE_NEWER);
    expect(message).toContain('restore its previous version from the export bucket\'s versioning');
  });

  test('an object of only whitespace is reported as empty, not as invalid JSON', () => {
    const message = stateErrorOf(' \n\t ').message;
    expect(message).toContain(`backup plan state ${WHERE} is empty (0 bytes of JSON)`);
    expect(message).not.toContain('is not valid JSON');
  });

  test.each([
    ['a number', '42', '42'],
    ['a string', '"plan"', '"plan"'],
    ['a boolean', 'true', 'true'],
  ])('JSON that is %s, not an object, is rejected as not an object', (_what, text, got) => {
    expect(stateErrorOf(text).message).toContain(`is malformed: field '' must be an object, got ${got}.`);
  });

  test.each([0, -1])('format version %d is rejected as neither 1 nor 2', (version) => {
    expect(stateErrorOf(stateText({ formatVersion: version })).message).toContain(`field 'formatVersion' must be 1 or 2, got ${version}.`);
  });
});

describe('a nested field that must be an object', () => {
  test.each([
    ['inFlight', "field 'inFlight' must be an object, got null"],
    ['exportAttempts', "field 'exportAttempts' must be an object, got null"],
    ['exportFailures', "field 'exportFailures' must be an object, got null"],
  ])('%s: null is rejected as malformed, naming the field', (field, message) => {
    expect(stateErrorOf(stateText({ [field]: null })).message).toContain(`is malformed: ${message}`);
    expect(tryParseState(stateText({ [field]: null }))).toBeUndefined();
  });
});

describe('tryParseState', () => {
  test('a body that is not text (a Buffer not converted to a string) is a programming error: it is thrown, not taken for an unreadable state', () => {
    expect(() => tryParseState(Buffer.from(stateText()) as unknown as string)).toThrow(TypeError);
  });
});

describe('a rebase onto another writer\'s state', () => {
  const theirs: GroupState = {
    ...emptyState(),
    exportCalls: [{ name: 'x-both', at: '2026-03-10T11:00:00Z' }],
    quotaRefusals: [{ at: '2026-03-10T11:00:00Z', hidden: 1 }],
  };
  const ours: GroupState = {
    ...emptyState(),
    exportCalls: [{ name: 'x-both', at: '2026-03-10T11:00:00Z' }, { name: 'x-ours', at: '2026-03-10T11:02:00Z' }],
    quotaRefusals: [{ at: '2026-03-10T11:00:00Z', hidden: 2 }, { at: '2026-03-10T11:03:00Z', hidden: 1 }],
  };

  test('an export call both states record is kept once; one only this run made is added after the other writer\'s', () => {
    expect(rebaseOutcomes(theirs, ours, []).exportCalls).toEqual([
      { name: 'x-both', at: '2026-03-10T11:00:00Z' },
      { name: 'x-ours', at: '2026-03-10T11:02:00Z' },
    ]);
  });

  test('a quota refusal both states record (same time) is kept once, the other writer\'s; one only this run saw is added', () => {
    expect(rebaseOutcomes(theirs, ours, []).quotaRefusals).toEqual([
      { at: '2026-03-10T11:00:00Z', hidden: 1 },
      { at: '2026-03-10T11:03:00Z', hidden: 1 },
    ]);
  });

  test('a quota refusal only this run saw is kept when the other writer recorded none', () => {
    const merged = rebaseOutcomes(emptyState(), { ...emptyState(), quotaRefusals: [{ at: '2026-03-10T11:03:00Z', hidden: 1 }] }, []);
    expect(merged.quotaRefusals).toEqual([{ at: '2026-03-10T11:03:00Z', hidden: 1 }]);
  });
});
