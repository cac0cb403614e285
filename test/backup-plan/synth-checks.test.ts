/*
 * Issue 12 (synth-time checks) and issue 10 (one plan per group): regions and accounts that cannot work together,
 * ids that must be unique in an account and region, and the risky-but-legal settings that get a warning.
 */
import { App, Annotations as CoreAnnotations, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BackupPlan } from '../../lib/backup-plan/backup-plan';
import { BackupFreshnessMonitor } from '../../lib/backup-plan/freshness-monitor';
import { IReplicationGroup, ReplicationGroup } from '../../lib/replication-group/replication-group';
import { BackupExportBucket } from '../../lib/storage/export-bucket';
import { BackupReplicaBucket } from '../../lib/storage/replica-bucket';
import { addNagPacks, synthFindings } from '../support/nag';

const A = '111111111111';
const B = '222222222222';
const EAST = { account: A, region: 'us-east-1' };
const WEST = { account: A, region: 'us-west-2' };
const EAST_B = { account: B, region: 'us-east-1' };
const WEST_B = { account: B, region: 'us-west-2' };

function imported(stack: Stack, id: string): IReplicationGroup {
  return ReplicationGroup.fromReplicationGroupAttributes(stack, `Import-${id}-${stack.node.children.length}`, { replicationGroupId: id });
}

/** A ReplicationGroup in a VPC that costs nothing to define (no VPC resources synthesized). */
function defined(stack: Stack, constructId: string, replicationGroupId: string): ReplicationGroup {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, `${constructId}Vpc`, {
    vpcId: 'vpc-1', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-1', 'subnet-2'],
  });
  return new ReplicationGroup(stack, constructId, { vpc, replicationGroupId });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

describe('regions and accounts that cannot work together (the library\'s own error)', () => {
  test.each<[string, (app: App) => unknown, string]>([
    ['a plan protecting a group of another region', (app) => {
      const east = new Stack(app, 'East', { env: EAST });
      const plan = new BackupPlan(east, 'Plan', { exportBucket: new BackupExportBucket(east, 'Exports') });
      plan.protect(imported(new Stack(app, 'West', { env: WEST }), 'orders'));
    }, "East/Plan: replication group 'orders' is in us-west-2, but the plan is in us-east-1; a BackupPlan protects the groups of its own "
      + "region (ElastiCache takes a backup only in the group's region and exports it only to a bucket of that region): define one plan "
      + '(and one export bucket) per region'],
    ['a plan protecting a group of another account', (app) => {
      const east = new Stack(app, 'East', { env: EAST });
      const plan = new BackupPlan(east, 'Plan', { exportBucket: new BackupExportBucket(east, 'Exports') });
      plan.protect(imported(new Stack(app, 'EastB', { env: EAST_B }), 'orders'));
    }, "East/Plan: replication group 'orders' is in account 222222222222, but the plan is in account 111111111111; a BackupPlan protects "
      + "the groups of its own account (its role calls CreateSnapshot and CopySnapshot, which work on the caller's own account): define "
      + 'the plan in a stack of account 222222222222'],
    ['an export bucket of another region than the plan', (app) => {
      const bucket = new BackupExportBucket(new Stack(app, 'East', { env: EAST }), 'Exports');
      new BackupPlan(new Stack(app, 'West', { env: WEST }), 'Plan', { exportBucket: bucket });
    }, "West/Plan: BackupPlan property 'exportBucket' is the bucket East/Exports in us-east-1, but the plan is in us-west-2; ElastiCache "
      + "exports a backup only to a bucket in the backup's own region (CopySnapshot with TargetBucket refuses any other), so the export "
      + "bucket must be in us-west-2: define a BackupExportBucket in a stack of us-west-2 and replicate it to us-east-1 with 'replicateTo'"],
    ['an export bucket of another account than the plan', (app) => {
      const bucket = new BackupExportBucket(new Stack(app, 'EastB', { env: EAST_B }), 'Exports');
      new BackupPlan(new Stack(app, 'East', { env: EAST }), 'Plan', { exportBucket: bucket });
    }, "East/Plan: BackupPlan property 'exportBucket' is the bucket EastB/Exports in account 222222222222, but the plan is in account "
      + "111111111111; the plan's roles export to, read and write the bucket with their own IAM policies, which only reach buckets of "
      + 'their account: define the export bucket in a stack of account 111111111111 (replicate it to another account with a '
      + 'BackupReplicaBucket there)'],
    ['a freshness monitor watching a replica bucket of another region', (app) => {
      const replica = new BackupReplicaBucket(new Stack(app, 'West', { env: WEST }), 'Replica');
      new BackupFreshnessMonitor(new Stack(app, 'East', { env: EAST }), 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    }, "East/Freshness: BackupFreshnessMonitor property 'replicaBucket' is the bucket West/Replica in us-west-2, but the monitor is in "
      + 'us-east-1; the monitor measures what ElastiCache could restore from that bucket, and ElastiCache seeds a new cluster only from a '
      + "bucket of its own region (the monitor's alarms belong with the restore): define the monitor in a stack of us-west-2, next to the "
      + 'replica bucket'],
    ['a freshness monitor watching a replica bucket of another account', (app) => {
      const replica = new BackupReplicaBucket(new Stack(app, 'WestB', { env: WEST_B }), 'Replica');
      new BackupFreshnessMonitor(new Stack(app, 'West', { env: WEST }), 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    }, "West/Freshness: BackupFreshnessMonitor property 'replicaBucket' is the bucket WestB/Replica in account 222222222222, but the "
      + "monitor is in account 111111111111; the monitor reads the bucket with its role's own policy, which reaches only buckets of its "
      + 'account: define the monitor in a stack of account 222222222222'],
  ])('%s', (_name, build, message) => {
    expect(errorOf(() => build(new App()))).toBe(message);
  });

  test.each<[string, (app: App) => unknown]>([
    ['a plan in an env-agnostic stack with a bucket of a concrete region', (app) => {
      const bucket = new BackupExportBucket(new Stack(app, 'East', { env: EAST }), 'Exports');
      new BackupPlan(new Stack(app, 'Anywhere'), 'Plan', { exportBucket: bucket });
    }],
    ['a plan protecting a group imported in an env-agnostic stack', (app) => {
      const east = new Stack(app, 'East', { env: EAST });
      new BackupPlan(east, 'Plan', { exportBucket: new BackupExportBucket(east, 'Exports') }).protect(imported(new Stack(app, 'Anywhere'), 'orders'));
    }],
    ['a monitor in an env-agnostic stack', (app) => {
      const replica = new BackupReplicaBucket(new Stack(app, 'West', { env: WEST }), 'Replica');
      new BackupFreshnessMonitor(new Stack(app, 'Anywhere'), 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    }],
    ['a monitor in another stack of the bucket\'s region and account', (app) => {
      const replica = new BackupReplicaBucket(new Stack(app, 'West', { env: WEST }), 'Replica');
      new BackupFreshnessMonitor(new Stack(app, 'Monitoring', { env: WEST }), 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    }],
  ])('no library error for %s', (_name, build) => {
    expect(errorOf(() => build(new App()))).toBe('(no error)');
  });
});

describe('one BackupPlan per replication group, one replication group per id (per account and region, across the app)', () => {
  function twoPlans(app: App, envs: [object | undefined, object | undefined], sameStack = false): () => void {
    const first = new Stack(app, 'First', { env: envs[0] as never });
    const second = sameStack ? first : new Stack(app, 'Second', { env: envs[1] as never });
    const plan1 = new BackupPlan(first, 'Plan1', { exportBucket: new BackupExportBucket(first, 'Exports1') });
    const plan2 = new BackupPlan(second, 'Plan2', { exportBucket: new BackupExportBucket(second, 'Exports2') });
    plan1.protect(imported(first, 'orders'));
    return () => plan2.protect(imported(second, 'orders'));
  }

  const conflict = (where: string, path: string, first: string) => `${path}: BackupPlan.protect() argument 'replicationGroup' is replication `
    + `group 'orders' in ${where}, which the BackupPlan ${first} already protects: two plans of one group would both back it up against `
    + "its quota of 20 manual backups per node per 24 hours and both commit manifests of it, each refusing the other's backups; protect "
    + 'each replication group with one BackupPlan (one plan can protect many groups with different options)';

  test.each<[string, [object | undefined, object | undefined], boolean, string]>([
    ['two plans in one stack', [EAST, EAST], true, conflict('account 111111111111, us-east-1', 'First/Plan2', 'First/Plan1')],
    ['two plans in two stacks of one account and region', [EAST, EAST], false, conflict('account 111111111111, us-east-1', 'Second/Plan2', 'First/Plan1')],
    ['two plans in two regions', [EAST, WEST], false, '(no error)'],
    ['two plans in two accounts', [EAST, EAST_B], false, '(no error)'],
  ])('%s', (_name, envs, sameStack, message) => {
    expect(errorOf(twoPlans(new App(), envs, sameStack))).toBe(message);
  });

  test('two plans in two env-agnostic stacks may be deployed anywhere: no error', () => {
    const app = new App();
    // The export bucket needs a concrete region, so the plans share one bucket stack per plan region... here: the same
    // env-agnostic stacks cannot hold a bucket; import-only protection is what is checked.
    const east = new Stack(app, 'East', { env: EAST });
    const plan = new BackupPlan(east, 'Plan', { exportBucket: new BackupExportBucket(east, 'Exports') });
    plan.protect(imported(new Stack(app, 'AnywhereA'), 'orders'));
    const plan2 = new BackupPlan(east, 'Plan2', { exportBucket: new BackupExportBucket(east, 'Exports2') });
    expect(errorOf(() => plan2.protect(imported(new Stack(app, 'AnywhereB'), 'orders')))).toBe('(no error)');
  });

  test('separate apps do not share the registry', () => {
    expect(errorOf(twoPlans(new App(), [EAST, EAST]))).toMatch(/already protects/);
    expect(errorOf(() => new BackupPlan(new Stack(new App(), 'S', { env: EAST }), 'P', {
      exportBucket: new BackupExportBucket(new Stack(new App(), 'T', { env: EAST }), 'E'),
    }))).not.toMatch(/already protects/);
  });

  test.each<[string, boolean, object, string]>([
    ['two groups with one id in one stack', true, EAST, "Second/Cache2: ReplicationGroup property 'replicationGroupId' is 'orders', but First/Cache1 "],
    ['two groups with one id in two stacks of one account and region', false, EAST, "Second/Cache2: ReplicationGroup property 'replicationGroupId' is 'orders', but First/Cache1 "],
    ['two groups with one id in two regions', false, WEST, '(no error)'],
  ])('%s', (_name, sameStack, secondEnv, start) => {
    const app = new App();
    const first = new Stack(app, 'First', { env: EAST });
    const second = sameStack ? first : new Stack(app, 'Second', { env: secondEnv });
    defined(first, 'Cache1', 'orders');
    const message = errorOf(() => defined(second, 'Cache2', 'orders'));
    if (start === '(no error)') {
      expect(message).toBe(start);
    } else {
      expect(message).toBe(`${start.replace('Second/', sameStack ? 'First/' : 'Second/')}already creates a replication group with that id in `
        + 'account 111111111111, us-east-1: ElastiCache allows one replication group per id in an account and region, so the second would '
        + 'fail to deploy (or replace the first); give each replication group its own replicationGroupId');
    }
  });

  test('importing the same group twice is not a second group', () => {
    const stack = new Stack(new App(), 'East', { env: EAST });
    defined(stack, 'Cache', 'orders');
    expect(errorOf(() => [imported(stack, 'orders'), imported(stack, 'orders')])).toBe('(no error)');
  });
});

describe('warnings (acknowledgeable)', () => {
  const QUOTA = 'cdk-elasticache-backup:BackupPlan:intervalAtQuota';
  function planWarnings(interval: Duration, acknowledge = false): string[] {
    const stack = new Stack(new App(), 'East', { env: EAST });
    const plan = new BackupPlan(stack, 'Plan', { exportBucket: new BackupExportBucket(stack, 'Exports') });
    if (acknowledge) {
      CoreAnnotations.of(plan).acknowledgeWarning(QUOTA, 'test');
    }
    plan.protect(imported(stack, 'orders'), { interval });
    return Annotations.fromStack(stack).findWarning('/East/Plan', Match.stringLikeRegexp(QUOTA)).map((w) => String(w.entry.data));
  }

  test.each([
    [72, 1], [75, 1], [76, 1], [77, 0], [120, 0],
  ])('interval of %s minutes: %s quota warning(s)', (minutes, count) => {
    expect(planWarnings(Duration.minutes(minutes))).toHaveLength(count);
  });

  test('the quota warning says what happens and what to set', () => {
    expect(planWarnings(Duration.minutes(75))[0]).toContain("'interval' of replication group 'orders' is 1 hour 15 minutes: 20 of the plan's "
      + 'backups fall in the 24 hours (plus the plan\'s 10-minute margin) that the quota of 20 manual backups per node counts, so a failed '
      + 'backup leaves no slot for its retry and costs an interval of RPO. Use an interval of at least 77 minutes, or acknowledge this warning');
  });

  test('the quota warning can be acknowledged', () => {
    expect(planWarnings(Duration.minutes(75), true)).toHaveLength(0);
  });

  const MAX_AGE = 'cdk-elasticache-backup:BackupFreshnessMonitor:maxAgeBelowPlan';
  interface MonitorCase { interval?: Duration; maxAge?: Duration; monitorFirst?: boolean; otherReplica?: boolean; ack?: boolean }
  function monitorWarnings(options: MonitorCase): string[] {
    const app = new App();
    const west = new Stack(app, 'West', { env: WEST });
    const east = new Stack(app, 'East', { env: EAST });
    const replica = new BackupReplicaBucket(west, 'Replica');
    const watched = options.otherReplica ? new BackupReplicaBucket(west, 'Other') : replica;
    const monitor = () => {
      const m = new BackupFreshnessMonitor(west, 'Freshness', { replicaBucket: watched, replicationGroupIds: ['orders'], maxAge: options.maxAge });
      if (options.ack) {
        CoreAnnotations.of(m).acknowledgeWarning(MAX_AGE, 'test');
      }
    };
    if (options.monitorFirst) {
      monitor();
    }
    const plan = new BackupPlan(east, 'Plan', { exportBucket: new BackupExportBucket(east, 'Exports', { replicateTo: [replica] }) });
    plan.protect(imported(east, 'orders'), { interval: options.interval });
    if (!options.monitorFirst) {
      monitor();
    }
    return Annotations.fromStack(west).findWarning('/West/Freshness', Match.stringLikeRegexp(MAX_AGE)).map((w) => String(w.entry.data));
  }

  test.each<[string, Parameters<typeof monitorWarnings>[0], number]>([
    ['the default 3 h against a 6-hour interval', { interval: Duration.hours(6) }, 1],
    ['the default 3 h against automatic backups only', {}, 1],
    ['the default 3 h against a 2-hour interval', { interval: Duration.hours(2) }, 0],
    ['2 h 5 min against a 2-hour interval (interval + checkInterval)', { interval: Duration.hours(2), maxAge: Duration.minutes(125) }, 0],
    ['2 h 4 min against a 2-hour interval', { interval: Duration.hours(2), maxAge: Duration.minutes(124) }, 1],
    ['a monitor defined before the plan', { interval: Duration.hours(6), monitorFirst: true }, 1],
    ['a monitor of a replica the plan does not replicate to', { interval: Duration.hours(6), otherReplica: true }, 0],
    ['an acknowledged warning', { interval: Duration.hours(6), ack: true }, 0],
  ])('maxAge: %s', (_name, options, count) => {
    expect(monitorWarnings(options)).toHaveLength(count);
  });

  test('the maxAge warning names the plan, the cadence and the shortest useful maxAge', () => {
    expect(monitorWarnings({})[0]).toContain("'maxAge' is 3 hours, but the BackupPlan East/Plan takes one backup a day (the automatic "
      + "backup; no 'interval') of replication group 'orders': the newest backup in the replica bucket is up to 1 day 5 minutes old");
    expect(monitorWarnings({ interval: Duration.hours(6) })[0]).toContain("takes a backup every 6 hours ('interval')");
  });
});

describe('plain-string replication group ids given to the freshness monitor', () => {
  test.each([
    ['Orders', "West/Freshness: BackupFreshnessMonitor property 'replicationGroupIds[0]' is invalid, got 'Orders': it may only contain "
      + 'lowercase letters, digits and hyphens, must start with a lowercase letter; use 1 to 40 lowercase letters, digits or hyphens, '
      + "starting with a letter, without '--' and without a trailing hyphen"],
    ['orders--cache', "West/Freshness: BackupFreshnessMonitor property 'replicationGroupIds[1]' is invalid, got 'orders--cache': it must not "
      + 'contain two consecutive hyphens'],
    ['a'.repeat(41), "West/Freshness: BackupFreshnessMonitor property 'replicationGroupIds[1]' is invalid, got '" + 'a'.repeat(41)
      + "': it must be 1 to 40 characters long (it has 41)"],
  ])('%s is refused', (id, message) => {
    const west = new Stack(new App(), 'West', { env: WEST });
    const replica = new BackupReplicaBucket(west, 'Replica');
    const ids = id === 'Orders' ? [id] : ['orders', id];
    expect(errorOf(() => new BackupFreshnessMonitor(west, 'Freshness', { replicaBucket: replica, replicationGroupIds: ids }))).toContain(message);
  });
});

describe('cdk-nag: a freshness monitor in another stack than its replica bucket', () => {
  test('leaves no finding under the monitor; the library acknowledges the imported-ARN wildcard itself', () => {
    const app = new App();
    addNagPacks(app);
    const storage = new Stack(app, 'DrStorage', { env: WEST });
    const monitoring = new Stack(app, 'DrMonitoring', { env: WEST });
    const replica = new BackupReplicaBucket(storage, 'Replica');
    const monitor = new BackupFreshnessMonitor(monitoring, 'Freshness', { replicaBucket: replica, replicationGroupIds: ['orders'] });
    const message = synthFindings(app);
    expect(message).not.toMatch(/DrMonitoring\/Freshness/);
    const acknowledged = monitor.monitorFunction.node.metadata
      .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
      .flatMap((m) => Object.keys(m.data as object));
    // The id names the generated export of the other stack: exactly what a user would otherwise have to write.
    expect(acknowledged.filter((id) => /AwsSolutions-IAM5\[Resource::DrStorage:ExportsOutputFnGetAttReplicaBucket.*Arn.*\/\*\]$/.test(id))).toHaveLength(1);
  });
});
