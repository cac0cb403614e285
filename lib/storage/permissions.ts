/*
 * IAM action lists used by the storage constructs. Internal: not exported from the package index.
 *
 * Every list names exact actions (no wildcards) and says why each action is needed. Sources:
 * ElastiCache User Guide "Exporting a backup" (bucket-policy method), "Seeding a new cluster with an
 * externally created backup", and the S3 User Guide "Setting up permissions for live replication".
 */

/**
 * Bucket-level actions the regional ElastiCache service principal needs on the export bucket
 * (`<region>.elasticache-snapshot.amazonaws.com`, bucket ARN).
 */
export const ELASTICACHE_EXPORT_BUCKET_ACTIONS: readonly string[] = [
  // Read/list access; without it the export fails with "ElastiCache has not been granted READ permissions".
  's3:ListBucket',
  // "View permissions"; without it the export fails with "ElastiCache has not been granted READ_ACP permissions".
  's3:GetBucketAcl',
  // In AWS's documented export policy: large .rdb files are written with multipart uploads.
  's3:ListBucketMultipartUploads',
];

/**
 * Object-level actions the regional ElastiCache service principal needs on the export bucket's objects.
 */
export const ELASTICACHE_EXPORT_OBJECT_ACTIONS: readonly string[] = [
  // Writes the exported `<TargetSnapshotName>-000N.rdb` objects ("ElastiCache has not been granted WRITE permissions").
  's3:PutObject',
  // Reads back what it wrote (part of AWS's documented export policy).
  's3:GetObject',
  // In AWS's documented export policy: multipart uploads of large .rdb files.
  's3:ListMultipartUploadParts',
];

/**
 * Bucket-level actions ElastiCache in the DR region needs to seed a new cluster from a replica bucket.
 */
export const ELASTICACHE_SEED_BUCKET_ACTIONS: readonly string[] = [
  // Documented for seeding (bucket-policy method): list the bucket that holds the .rdb objects.
  's3:ListBucket',
  // Documented for seeding (bucket-policy method): read the bucket's permissions.
  's3:GetBucketAcl',
];

/**
 * Object-level actions ElastiCache in the DR region needs to seed a new cluster from a replica bucket.
 */
export const ELASTICACHE_SEED_OBJECT_ACTIONS: readonly string[] = [
  // Reads the .rdb objects named in SnapshotArns.
  's3:GetObject',
];

/**
 * Bucket-level actions the identity calling `CopySnapshot` with `TargetBucket` needs (AWS's documented minimum).
 */
export const EXPORT_CALLER_BUCKET_ACTIONS: readonly string[] = [
  // In AWS's documented minimum caller policy for exports.
  's3:ListBucket',
  // In AWS's documented minimum caller policy; the export is refused for a bucket outside the snapshot's region.
  's3:GetBucketLocation',
  // Not in the guide's minimum caller policy, but the Service Authorization Reference lists it as a dependent action of
  // elasticache:CopySnapshot (and CreateSnapshot). Read-only and harmless; without it an export may be refused.
  's3:GetBucketAcl',
];

/**
 * Object-level actions the identity calling `CopySnapshot` with `TargetBucket` needs (AWS's documented minimum).
 */
export const EXPORT_CALLER_OBJECT_ACTIONS: readonly string[] = [
  // The export writes objects on the caller's behalf.
  's3:PutObject',
  // In AWS's documented minimum caller policy for exports.
  's3:GetObject',
  // In AWS's documented minimum caller policy for exports ("Add Upload/Delete permissions" for WRITE errors).
  // The bucket is versioned, so a delete only adds a delete marker; the data stays as a noncurrent version.
  's3:DeleteObject',
];

/**
 * Account-level action the `CopySnapshot` caller needs. The service validates it against `arn:<partition>:s3:::*`;
 * scoped to a bucket ARN the export fails with "Elasticache was unable to validate the authenticated user has access
 * on the S3 bucket". `s3:ListAllMyBuckets` has no resource-level permissions (Service Authorization Reference).
 */
export const EXPORT_CALLER_GLOBAL_ACTIONS: readonly string[] = ['s3:ListAllMyBuckets'];

/**
 * Bucket-level actions for code that reads backups (restore preflight, monitoring).
 */
export const READ_BUCKET_ACTIONS: readonly string[] = [
  // Lists manifests and .rdb objects; without it a missing key is reported as AccessDenied instead of NoSuchKey.
  's3:ListBucket',
  // Confirms the bucket is in the expected region before a restore.
  's3:GetBucketLocation',
];

/**
 * Object-level actions for code that reads backups (restore preflight, monitoring).
 */
export const READ_OBJECT_ACTIONS: readonly string[] = [
  // Reads manifests and .rdb headers (GetObject also authorizes HeadObject).
  's3:GetObject',
];

/**
 * Actions the replication role needs on the source (export) bucket.
 */
export const REPLICATION_SOURCE_BUCKET_ACTIONS: readonly string[] = [
  // S3 reads the replication configuration as the role.
  's3:GetReplicationConfiguration',
  // S3 lists the source bucket as the role.
  's3:ListBucket',
];

/**
 * Actions the replication role needs on the source (export) bucket's objects.
 */
export const REPLICATION_SOURCE_OBJECT_ACTIONS: readonly string[] = [
  // Reads the object version to replicate (preferred over s3:GetObjectVersion by the S3 User Guide).
  's3:GetObjectVersionForReplication',
  // Reads the version's ACL, replicated with the object.
  's3:GetObjectVersionAcl',
  // Reads the version's tags, replicated with the object.
  's3:GetObjectVersionTagging',
];

/**
 * Actions the replication role needs on each replica bucket's objects.
 *
 * `s3:ReplicateDelete` is deliberately absent: delete-marker replication is disabled, so a delete in the
 * export bucket never removes a DR copy. `s3:ObjectOwnerOverrideToBucketOwner` is absent: the replica bucket
 * uses BucketOwnerEnforced, which gives the same result without it.
 */
export const REPLICATION_DESTINATION_OBJECT_ACTIONS: readonly string[] = [
  // Writes the replicated object version.
  's3:ReplicateObject',
  // Writes the replicated object's tags.
  's3:ReplicateTags',
];
