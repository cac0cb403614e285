import { planExportName, planSnapshotName } from '../../lib/backup-plan/constants';
import { groupOfSubject, isSnsEvent, parseNotificationEvent, SnsNotificationEvent } from '../../lib/backup-plan/notification-events';
import { DEFAULT_SETTINGS, emptyState, GroupConfig, InFlightExport, ObservedSnapshot, plan } from '../../lib/backup-plan/planner';

const GROUPS = [{ replicationGroupId: 'orders' }, { replicationGroupId: 'orders-eu' }, { replicationGroupId: 'carts' }];
const NOW = new Date('2026-12-02T10:00:00Z');

function sns(...messages: string[]): SnsNotificationEvent {
  return {
    Records: messages.map((Message, i) => ({
      EventSource: 'aws:sns',
      Sns: { Message, Timestamp: `2026-12-02T09:0${i}:00.000Z`, TopicArn: 'arn:aws:sns:us-east-1:111111111111:t' },
    })),
  };
}

describe('isSnsEvent', () => {
  test('an SNS delivery is recognised; EventBridge, schedule and empty events are not', () => {
    expect(isSnsEvent(sns('{}'))).toBe(true);
    expect(isSnsEvent({ 'source': 'aws.elasticache', 'detail-type': 'Snapshot Created', 'detail': {} })).toBe(false);
    expect(isSnsEvent({ source: 'aws.events' })).toBe(false);
    expect(isSnsEvent({ Records: [] })).toBe(false);
    expect(isSnsEvent({ Records: [{ EventSource: 'aws:s3', s3: {} }] })).toBe(false);
    expect(isSnsEvent(undefined)).toBe(false);
  });
});

describe('groupOfSubject', () => {
  const ids = GROUPS.map((g) => g.replicationGroupId);
  test.each([
    ['orders-002', 'orders'],
    ['orders-0001-001', 'orders'],
    ['orders', 'orders'],
    ['orders-eu-001', 'orders-eu'],
    ['orders-eu-0003-002', 'orders-eu'],
    ['ORDERS-001', 'orders'],
  ])('%s belongs to %s', (subject, group) => {
    expect(groupOfSubject(subject, ids)).toBe(group);
  });

  test('a name the plan gave (backup or export) belongs to its group', () => {
    expect(groupOfSubject(planExportName('orders-eu', NOW, 'abcdefgh'), ids)).toBe('orders-eu');
    expect(groupOfSubject(planSnapshotName('carts', NOW), ids)).toBe('carts');
  });

  test.each(['orders-euro-001', 'orders-01', 'orders-0001', 'ordersx-001', 'other-001', 'orders-001-x'])('%s belongs to no protected group', (subject) => {
    expect(groupOfSubject(subject, ids)).toBeUndefined();
  });

  test('a group named like another group\'s member is matched exactly', () => {
    expect(groupOfSubject('orders-001', ['orders', 'orders-001'])).toBe('orders-001');
    expect(groupOfSubject('orders-001-002', ['orders', 'orders-001'])).toBe('orders-001');
  });
});

describe('parseNotificationEvent', () => {
  test('SnapshotComplete of a member runs only that member\'s group, with no failure', () => {
    const run = parseNotificationEvent(sns('{"ElastiCache:SnapshotComplete":"orders-eu-002"}'), GROUPS, NOW);
    expect(run.groups).toEqual([{ replicationGroupId: 'orders-eu' }]);
    expect(run.exportFailureSignals).toEqual([]);
    expect(run.backupFailures).toEqual([]);
    expect(run.notices).toEqual([{
      event: 'ElastiCache:SnapshotComplete', subject: 'orders-eu-002', replicationGroupId: 'orders-eu', time: new Date('2026-12-02T09:00:00Z'),
    }]);
  });

  test('SnapshotFailed runs the group and is reported as a failed backup', () => {
    const run = parseNotificationEvent(sns('{"ElastiCache:SnapshotFailed":"carts-0002-001"}'), GROUPS, NOW);
    expect(run.groups).toEqual([{ replicationGroupId: 'carts' }]);
    expect(run.backupFailures.map((n) => [n.event, n.replicationGroupId])).toEqual([['ElastiCache:SnapshotFailed', 'carts']]);
    expect(run.exportFailureSignals).toEqual([]);
  });

  test('an export failure event becomes an export failure signal with the event text and time', () => {
    const run = parseNotificationEvent(sns('{"ElastiCache:SnapshotExportFailed":"orders-002"}'), GROUPS, NOW);
    expect(run.groups).toEqual([{ replicationGroupId: 'orders' }]);
    expect(run.exportFailureSignals).toEqual([{
      text: '{"ElastiCache:SnapshotExportFailed":"orders-002"}', time: new Date('2026-12-02T09:00:00Z'),
    }]);
  });

  test('several records: each concerned group once, in the plan\'s order', () => {
    const run = parseNotificationEvent(sns(
      '{"ElastiCache:SnapshotComplete":"carts-001"}',
      '{"ElastiCache:SnapshotComplete":"orders-002"}',
      '{"ElastiCache:SnapshotComplete":"orders-003"}',
    ), GROUPS, NOW);
    expect(run.groups.map((g) => g.replicationGroupId)).toEqual(['orders', 'carts']);
  });

  test('non-snapshot events, other groups, test notifications and foreign messages select no group', () => {
    const run = parseNotificationEvent(sns(
      '{"ElastiCache:FailoverComplete":"orders-001"}',
      '{"ElastiCache:SnapshotComplete":"billing-002"}',
      '{"ElastiCache:TestNotification":"orders"}',
      'not json',
      '{"AlarmName":"x"}',
      '["ElastiCache:SnapshotComplete"]',
    ), GROUPS, NOW);
    expect(run.groups).toEqual([]);
    expect(run.notices.map((n) => [n.event, n.replicationGroupId])).toEqual([
      ['ElastiCache:FailoverComplete', 'orders'],
      ['ElastiCache:SnapshotComplete', undefined],
      ['ElastiCache:TestNotification', 'orders'],
    ]);
    expect(run.backupFailures).toEqual([]);
  });

  test('a record without a timestamp takes the time given', () => {
    const run = parseNotificationEvent({ Records: [{ EventSource: 'aws:sns', Sns: { Message: '{"ElastiCache:SnapshotFailed":"orders-001"}' } }] }, GROUPS, NOW);
    expect(run.backupFailures[0].time).toEqual(NOW);
  });
});

describe('export failure notices and the export in flight', () => {
  const snapshotCreateTime = '2026-12-02T08:00:00.000Z';
  const flight: InFlightExport = {
    snapshotName: 'orders-plan-a',
    snapshotSource: 'manual',
    snapshotCreateTime,
    shardCount: 1,
    exportName: planExportName('orders', new Date(snapshotCreateTime), 'ourownxx'),
    attempt: 1,
    startedAt: '2026-12-02T08:55:00.000Z',
    confirmed: true,
  };
  // The notice is dated 09:00 (after the export started); the run is at 09:10, within the export timeout.
  const runAt = new Date('2026-12-02T09:10:00Z');
  const snapshot: ObservedSnapshot = {
    name: 'orders-plan-a', source: 'manual', status: 'available', createTime: new Date(snapshotCreateTime), createdByPlan: true, shardCount: 1,
  };
  const config: GroupConfig = { replicationGroupId: 'orders', retentionSeconds: 86_400, rpoTargetSeconds: 7200, exportAutomated: true };
  const planWith = (message: string) => {
    const run = parseNotificationEvent(sns(message), GROUPS, NOW);
    return plan({
      replicationGroupId: 'orders',
      groupAvailable: true,
      snapshots: [snapshot],
      manifestKeys: [],
      exportObjects: [],
      state: { ...emptyState(), inFlight: flight, exportAttempts: { [snapshot.name]: 1 } },
      exportFailureSignals: run.exportFailureSignals,
    }, config, runAt, DEFAULT_SETTINGS, () => 'newnamex');
  };

  test('a notice naming only a member cluster or the snapshot leaves the plan\'s export in flight', () => {
    for (const message of ['{"ElastiCache:SnapshotExportFailed":"orders-002"}', '{"ElastiCache:SnapshotExportFailed":"orders-plan-a"}']) {
      const d = planWith(message);
      expect(d.state.inFlight?.exportName).toBe(flight.exportName);
      expect(d.metrics.failures).toBe(0);
    }
  });

  test('a notice naming the plan\'s export fails it (counted once, retried under a new name)', () => {
    const d = planWith(JSON.stringify({ 'ElastiCache:SnapshotExportFailed': flight.exportName }));
    expect(d.metrics.failures).toBe(1);
    expect(d.state.inFlight?.exportName).not.toBe(flight.exportName);
    expect(d.state.inFlight?.attempt).toBe(2);
  });
});
