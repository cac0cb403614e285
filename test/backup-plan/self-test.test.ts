import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BackupPlan } from '../../lib/backup-plan/backup-plan';
import { ENV_PLAN_CONFIG } from '../../lib/backup-plan/constants';
import { SelfTest } from '../../lib/backup-plan/self-test-mode';
import { ReplicationGroup } from '../../lib/replication-group/replication-group';
import { logicalIdOf, twoRegionApp } from '../storage/fixtures';
import { addNagPacks, synthFindings } from '../support/nag';

const SELF_TEST = 'Custom::ElastiCacheBackupSelfTest';

function define(selfTest?: SelfTest, app?: App) {
  const t = twoRegionApp({}, {}, app);
  const vpc = new ec2.Vpc(t.primary, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cache = new ReplicationGroup(t.primary, 'Cache', { vpc, replicationGroupId: 'orders', nodeType: 'cache.r7g.large' });
  const plan = new BackupPlan(t.primary, 'Plan', { exportBucket: t.exportBucket, selfTest });
  plan.protect(cache, { interval: Duration.minutes(75) });
  const imported = ReplicationGroup.fromReplicationGroupAttributes(t.primary, 'Carts', { replicationGroupId: 'carts' });
  plan.protect(imported);
  return { ...t, cache, plan };
}

function selfTestConfig(template: Template): any {
  const resources = template.findResources(SELF_TEST);
  expect(Object.keys(resources)).toHaveLength(1);
  const config = Object.values(resources)[0].Properties.Config;
  const text = typeof config === 'string' ? config
    : config['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `<${Object.keys(p as object)[0]}>`)).join('');
  return JSON.parse(text);
}

/** The phases of the self-test functions in the template. */
function selfTestFunctions(template: Template): string[] {
  return Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f: any) => f.Properties.Environment?.Variables?.SELF_TEST_PHASE)
    .filter((phase): phase is string => phase !== undefined);
}

function reconcilerId(template: Template): string {
  return Object.keys(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [ENV_PLAN_CONFIG]: Match.anyValue() } } },
  }))[0];
}

describe('BackupPlan self-test (construct)', () => {
  test('QUICK by default: a self-test custom resource with every protected group, the bucket, the state prefix and the plan\'s topic', () => {
    const { primary, plan } = define();
    const t = Template.fromStack(primary);
    const config = selfTestConfig(t);
    expect(config).toEqual({
      mode: 'QUICK',
      planId: plan.planId,
      region: 'us-east-1',
      bucket: '<Ref>',
      stateRoot: 'state/',
      notificationTopicArn: '<Ref>',
      groups: [{ replicationGroupId: 'orders', exportsOn: true }, { replicationGroupId: 'carts', exportsOn: true }],
    });
    // QUICK needs no waiter: no isComplete function, no state machine.
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(selfTestFunctions(t)).toEqual(['onEvent']);
  });

  test('the self-test runs with the reconciler\'s role, which may read the bucket policy', () => {
    const { primary, exportBucket } = define();
    const t = Template.fromStack(primary);
    const role = t.findResources('AWS::Lambda::Function')[reconcilerId(t)].Properties.Role;
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SELF_TEST_PHASE: 'onEvent' } },
      Role: role,
    });
    const bucketId = logicalIdOf(exportBucket.bucket);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role['Fn::GetAtt'][0] }],
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 's3:GetBucketPolicy', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } }]) },
    });
  });

  test('the custom resource runs after the reconciler, its policy, its triggers, its SNS subscription, the bucket and the group', () => {
    const { primary, cache } = define();
    const t = Template.fromStack(primary);
    const resource = Object.values(t.findResources(SELF_TEST))[0];
    const dependsOn: string[] = resource.DependsOn;
    const fnId = reconcilerId(t);
    const policyId = Object.keys(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ReconcilerServiceRoleDefaultPolicy') } }))[0];
    const subscriptionId = Object.keys(t.findResources('AWS::SNS::Subscription'))[0];
    const ruleIds = Object.keys(t.findResources('AWS::Events::Rule'));
    const bucketPolicyId = Object.keys(t.findResources('AWS::S3::BucketPolicy')).find((id) => id.startsWith('ExportsBucketPolicy'))!;
    const groupId = logicalIdOf(cache);
    const expected = [fnId, policyId, subscriptionId, ...ruleIds, bucketPolicyId, groupId];
    expect(expected.filter((id) => !dependsOn.includes(id))).toEqual([]);
  });

  test('FULL: a waiter (isComplete) up to 55 minutes, the reconciler\'s name and invoke permission, and the wait in the config', () => {
    const { primary } = define(SelfTest.FULL);
    const t = Template.fromStack(primary);
    const config = selfTestConfig(t);
    expect(config.mode).toBe('FULL');
    expect(config.reconcilerFunctionName).toBe('<Ref>');
    // The longest export timeout of the groups is 2 h (the imported group's unknown node type): capped at 55 minutes.
    expect(config.waitSeconds).toBe(3300);
    expect(selfTestFunctions(t).sort()).toEqual(['isComplete', 'onEvent']);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const role = t.findResources('AWS::Lambda::Function')[reconcilerId(t)].Properties.Role;
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role['Fn::GetAtt'][0] }],
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [reconcilerId(t), 'Arn'] } }] },
    });
  });

  test('OFF: no custom resource, no self-test function', () => {
    const { primary, plan } = define(SelfTest.OFF);
    const t = Template.fromStack(primary);
    t.resourceCountIs(SELF_TEST, 0);
    expect(selfTestFunctions(t)).toEqual([]);
    t.resourceCountIs('AWS::CloudFormation::CustomResource', 0);
    expect(plan.selfTestResource).toBeUndefined();
  });

  test.each([SelfTest.QUICK, SelfTest.FULL])('no unacknowledged cdk-nag findings on the plan with the %s self-test', (mode) => {
    const app = new App();
    addNagPacks(app);
    define(mode, app);
    const message = synthFindings(app);
    expect(message === '' || /Acknowledge with/.test(message)).toBe(true);
    expect(message).not.toMatch(/Primary\/Plan\//);
  });
});
