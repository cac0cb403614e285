import * as fc from 'fast-check';
import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import { decodeObjectKey, groupsForEvent, RoutingProblem, signalsForEvent } from '../../lib/backup-plan/event-routing';

const groups = [
  { replicationGroupId: 'prod', retentionSeconds: 1, rpoTargetSeconds: 1, exportAutomated: true },
  { replicationGroupId: 'prod-2', retentionSeconds: 1, rpoTargetSeconds: 1, exportAutomated: true },
];
const ALL = ['prod', 'prod-2'];
const ids = (gs: readonly { replicationGroupId: string }[]) => gs.map((g) => g.replicationGroupId);
const s3 = (key: unknown) => ({ source: 'aws.s3', detail: { object: { key } } });

describe('groupsForEvent', () => {
  test.each([
    ['no event (a direct call)', undefined, ALL],
    ['a schedule', { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} }, ALL],
    ['an export object of prod-2', s3('prod-2-20260310t120000z-0001.rdb'), ['prod-2']],
    ['a snapshot event of prod', { source: 'aws.elasticache', detail: { SourceIdentifier: 'prod-plan-20260310t120000z' } }, ['prod']],
    ['an event naming no group', { source: 'aws.elasticache', detail: { SourceIdentifier: 'other' } }, ALL],
    ['an export object named with prod-2\'s prefix', s3(`${planExportName('prod-2', new Date(0), 'abcdefgh')}-0001.rdb`), ['prod-2']],
    ['a verification result of prod', s3('state/prod/verifications/x-0001.json'), ['prod']],
    ['a state object of a group the plan does not protect', s3('state/other/verifications/x-0001.json'), ALL],
    ['an encoded key of prod-2 (`%2F`, `+`)', s3('state%2Fprod-2%2Fverifications%2Fa+b-0001.json'), ['prod-2']],
    ['a snapshot event of a backup named with prod\'s prefix', { source: 'aws.elasticache', detail: { SourceIdentifier: planSnapshotName('prod', new Date(0)) } }, ['prod']],
  ])('%s reconciles %j', (_, event, expected) => {
    expect(ids(groupsForEvent(event, groups))).toEqual(expected);
  });

  test.each([
    ['a `%` that is not an escape', 'prod-2-100%-0001.rdb'],
    ['a `%` at the end', 'state/prod/verifications/x%'],
    ['an escape that is not UTF-8', 'prod-2-%E0%A4%A-0001.rdb'],
  ])('an object key with %s runs every group and reports it, without throwing', (_, key) => {
    const problems: RoutingProblem[] = [];
    expect(ids(groupsForEvent(s3(key), groups, (p) => problems.push(p)))).toEqual(ALL);
    expect(problems).toEqual([{ reason: expect.stringContaining('not a valid URL encoding'), value: key }]);
  });

  test('never throws, whatever the object key or detail', () => {
    fc.assert(fc.property(fc.oneof(
      fc.string({ unit: fc.constantFrom('%', '2', 'F', 'E', '0', 'A', '+', '/', 'p') }), fc.string({ unit: 'binary' }), fc.constant(undefined), fc.integer(),
    ), fc.anything(), (key, detail) => {
      expect(groupsForEvent(s3(key), groups).length).toBeGreaterThan(0);
      expect(groupsForEvent({ source: 'aws.elasticache', detail: { SourceIdentifier: detail } as Record<string, unknown> }, groups).length)
        .toBeGreaterThan(0);
    }), { numRuns: 300 });
  });

  test('decodeObjectKey decodes S3 event keys and returns undefined for invalid ones', () => {
    expect(decodeObjectKey('a+b%2Fc')).toBe('a b/c');
    expect(decodeObjectKey('100%')).toBeUndefined();
  });
});

describe('signalsForEvent', () => {
  test('only Snapshot Export Failed events carry a failure signal, with the whole detail as text', () => {
    const detail = { SourceIdentifier: 'prod-plan-x', TargetSnapshotName: 'ceb-x-1', Message: 'failed' };
    expect(signalsForEvent({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Export Failed', 'time': '2026-03-10T12:00:00Z', detail }))
      .toEqual([{ text: JSON.stringify(detail), time: new Date('2026-03-10T12:00:00Z') }]);
    expect(signalsForEvent({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Created', detail })).toEqual([]);
    expect(signalsForEvent({ 'source': 'aws.s3', 'detail-type': 'Snapshot Export Failed', detail })).toEqual([]);
  });

  test('an event without a valid time is dated now (it can still fail the export in flight)', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const event = { 'source': 'aws.elasticache', 'detail-type': 'Snapshot Export Failed', 'time': 'yesterday', 'detail': {} };
    expect(signalsForEvent(event, now)).toEqual([{ text: '{}', time: now }]);
  });
});
