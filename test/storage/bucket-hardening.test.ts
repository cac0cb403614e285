import { App, Annotations as CoreAnnotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, logicalIdOf, twoRegionApp } from './fixtures';
import { BackupPlan } from '../../lib/backup-plan/backup-plan';
import { STATE_ROOT } from '../../lib/backup-plan/constants';
import { verificationRequestKey, verificationResultKey } from '../../lib/backup-plan/verify-core';
import { exportObjectKey, MANIFEST_ROOT, manifestKey } from '../../lib/manifest/manifest';
import { EXPORT_WRITER_TAG_KEY, PLAN_STATE_ROOT } from '../../lib/private/storage';
import { ReplicationGroup } from '../../lib/replication-group/replication-group';
import { BackupExportBucket } from '../../lib/storage/export-bucket';
import { BackupReplicaBucket, BackupReplicaBucketProps } from '../../lib/storage/replica-bucket';

const PRIMARY = { account: ACCOUNT, region: 'us-east-1' };
const DR = { account: ACCOUNT, region: 'us-west-2' };

/** The statements of the export bucket's policy, resolved. */
function bucketPolicy(stack: Stack): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::S3::BucketPolicy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

/**
 * A deliberately small evaluator of the deny statements (independent of the construct): is `action` on `key` denied
 * to a principal with `tags` (and `arn`)? Resources are `<bucket ARN>/<pattern>` with `*` wildcards.
 */
function denied(statements: any[], action: string, key: string, principal: { tags?: Record<string, string>; arn?: unknown }): boolean {
  return statements.filter((s) => s.Effect === 'Deny' && s.Sid !== undefined && s.Sid !== 'AllowSSLRequestsOnly').some((s) => {
    const actions: string[] = [].concat(s.Action);
    const resources: any[] = [].concat(s.Resource);
    const patterns = resources.map((r) => (r['Fn::Join'] ? r['Fn::Join'][1][1].replace(/^\//, '') : undefined));
    const matches = patterns.some((p) => p !== undefined && new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`).test(key));
    if (!actions.includes(action) || !matches) {
      return false;
    }
    const tagCondition = s.Condition.StringNotEquals as Record<string, string>;
    const [tagKey, tagValue] = Object.entries(tagCondition)[0];
    const tagDiffers = principal.tags?.[tagKey.replace('aws:PrincipalTag/', '')] !== tagValue;
    const arnCondition = s.Condition.ArnNotEquals?.['aws:PrincipalArn'];
    const arnDiffers = arnCondition === undefined || JSON.stringify(arnCondition) !== JSON.stringify(principal.arn);
    return tagDiffers && arnDiffers;
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function roleTags(stack: Stack, roleLogicalId: string): Record<string, string> {
  const role = Template.fromStack(stack).toJSON().Resources[roleLogicalId];
  return Object.fromEntries((role.Properties.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}

function planRoles(stack: Stack): string[] {
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  return [...new Set(Object.values(functions).map((f: any) => f.Properties.Role['Fn::GetAtt'][0]))];
}

describe('export bucket: only the backup plan writes manifests/ and state/', () => {
  const t = twoRegionApp();
  const group = ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Orders', { replicationGroupId: 'orders' });
  const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
  plan.protect(group, { interval: Duration.minutes(90) });
  const statements = bucketPolicy(t.primary);
  const planTags = roleTags(t.primary, planRoles(t.primary)[0]);
  const elastiCache = {}; // a service principal carries no principal tags
  const exportKey = exportObjectKey('ceb-abcdefgh-x20260101t000000z-abc', 1);
  const stateKeys = [
    `${STATE_ROOT}orders/plan/plan.json`,
    verificationRequestKey('orders', exportKey, 1),
    verificationResultKey('orders', exportKey),
    `${STATE_ROOT}_self-test/probe-1.json`,
  ];
  const manifest = manifestKey('orders', new Date('2026-01-01T00:00:00Z'), 'ceb-abcdefgh-x20260101t000000z-abc');

  test('the prefixes the bucket protects are the ones the plan writes', () => {
    expect(PLAN_STATE_ROOT).toBe(STATE_ROOT);
    expect(manifest.startsWith(MANIFEST_ROOT)).toBe(true);
    expect(exportKey).toMatch(/^ceb-[^/]+\.rdb$/); // exports are at the bucket root
  });

  test.each([
    ['ElastiCache writes an export at the root: allowed', 's3:PutObject', exportKey, elastiCache, false],
    ['ElastiCache writes a manifest: denied', 's3:PutObject', manifest, elastiCache, true],
    ['ElastiCache writes under state/: denied', 's3:PutObject', stateKeys[0], elastiCache, true],
    ['an untagged role deletes a manifest: denied', 's3:DeleteObject', manifest, { tags: {} }, true],
    ['an untagged role deletes a manifest version: denied', 's3:DeleteObjectVersion', manifest, { tags: {} }, true],
    ['a role tagged for another bucket writes state: denied', 's3:PutObject', stateKeys[0], { tags: { [EXPORT_WRITER_TAG_KEY]: 'OtherBucket' } }, true],
    ['the plan writes its state: allowed', 's3:PutObject', stateKeys[0], { tags: planTags }, false],
    ['the plan writes a verification request: allowed', 's3:PutObject', stateKeys[1], { tags: planTags }, false],
    ['the verifier writes a verification result: allowed', 's3:PutObject', stateKeys[2], { tags: planTags }, false],
    ['the self-test deletes its probe: allowed', 's3:DeleteObject', stateKeys[3], { tags: planTags }, false],
    ['the plan commits a manifest: allowed', 's3:PutObject', manifest, { tags: planTags }, false],
    ['anyone reads a manifest: not denied (reads are not restricted)', 's3:GetObject', manifest, { tags: {} }, false],
  ])('%s (%s %s)', (_name, action, key, principal, expected) => {
    expect(denied(statements, action, key, principal)).toBe(expected);
  });

  test('the reconciler and the export verifier roles carry the bucket\'s writer tag; the bucket names it', () => {
    const roles = planRoles(t.primary);
    expect(roles.length).toBeGreaterThanOrEqual(2); // reconciler (shared by the self-test) and verifier
    for (const role of roles.filter((r) => /Reconciler|ExportVerifier/.test(r))) {
      expect(roleTags(t.primary, role)).toMatchObject({ [EXPORT_WRITER_TAG_KEY]: t.exportBucket.writerTagValue });
    }
    expect(roles.filter((r) => /Reconciler|ExportVerifier/.test(r))).toHaveLength(2);
    expect(t.exportBucket.writerTagKey).toBe(EXPORT_WRITER_TAG_KEY);
    expect(t.exportBucket.writerTagValue).toMatch(/^[A-Za-z0-9]+$/);
  });

  test('the deny names only the two prefixes and three write actions', () => {
    const deny = statements.find((s) => s.Sid === 'OnlyBackupPlansWriteManifestsAndState');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: [
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(t.exportBucket.bucket), 'Arn'] }, '/manifests/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(t.exportBucket.bucket), 'Arn'] }, '/state/*']] },
      ],
      Condition: { StringNotEquals: { [`aws:PrincipalTag/${EXPORT_WRITER_TAG_KEY}`]: t.exportBucket.writerTagValue } },
    });
  });
});

describe('export bucket hardening in other layouts', () => {
  test('bucket and plan in different stacks: no reference from the bucket\'s stack to the plan\'s (no cycle), synth succeeds', () => {
    const app = new App();
    const storage = new Stack(app, 'Storage', { env: PRIMARY });
    const plans = new Stack(app, 'Plans', { env: PRIMARY });
    const bucket = new BackupExportBucket(storage, 'Exports');
    const plan = new BackupPlan(plans, 'Plan', { exportBucket: bucket });
    plan.protect(ReplicationGroup.fromReplicationGroupAttributes(plans, 'Orders', { replicationGroupId: 'orders' }), { interval: Duration.hours(2) });
    const assembly = app.synth();
    const storageTemplate = JSON.stringify(assembly.getStackByName('Storage').template);
    expect(storageTemplate).not.toMatch(/Fn::ImportValue/);
    expect(storageTemplate).toContain('OnlyBackupPlansWriteManifestsAndState');
    expect(assembly.getStackByName('Storage').dependencies.map((d) => d.id)).not.toContain('Plans');
    const tags = roleTags(plans, planRoles(plans).find((r) => /Reconciler/.test(r))!);
    expect(tags[EXPORT_WRITER_TAG_KEY]).toBe(bucket.writerTagValue);
  });

  test('autoDeleteObjects: aws-cdk-lib\'s provider role may still empty the prefixes', () => {
    const stack = new Stack(new App(), 'Primary', { env: PRIMARY });
    new BackupExportBucket(stack, 'Exports', { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    const deny = bucketPolicy(stack).find((s) => s.Sid === 'OnlyBackupPlansWriteManifestsAndState');
    const providerRole = Object.keys(Template.fromStack(stack).findResources('AWS::IAM::Role')).find((id) => /AutoDeleteObjects/.test(id));
    expect(providerRole).toBeDefined();
    expect(deny.Condition.ArnNotEquals).toEqual({ 'aws:PrincipalArn': { 'Fn::GetAtt': [providerRole, 'Arn'] } });
    expect(denied([deny], 's3:DeleteObject', 'manifests/orders/x.json', { arn: { 'Fn::GetAtt': [providerRole, 'Arn'] } })).toBe(false);
  });

  test('two export buckets get different writer tag values (a plan of one cannot write the other)', () => {
    const stack = new Stack(new App(), 'Primary', { env: PRIMARY });
    const a = new BackupExportBucket(stack, 'A');
    const b = new BackupExportBucket(stack, 'B');
    expect(a.writerTagValue).not.toBe(b.writerTagValue);
  });

  test.each([
    ['without replicas', false, 1],
    ['with a replica', true, 0],
  ])('the noReplicas warning, %s', (_name, withReplica, count) => {
    const app = new App();
    const dr = new Stack(app, 'Dr', { env: DR });
    const primary = new Stack(app, 'Primary', { env: PRIMARY });
    const replicateTo = withReplica ? [new BackupReplicaBucket(dr, 'Replica')] : [];
    new BackupExportBucket(primary, 'Exports', { replicateTo });
    const warnings = Annotations.fromStack(primary).findWarning('/Primary/Exports', Match.stringLikeRegexp('cdk-elasticache-backup:BackupExportBucket:noReplicas'));
    expect(warnings).toHaveLength(count);
    if (count === 1) {
      expect(warnings[0].entry.data).toContain("the export bucket has no replica bucket ('replicateTo' is empty): every export lives only in us-east-1");
    }
  });

  test('the noReplicas warning can be acknowledged', () => {
    const stack = new Stack(new App(), 'Primary', { env: PRIMARY });
    const bucket = new BackupExportBucket(stack, 'Exports');
    CoreAnnotations.of(bucket).acknowledgeWarning('cdk-elasticache-backup:BackupExportBucket:noReplicas', 'dev stack');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('noReplicas'))).toHaveLength(0);
  });
});

describe('replica bucket: versions survive an overwrite in the primary', () => {
  function lifecycleOf(props: BackupReplicaBucketProps): { expiration: number; noncurrent: number; lock?: unknown; warnings: number } {
    const stack = new Stack(new App(), 'Dr', { env: DR });
    const replica = new BackupReplicaBucket(stack, 'Replica', props);
    const bucket = Template.fromStack(stack).toJSON().Resources[logicalIdOf(replica.bucket)].Properties;
    const rule = bucket.LifecycleConfiguration.Rules[0];
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('BackupReplicaBucket:shortNoncurrentRetention')).length;
    const noncurrent = rule.NoncurrentVersionExpiration.NoncurrentDays;
    return { expiration: rule.ExpirationInDays, noncurrent, lock: bucket.ObjectLockConfiguration, warnings };
  }

  test.each<[string, BackupReplicaBucketProps, number, number, number]>([
    ['defaults: 35 days current, 35 noncurrent, no warning', {}, 35, 35, 0],
    ['a longer retention: noncurrent follows it', { retention: Duration.days(90) }, 90, 90, 0],
    ['a lock shorter than the retention: noncurrent = retention', { objectLockRetention: Duration.days(14) }, 35, 35, 0],
    ['a lock that covers the retention: 7 days noncurrent suffice', { objectLockRetention: Duration.days(60) }, 60, 7, 0],
    ['an explicit short noncurrent retention: kept, with a warning', { noncurrentVersionRetention: Duration.days(7) }, 35, 7, 1],
    ['a short noncurrent retention under a covering lock: no warning', { objectLockRetention: Duration.days(35), noncurrentVersionRetention: Duration.days(1) }, 35, 1, 0],
  ])('%s', (_name, props, expiration, noncurrent, warnings) => {
    const got = lifecycleOf(props);
    expect({ expiration: got.expiration, noncurrent: got.noncurrent, warnings: got.warnings }).toEqual({ expiration, noncurrent, warnings });
  });

  test.each([
    [s3.ObjectLockMode.COMPLIANCE, 'COMPLIANCE'],
    [s3.ObjectLockMode.GOVERNANCE, 'GOVERNANCE'],
    [undefined, 'GOVERNANCE'],
  ])('objectLockMode %s renders %s', (mode, rendered) => {
    const got = lifecycleOf({ objectLockRetention: Duration.days(30), objectLockMode: mode });
    expect(got.lock).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: rendered, Days: 30 } } });
  });

  test('the short-noncurrent warning names the values and the fix', () => {
    const stack = new Stack(new App(), 'Dr', { env: DR });
    new BackupReplicaBucket(stack, 'Replica', { retention: Duration.days(30), noncurrentVersionRetention: Duration.days(3) });
    const [warning] = Annotations.fromStack(stack).findWarning('/Dr/Replica', Match.anyValue());
    expect(warning.entry.data).toContain("'noncurrentVersionRetention' is 3 days, shorter than 'retention' (30 days), and no Object Lock covers the whole retention");
    expect(warning.entry.data).toContain('Set noncurrentVersionRetention to at least Duration.days(30)');
  });
});
