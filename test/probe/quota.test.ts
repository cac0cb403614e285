import { CONFIG, at, state } from './fixtures';
import { CallOutcome } from './probe-state';
import { decideQuotaCounting, decideQuotaRefusesCopies, factorSubsets, hypothesisFits, quotaTimeline } from './quota';

const ok = (minutes: number): CallOutcome => ({ at: at(minutes), ok: true });
const refused = (minutes: number, errorName: string): CallOutcome => ({ at: at(minutes), ok: false, errorName, message: '' });
const quotaRefusal = (minutes: number) => refused(minutes, 'SnapshotQuotaExceededFault');

/** The probe's usual history: a control backup, a refused 41-character backup, two exports; then `accepted` quota backups and one refusal. */
function history(accepted: number) {
  const quotaCreates = [
    ...Array.from({ length: accepted }, (_, i) => ok(60 + 10 * i)),
    quotaRefusal(60 + 10 * accepted),
  ];
  return state({
    flags: { quota: true },
    calls: {
      'create-control': ok(0),
      'create-long-name': refused(5, 'InvalidParameterValueException'),
      'copy-without-acl': ok(20),
      'copy-with-acl': ok(40),
    },
    quotaCreates,
  });
}

describe('quota hypotheses', () => {
  test('every subset of the factors, the empty one first', () => {
    const subsets = factorSubsets(['export', 'refused-create', 'failed-backup']);
    expect(subsets).toHaveLength(8);
    expect(subsets[0]).toEqual([]);
    expect(subsets[7].sort()).toEqual(['export', 'failed-backup', 'refused-create']);
  });

  test('a hypothesis fits when every accepted backup was under the quota and the refusal at it', () => {
    const timeline = [
      { at: at(0), kind: 'export' as const },
      { at: at(1), kind: 'backup' as const },
      { at: at(2), kind: 'backup' as const },
    ];
    // Quota 3: counting the export, usage reaches 3 after the two backups (refusal explained).
    expect(hypothesisFits(timeline, new Set(['export']), 3)).toBe(true);
    // Not counting it, usage is 2 at the refusal: not explained.
    expect(hypothesisFits(timeline, new Set(), 3)).toBe(false);
    // Quota 2 counting the export: the second backup would have been refused.
    expect(hypothesisFits(timeline, new Set(['export']), 2)).toBe(false);
  });
});

describe('what counts against the quota (item 5)', () => {
  test('18 backups then a refusal, with 2 exports and 1 refused backup: exports count, the refused backup does not', () => {
    // control + 17 quota backups = 18; 18 + 2 exports = 20.
    const answer = decideQuotaCounting(history(17), CONFIG, { quota: true });
    expect(answer).toMatchObject({ status: 'answered', answer: 'backups+export' });
    expect(answer.evidence).toMatchObject({ counts: { 'backup': 18, 'export': 2, 'refused-create': 1 } });
  });

  test('20 backups then a refusal: only backups count', () => {
    expect(decideQuotaCounting(history(19), CONFIG, { quota: true })).toMatchObject({ status: 'answered', answer: 'only-backups' });
  });

  test('19 backups then a refusal: the refused backup counts', () => {
    expect(decideQuotaCounting(history(18), CONFIG, { quota: true })).toMatchObject({ status: 'answered', answer: 'backups+refused-create' });
  });

  test('a refusal after 6 backups fits no way of counting: inconclusive', () => {
    expect(decideQuotaCounting(history(5), CONFIG, { quota: true }).status).toBe('inconclusive');
  });

  test('an automatic backup of the source node in the 24 hours is a factor (here it makes two ways of counting fit); older ones are not', () => {
    const recent = { name: 'automatic.ecb-probe-002-2026-12-01-09-30', source: 'automated', createdAt: at(-30) };
    const old = { name: 'automatic.ecb-probe-002-2026-11-30-03-10', source: 'automated', createdAt: at(-25 * 60) };
    const s = { ...history(16), listing: { at: at(1), byGroup: [], byMember: { 'ecb-probe-002': [recent, old] } } };
    const timeline = quotaTimeline(s, CONFIG, at(60 + 160));
    expect(timeline.filter((e) => e.kind === 'automatic-backup')).toHaveLength(1);
    // 17 backups + 2 exports + 1 automatic = 20, and 17 + 2 exports + 1 refused backup = 20 as well.
    const answer = decideQuotaCounting(s, CONFIG, { quota: true });
    expect(answer.status).toBe('inconclusive');
    const fitting = (answer.evidence?.fittingHypotheses as string[][]).map((h) => [...h].sort());
    expect(fitting).toEqual(expect.arrayContaining([['export', 'refused-create'], ['automatic-backup', 'export']]));
    expect(fitting).toHaveLength(2);
  });

  test('skipped without the flag, pending before the refusal, inconclusive after 30 backups without one', () => {
    expect(decideQuotaCounting(state(), CONFIG, {}).status).toBe('skipped');
    expect(decideQuotaCounting(state({ quotaCreates: [ok(1)] }), CONFIG, { quota: true }).status).toBe('pending');
    const many = state({ quotaCreates: Array.from({ length: 30 }, (_, i) => ok(i)) });
    expect(decideQuotaCounting(many, CONFIG, { quota: true }).status).toBe('inconclusive');
  });
});

describe('copies once the quota is spent', () => {
  test('an export refused for the quota and a plain copy accepted', () => {
    const s = state({ calls: { 'copy-after-quota-export': quotaRefusal(1), 'copy-after-quota-plain': ok(2) } });
    const answer = decideQuotaRefusesCopies(s, { quota: true });
    expect(answer).toMatchObject({ status: 'answered', answer: 'export-refused-for-quota,copy-accepted' });
    expect(answer.note).toContain('keep slots for exports');
  });

  test('pending until both were tried, skipped without the flag', () => {
    expect(decideQuotaRefusesCopies(state({ calls: { 'copy-after-quota-export': ok(1) } }), { quota: true }).status).toBe('pending');
    expect(decideQuotaRefusesCopies(state(), {}).status).toBe('skipped');
  });
});
