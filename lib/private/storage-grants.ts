import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { READ_BUCKET_ACTIONS, READ_OBJECT_ACTIONS } from '../storage/permissions';

/*
 * Grant helpers for the storage constructs. Internal: not exported from the package.
 */

/** The construct that owns the grantee's identity policy, when the grantee is one we can annotate (role, user, group). */
function principalConstruct(grantee: iam.IGrantable): IConstruct | undefined {
  const principal = grantee.grantPrincipal as unknown as Partial<IConstruct>;
  return principal.node !== undefined ? (principal as IConstruct) : undefined;
}

/**
 * Acknowledges the cdk-nag `AwsSolutions-IAM5` finding for a wildcard resource on the grantee's identity policy.
 *
 * @param resourceFinding the finding id as cdk-nag renders it, without the rule prefix (e.g. `Resource::<Bucket.Arn>/*`)
 */
export function acknowledgeWildcardResource(grantee: iam.IGrantable, resourceFinding: string, reason: string): void {
  const construct = principalConstruct(grantee);
  if (construct) {
    Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[${resourceFinding}]`, reason });
  }
}

/** How cdk-nag renders `bucket.arnForObjects('*')` for a bucket defined in the same stack. */
export function objectsWildcardFinding(grantee: iam.IGrantable, bucket: s3.Bucket): string {
  const construct = principalConstruct(grantee);
  const granteeStack = construct ? Stack.of(construct) : Stack.of(bucket);
  const logicalId = granteeStack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId);
  return `Resource::<${logicalId}.Arn>/*`;
}

/** Grants `actions` on the bucket ARN and `objectActions` on every object of the bucket, in two statements. */
export function grantBucketAndObjects(
  bucket: s3.Bucket, grantee: iam.IGrantable, bucketActions: readonly string[], objectActions: readonly string[], reason: string,
): iam.Grant {
  const bucketGrant = iam.Grant.addToPrincipalOrResource({
    grantee,
    actions: [...bucketActions],
    resourceArns: [bucket.bucketArn],
    resource: bucket,
  });
  const objectGrant = iam.Grant.addToPrincipalOrResource({
    grantee,
    actions: [...objectActions],
    resourceArns: [bucket.arnForObjects('*')],
    resource: bucket,
  });
  acknowledgeWildcardResource(grantee, objectsWildcardFinding(grantee, bucket), reason);
  return bucketGrant.combine(objectGrant);
}

/** Read access for restore and monitoring code: list the bucket, get objects. */
export function grantBucketRead(bucket: s3.Bucket, grantee: iam.IGrantable): iam.Grant {
  return grantBucketAndObjects(bucket, grantee, READ_BUCKET_ACTIONS, READ_OBJECT_ACTIONS,
    'Backups are .rdb objects and manifests whose keys are chosen at run time; the reader needs every object of this one backup bucket');
}
