import { Duration, PhysicalName, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ELASTICACHE_SEED_BUCKET_ACTIONS, ELASTICACHE_SEED_OBJECT_ACTIONS } from './permissions';
import { ValidationError } from '../private/errors';
import {
  SECURE_BUCKET_DEFAULTS, useBucketPolicyForAccessLogs, acknowledgeNoReplication, acknowledgeSseS3, defineAccessLogsBucket, requireConcreteEnv,
  validateAutoDelete, warn, wholeDays,
} from '../private/storage';
import { grantBucketRead } from '../private/storage-grants';

/** Default retention of replicated backups when neither `retention` nor a longer Object Lock retention is given. */
const DEFAULT_RETENTION_DAYS = 35;
/**
 * Default retention of noncurrent versions when Object Lock already protects every version for the whole `retention`
 * (then a shorter noncurrent retention loses nothing: locked versions cannot expire early).
 */
const LOCKED_NONCURRENT_DAYS = 7;
/** Longest Object Lock default retention S3 accepts (100 years). */
const MAX_OBJECT_LOCK_DAYS = 36500;

/**
 * Properties for a `BackupReplicaBucket`.
 */
export interface BackupReplicaBucketProps {
  /**
   * How long replicated backups are kept before they expire (lifecycle expiration of current versions).
   *
   * Must be a whole number of days, at least 1, and at least `objectLockRetention`.
   *
   * @default - Duration.days(35), or `objectLockRetention` when that is longer
   */
  readonly retention?: Duration;

  /**
   * How long an object version is kept after it becomes noncurrent (after expiry or overwrite).
   *
   * Every write to the export bucket is replicated here, new versions of existing keys included: an overwrite in the
   * primary (a manifest or an `.rdb` rewritten by mistake or by an attacker) makes the replicated backup a noncurrent
   * version here, and this setting decides how long it survives. The default keeps it as long as `retention`, so a
   * backup overwritten on its first day is still here for its whole retention. The cost: a backup that expires
   * normally is kept as a noncurrent version for that long again (up to twice `retention` of storage). When Object
   * Lock covers the whole retention (`objectLockRetention` equal to `retention`), locked versions cannot be removed
   * early anyway and the default is 7 days. A shorter value than `retention` without such a lock gets a warning.
   * Must be a whole number of days, at least 1.
   *
   * @default - `retention`; 7 days when `objectLockRetention` equals `retention`
   */
  readonly noncurrentVersionRetention?: Duration;

  /**
   * Default Object Lock retention applied to every replicated backup, which makes backups immutable
   * (WORM) for this long.
   *
   * Object Lock can only be enabled when the bucket is created. Must be a whole number of days between 1 and 36500.
   *
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
   * @default - Object Lock is not enabled
   */
  readonly objectLockRetention?: Duration;

  /**
   * Object Lock retention mode used with `objectLockRetention`.
   *
   * `GOVERNANCE`: principals with `s3:BypassGovernanceRetention` (and the header `x-amz-bypass-governance-retention`)
   * can still delete a locked version or shorten its lock. Protects against mistakes and against anyone without that
   * right; an administrator (or an attacker with administrator rights) can remove backups, and you can correct a
   * too-long lock. `COMPLIANCE`: nobody, not even the account's root user, can delete a locked version or shorten its
   * lock before it ends, and the lock cannot be turned into GOVERNANCE; the only way out is closing the AWS account.
   * Protects against ransomware and a compromised administrator, but every replicated version (including an unwanted
   * overwrite, and every backup written while a too-long lock is configured) is billed until its lock ends. Choose
   * COMPLIANCE for backups a regulation or a threat model requires to be immutable, with a lock you have costed; keep
   * GOVERNANCE while you are still tuning `objectLockRetention`.
   *
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes
   * @default s3.ObjectLockMode.GOVERNANCE
   */
  readonly objectLockMode?: s3.ObjectLockMode;

  /**
   * Bucket for the server access logs of the replica bucket.
   *
   * Logs are written with partitioned keys (`<account>/<region>/<bucket>/yyyy/mm/dd/`), so one log bucket can serve
   * several buckets. A bucket you define yourself follows your app's feature flag
   * `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` (on in new apps); without it CDK would grant log delivery with an
   * ACL, which needs `ObjectOwnership.OBJECT_WRITER` on that bucket. For an imported bucket, allow
   * `logging.s3.amazonaws.com` to write to it yourself.
   *
   * @default - a dedicated access-log bucket with the same security settings is defined
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * What happens to the bucket (and the dedicated access-log bucket) when it is removed from the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether to delete all objects when the bucket is removed. Allowed only with `RemovalPolicy.DESTROY`,
   * and has no effect on object versions protected by Object Lock.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;
}

/**
 * A bucket in a disaster-recovery region that receives replicated ElastiCache backup exports, and that ElastiCache in
 * that region can read to seed a new cluster.
 *
 * Versioned (required by S3 replication), SSE-S3 (seeding accepts SSE-S3 only), Object Ownership
 * `BucketOwnerEnforced` (no ACLs), TLS only, no public access, server access logs, lifecycle expiry, and optionally
 * Object Lock. The bucket name is generated by CDK when a stack in another region references it, so the export bucket
 * can replicate here without anyone writing a bucket name. The stack must have a concrete `env`.
 *
 * @example
 * declare const app: App;
 * const dr = new Stack(app, 'Dr', { env: { account: '111111111111', region: 'us-west-2' } });
 * const replica = new BackupReplicaBucket(dr, 'Replica', {
 *   objectLockRetention: Duration.days(14),
 * });
 */
export class BackupReplicaBucket extends Construct {
  /** The underlying bucket. */
  public readonly bucket: s3.Bucket;

  /** The region of the replica bucket (the region of its stack). */
  public readonly region: string;

  /** The account of the replica bucket (the account of its stack). */
  public readonly account: string;

  /** The dedicated server-access-log bucket, when one was defined. */
  public readonly accessLogsBucket?: s3.Bucket;

  constructor(scope: Construct, id: string, props: BackupReplicaBucketProps = {}) {
    super(scope, id);
    useBucketPolicyForAccessLogs(this);

    // Validate everything before defining any resource.
    const env = requireConcreteEnv(this, 'BackupReplicaBucket', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    validateAutoDelete(this, removalPolicy, props.autoDeleteObjects);
    const lockDays = props.objectLockRetention !== undefined
      ? wholeDays(this, 'objectLockRetention', props.objectLockRetention, 1, MAX_OBJECT_LOCK_DAYS)
      : undefined;
    if (props.objectLockMode !== undefined && props.objectLockRetention === undefined) {
      throw new ValidationError(this,
        `'objectLockMode' is ${props.objectLockMode} but 'objectLockRetention' is not set; set objectLockRetention (1 to 36500 days) to enable Object Lock`);
    }
    const retentionDays = props.retention !== undefined
      ? wholeDays(this, 'retention', props.retention, 1)
      : Math.max(DEFAULT_RETENTION_DAYS, lockDays ?? 0);
    if (retentionDays !== undefined && lockDays !== undefined && retentionDays < lockDays) {
      throw new ValidationError(this,
        `'retention' (${retentionDays} days) is shorter than 'objectLockRetention' (${lockDays} days); ` +
        'expiration must be at least the Object Lock retention, so set retention to at least the lock or shorten the lock');
    }
    const noncurrentDays = this.noncurrentDays(props.noncurrentVersionRetention, retentionDays, lockDays);

    this.region = env.region;
    this.account = env.account;
    const autoDeleteObjects = props.autoDeleteObjects ?? false;
    if (!props.serverAccessLogsBucket) {
      this.accessLogsBucket = defineAccessLogsBucket(this, removalPolicy, autoDeleteObjects);
    }

    const lockMode = props.objectLockMode ?? s3.ObjectLockMode.GOVERNANCE;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET_DEFAULTS,
      // A generated physical name lets a stack in another region (the export bucket's) reference this bucket.
      bucketName: PhysicalName.GENERATE_IF_NEEDED,
      serverAccessLogsBucket: props.serverAccessLogsBucket ?? this.accessLogsBucket,
      targetObjectKeyFormat: s3.TargetObjectKeyFormat.partitionedPrefix(s3.PartitionDateSource.EVENT_TIME),
      objectLockEnabled: props.objectLockRetention !== undefined ? true : undefined,
      objectLockDefaultRetention: props.objectLockRetention === undefined ? undefined
        : lockMode === s3.ObjectLockMode.COMPLIANCE
          ? s3.ObjectLockRetention.compliance(props.objectLockRetention)
          : s3.ObjectLockRetention.governance(props.objectLockRetention),
      lifecycleRules: [{
        id: 'ExpireReplicatedBackups',
        enabled: true,
        expiration: props.retention ?? Duration.days(retentionDays!),
        noncurrentVersionExpiration: props.noncurrentVersionRetention
          ?? (noncurrentDays !== undefined ? Duration.days(noncurrentDays) : props.retention!),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
      removalPolicy,
      autoDeleteObjects,
    });
    acknowledgeSseS3(this.bucket);
    acknowledgeNoReplication(this.bucket,
      'This bucket is itself the cross-region replica of a BackupExportBucket; replicating the replica again is not needed');

    // ElastiCache in this region reads the .rdb objects to seed a new cluster (bucket-policy method).
    const principal = new iam.ServicePrincipal(`${env.region}.elasticache-snapshot.amazonaws.com`);
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ElastiCacheSeedBucket',
      principals: [principal],
      actions: [...ELASTICACHE_SEED_BUCKET_ACTIONS],
      resources: [this.bucket.bucketArn],
    }));
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ElastiCacheSeedObjects',
      principals: [principal],
      actions: [...ELASTICACHE_SEED_OBJECT_ACTIONS],
      resources: [this.bucket.arnForObjects('*')],
    }));
  }

  /**
   * Whole days a noncurrent version is kept (undefined for a deploy-time value): by default as long as `retention`, so
   * that a backup overwritten in the primary survives here for its whole retention, unless Object Lock covers it.
   */
  private noncurrentDays(given: Duration | undefined, retentionDays: number | undefined, lockDays: number | undefined): number | undefined {
    const lockCoversRetention = lockDays !== undefined && retentionDays !== undefined && lockDays >= retentionDays;
    const days = given !== undefined
      ? wholeDays(this, 'noncurrentVersionRetention', given, 1)
      : (lockCoversRetention ? LOCKED_NONCURRENT_DAYS : retentionDays);
    if (days !== undefined && retentionDays !== undefined && days < retentionDays && !lockCoversRetention) {
      warn(this, 'BackupReplicaBucket:shortNoncurrentRetention',
        `'noncurrentVersionRetention' is ${days} days, shorter than 'retention' (${retentionDays} days), and no Object Lock covers `
        + 'the whole retention: an overwrite in the export bucket is replicated here and leaves the replicated backup as a noncurrent '
        + `version, removed ${days} days later. Set noncurrentVersionRetention to at least Duration.days(${retentionDays}), `
        + 'set objectLockRetention equal to retention, or acknowledge this warning');
    }
    return days;
  }

  /**
   * The name of the replica bucket.
   *
   * @attribute
   */
  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  /**
   * The ARN of the replica bucket.
   *
   * @attribute
   */
  public get bucketArn(): string {
    return this.bucket.bucketArn;
  }

  /**
   * Grants read access to the replicated backups: `s3:ListBucket` and `s3:GetBucketLocation` on the bucket,
   * `s3:GetObject` on its objects. For restore and monitoring code in the DR region.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantBucketRead(this.bucket, grantee);
  }
}
