import { Annotations, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct, IConstruct } from 'constructs';
import { ValidationError, describeValue } from './errors';

/*
 * Helpers shared by the storage constructs (export and replica buckets). Internal: not exported from the package.
 */

/**
 * Where a BackupPlan keeps its state and its verification requests and results (`STATE_ROOT` of the backup plan,
 * repeated here because storage is a lower layer than the plan; a test asserts they are equal).
 */
export const PLAN_STATE_ROOT = 'state/';

/** The tag key that marks the IAM roles allowed to write and delete under `manifests/` and `state/` of an export bucket. */
export const EXPORT_WRITER_TAG_KEY = 'cdk-elasticache-backup:export-writer';

/** The concrete region and account of a construct's stack. */
export interface ConcreteEnv {
  readonly region: string;
  readonly account: string;
}

/**
 * Returns the stack's region and account, or throws when the region (and, with `needAccount`, the account) is a
 * deploy-time value (an env-agnostic stack).
 *
 * The ElastiCache service principal is regional (`<region>.elasticache-snapshot.amazonaws.com`), and cross-region
 * replication needs CDK's cross-environment physical names, which need the region and account of both stacks at synth.
 */
export function requireConcreteEnv(scope: Construct, constructName: string, needAccount: boolean): ConcreteEnv {
  const stack = Stack.of(scope);
  const missing: string[] = [];
  if (Token.isUnresolved(stack.region)) {
    missing.push('region');
  }
  if (needAccount && Token.isUnresolved(stack.account)) {
    missing.push('account');
  }
  if (missing.length > 0) {
    throw new ValidationError(scope,
      `${constructName} needs a stack with a concrete ${needAccount ? 'region and account' : 'region'}, but the stack ` +
      `'${stack.stackName}' has a deploy-time ${missing.join(' and ')} (env-agnostic stack); give the stack an env, ` +
      "for example new Stack(app, 'Backups', { env: { account: '111111111111', region: 'us-east-1' } })");
  }
  return { region: stack.region, account: stack.account };
}

/**
 * Converts a Duration prop to whole days within [min, max], or throws naming the prop. Returns undefined for tokens.
 */
export function wholeDays(scope: Construct, propName: string, value: Duration, min: number, max?: number): number | undefined {
  if (value.isUnresolved()) {
    return undefined;
  }
  const days = value.toDays({ integral: false });
  if (!Number.isInteger(days)) {
    throw new ValidationError(scope, `'${propName}' must be a whole number of days, got ${value.toString()} (${days} days)`);
  }
  if (days < min || (max !== undefined && days > max)) {
    const allowed = max === undefined ? `at least ${min} day${min === 1 ? '' : 's'}` : `between ${min} and ${max} days`;
    throw new ValidationError(scope, `'${propName}' must be ${allowed}, got ${days} days`);
  }
  return days;
}

/** Throws when `autoDeleteObjects` is set without `RemovalPolicy.DESTROY`. */
export function validateAutoDelete(scope: Construct, removalPolicy: RemovalPolicy, autoDeleteObjects: boolean | undefined): void {
  if (autoDeleteObjects && removalPolicy !== RemovalPolicy.DESTROY) {
    throw new ValidationError(scope,
      `'autoDeleteObjects' is true but 'removalPolicy' is ${describeValue(removalPolicy)}; autoDeleteObjects is allowed only with RemovalPolicy.DESTROY`);
  }
}

/** Settings every bucket of this library shares: no ACLs, SSE-S3, TLS only, no public access. */
export const SECURE_BUCKET_DEFAULTS = {
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  versioned: true,
} as const;

/** Reason given for SSE-S3 wherever a cdk-nag pack asks for SSE-KMS. */
const SSE_S3_REASON =
  'ElastiCache exports cannot use customer managed KMS keys and ElastiCache seeds new clusters only from SSE-S3 encrypted .rdb objects, so backup buckets use SSE-S3 (and their access logs follow)';

/** Acknowledges, on one bucket, the cdk-nag findings that ask for SSE-KMS. */
export function acknowledgeSseS3(bucket: IConstruct): void {
  for (const id of ['NIST.800.53.R5-S3DefaultEncryptionKMS', 'HIPAA.Security-S3DefaultEncryptionKMS', 'PCI.DSS.321-S3DefaultEncryptionKMS']) {
    Validations.of(bucket).acknowledge({ id, reason: SSE_S3_REASON });
  }
}

/** Acknowledges, on one bucket, the cdk-nag findings that ask every bucket to replicate. */
export function acknowledgeNoReplication(bucket: IConstruct, reason: string): void {
  for (const id of ['NIST.800.53.R5-S3BucketReplicationEnabled', 'HIPAA.Security-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled']) {
    Validations.of(bucket).acknowledge({ id, reason });
  }
}

/**
 * Defines the dedicated server-access-log bucket of a backup bucket: same security settings, logs written by the S3
 * logging service through a bucket policy (BucketOwnerEnforced, no LogDeliveryWrite ACL).
 */
export function defineAccessLogsBucket(scope: Construct, removalPolicy: RemovalPolicy, autoDeleteObjects: boolean): s3.Bucket {
  const logs = new s3.Bucket(scope, 'AccessLogs', {
    ...SECURE_BUCKET_DEFAULTS,
    removalPolicy,
    autoDeleteObjects,
  });
  Validations.of(logs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the server access log bucket of a backup bucket; logging its own access would log recursively',
  });
  for (const id of ['NIST.800.53.R5-S3BucketLoggingEnabled', 'HIPAA.Security-S3BucketLoggingEnabled', 'PCI.DSS.321-S3BucketLoggingEnabled']) {
    Validations.of(logs).acknowledge({
      id,
      reason: 'This is the server access log bucket of a backup bucket; logging its own access would log recursively',
    });
  }
  acknowledgeSseS3(logs);
  acknowledgeNoReplication(logs, 'Server access logs stay in the region of the bucket they describe; the backups themselves are replicated');
  return logs;
}

/** Adds a warning annotation with this library's prefix. */
export function warn(scope: Construct, id: string, message: string): void {
  Annotations.of(scope).addWarningV2(`cdk-elasticache-backup:${id}`, message);
}

/**
 * Makes CDK grant server-access-log delivery with a bucket policy (principal `logging.s3.amazonaws.com`) instead of the
 * `LogDeliveryWrite` ACL, for the buckets defined under `scope`. Our buckets are BucketOwnerEnforced, where ACLs are
 * disabled, so the ACL method cannot work whatever the app's feature flags say. Must be called before `scope` has children.
 */
export function useBucketPolicyForAccessLogs(scope: Construct): void {
  scope.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
}
