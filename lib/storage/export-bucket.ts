import { Annotations, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ELASTICACHE_EXPORT_BUCKET_ACTIONS, ELASTICACHE_EXPORT_OBJECT_ACTIONS, EXPORT_CALLER_BUCKET_ACTIONS,
  EXPORT_CALLER_GLOBAL_ACTIONS, EXPORT_CALLER_OBJECT_ACTIONS, REPLICATION_DESTINATION_OBJECT_ACTIONS,
  REPLICATION_SOURCE_BUCKET_ACTIONS, REPLICATION_SOURCE_OBJECT_ACTIONS,
} from './permissions';
import { BackupReplicaBucket } from './replica-bucket';
import { MANIFEST_ROOT } from '../manifest/manifest';
import { ValidationError } from '../private/errors';
import {
  EXPORT_WRITER_TAG_KEY, PLAN_STATE_ROOT, SECURE_BUCKET_DEFAULTS, useBucketPolicyForAccessLogs, acknowledgeSseS3, defineAccessLogsBucket,
  requireConcreteEnv, validateAutoDelete, warn, wholeDays,
} from '../private/storage';
import { acknowledgeWildcardResource, grantBucketAndObjects, grantBucketRead } from '../private/storage-grants';

/** Default retention of exports: ElastiCache's own longest automatic-backup retention (35 days). */
const DEFAULT_EXPORT_RETENTION_DAYS = 35;
/** Default retention of noncurrent versions. */
const DEFAULT_NONCURRENT_DAYS = 7;
/** Incomplete multipart uploads (an export that died half-way) are aborted after this many days. */
const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;
/** What the bucket policy denies, under those prefixes, to every principal without the writer tag. */
const PLAN_PREFIX_WRITE_ACTIONS = ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'];
/** The id aws-cdk-lib gives the stack-wide provider of `autoDeleteObjects` (its role must still empty the bucket). */
const AUTO_DELETE_PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';

/**
 * Properties for a `BackupExportBucket`.
 */
export interface BackupExportBucketProps {
  /**
   * How long exported backups (and manifests) are kept in this bucket before they expire.
   *
   * Expiry here never removes the copies in the replica buckets: delete markers are not replicated, and each replica
   * bucket has its own `retention`. Must be a whole number of days, at least 1.
   *
   * @default Duration.days(35) - the longest automatic-backup retention ElastiCache itself offers
   */
  readonly exportRetention?: Duration;

  /**
   * How long an object version is kept after it becomes noncurrent (after expiry or deletion).
   *
   * Must be a whole number of days, at least 1.
   *
   * @default Duration.days(7)
   */
  readonly noncurrentVersionRetention?: Duration;

  /**
   * Replica buckets, in other regions, that every object of this bucket is replicated to.
   *
   * Each replica gets one S3 replication rule (priority in list order). Delete markers are never replicated.
   * The replica's stack becomes a dependency of this bucket's stack (deploy the DR stack first).
   *
   * @default - no replication
   */
  readonly replicateTo?: BackupReplicaBucket[];

  /**
   * Whether to enable S3 Replication Time Control (99.99% of objects replicated within 15 minutes, SLA-backed)
   * together with replication metrics, on every replication rule. RTC and metrics are billed separately.
   *
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
   * @default false
   */
  readonly replicationTimeControl?: boolean;

  /**
   * Bucket for the server access logs of the export bucket.
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
   * Whether to delete all objects when the bucket is removed. Allowed only with `RemovalPolicy.DESTROY`.
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;
}

/**
 * A bucket that ElastiCache exports backups to (`CopySnapshot` with `TargetBucket`), in the same region as the
 * caches, optionally replicated to `BackupReplicaBucket`s in other regions.
 *
 * The bucket policy grants the regional ElastiCache service principal (`<region>.elasticache-snapshot.amazonaws.com`)
 * exactly the actions AWS documents for exports; Object Ownership is `BucketOwnerEnforced` (no ACLs); encryption is
 * SSE-S3 (exports cannot use customer managed keys and seeding accepts SSE-S3 only); versioned, TLS only, no public
 * access, server access logs, EventBridge notifications on, lifecycle expiry. Only roles carrying the bucket's writer tag
 * (`writerTagKey`, `writerTagValue`; a `BackupPlan` tags its own) may write or delete under `manifests/` and `state/`.
 * Without `replicateTo` it warns (`cdk-elasticache-backup:BackupExportBucket:noReplicas`). The stack must have a concrete `env`.
 *
 * @example
 * declare const app: App;
 * const dr = new Stack(app, 'Dr', { env: { account: '111111111111', region: 'us-west-2' } });
 * const primary = new Stack(app, 'Primary', { env: { account: '111111111111', region: 'us-east-1' } });
 * const replica = new BackupReplicaBucket(dr, 'Replica');
 * const exportBucket = new BackupExportBucket(primary, 'Exports', { replicateTo: [replica] });
 */
export class BackupExportBucket extends Construct {
  /** The underlying bucket (EventBridge notifications enabled). */
  public readonly bucket: s3.Bucket;

  /** The replica buckets this bucket replicates to, in rule-priority order. */
  public readonly replicas: BackupReplicaBucket[];

  /** The role S3 assumes to replicate, when `replicateTo` is not empty. */
  public readonly replicationRole?: iam.IRole;

  /** The dedicated server-access-log bucket, when one was defined. */
  public readonly accessLogsBucket?: s3.Bucket;

  /** The region of the export bucket (the region of its stack). */
  public readonly region: string;

  /** How long exports stay current before the lifecycle rule expires them. */
  public readonly exportRetention: Duration;

  /** How long an object version is kept after it becomes noncurrent. */
  public readonly noncurrentVersionRetention: Duration;

  /**
   * The key of the IAM principal tag that allows writing and deleting objects under `manifests/` and `state/`.
   *
   * What is under these prefixes decides what a restore in the DR region uses (a manifest names the `.rdb` objects
   * to seed from), so the bucket policy denies `s3:PutObject`, `s3:DeleteObject` and `s3:DeleteObjectVersion` there
   * to every principal whose tag `writerTagKey` is not `writerTagValue`. A `BackupPlan` tags its own roles (the
   * reconciler, whose role the self-test shares, and the export verifier). To let another role write there (a
   * break-glass role), tag it yourself. ElastiCache's own writes (`.rdb` objects at the bucket root) are not affected.
   */
  public readonly writerTagKey: string;

  /** The value of the `writerTagKey` tag that allows writing under `manifests/` and `state/` (unique to this bucket). */
  public readonly writerTagValue: string;

  constructor(scope: Construct, id: string, props: BackupExportBucketProps = {}) {
    super(scope, id);
    useBucketPolicyForAccessLogs(this);

    // Validate everything before defining any resource.
    // The account is needed only to reference replica buckets in other environments.
    const env = requireConcreteEnv(this, 'BackupExportBucket', (props.replicateTo ?? []).length > 0);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    validateAutoDelete(this, removalPolicy, props.autoDeleteObjects);
    if (props.exportRetention !== undefined) {
      wholeDays(this, 'exportRetention', props.exportRetention, 1);
    }
    if (props.noncurrentVersionRetention !== undefined) {
      wholeDays(this, 'noncurrentVersionRetention', props.noncurrentVersionRetention, 1);
    }
    const replicas = [...(props.replicateTo ?? [])];
    this.validateReplicas(replicas, props.replicationTimeControl ?? false);

    this.region = env.region;
    this.replicas = replicas;
    this.exportRetention = props.exportRetention ?? Duration.days(DEFAULT_EXPORT_RETENTION_DAYS);
    this.noncurrentVersionRetention = props.noncurrentVersionRetention ?? Duration.days(DEFAULT_NONCURRENT_DAYS);
    const autoDeleteObjects = props.autoDeleteObjects ?? false;
    if (!props.serverAccessLogsBucket) {
      this.accessLogsBucket = defineAccessLogsBucket(this, removalPolicy, autoDeleteObjects);
    }

    // Our own role, so that it gets exactly the actions this replication needs (see permissions.ts):
    // no s3:ReplicateDelete (delete markers are not replicated) and no s3:ObjectOwnerOverrideToBucketOwner.
    let replicationRole: iam.Role | undefined;
    if (replicas.length > 0) {
      replicationRole = new iam.Role(this, 'ReplicationRole', {
        assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
        description: 'S3 replication of ElastiCache backup exports to the DR replica buckets',
      });
    }

    const rtc = props.replicationTimeControl ? s3.ReplicationTimeValue.FIFTEEN_MINUTES : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET_DEFAULTS,
      serverAccessLogsBucket: props.serverAccessLogsBucket ?? this.accessLogsBucket,
      targetObjectKeyFormat: s3.TargetObjectKeyFormat.partitionedPrefix(s3.PartitionDateSource.EVENT_TIME),
      lifecycleRules: [{
        id: 'ExpireExports',
        enabled: true,
        expiration: this.exportRetention,
        noncurrentVersionExpiration: this.noncurrentVersionRetention,
        abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
      }],
      replicationRole,
      replicationRules: replicas.length === 0 ? undefined : replicas.map((replica, index) => ({
        id: `backup-replica-${index + 1}-${replica.region}`,
        destination: replica.bucket,
        priority: index + 1,
        // Deletes and expiry in the export bucket must never delete the DR copies.
        deleteMarkerReplication: false,
        replicationTimeControl: rtc,
        metrics: rtc,
      })),
      removalPolicy,
      autoDeleteObjects,
    });
    acknowledgeSseS3(this.bucket);
    // The backup plan reacts to object-created events (there is no "export succeeded" ElastiCache event). Rendered as
    // the native CloudFormation property rather than with `eventBridgeEnabled: true`, which deploys a Lambda-backed
    // custom resource (with an AWS managed policy) into the stack to do the same thing.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };

    this.addElastiCacheExportPolicy(env.region);
    this.writerTagKey = EXPORT_WRITER_TAG_KEY;
    this.writerTagValue = Names.uniqueResourceName(this, { maxLength: 128 });
    this.denyForeignPlanPrefixWrites(autoDeleteObjects);
    this.replicationRole = replicationRole;
    if (replicationRole) {
      this.grantReplication(replicationRole, replicas);
    }
  }

  /**
   * The name of the export bucket.
   *
   * @attribute
   */
  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  /**
   * The ARN of the export bucket.
   *
   * @attribute
   */
  public get bucketArn(): string {
    return this.bucket.bucketArn;
  }

  /**
   * Grants the S3 permissions that the identity calling `CopySnapshot` with `TargetBucket` (this bucket) needs:
   * `s3:ListBucket`, `s3:GetBucketLocation` and `s3:GetBucketAcl` on the bucket (the last one is listed as a dependent
   * action of `CopySnapshot` by the Service Authorization Reference, not by the guide), `s3:PutObject`, `s3:GetObject` and `s3:DeleteObject` on
   * its objects, and `s3:ListAllMyBuckets` on `arn:<partition>:s3:::*` (ElastiCache validates it there).
   *
   * Does not grant `elasticache:CopySnapshot` itself.
   *
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-exporting.html
   */
  public grantExport(grantee: iam.IGrantable): iam.Grant {
    const bucketGrant = grantBucketAndObjects(this.bucket, grantee, EXPORT_CALLER_BUCKET_ACTIONS, EXPORT_CALLER_OBJECT_ACTIONS,
      'CopySnapshot writes objects whose keys are chosen at run time (<TargetSnapshotName>-000N.rdb) into this one export bucket');
    const allBuckets = Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: '*' });
    const globalGrant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...EXPORT_CALLER_GLOBAL_ACTIONS],
      resourceArns: [allBuckets],
    });
    acknowledgeWildcardResource(grantee, 'Resource::arn:<AWS::Partition>:s3:::*',
      's3:ListAllMyBuckets has no resource-level permissions, and ElastiCache CopySnapshot validates it against arn:<partition>:s3:::* ' +
      '(scoped to a bucket the export fails with "unable to validate the authenticated user has access on the S3 bucket")');
    return bucketGrant.combine(globalGrant);
  }

  /**
   * Grants read access to the exported backups and manifests: `s3:ListBucket` and `s3:GetBucketLocation` on the
   * bucket, `s3:GetObject` on its objects. For restore and monitoring code in this region.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantBucketRead(this.bucket, grantee);
  }

  private validateReplicas(replicas: BackupReplicaBucket[], replicationTimeControl: boolean): void {
    if (replicas.length === 0) {
      warn(this, 'BackupExportBucket:noReplicas',
        `the export bucket has no replica bucket ('replicateTo' is empty): every export lives only in ${Stack.of(this).region}, so losing `
        + 'the region (or this bucket) loses every backup. Add a BackupReplicaBucket in a stack of another region to replicateTo, or '
        + 'acknowledge this warning');
    }
    if (replicationTimeControl && replicas.length === 0) {
      throw new ValidationError(this,
        "'replicationTimeControl' is true but 'replicateTo' is empty; add at least one BackupReplicaBucket to replicateTo or remove replicationTimeControl");
    }
    const seen = new Set<BackupReplicaBucket>();
    for (const replica of replicas) {
      if (seen.has(replica)) {
        throw new ValidationError(this,
          `'replicateTo' lists the replica bucket '${replica.node.path}' more than once; list each replica once`);
      }
      seen.add(replica);
    }
  }

  private addElastiCacheExportPolicy(region: string): void {
    // The regional ElastiCache snapshot principal, the bucket-policy method AWS recommends (it works with
    // BucketOwnerEnforced, unlike the legacy canonical-user ACL grant).
    // No aws:SourceAccount / aws:SourceArn condition: AWS does not document that this principal sends them, and a
    // condition the service does not satisfy would make every export fail with "has not been granted ... permissions".
    const principal = new iam.ServicePrincipal(`${region}.elasticache-snapshot.amazonaws.com`);
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ElastiCacheExportBucket',
      principals: [principal],
      actions: [...ELASTICACHE_EXPORT_BUCKET_ACTIONS],
      resources: [this.bucket.bucketArn],
    }));
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ElastiCacheExportObjects',
      principals: [principal],
      actions: [...ELASTICACHE_EXPORT_OBJECT_ACTIONS],
      resources: [this.bucket.arnForObjects('*')],
    }));
  }

  /**
   * Only the plan's roles may write or delete under `manifests/` and `state/` (issue 10: writes there decide what DR
   * restores, and every new version is replicated).
   *
   * Why a principal tag and not the roles' ARNs: the plan is often in another stack than the bucket, and the plan's
   * stack already references the bucket (its name and ARN); a bucket policy naming the plan's roles would make the
   * bucket's stack reference the plan's stack too, a cycle CloudFormation cannot deploy. A tag value known at synth
   * (this bucket's unique id) needs no reference either way. Why not a role-name pattern: the roles' names are
   * generated by CloudFormation, and fixed names would need CAPABILITY_NAMED_IAM and break replacements.
   * The trade-off: a principal that may tag IAM roles (`iam:TagRole`), or assume a role whose trust policy allows
   * `sts:TagSession` with this key, can get past the deny; both are administrator-level rights, and the deny is meant
   * to stop every other writer (applications, ElastiCache, other plans), not an administrator.
   * Principals without tags (AWS services, other accounts) have no `aws:PrincipalTag`, so `StringNotEquals` denies them.
   */
  private denyForeignPlanPrefixWrites(autoDeleteObjects: boolean): void {
    const conditions: Record<string, Record<string, unknown>> = {
      StringNotEquals: { [`aws:PrincipalTag/${this.writerTagKey}`]: this.writerTagValue },
    };
    if (autoDeleteObjects) {
      // autoDeleteObjects empties the bucket with aws-cdk-lib's provider role before deleting it; it must still delete here.
      const provider = Stack.of(this).node.tryFindChild(AUTO_DELETE_PROVIDER_ID) as { roleArn?: string } | undefined;
      if (provider?.roleArn === undefined) {
        throw new ValidationError(this, `'autoDeleteObjects' is true but aws-cdk-lib's provider '${AUTO_DELETE_PROVIDER_ID}' was not found in the stack; `
          + 'this version of aws-cdk-lib is not supported with autoDeleteObjects: set autoDeleteObjects to false and empty the bucket yourself');
      }
      conditions.ArnNotEquals = { 'aws:PrincipalArn': provider.roleArn };
    }
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlyBackupPlansWriteManifestsAndState',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: PLAN_PREFIX_WRITE_ACTIONS,
      resources: [this.bucket.arnForObjects(`${MANIFEST_ROOT}*`), this.bucket.arnForObjects(`${PLAN_STATE_ROOT}*`)],
      conditions,
    }));
  }

  private grantReplication(role: iam.Role, replicas: BackupReplicaBucket[]): void {
    const stack = Stack.of(this);
    // A customer managed policy rather than the role's inline default policy (compliance packs flag inline policies).
    const policy = new iam.ManagedPolicy(this, 'ReplicationPolicy', {
      description: 'Least-privilege S3 replication of ElastiCache backup exports (no delete replication)',
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadSourceBucket',
          actions: [...REPLICATION_SOURCE_BUCKET_ACTIONS],
          resources: [this.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadSourceObjectVersions',
          actions: [...REPLICATION_SOURCE_OBJECT_ACTIONS],
          resources: [this.bucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'WriteReplicas',
          actions: [...REPLICATION_DESTINATION_OBJECT_ACTIONS],
          resources: replicas.map(replica => replica.bucket.arnForObjects('*')),
        }),
      ],
    });
    const replicationReason = 'S3 replicates every object version of the export bucket; object keys are chosen at run time';
    const ackPolicy = (finding: string) => Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: replicationReason });
    ackPolicy(`Resource::<${stack.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId)}.Arn>/*`);

    for (const replica of replicas) {
      const replicaStack = Stack.of(replica);
      if (replicaStack !== stack) {
        // The replica's generated bucket name must exist before replication is configured: deploy the DR stack first.
        stack.addStackDependency(replicaStack, 'BackupExportBucket replicates to a BackupReplicaBucket in this stack');
      }
      if (replica.region === this.region) {
        warn(this, 'sameRegionReplica',
          `the replica bucket '${replica.node.path}' is in ${this.region}, the same region as the export bucket; ` +
          'it does not survive the loss of the region. Put replica buckets in a stack with another region');
      }
      if (replica.account !== stack.account) {
        Annotations.of(this).addInfo(
          `the replica bucket '${replica.node.path}' is in account ${replica.account}, not ${stack.account}: ` +
          'its bucket policy must allow this replication role s3:ReplicateObject and s3:ReplicateTags on its objects ' +
          '(for example with replica.bucket.addReplicationPolicy(roleArn)); this construct does not add it');
      }
      for (const finding of replicaObjectFindings(stack, replica)) {
        ackPolicy(finding);
      }
    }
  }
}

/** How cdk-nag renders the replica's objects ARN (`<bucket ARN>/*`) in the replication role's policy. */
function replicaObjectFindings(stack: Stack, replica: BackupReplicaBucket): string[] {
  const resolved = stack.resolve(replica.bucket.arnForObjects('*'));
  return [`Resource::${renderForNag(resolved)}`];
}

/** A best-effort copy of cdk-nag's rendering of a resolved value in finding ids. */
function renderForNag(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(renderForNag).join(sep);
    }
    if ('Ref' in obj) {
      return `<${obj.Ref as string}>`;
    }
    if ('Fn::GetAtt' in obj) {
      const [res, attr] = obj['Fn::GetAtt'] as [string, string];
      return `<${res}.${attr}>`;
    }
  }
  return JSON.stringify(value);
}
