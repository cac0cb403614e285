import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, arnOf, logicalIdOf, objectsOf, twoRegionApp } from './fixtures';
import { BackupReplicaBucket } from '../../lib/storage/replica-bucket';

function drStack(): Stack {
  return new Stack(new App(), 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
}

describe('BackupReplicaBucket', () => {
  test('bucket policy grants the DR region ElastiCache principal read access for seeding, and nothing else', () => {
    const { dr, replica } = twoRegionApp();
    const id = logicalIdOf(replica.bucket);
    const template = Template.fromStack(dr);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ElastiCacheSeedBucket',
            Effect: 'Allow',
            Principal: { Service: 'us-west-2.elasticache-snapshot.amazonaws.com' },
            Action: ['s3:ListBucket', 's3:GetBucketAcl'],
            Resource: arnOf(id),
          },
          {
            Sid: 'ElastiCacheSeedObjects',
            Effect: 'Allow',
            Principal: { Service: 'us-west-2.elasticache-snapshot.amazonaws.com' },
            Action: 's3:GetObject',
            Resource: objectsOf(id),
          },
        ]),
      },
    });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }))[0];
    const allows = (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).filter(s => s.Effect === 'Allow');
    expect(allows.map(s => s.Sid)).toEqual(['ElastiCacheSeedBucket', 'ElastiCacheSeedObjects']);
    expect(JSON.stringify(template.toJSON())).not.toContain('us-east-1.elasticache-snapshot');
  });

  test('is versioned, SSE-S3, BucketOwnerEnforced, blocks public access, logs access, is retained', () => {
    const stack = drStack();
    const replica = new BackupReplicaBucket(stack, 'Replica');
    expect(replica.region).toBe('us-west-2');
    expect(replica.account).toBe(ACCOUNT);
    Template.fromStack(stack).hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(replica.accessLogsBucket!) } },
        ObjectLockEnabled: Match.absent(),
        ObjectLockConfiguration: Match.absent(),
        AccessControl: Match.absent(),
        ReplicationConfiguration: Match.absent(),
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('the bucket name is generated only when another environment references it', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica');
    Template.fromStack(stack).resourcePropertiesCountIs('AWS::S3::Bucket', { BucketName: Match.anyValue() }, 0);

    const { dr, replica } = twoRegionApp();
    const named = Template.fromStack(dr).findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.stringLikeRegexp('^[a-z0-9]{3,63}$') } });
    expect(Object.keys(named)).toEqual([logicalIdOf(replica.bucket)]);
  });

  test('default lifecycle expires replicas after 35 days and keeps noncurrent versions as long (an overwrite in the primary survives)', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [{
          Id: 'ExpireReplicatedBackups',
          Status: 'Enabled',
          ExpirationInDays: 35,
          NoncurrentVersionExpiration: { NoncurrentDays: 35 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }],
      },
    });
  });

  test('objectLockRetention enables Object Lock with a GOVERNANCE default retention', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica', { objectLockRetention: Duration.days(14) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 14 } },
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 35 })] },
    });
  });

  test('objectLockMode COMPLIANCE renders compliance mode', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica', {
      objectLockRetention: Duration.days(30), objectLockMode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(30),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
  });

  test('default retention follows an Object Lock retention longer than 35 days', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica', { objectLockRetention: Duration.days(90) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } } },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
    });
  });

  test('retention and noncurrentVersionRetention set the lifecycle', () => {
    const stack = drStack();
    new BackupReplicaBucket(stack, 'Replica', { retention: Duration.days(400), noncurrentVersionRetention: Duration.days(1) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 400, NoncurrentVersionExpiration: { NoncurrentDays: 1 } })] },
    });
  });

  test('grantRead gives list and get on the replica only', () => {
    const stack = drStack();
    const replica = new BackupReplicaBucket(stack, 'Replica');
    const role = new iam.Role(stack, 'Restorer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    replica.grantRead(role);
    const id = logicalIdOf(replica.bucket);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(role) }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arnOf(id) },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsOf(id) },
        ],
      },
    });
  });
});
