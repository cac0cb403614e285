import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { BackupExportBucket, BackupPlan } from '../../lib';

/** BackupPlan.protect() takes any aws-cdk-lib replication group reference: an L1, or a group referenced by id. */
function planStack() {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const plan = new BackupPlan(stack, 'Plan', { exportBucket: new BackupExportBucket(stack, 'Exports') });
  return { stack, plan };
}

function reconcilerConfig(stack: Stack): { groups: { replicationGroupId: string }[] } {
  const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const config = Object.values(fns).map((f) => f.Properties.Environment?.Variables?.BACKUP_PLAN_CONFIG).find((c) => c !== undefined);
  return JSON.parse(typeof config === 'string' ? config : JSON.stringify(config));
}

describe('BackupPlan.protect() with aws-cdk-lib references', () => {
  test('an L1 CfnReplicationGroup with an id is protected under that id, with snapshot permissions scoped to it', () => {
    const { stack, plan } = planStack();
    const l1 = new elasticache.CfnReplicationGroup(stack, 'Legacy', {
      replicationGroupId: 'legacy-cache',
      replicationGroupDescription: 'adopted',
      engine: 'valkey',
      cacheNodeType: 'cache.r7g.large',
      numNodeGroups: 1,
      replicasPerNodeGroup: 1,
      transitEncryptionEnabled: true,
    });
    plan.protect(l1);
    expect(plan.protectedGroupIds).toEqual(['legacy-cache']);
    expect(reconcilerConfig(stack).groups.map((g) => g.replicationGroupId)).toEqual(['legacy-cache']);
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'))).toContain('replicationgroup:legacy-cache');
  });

  test('a group referenced by id (CfnReplicationGroup.fromReplicationGroupId) is protected', () => {
    const { stack, plan } = planStack();
    plan.protect(elasticache.CfnReplicationGroup.fromReplicationGroupId(stack, 'Existing', 'existing-cache'));
    expect(plan.protectedGroupIds).toEqual(['existing-cache']);
  });

  test('an L1 with a data tiering node type is refused like a ReplicationGroup', () => {
    const { stack, plan } = planStack();
    const l1 = new elasticache.CfnReplicationGroup(stack, 'Tiered', {
      replicationGroupId: 'tiered', replicationGroupDescription: 'd', engine: 'valkey', cacheNodeType: 'cache.r6gd.xlarge', transitEncryptionEnabled: true,
    });
    expect(() => plan.protect(l1)).toThrow(/cache\.r6gd\.xlarge/);
  });

  test('the same L1 twice is refused', () => {
    const { stack, plan } = planStack();
    const l1 = new elasticache.CfnReplicationGroup(stack, 'Legacy', { replicationGroupId: 'legacy-cache', replicationGroupDescription: 'd' });
    plan.protect(l1);
    expect(() => plan.protect(l1)).toThrow(/'legacy-cache' is already protected by this plan/);
  });

  test('a referenced id that breaks the replication group id rule is refused with the rule', () => {
    const { stack, plan } = planStack();
    expect(() => plan.protect(elasticache.CfnReplicationGroup.fromReplicationGroupId(stack, 'Bad', 'Bad_Id')))
      .toThrow(/BackupPlan\.protect.*Bad_Id/);
  });
});
