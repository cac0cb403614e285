import { DrillConfig, drillGroupId } from '../../lib/drill/drill-constants';
import { chooseNodeType, defaultClusterParameterGroup, drillStatus, existingDrillDecision, planDrill, summarizeDrill } from '../../lib/drill/drill-plan';
import { manifestV2, verifiedShard } from '../manifest/fixtures';

const config: DrillConfig = {
  bucket: 'replica',
  partition: 'aws',
  region: 'us-west-2',
  drillId: 'dr-drill-1',
  groups: [{ replicationGroupId: 'orders' }, { replicationGroupId: 'carts', nodeType: 'cache.r7g.large' }],
  maxNodeType: 'cache.r7g.xlarge',
  pollIntervalSeconds: 60,
  maxWaitSeconds: 6300,
  executionTimeoutSeconds: 12600,
  scheduleSeconds: 604800,
  sampleKeys: 0,
};
const NOW = new Date('2026-12-02T10:00:00.000Z');

describe('restore drill plan (pure)', () => {
  test('the temporary id is ceb-drill- and 8 base32 characters: 18 characters, the same for the same group, different per group', () => {
    expect(drillGroupId('orders')).toMatch(/^ceb-drill-[a-z2-7]{8}$/);
    expect(drillGroupId('orders')).toBe(drillGroupId('orders'));
    expect(drillGroupId('orders')).not.toBe(drillGroupId('orders-eu'));
  });

  test('node type: the source\'s by default, the override when given; refused above the cap or when unknown', () => {
    expect(chooseNodeType(config, 'orders', 'cache.r7g.xlarge')).toBe('cache.r7g.xlarge');
    expect(chooseNodeType(config, 'carts', 'cache.r7g.4xlarge')).toBe('cache.r7g.large');
    expect(() => chooseNodeType(config, 'orders', 'cache.r7g.2xlarge')).toThrow(
      "the source's node type (from the export's manifest) is cache.r7g.2xlarge (52.82 GiB), larger than the drill's maxNodeType cache.r7g.xlarge (26.32 GiB): "
      + 'raise maxNodeType, or give orders a smaller nodeType that still holds the data');
    expect(() => chooseNodeType(config, 'orders', 'cache.x9.huge')).toThrow(/which the drill's memory table does not know/);
  });

  test.each([
    ['valkey', '8.0', 'default.valkey8.cluster.on'],
    ['valkey', '7.2', 'default.valkey7.cluster.on'],
    ['redis', '7.1', 'default.redis7.cluster.on'],
    ['redis', '6.2', 'default.redis6.x.cluster.on'],
    ['redis', '5.0.6', 'default.redis5.0.cluster.on'],
  ])('cluster parameter group of %s %s is %s', (engine, version, expected) => {
    expect(defaultClusterParameterGroup(engine, version)).toBe(expected);
  });

  test('another drill: none when absent, running when younger than the execution timeout, orphan when older', () => {
    expect(existingDrillDecision({ status: 'none' }, NOW, 3600)).toBe('none');
    const at = (secondsAgo: number) => ({ status: 'found' as const, groupStatus: 'available', tagged: true, createTime: new Date(NOW.getTime() - secondsAgo * 1000) });
    expect(existingDrillDecision(at(3599), NOW, 3600)).toBe('running');
    expect(existingDrillDecision(at(3601), NOW, 3600)).toBe('orphan');
    expect(existingDrillDecision({ status: 'found', groupStatus: 'creating', tagged: true }, NOW, 3600)).toBe('running');
  });

  test('a sharded export gets one node group per shard with an even slot split and the cluster parameter group', () => {
    const manifest = manifestV2({
      group: 'orders',
      time: new Date('2026-12-02T08:00:00.000Z'),
      snapshotName: 's',
      exportName: 'e',
      shards: [verifiedShard('e-0001.rdb', 10, 'v1', '"a"'), verifiedShard('e-0002.rdb', 10, 'v2', '"b"'), verifiedShard('e-0003.rdb', 10, 'v3', '"c"')],
    });
    const plan = planDrill({ config, replicationGroupId: 'orders', manifestKey: 'k', manifest, nodeType: 'cache.r7g.large', existing: 'none', warnings: [], now: NOW });
    expect(plan.nodeGroupConfiguration).toEqual([
      { NodeGroupId: '0001', Slots: '0-5460', ReplicaCount: 0 },
      { NodeGroupId: '0002', Slots: '5461-10921', ReplicaCount: 0 },
      { NodeGroupId: '0003', Slots: '10922-16383', ReplicaCount: 0 },
    ]);
    expect(plan.snapshotArns).toEqual(['arn:aws:s3:::replica/e-0001.rdb', 'arn:aws:s3:::replica/e-0002.rdb', 'arn:aws:s3:::replica/e-0003.rdb']);
    expect(plan).toMatchObject({ cacheParameterGroupName: 'default.redis7.cluster.on', rpoSeconds: 7200, maxPolls: 105, drillGroupId: drillGroupId('orders') });
  });

  test('summary: the RTO is create-to-available, minutes are create-to-cleanup rounded up, and a cleanup error fails the drill', () => {
    const outcome = {
      input: { replicationGroupId: 'orders' },
      executionName: 'x',
      startedAt: '2026-12-02T09:00:00.000Z',
      drill: { sourceGroupId: 'orders', nodeType: 'cache.r7g.large', shardCount: 1, rpoSeconds: 100 },
      timings: {
        createRequested: { at: '2026-12-02T09:01:00.000Z' },
        available: { at: '2026-12-02T09:15:30.000Z' },
        verified: { at: '2026-12-02T09:16:00.000Z' },
        cleanedUp: { at: '2026-12-02T09:16:10.000Z' },
      },
      verification: { passed: true, expectedKeys: 10, foundKeys: 10, restoredKeysRatio: 1 },
      failure: { Error: '', Cause: '' },
      cleanup: { deleteGroup: true, deleted: false, error: { Error: 'ElastiCache.ThrottlingException', Cause: 'slow down' } },
    };
    const summary = summarizeDrill(outcome, NOW);
    expect(summary.passed).toBe(false);
    expect(summary.reportKey).toBe('drills/orders/20261202t090000z.json');
    expect(summary.report).toMatchObject({ rtoSeconds: 870, timeToVerifiedSeconds: 900, groupMinutes: 16, failure: { Error: 'DrillCleanupFailed', Cause: 'slow down' } });
    const passing = summarizeDrill({ ...outcome, cleanup: { deleteGroup: true, deleted: true, error: { Error: '', Cause: '' } } }, NOW);
    expect(passing.passed).toBe(true);
    expect(passing.metricData.map((m) => [m.MetricName, m.Value, m.Unit])).toEqual([
      ['RestoreDrillSucceeded', 1, 'Count'], ['RestoreDurationSeconds', 870, 'Seconds'], ['RestoredKeysRatio', 1, 'None'],
    ]);
  });

  test('status: age of the newest report and whether it passed; no report gives no age (the alarm sees missing data)', () => {
    expect(drillStatus('orders', { startedAt: '2026-12-01T10:00:00.000Z', verdict: 'pass' }, NOW)).toEqual({ replicationGroupId: 'orders', ageSeconds: 86400, lastSucceeded: true });
    expect(drillStatus('orders', { startedAt: '2026-12-01T10:00:00.000Z', verdict: 'fail' }, NOW).lastSucceeded).toBe(false);
    expect(drillStatus('orders', undefined, NOW)).toEqual({ replicationGroupId: 'orders' });
  });
});
