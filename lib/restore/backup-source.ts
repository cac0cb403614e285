import { ArnFormat, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { P } from './preflight-properties';
import { BoundBackupSource, grantWithWildcards, PREFLIGHT_BUCKET_ACTIONS, PREFLIGHT_OBJECT_ACTIONS } from './source-binding';
import { manifestPrefix } from '../manifest/manifest';
import { planNamePrefix } from '../manifest/names';
import { describeValue } from '../private/errors';
import { replicationGroupIdError } from '../private/replication-group-id';

/**
 * Options for `BackupSource.latestExport`.
 */
export interface LatestExportOptions {
  /**
   * The largest number of `.rdb` objects (shards of the backed-up group) the latest export may have.
   *
   * CloudFormation caps a custom resource's answer at 4 KB, so the resolved ARNs come back in chunks of 20, one
   * extra custom resource per chunk; this sets how many chunks are defined. The preflight fails, saying so, when the
   * newest trusted export has more objects (before looking at any of them: it does not fall back to an older export,
   * which would restore older data without need).
   *
   * @default - the new group's shard count (1 with cluster mode disabled)
   */
  readonly maxSourceShards?: number;
}

/**
 * How much of the content of `.rdb` objects the restore preflight verifies before the group is created.
 *
 * Whatever the choice, the preflight checks each object's size, RDB header, EOF opcode and that its CRC-64 trailer is
 * in place (two small ranged reads), which catches empty, truncated and non-RDB objects.
 */
export enum RdbContentVerification {
  /**
   * Verify every byte (structure, CRC-64, keys per database) when the objects together fit the preflight's time
   * budget; above it, check the envelope only and say so in a warning.
   */
  AUTO = 'auto',
  /**
   * Always verify every byte. The preflight fails, saying how far it got, when the objects are too large to verify
   * within its time limit (14 minutes).
   */
  FULL = 'full',
  /** Check only size, header, EOF opcode and trailer (for files verified beforehand, or too large to stream in time). */
  ENVELOPE_ONLY = 'envelope-only',
}

/**
 * Options for `BackupSource.fromRdbArns` and `BackupSource.fromRdbObjects`.
 */
export interface RdbSourceOptions {
  /**
   * How much of the objects' content the preflight verifies.
   *
   * A full verification walks every byte as the engine would load it and checks the CRC-64 trailer; it also finds a
   * file with keys in a database other than 0, which a cluster-mode-enabled group cannot be restored from.
   *
   * @default RdbContentVerification.AUTO
   */
  readonly verifyContent?: RdbContentVerification;
}

const S3_OBJECT_ARN = /^arn:[a-z0-9-]+:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/**
 * Where a `ReplicationGroupFromBackup` gets its data.
 *
 * @example
 * declare const replicaBucket: s3.IBucket;
 * const fromArns = BackupSource.fromRdbArns(['arn:aws:s3:::my-bucket/orders-0001.rdb']);
 * const fromObjects = BackupSource.fromRdbObjects(replicaBucket, ['orders-0001.rdb', 'orders-0002.rdb']);
 * const fromSnapshot = BackupSource.fromSnapshotName('orders-before-migration');
 * const latest = BackupSource.latestExport(replicaBucket, 'orders');
 */
export abstract class BackupSource {
  /**
   * `.rdb` objects in S3, by ARN (`arn:<partition>:s3:::<bucket>/<key>.rdb`), one per shard of the backup.
   *
   * The objects must be in the new group's region, encrypted with SSE-S3, and readable by ElastiCache; the
   * preflight checks this at deploy time, and checks that each object is a complete RDB file (verifying every byte
   * when they fit its time budget: see `verifyContent`). Object keys may not contain commas.
   *
   * @param arns the `.rdb` object ARNs
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-seeding-redis.html
   */
  public static fromRdbArns(arns: string[], options: RdbSourceOptions = {}): BackupSource {
    return new RdbArnsSource(arns, options);
  }

  /**
   * `.rdb` objects in a bucket, by key.
   *
   * @param bucket the bucket, in the new group's region
   * @param keys the object keys, one per shard of the backup (for an export: `<name>-0001.rdb`, `<name>-0002.rdb`, ...)
   */
  public static fromRdbObjects(bucket: s3.IBucket, keys: string[], options: RdbSourceOptions = {}): BackupSource {
    return new RdbObjectsSource(bucket, keys, options);
  }

  /**
   * An ElastiCache snapshot (backup) in the new group's region.
   *
   * @param snapshotName the snapshot name, for example `automatic.orders-2026-11-20-03-15`
   */
  public static fromSnapshotName(snapshotName: string): BackupSource {
    return new SnapshotNameSource(snapshotName);
  }

  /**
   * The newest verified, intact export of a replication group in a bucket, resolved at deploy time.
   *
   * The preflight reads the manifests under `manifests/<replicationGroupId>/` (written by `BackupPlan`) and picks the
   * newest one that was verified (format 2), is stored under the key its content names, is not dated in the future,
   * and whose `.rdb` objects are all present and still the versions that were verified (same S3 version and size).
   * Newer manifests that fail a check (still being replicated, overwritten or deleted objects) are skipped with a
   * warning that says why, and for an overwritten object which version to copy back. It checks the chosen export and
   * passes its ARNs to the group. The export chosen at the first deployment stays pinned:
   * later deployments of the same stack keep it, because another one would replace the group; a change that replaces
   * the group anyway (a create-only property such as the id or the port) checks the pinned export again, because the new
   * group is seeded from it. At most the 10 newest manifests are read (each up to 1 MiB), and objects are looked at only
   * for a manifest with at most `maxSourceShards` of them.
   *
   * @param bucket the bucket holding the exports in the new group's region (typically a `BackupReplicaBucket`)
   * @param replicationGroupId the id of the replication group that was backed up
   */
  public static latestExport(bucket: s3.IBucket, replicationGroupId: string, options: LatestExportOptions = {}): BackupSource {
    return new LatestExportSource(bucket, replicationGroupId, options);
  }

  /** @internal */
  public abstract _bind(scope: IConstruct, defaultMaxSourceShards: number): BoundBackupSource;
}

/** The preflight property for the verification option; absent for the default, so templates stay as they were. */
function verifyContentProperty(options: RdbSourceOptions): Record<string, string> {
  return options.verifyContent === undefined ? {} : { [P.verifyContent]: options.verifyContent };
}

/** Problems with the options of an `.rdb` source. */
function optionProblems(options: RdbSourceOptions, what: string): string[] {
  const allowed = Object.values(RdbContentVerification) as string[];
  if (options.verifyContent !== undefined && !allowed.includes(options.verifyContent)) {
    return [`'source' ${what} verifyContent must be one of RdbContentVerification.AUTO, FULL or ENVELOPE_ONLY, got ${describeValue(options.verifyContent)}`];
  }
  return [];
}

/** Problems with a list of seed ARNs (literal ones; tokens are checked by the preflight). */
function arnProblems(arns: string[], what: string): string[] {
  if (arns.length === 0) {
    return [`'source' ${what} must list at least one .rdb object, got an empty list`];
  }
  const problems: string[] = [];
  arns.forEach((arn, i) => {
    if (Token.isUnresolved(arn)) {
      return;
    }
    const match = S3_OBJECT_ARN.exec(arn);
    if (!match) {
      problems.push(`'source' ${what}[${i}] must be an S3 object ARN (arn:<partition>:s3:::<bucket>/<key>.rdb), got ${describeValue(arn)}`);
    } else if (arn.includes(',')) {
      problems.push(`'source' ${what}[${i}] ${describeValue(arn)}: the object key contains a comma, which ElastiCache does not accept in a seed ARN: rename the object`);
    }
  });
  const literal = arns.filter((a) => !Token.isUnresolved(a));
  const duplicates = literal.filter((a, i) => literal.indexOf(a) !== i);
  if (duplicates.length > 0) {
    problems.push(`'source' ${what} lists ${describeValue(duplicates[0])} more than once`);
  }
  return problems;
}

class RdbArnsSource extends BackupSource {
  constructor(private readonly arns: string[], private readonly options: RdbSourceOptions) {
    super();
  }

  public _bind(): BoundBackupSource {
    const arns = this.arns;
    return {
      kind: 'rdbArns',
      snapshotArns: arns,
      properties: { [P.sourceKind]: 'rdbArns', [P.snapshotArns]: arns, ...verifyContentProperty(this.options) },
      problems: [...arnProblems(arns, 'fromRdbArns'), ...optionProblems(this.options, 'fromRdbArns')],
      grantRead: (grantee) => {
        const bucketArns = new Map<string, string>();
        for (const arn of arns) {
          // arn:<p>:s3:::<bucket>/<key> -> arn:<p>:s3:::<bucket>, also for deploy-time values.
          const bucketArn = Token.isUnresolved(arn) ? Fn.select(0, Fn.split('/', arn)) : arn.slice(0, arn.indexOf('/'));
          bucketArns.set(bucketArn, bucketArn);
        }
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: PREFLIGHT_BUCKET_ACTIONS,
          resources: [...bucketArns.values()],
        }));
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: PREFLIGHT_OBJECT_ACTIONS, resources: [...arns] }));
      },
    };
  }
}

class RdbObjectsSource extends BackupSource {
  constructor(private readonly bucket: s3.IBucket, private readonly keys: string[], private readonly options: RdbSourceOptions) {
    super();
  }

  public _bind(): BoundBackupSource {
    const problems: string[] = optionProblems(this.options, 'fromRdbObjects');
    if (this.keys.length === 0) {
      problems.push("'source' fromRdbObjects must list at least one .rdb object, got an empty list");
    }
    this.keys.forEach((key, i) => {
      if (Token.isUnresolved(key)) {
        return;
      }
      if (key.length === 0 || key.startsWith('/')) {
        problems.push(`'source' fromRdbObjects keys[${i}] must be an object key without a leading '/', got ${describeValue(key)}`);
      } else if (key.includes(',')) {
        problems.push(`'source' fromRdbObjects keys[${i}] ${describeValue(key)} contains a comma, which ElastiCache does not accept in a seed ARN: rename the object`);
      }
    });
    const arns = this.keys.map((key) => this.bucket.arnForObjects(key));
    return {
      kind: 'rdbArns',
      snapshotArns: arns,
      properties: { [P.sourceKind]: 'rdbArns', [P.snapshotArns]: arns, ...verifyContentProperty(this.options) },
      problems,
      grantRead: (grantee) => {
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: PREFLIGHT_BUCKET_ACTIONS,
          resources: [this.bucket.bucketArn],
        }));
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: PREFLIGHT_OBJECT_ACTIONS, resources: arns }));
      },
    };
  }
}

const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

class SnapshotNameSource extends BackupSource {
  constructor(private readonly snapshotName: string) {
    super();
  }

  public _bind(scope: IConstruct): BoundBackupSource {
    const name = this.snapshotName;
    const problems = !Token.isUnresolved(name) && (!SNAPSHOT_NAME.test(name) || name.length > 255)
      ? [`'source' fromSnapshotName must be an ElastiCache snapshot name (letters, digits, '.' and '-', up to 255 characters), got ${describeValue(name)}`]
      : [];
    return {
      kind: 'snapshot',
      snapshotName: name,
      properties: { [P.sourceKind]: 'snapshot', [P.snapshotName]: name },
      problems,
      grantRead: (grantee) => {
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: ['elasticache:DescribeSnapshots'],
          resources: [Stack.of(scope).formatArn({ service: 'elasticache', resource: 'snapshot', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }));
      },
    };
  }
}

class LatestExportSource extends BackupSource {
  constructor(private readonly bucket: s3.IBucket, private readonly replicationGroupId: string, private readonly options: LatestExportOptions) {
    super();
  }

  public _bind(_scope: IConstruct, defaultMaxSourceShards: number): BoundBackupSource {
    const group = this.replicationGroupId;
    const problems: string[] = [];
    if (Token.isUnresolved(group)) {
      problems.push("'source' latestExport replicationGroupId cannot be a deploy-time value: it names the manifest folder the preflight is allowed to read");
    } else {
      // The same rule as ReplicationGroup's replicationGroupId: the manifest folder is named after the id the plan protects.
      const idError = replicationGroupIdError('BackupSource.latestExport', 'replicationGroupId', group);
      if (idError !== undefined) {
        problems.push(idError);
      }
    }
    const max = this.options.maxSourceShards ?? defaultMaxSourceShards;
    if (!Token.isUnresolved(max) && (!Number.isInteger(max) || max < 1 || max > 500)) {
      problems.push(`'source' latestExport maxSourceShards must be an integer from 1 to 500, got ${max}`);
    }
    // BackupPlan names exports `ceb-<hash of the group id>-x<time>-<random>`; earlier versions named them
    // `<group>-<time>` (ElastiCache lowercases export names), and an export in flight during an upgrade keeps its name.
    const exportPrefixes = Token.isUnresolved(group) ? [] : [planNamePrefix(group), `${group.toLowerCase()}-`];
    return {
      kind: 'latestExport',
      bucket: this.bucket,
      replicationGroupId: group,
      maxSourceShards: max,
      properties: {
        [P.sourceKind]: 'latestExport',
        [P.bucket]: this.bucket.bucketName,
        [P.replicationGroupId]: group,
        [P.maxSourceShards]: max,
      },
      problems,
      grantRead: (grantee) => {
        grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: PREFLIGHT_BUCKET_ACTIONS,
          resources: [this.bucket.bucketArn],
        }));
        grantWithWildcards(grantee, PREFLIGHT_OBJECT_ACTIONS,
          [this.bucket.arnForObjects(`${manifestPrefix(group)}*`), ...exportPrefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`))],
          `The latest export of ${group} is chosen at deploy time: the preflight reads its manifests and the .rdb objects they name, only those of this group`,
          this.bucket);
      },
    };
  }
}
