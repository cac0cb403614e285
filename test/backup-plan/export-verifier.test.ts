/**
 * The BackupPlan's export verifier wiring: the function's size, its grants, and the two rules that connect it to the
 * reconciler through request and result objects under `state/`.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BackupPlan } from '../../lib/backup-plan/backup-plan';
import { ENV_EXPORT_BUCKET, ENV_FULL_VERIFY_MAX_BYTES } from '../../lib/backup-plan/constants';
import { DEFAULT_FULL_VERIFY_MAX_BYTES } from '../../lib/backup-plan/verify-core';
import { ReplicationGroup } from '../../lib/replication-group/replication-group';
import { twoRegionApp } from '../storage/fixtures';
import { addNagPacks, synthFindings } from '../support/nag';

function setup(app?: App) {
  const t = twoRegionApp({}, {}, app);
  const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket });
  plan.protect(ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Orders', { replicationGroupId: 'orders' } as never));
  return { ...t, plan };
}
const bucketRef = { Ref: Match.stringLikeRegexp('^ExportsBucket') };

describe('export verifier', () => {
  test('one full vCPU (1,769 MB) and 15 minutes, the bucket and the size limit in its environment, the plan\'s dead-letter queue', () => {
    const { primary } = setup();
    const t = Template.fromStack(primary);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('verifies each exported .rdb'),
      MemorySize: 1769,
      Timeout: 900,
      Environment: { Variables: { [ENV_EXPORT_BUCKET]: bucketRef, [ENV_FULL_VERIFY_MAX_BYTES]: String(DEFAULT_FULL_VERIFY_MAX_BYTES) } },
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PlanDeadLetterQueue'), 'Arn'] } },
    });
  });

  test('request objects invoke the verifier, result objects wake the reconciler', () => {
    const { primary } = setup();
    const t = Template.fromStack(primary);
    const rule = (folder: string, target: RegExp) => t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.s3'],
        'detail-type': ['Object Created'],
        'detail': { bucket: { name: [bucketRef] }, object: { key: [{ wildcard: `state/*/${folder}/*.json` }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp(target.source), 'Arn'] } })],
    });
    rule('verify-requests', /^PlanExportVerifierFunction/);
    rule('verifications', /^PlanReconciler/);
  });

  test('reads any version of the export objects, writes only verification results', () => {
    const { primary, plan } = setup();
    const t = Template.fromStack(primary);
    const role = t.findResources('AWS::IAM::Role');
    const roleId = Object.keys(role).find((id) => id.startsWith('PlanExportVerifierFunctionServiceRole'))!;
    const policies = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId));
    const statements = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const put = statements.filter((s: any) => [s.Action].flat().includes('s3:PutObject'));
    expect(put).toHaveLength(1);
    expect(JSON.stringify(put[0].Resource)).toContain('/state/*/verifications/*');
    expect(statements.some((s: any) => [s.Action].flat().includes('s3:GetObjectVersion'))).toBe(true);
    expect(plan.exportVerifier).toBeDefined();
  });

  test('no unacknowledged cdk-nag finding on the verifier (four packs)', () => {
    const app = new App();
    addNagPacks(app);
    setup(app);
    const message = synthFindings(app);
    expect(message === '' || /Acknowledge with/.test(message)).toBe(true);
    expect(message).not.toMatch(/ExportVerifier/);
  });
});
