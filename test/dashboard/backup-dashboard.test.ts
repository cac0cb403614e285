import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  BackupDashboard, BackupExportBucket, BackupFreshnessMonitor, BackupPlan, BackupReplicaBucket, CacheEngine, ReplicationGroup,
  RestoreDrill,
} from '../../lib';

const ACCOUNT = '111111111111';

interface Widget {
  readonly type: string;
  readonly width: number;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly region?: string;
    readonly metrics?: unknown[][];
    readonly annotations?: { horizontal?: { value: number; label: string }[] };
  };
}

/** A two-region layout: plan in us-east-1, replica, monitor and drill in us-west-2, the dashboard beside the plan. */
function layout(options: { monitor?: boolean; drill?: boolean } = {}) {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const primary = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const replica = new BackupReplicaBucket(dr, 'Replica');
  const vpc = new ec2.Vpc(primary, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const groups = ['orders', 'sessions'].map((id) => new ReplicationGroup(primary, id, {
    vpc, replicationGroupId: id, engine: CacheEngine.VALKEY_8_0, nodeType: 'cache.r7g.large', replicasPerShard: 1,
  }));
  const plan = new BackupPlan(primary, 'Plan', { exportBucket: new BackupExportBucket(primary, 'Exports', { replicateTo: [replica] }) });
  plan.protect(groups[0], { interval: Duration.hours(2), rpoTarget: Duration.hours(4) });
  plan.protect(groups[1], { interval: Duration.hours(6) });
  const monitor = options.monitor
    ? new BackupFreshnessMonitor(dr, 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'], maxAge: Duration.hours(6) })
    : undefined;
  const drVpc = new ec2.Vpc(dr, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const drill = options.drill
    ? new RestoreDrill(dr, 'Drill', { replicaBucket: replica.bucket, groups: [{ replicationGroupId: 'orders' }], vpc: drVpc })
    : undefined;
  new BackupDashboard(primary, 'Dashboard', { plan, freshnessMonitor: monitor, restoreDrill: drill });
  return Template.fromStack(primary);
}

function widgets(template: Template): Widget[] {
  const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
  expect(Object.keys(dashboards)).toHaveLength(1);
  const body = Object.values(dashboards)[0].Properties.DashboardBody;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text).widgets;
}

/** The metric names a widget draws (the second element of each metric array, or the repeated-name shorthand). */
function metricNames(widget: Widget): string[] {
  let last = '';
  return (widget.properties.metrics ?? []).map((m) => {
    const name = m[1] === '.' ? last : String(m[1]);
    last = name;
    return name;
  });
}

describe('BackupDashboard', () => {
  test('one row per protected group: ages against the group\'s own RPO target, and the plan\'s health', () => {
    const all = widgets(layout());
    const graphs = all.filter((w) => w.type === 'metric' && w.properties.title?.includes('age'));
    expect(graphs.map((g) => g.properties.title)).toEqual([
      'orders: backup and export age (seconds)',
      'sessions: backup and export age (seconds)',
    ]);
    expect(graphs.map((g) => g.properties.annotations?.horizontal?.[0].value)).toEqual([4 * 3600, 7 * 3600]);
    expect(metricNames(graphs[0])).toEqual(['BackupAgeSeconds', 'ExportAgeSeconds']);
    const health = all.filter((w) => w.properties.title?.endsWith('plan health'));
    expect(health.map((w) => metricNames(w))).toEqual([
      ['Failures', 'UnexportedBackups', 'ExportsInFlight', 'CircuitOpen'],
      ['Failures', 'UnexportedBackups', 'ExportsInFlight', 'CircuitOpen'],
    ]);
  });

  test('the DR line and the drill column address the DR region, only for the groups they watch', () => {
    const all = widgets(layout({ monitor: true, drill: true }));
    const orders = all.find((w) => w.properties.title === 'orders: backup and export age (seconds)')!;
    const sessions = all.find((w) => w.properties.title === 'sessions: backup and export age (seconds)')!;
    expect(metricNames(orders)).toEqual(['BackupAgeSeconds', 'ExportAgeSeconds', 'ReplicaBackupAgeSeconds']);
    expect(metricNames(sessions)).toEqual(['BackupAgeSeconds', 'ExportAgeSeconds']);
    const drVisible = JSON.stringify(orders.properties.metrics![2]);
    expect(drVisible).toContain('"region":"us-west-2"');
    const drill = all.filter((w) => w.properties.title?.endsWith('last restore drill'));
    expect(drill.map((w) => w.properties.title)).toEqual(['orders: last restore drill']);
    expect(metricNames(drill[0])).toEqual(['RestoreDrillSucceeded', 'RestoreDurationSeconds', 'RestoredKeysRatio']);
    expect(JSON.stringify(drill[0].properties.metrics)).toContain('"region":"us-west-2"');
  });

  test('every row fills the 24-unit grid', () => {
    const all = widgets(layout({ monitor: true, drill: true }));
    const rows = all.filter((w) => w.type !== 'text');
    // orders: graph 12 + health 6 + drill 6; sessions: graph 12 + health 12.
    expect(rows.map((w) => w.width)).toEqual([12, 6, 6, 12, 12]);
  });

  test('a plan that protects nothing yet is an error that says to call protect() first', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const plan = new BackupPlan(stack, 'Plan', { exportBucket: new BackupExportBucket(stack, 'Exports') });
    expect(() => new BackupDashboard(stack, 'Dashboard', { plan })).toThrow(/BackupDashboard 'plan' protects no replication group yet: call plan.protect\(\)/);
  });

  test.each([Duration.minutes(1), Duration.days(500)])('timeRange %s is refused with the allowed range', (timeRange) => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const group = new ReplicationGroup(stack, 'G', { vpc, replicationGroupId: 'orders', engine: CacheEngine.VALKEY_8_0, nodeType: 'cache.r7g.large', replicasPerShard: 1 });
    const plan = new BackupPlan(stack, 'Plan', { exportBucket: new BackupExportBucket(stack, 'Exports') });
    plan.protect(group);
    expect(() => new BackupDashboard(stack, 'Dashboard', { plan, timeRange }))
      .toThrow(new RegExp(`BackupDashboard 'timeRange' must be between 5 minutes and 455 days .*got ${timeRange.toHumanString()}`));
  });
});
