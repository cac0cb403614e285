/**
 * Which groups an invocation event runs (event-routing.ts) where event-routing.test.ts does not look. Found by
 * mutation testing: a state object is routed by the group id in its key (not by any group id its key happens to
 * contain), a schedule or an event that cannot be read runs every group whatever its detail says, and the routing does
 * not throw on input it cannot use. The oracle is the documented routing (state objects live under `state/<group>/`; when in doubt every group
 * runs) and each test's own construction, never the module's own predicates.
 */
import { groupsForEvent, InvocationEvent, RoutingProblem } from '../../lib/backup-plan/event-routing';

const groups = [{ replicationGroupId: 'prod' }, { replicationGroupId: 'prod-2' }];
const ALL = ['prod', 'prod-2'];
const ids = (gs: readonly { replicationGroupId: string }[]) => gs.map((g) => g.replicationGroupId);
const s3 = (key: string): InvocationEvent => ({ source: 'aws.s3', detail: { object: { key } } });

describe('routing a state object', () => {
  test.each([
    ['a verification result of a group the plan does not protect, whose id extends prod\'s', 'state/prod-3/verifications/x-0001.json', ALL],
    ['the state of an unprotected group whose id contains prod-2', 'state/staging-prod-2/plan-1/plan.json', ALL],
    ['the state of prod under a plan id that names prod-2', 'state/prod/prod-2-migration/plan.json', ['prod']],
    ['a verification request of prod for an object whose key names prod-2', 'state/prod/verify-requests/prod-2-copy-0001-r1.json', ['prod']],
  ])('%s reconciles %j (the group id is the key\'s first segment under state/)', (_what, key, expected) => {
    expect(ids(groupsForEvent(s3(key), groups))).toEqual(expected);
  });
});

describe('events that name a group but are not routed by it', () => {
  test('a schedule reconciles every group, even when its detail mentions one', () => {
    const schedule: InvocationEvent = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': { note: 'prod-2' } };
    expect(ids(groupsForEvent(schedule, groups))).toEqual(ALL);
  });

  test.each([
    ['a string', 'prod-2'],
    ['a number', 2],
  ])('an event whose detail is %s, not an object, cannot be read: every group runs', (_what, detail) => {
    const event = { source: 'aws.elasticache', detail } as unknown as InvocationEvent;
    expect(ids(groupsForEvent(event, groups))).toEqual(ALL);
  });

  test('a detail that cannot be written as JSON (not from EventBridge) runs every group, without throwing or reporting', () => {
    const detail: Record<string, unknown> = { SourceIdentifier: 'other', Message: 'prod-2' };
    detail.self = detail;
    const problems: RoutingProblem[] = [];
    expect(ids(groupsForEvent({ source: 'aws.elasticache', detail }, groups, (p) => problems.push(p)))).toEqual(ALL);
    expect(ids(groupsForEvent({ source: 'aws.elasticache', detail: { SourceIdentifier: 'other', size: BigInt(1) } }, groups))).toEqual(ALL);
    expect(problems).toEqual([]);
  });
});
