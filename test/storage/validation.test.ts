import { App, CfnResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT } from './fixtures';
import { BackupExportBucket, BackupExportBucketProps } from '../../lib/storage/export-bucket';
import { BackupReplicaBucket, BackupReplicaBucketProps } from '../../lib/storage/replica-bucket';

const ENV_HINT = "give the stack an env, for example new Stack(app, 'Backups', { env: { account: '111111111111', region: 'us-east-1' } })";

interface Case {
  readonly name: string;
  readonly build: () => void;
  readonly message: string;
}

function primary(app = new App()): Stack {
  return new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
}
function dr(app = new App()): Stack {
  return new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
}
function exportBucket(props: BackupExportBucketProps): () => void {
  return () => new BackupExportBucket(primary(), 'Exports', props);
}
function replicaBucket(props: BackupReplicaBucketProps): () => void {
  return () => new BackupReplicaBucket(dr(), 'Replica', props);
}

const cases: Case[] = [
  {
    name: 'export bucket in an env-agnostic stack',
    build: () => new BackupExportBucket(new Stack(new App(), 'Primary'), 'Exports'),
    message: "Primary/Exports: BackupExportBucket needs a stack with a concrete region, but the stack 'Primary' has a deploy-time region (env-agnostic stack); " + ENV_HINT,
  },
  {
    name: 'export bucket with replicas in a stack without an account',
    build: () => {
      const app = new App();
      const replica = new BackupReplicaBucket(dr(app), 'Replica');
      new BackupExportBucket(new Stack(app, 'Primary', { env: { region: 'us-east-1' } }), 'Exports', { replicateTo: [replica] });
    },
    message: "Primary/Exports: BackupExportBucket needs a stack with a concrete region and account, but the stack 'Primary' has a deploy-time account (env-agnostic stack); " + ENV_HINT,
  },
  {
    name: 'replica bucket in an env-agnostic stack',
    build: () => new BackupReplicaBucket(new Stack(new App(), 'Dr'), 'Replica'),
    message: "Dr/Replica: BackupReplicaBucket needs a stack with a concrete region and account, but the stack 'Dr' has a deploy-time region and account (env-agnostic stack); " + ENV_HINT,
  },
  {
    name: 'replica bucket in a stack with a region but no account',
    build: () => new BackupReplicaBucket(new Stack(new App(), 'Dr', { env: { region: 'us-west-2' } }), 'Replica'),
    message: "Dr/Replica: BackupReplicaBucket needs a stack with a concrete region and account, but the stack 'Dr' has a deploy-time account (env-agnostic stack); " + ENV_HINT,
  },
  {
    name: 'exportRetention that is not whole days',
    build: exportBucket({ exportRetention: Duration.hours(36) }),
    message: "Primary/Exports: 'exportRetention' must be a whole number of days, got Duration.hours(36) (1.5 days)",
  },
  {
    name: 'exportRetention of 0 days',
    build: exportBucket({ exportRetention: Duration.days(0) }),
    message: "Primary/Exports: 'exportRetention' must be at least 1 day, got 0 days",
  },
  {
    name: 'noncurrentVersionRetention that is not whole days',
    build: exportBucket({ noncurrentVersionRetention: Duration.hours(12) }),
    message: "Primary/Exports: 'noncurrentVersionRetention' must be a whole number of days, got Duration.hours(12) (0.5 days)",
  },
  {
    name: 'autoDeleteObjects on the export bucket without RemovalPolicy.DESTROY',
    build: exportBucket({ autoDeleteObjects: true }),
    message: "Primary/Exports: 'autoDeleteObjects' is true but 'removalPolicy' is 'retain'; autoDeleteObjects is allowed only with RemovalPolicy.DESTROY",
  },
  {
    name: 'autoDeleteObjects on the replica bucket with RemovalPolicy.SNAPSHOT',
    build: replicaBucket({ autoDeleteObjects: true, removalPolicy: RemovalPolicy.SNAPSHOT }),
    message: "Dr/Replica: 'autoDeleteObjects' is true but 'removalPolicy' is 'snapshot'; autoDeleteObjects is allowed only with RemovalPolicy.DESTROY",
  },
  {
    name: 'replicationTimeControl without replicas',
    build: exportBucket({ replicationTimeControl: true }),
    message: "Primary/Exports: 'replicationTimeControl' is true but 'replicateTo' is empty; add at least one BackupReplicaBucket to replicateTo or remove replicationTimeControl",
  },
  {
    name: 'the same replica listed twice',
    build: () => {
      const app = new App();
      const replica = new BackupReplicaBucket(dr(app), 'Replica');
      new BackupExportBucket(primary(app), 'Exports', { replicateTo: [replica, replica] });
    },
    message: "Primary/Exports: 'replicateTo' lists the replica bucket 'Dr/Replica' more than once; list each replica once",
  },
  {
    name: 'objectLockRetention that is not whole days',
    build: replicaBucket({ objectLockRetention: Duration.hours(36) }),
    message: "Dr/Replica: 'objectLockRetention' must be a whole number of days, got Duration.hours(36) (1.5 days)",
  },
  {
    name: 'objectLockRetention of 0 days',
    build: replicaBucket({ objectLockRetention: Duration.days(0) }),
    message: "Dr/Replica: 'objectLockRetention' must be between 1 and 36500 days, got 0 days",
  },
  {
    name: 'objectLockRetention over 100 years',
    build: replicaBucket({ objectLockRetention: Duration.days(36501), retention: Duration.days(40000) }),
    message: "Dr/Replica: 'objectLockRetention' must be between 1 and 36500 days, got 36501 days",
  },
  {
    name: 'objectLockMode without objectLockRetention',
    build: replicaBucket({ objectLockMode: s3.ObjectLockMode.COMPLIANCE }),
    message: "Dr/Replica: 'objectLockMode' is COMPLIANCE but 'objectLockRetention' is not set; set objectLockRetention (1 to 36500 days) to enable Object Lock",
  },
  {
    name: 'retention shorter than objectLockRetention',
    build: replicaBucket({ objectLockRetention: Duration.days(30), retention: Duration.days(7) }),
    message: "Dr/Replica: 'retention' (7 days) is shorter than 'objectLockRetention' (30 days); expiration must be at least the Object Lock retention, so set retention to at least the lock or shorten the lock",
  },
  {
    name: 'replica retention that is not whole days',
    build: replicaBucket({ retention: Duration.minutes(90) }),
    message: "Dr/Replica: 'retention' must be a whole number of days, got Duration.minutes(90) (0.0625 days)",
  },
  {
    name: 'replica noncurrentVersionRetention of 0 days',
    build: replicaBucket({ noncurrentVersionRetention: Duration.days(0) }),
    message: "Dr/Replica: 'noncurrentVersionRetention' must be at least 1 day, got 0 days",
  },
];

describe('storage validation', () => {
  test.each(cases.map(c => [c.name, c] as const))('fails for %s', (_name, c) => {
    let thrown: unknown;
    try {
      c.build();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe('ValidationError');
    expect((thrown as Error).message).toBe(c.message);
  });

  test('fails before defining any resource', () => {
    const stack = primary();
    expect(() => new BackupExportBucket(stack, 'Exports', { exportRetention: Duration.days(0) })).toThrow();
    expect(stack.node.findAll().filter(c => c instanceof CfnResource)).toEqual([]);
  });

  test('deploy-time durations skip the checks', () => {
    const stack = dr();
    const days = Lazy.number({ produce: () => 10 });
    new BackupReplicaBucket(stack, 'Replica', {
      retention: Duration.days(days), noncurrentVersionRetention: Duration.days(days),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ Id: 'ExpireReplicatedBackups', Status: 'Enabled', ExpirationInDays: 10, NoncurrentVersionExpiration: { NoncurrentDays: 10 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
    });
  });

  test('accepts the boundaries: 1 day everywhere and a 36500-day Object Lock', () => {
    expect(() => new BackupExportBucket(primary(), 'Exports', {
      exportRetention: Duration.days(1), noncurrentVersionRetention: Duration.days(1),
    })).not.toThrow();
    expect(() => new BackupReplicaBucket(dr(), 'Replica', {
      objectLockRetention: Duration.days(36500), retention: Duration.days(36500), noncurrentVersionRetention: Duration.days(1),
    })).not.toThrow();
    expect(() => new BackupReplicaBucket(dr(), 'Replica', {
      objectLockRetention: Duration.days(1), retention: Duration.days(1),
    })).not.toThrow();
  });

  test('an export bucket without replicas accepts a stack with a region but no account', () => {
    const stack = new Stack(new App(), 'Primary', { env: { region: 'eu-west-1' } });
    new BackupExportBucket(stack, 'Exports');
    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 2);
  });
});
