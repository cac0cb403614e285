import { Match, Template } from 'aws-cdk-lib/assertions';
import { exampleApp } from './synth-helpers';
import { PRIMARY_GROUP_ID } from '../../examples/dr-app-stacks';

// The acceptance criteria of the foundation, storage, restore, verified-backup and either-way capabilities, checked on the
// example app itself.
describe('example disaster-recovery app', () => {
  const { app, stacks } = exampleApp();
  const assembly = app.synth();
  const primary = Template.fromJSON(assembly.getStackByName(stacks.primary.stackName).template);
  const dr = Template.fromJSON(assembly.getStackByName(stacks.dr.stackName).template);
  const restore = Template.fromJSON(assembly.getStackByName(stacks.restore.stackName).template);

  test('the primary replication group is backup-ready: retention, window, snapshots from the -002 replica, encryption, Multi-AZ', () => {
    primary.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: PRIMARY_GROUP_ID,
      SnapshotRetentionLimit: 35,
      SnapshotWindow: '03:00-04:00',
      SnapshottingClusterId: `${PRIMARY_GROUP_ID}-002`,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      CacheParameterGroupName: { Ref: Match.stringLikeRegexp('ParameterGroup') },
    });
  });

  test('the primary replication group keeps a final snapshot on delete and on replacement', () => {
    const groups = primary.findResources('AWS::ElastiCache::ReplicationGroup');
    expect(Object.values(groups).map((g) => [g.DeletionPolicy, g.UpdateReplacePolicy])).toEqual([['Snapshot', 'Snapshot']]);
  });

  test('the custom parameter group sets reserved-memory-percent in the engine family', () => {
    primary.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'valkey8',
      Properties: Match.objectLike({ 'reserved-memory-percent': '25' }),
    });
  });

  test('the export bucket replicates to the DR stack bucket, and the DR stack deploys first', () => {
    // The replica bucket gets a generated physical name because the primary stack references it across regions.
    const replicaNames: string[] = Object.values(dr.findResources('AWS::S3::Bucket')).map((b) => b.Properties?.BucketName).filter(Boolean);
    expect(replicaNames).toHaveLength(1);
    const exportBuckets = Object.values(primary.findResources('AWS::S3::Bucket'))
      .filter((b) => b.Properties?.ReplicationConfiguration);
    expect(exportBuckets).toHaveLength(1);
    const destination = JSON.stringify(exportBuckets[0].Properties.ReplicationConfiguration.Rules[0].Destination.Bucket);
    expect(destination).toContain(replicaNames[0]);
    expect(stacks.primary.dependencies.map((d) => d.stackName)).toContain(stacks.dr.stackName);
  });

  test('the export bucket policy grants us-east-1.elasticache-snapshot.amazonaws.com the export actions', () => {
    const policies = JSON.stringify(primary.findResources('AWS::S3::BucketPolicy'));
    const statements = Object.values(primary.findResources('AWS::S3::BucketPolicy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => s.Principal?.Service === 'us-east-1.elasticache-snapshot.amazonaws.com');
    expect(policies).toContain('us-east-1.elasticache-snapshot.amazonaws.com');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      's3:GetBucketAcl', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:ListMultipartUploadParts', 's3:PutObject',
    ]);
  });

  test('the DR bucket policy grants us-west-2.elasticache-snapshot.amazonaws.com read access for seeding', () => {
    const statements = Object.values(dr.findResources('AWS::S3::BucketPolicy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => s.Principal?.Service === 'us-west-2.elasticache-snapshot.amazonaws.com');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(['s3:GetBucketAcl', 's3:GetObject', 's3:ListBucket']);
  });

  test('no bucket in any stack has ACLs enabled: every bucket is BucketOwnerEnforced and sets no AccessControl', () => {
    const buckets = [primary, dr, restore].flatMap((t) => Object.values(t.findResources('AWS::S3::Bucket')));
    expect(buckets.length).toBeGreaterThanOrEqual(4);
    for (const bucket of buckets) {
      expect(bucket.Properties.AccessControl).toBeUndefined();
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  test('the restore stack seeds a replication group from .rdb ARNs and depends on the preflight custom resource', () => {
    const groups = restore.findResources('AWS::ElastiCache::ReplicationGroup');
    const [logicalId, group] = Object.entries(groups)[0];
    expect(Object.keys(groups)).toHaveLength(1);
    expect(group.Properties.SnapshotArns).toBeDefined();
    const preflights = Object.keys(restore.findResources('Custom::ElastiCacheRestorePreflight'));
    expect(preflights).toHaveLength(1);
    // The group depends on the preflight either explicitly or through its SnapshotArns (Fn::GetAtt of the preflight's
    // resolved objects): CloudFormation creates it only after the preflight succeeded.
    const explicit = [group.DependsOn].flat().includes(preflights[0]);
    const throughArns = JSON.stringify(group.Properties.SnapshotArns).includes(`"Fn::GetAtt":["${preflights[0]}"`);
    expect({ explicit, throughArns }).not.toEqual({ explicit: false, throughArns: false });
    expect(logicalId).toMatch(/Restored/);
  });

  describe('issue 9 acceptance: the primary template works whichever way the undocumented behaviours go', () => {
    const roles = primary.findResources('AWS::IAM::Role');
    const reconcilerRole = Object.keys(roles).find((id) => /Reconciler/.test(id) && !/Verifier/.test(id))!;
    const policyStatements = (roleId: string) => Object.values(primary.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    const reconcilerFunction = Object.entries(primary.findResources('AWS::Lambda::Function'))
      .find(([, f]) => JSON.stringify(f.Properties.Role).includes(reconcilerRole))![0];

    test('the reconciler may call s3:GetBucketAcl on the export bucket', () => {
      const grants = policyStatements(reconcilerRole).filter((st) => [st.Action].flat().includes('s3:GetBucketAcl'));
      expect(grants).toHaveLength(1);
      const exportBucketId = Object.entries(primary.findResources('AWS::S3::Bucket')).find(([, b]) => b.Properties?.ReplicationConfiguration)![0];
      expect(grants[0].Resource).toEqual({ 'Fn::GetAtt': [exportBucketId, 'Arn'] });
    });

    test('no IAM resource pattern for plan snapshots is longer than the 40-character name rule allows', () => {
      const snapshotPatterns = JSON.stringify(primary.findResources('AWS::IAM::Policy'))
        .match(/:snapshot:[^"\\]*/g) ?? [];
      expect(snapshotPatterns.length).toBeGreaterThan(0);
      for (const pattern of snapshotPatterns) {
        expect({ pattern, length: pattern.slice(':snapshot:'.length).length <= 40 }).toEqual({ pattern, length: true });
      }
    });

    test('an SNS subscription targets the reconciler, and the group publishes to that topic', () => {
      const subscriptions = Object.values(primary.findResources('AWS::SNS::Subscription'));
      const toReconciler = subscriptions.filter((sub) => sub.Properties.Protocol === 'lambda'
        && JSON.stringify(sub.Properties.Endpoint).includes(reconcilerFunction));
      expect(toReconciler).toHaveLength(1);
      primary.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        ReplicationGroupId: PRIMARY_GROUP_ID, NotificationTopicArn: toReconciler[0].Properties.TopicArn,
      });
    });

    test('a self-test custom resource exists', () => {
      expect(Object.keys(primary.findResources('Custom::ElastiCacheBackupSelfTest'))).toHaveLength(1);
    });
  });

  test('issue 8: an export verifier function streams exports (1769 MB, 15 minutes) and the reconciler hears its results', () => {
    primary.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1769, Timeout: 900, Description: Match.stringLikeRegexp('verif') });
    const rules = JSON.stringify(primary.findResources('AWS::Events::Rule'));
    expect(rules).toContain('verify-requests');
    expect(rules).toContain('verifications');
  });
});
