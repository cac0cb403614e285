import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, arnOf, logicalIdOf, objectsOf, twoRegionApp } from './fixtures';
import { BackupExportBucket } from '../../lib/storage/export-bucket';
import { BackupReplicaBucket } from '../../lib/storage/replica-bucket';

function singleStack(): Stack {
  return new Stack(new App(), 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
}

describe('BackupExportBucket bucket policy', () => {
  test('grants us-east-1.elasticache-snapshot.amazonaws.com exactly the export actions, bucket-level on the bucket ARN', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const id = logicalIdOf(exports.bucket);

    Template.fromStack(stack).hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ElastiCacheExportBucket',
            Effect: 'Allow',
            Principal: { Service: 'us-east-1.elasticache-snapshot.amazonaws.com' },
            Action: ['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads'],
            Resource: arnOf(id),
          },
          {
            Sid: 'ElastiCacheExportObjects',
            Effect: 'Allow',
            Principal: { Service: 'us-east-1.elasticache-snapshot.amazonaws.com' },
            Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts'],
            Resource: objectsOf(id),
          },
        ]),
      },
    });
  });

  test('has no other Allow statement and no condition on the ElastiCache statements', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const policies = Template.fromStack(stack).findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: logicalIdOf(exports.bucket) } },
    });
    const statements = Object.values(policies)[0].Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    const allows = statements.filter(s => s.Effect === 'Allow');
    expect(allows.map(s => s.Sid)).toEqual(['ElastiCacheExportBucket', 'ElastiCacheExportObjects']);
    expect(allows.every(s => s.Condition === undefined)).toBe(true);
  });

  test('uses the region of the stack for the service principal', () => {
    const stack = new Stack(new App(), 'Frankfurt', { env: { account: ACCOUNT, region: 'eu-central-1' } });
    new BackupExportBucket(stack, 'Exports');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'ElastiCacheExportObjects', Principal: { Service: 'eu-central-1.elasticache-snapshot.amazonaws.com' } }),
        ]),
      },
    });
  });

  test('denies requests without TLS', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const id = logicalIdOf(exports.bucket);
    Template.fromStack(stack).hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: [arnOf(id), objectsOf(id)],
        }]),
      },
    });
  });
});

describe('BackupExportBucket bucket settings', () => {
  test('is versioned, SSE-S3, BucketOwnerEnforced, blocks public access, sends EventBridge events and logs access', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
        },
        NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: logicalIdOf(exports.accessLogsBucket!) },
          TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'EventTime' } },
        },
        AccessControl: Match.absent(),
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('enables EventBridge without the Lambda-backed notifications custom resource', () => {
    const stack = singleStack();
    new BackupExportBucket(stack, 'Exports');
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('defines a secure access-log bucket that S3 logging writes to through a bucket policy, not an ACL', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const logsId = logicalIdOf(exports.accessLogsBucket!);
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
        },
        AccessControl: Match.absent(),
        LoggingConfiguration: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
    expect(Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.absent() } })))
      .toEqual([logsId]);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 's3:PutObject',
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Resource: objectsOf(logsId),
          Condition: {
            ArnLike: { 'aws:SourceArn': arnOf(logicalIdOf(exports.bucket)) },
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
          },
        }]),
      },
    });
  });

  test('no bucket in the two-region app has an AccessControl property, every bucket is BucketOwnerEnforced', () => {
    const { primary, dr } = twoRegionApp({}, { objectLockRetention: Duration.days(7) });
    for (const stack of [primary, dr]) {
      const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket');
      expect(Object.keys(buckets).length).toBe(2);
      for (const bucket of Object.values(buckets)) {
        expect(bucket.Properties.AccessControl).toBeUndefined();
        expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      }
    }
  });

  test('uses a given access-log bucket instead of defining one', () => {
    // A bucket outside the construct follows the app's feature flag (set in new apps' cdk.json).
    const app = new App({ context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true } });
    const stack = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const logs = new s3.Bucket(stack, 'SharedLogs', { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED });
    const exports = new BackupExportBucket(stack, 'Exports', { serverAccessLogsBucket: logs });
    expect(exports.accessLogsBucket).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(logs) } },
    });
  });

  test('default lifecycle expires exports after 35 days, noncurrent versions after 7, aborts uploads after 1', () => {
    const stack = singleStack();
    new BackupExportBucket(stack, 'Exports');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [{
          Id: 'ExpireExports',
          Status: 'Enabled',
          ExpirationInDays: 35,
          NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }],
      },
    });
  });

  test('lifecycle follows exportRetention and noncurrentVersionRetention', () => {
    const stack = singleStack();
    new BackupExportBucket(stack, 'Exports', { exportRetention: Duration.days(3), noncurrentVersionRetention: Duration.days(2) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: 3, NoncurrentVersionExpiration: { NoncurrentDays: 2 } })],
      },
    });
  });

  test('RemovalPolicy.DESTROY with autoDeleteObjects applies to both buckets', () => {
    const stack = singleStack();
    new BackupExportBucket(stack, 'Exports', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    const template = Template.fromStack(stack);
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).map(b => b.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('without replicateTo there is no replication configuration and no replication role', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    expect(exports.replicas).toEqual([]);
    expect(exports.replicationRole).toBeUndefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', { ReplicationConfiguration: Match.absent(), NotificationConfiguration: Match.anyValue() });
    template.resourceCountIs('AWS::IAM::Role', 0);
  });
});

describe('BackupExportBucket grants', () => {
  test('grantExport gives the CopySnapshot caller exactly the documented S3 actions plus s3:GetBucketAcl, split by resource type', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const role = new iam.Role(stack, 'Exporter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    exports.grantExport(role);
    const id = logicalIdOf(exports.bucket);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(role) }],
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetBucketAcl'], Resource: arnOf(id) },
          { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: objectsOf(id) },
          {
            Effect: 'Allow',
            Action: 's3:ListAllMyBuckets',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] },
          },
        ],
      },
    });
  });

  test('grantExport does not grant elasticache:CopySnapshot', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const role = new iam.Role(stack, 'Exporter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    exports.grantExport(role);
    const json = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(json).not.toContain('elasticache:');
  });

  test('grantRead gives list and get only', () => {
    const stack = singleStack();
    const exports = new BackupExportBucket(stack, 'Exports');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = exports.grantRead(role);
    expect(grant.success).toBe(true);
    const id = logicalIdOf(exports.bucket);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arnOf(id) },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsOf(id) },
        ],
      },
    });
  });
});

describe('BackupExportBucket replication', () => {
  test('replicates to the DR stack bucket by its generated name, without crossRegionReferences', () => {
    const { primary, dr, replica } = twoRegionApp();
    const drTemplate = Template.fromStack(dr);
    const replicaName = drTemplate.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.anyValue() } });
    expect(Object.keys(replicaName)).toEqual([logicalIdOf(replica.bucket)]);
    const name = Object.values(replicaName)[0].Properties.BucketName as string;
    expect(name).toMatch(/^[a-z0-9][a-z0-9-]{2,62}$/);

    Template.fromStack(primary).hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: arnOf(logicalIdOf(replicaRoleOf(primary))),
        Rules: [{
          Id: 'backup-replica-1-us-west-2',
          Priority: 1,
          Status: 'Enabled',
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          Destination: {
            Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}`]] },
            ReplicationTime: Match.absent(),
            Metrics: Match.absent(),
            Account: Match.absent(),
          },
        }],
      },
    });
    // No cross-region custom resources or exports were needed.
    Template.fromStack(primary).resourceCountIs('Custom::CrossRegionExportReader', 0);
    expect(Object.keys(drTemplate.toJSON().Outputs ?? {})).toEqual([]);
  });

  test('makes the DR stack a dependency of the primary stack', () => {
    const { app, primary, dr } = twoRegionApp();
    expect(primary.dependencies).toEqual([dr]);
    expect(dr.dependencies).toEqual([]);
    // The cloud assembly carries the order, so `cdk deploy --all` deploys the DR stack first.
    const assembly = app.synth();
    expect(assembly.getStackByName('Primary').dependencies.map(d => d.id)).toContain('Dr');
    expect(assembly.getStackByName('Dr').dependencies.map(d => d.id)).not.toContain('Primary');
  });

  test('replication role trusts s3.amazonaws.com and has exactly the replication actions on exact ARNs', () => {
    const { primary, exportBucket, dr } = twoRegionApp();
    const name = Template.fromStack(dr).toJSON().Resources[logicalIdOf(
      (dr.node.findChild('Replica') as BackupReplicaBucket).bucket)].Properties.BucketName;
    const template = Template.fromStack(primary);
    const id = logicalIdOf(exportBucket.bucket);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } }],
      },
      Policies: Match.absent(),
      ManagedPolicyArns: Match.absent(),
    });
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Roles: [{ Ref: logicalIdOf(replicaRoleOf(primary)) }],
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadSourceBucket', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: arnOf(id) },
          {
            Sid: 'ReadSourceObjectVersions',
            Effect: 'Allow',
            Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
            Resource: objectsOf(id),
          },
          {
            Sid: 'WriteReplicas',
            Effect: 'Allow',
            Action: ['s3:ReplicateObject', 's3:ReplicateTags'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}/*`]] },
          },
        ],
      },
    });
  });

  test('never grants s3:ReplicateDelete or owner override', () => {
    const { primary } = twoRegionApp();
    const json = JSON.stringify(Template.fromStack(primary).toJSON());
    expect(json).not.toContain('s3:ReplicateDelete');
    expect(json).not.toContain('s3:ObjectOwnerOverrideToBucketOwner');
  });

  test('replicationTimeControl renders RTC and metrics with the 15-minute threshold', () => {
    const { primary } = twoRegionApp({ replicationTimeControl: true });
    Template.fromStack(primary).hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [Match.objectLike({
          Destination: Match.objectLike({
            ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
            Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
          }),
        })],
      },
    });
  });

  test('replicates to several DR regions with one rule each, in priority order', () => {
    const app = new App();
    const west = new Stack(app, 'West', { env: { account: ACCOUNT, region: 'us-west-2' } });
    const eu = new Stack(app, 'Eu', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const primary = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const r1 = new BackupReplicaBucket(west, 'Replica');
    const r2 = new BackupReplicaBucket(eu, 'Replica');
    const exports = new BackupExportBucket(primary, 'Exports', { replicateTo: [r1, r2] });
    expect(exports.replicas).toEqual([r1, r2]);
    expect(primary.dependencies).toEqual([west, eu]);
    const template = Template.fromStack(primary);
    template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [
          Match.objectLike({ Id: 'backup-replica-1-us-west-2', Priority: 1, DeleteMarkerReplication: { Status: 'Disabled' } }),
          Match.objectLike({ Id: 'backup-replica-2-eu-west-1', Priority: 2, DeleteMarkerReplication: { Status: 'Disabled' } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'WriteReplicas',
          Resource: [Match.anyValue(), Match.anyValue()],
        })]),
      },
    });
  });

  test('warns when a replica is in the same region as the export bucket', () => {
    const stack = singleStack();
    const replica = new BackupReplicaBucket(stack, 'Replica');
    new BackupExportBucket(stack, 'Exports', { replicateTo: [replica] });
    Annotations.fromStack(stack).hasWarning('/Primary/Exports', Match.stringLikeRegexp(
      "the replica bucket 'Primary/Replica' is in us-east-1, the same region as the export bucket; it does not survive the loss of the region.*\\[ack: cdk-elasticache-backup:sameRegionReplica\\]"));
  });

  test('does not warn for a replica in another region', () => {
    const { primary } = twoRegionApp();
    Annotations.fromStack(primary).hasNoWarning('*', Match.anyValue());
  });

  test('adds an info annotation when the replica is in another account', () => {
    const app = new App();
    const dr = new Stack(app, 'Dr', { env: { account: '222222222222', region: 'us-west-2' } });
    const primary = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const replica = new BackupReplicaBucket(dr, 'Replica');
    new BackupExportBucket(primary, 'Exports', { replicateTo: [replica] });
    Annotations.fromStack(primary).hasInfo('/Primary/Exports', Match.stringLikeRegexp(
      "the replica bucket 'Dr/Replica' is in account 222222222222, not 111111111111: its bucket policy must allow this replication role"));
    Template.fromStack(primary).hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: { Rules: [Match.objectLike({ Destination: Match.objectLike({ Account: '222222222222' }) })] },
    });
  });
});

function replicaRoleOf(stack: Stack): iam.Role {
  return (stack.node.findChild('Exports') as BackupExportBucket).replicationRole as iam.Role;
}
