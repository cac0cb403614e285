import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ReplicationGroup } from '../../lib/replication-group/replication-group';
import { addNagPacks, synthFindings } from '../support/nag';

function appWithPacks(): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  addNagPacks(app);
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'c', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  // The test VPC is not under review: only the replication group's own resources are.
  for (const child of vpc.node.findAll()) {
    for (const id of ['AwsSolutions-VPC7', 'HIPAA.Security-VPCFlowLogsEnabled', 'NIST.800.53.R5-VPCFlowLogsEnabled', 'PCI.DSS.321-VPCFlowLogsEnabled',
      'HIPAA.Security-VPCDefaultSecurityGroupClosed', 'NIST.800.53.R5-VPCDefaultSecurityGroupClosed', 'PCI.DSS.321-VPCDefaultSecurityGroupClosed']) {
      Validations.of(child).acknowledge({ id, reason: 'test VPC' });
    }
  }
  return { app, stack, vpc };
}

describe('cdk-nag (AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1)', () => {
  test('the defaults have zero unacknowledged findings: the AUTH token secret carries its own acknowledgements', () => {
    const { app, stack, vpc } = appWithPacks();
    new ReplicationGroup(stack, 'Cache', { vpc });
    expect(synthFindings(app)).toBe('');
  });

  test('the acknowledgements are needed: the same secret outside the construct is reported (SMG4 rotation)', () => {
    const { app, stack } = appWithPacks();
    new secretsmanager.Secret(stack, 'PlainSecret');
    expect(synthFindings(app)).toMatch(/AwsSolutions-SMG4/);
  });

  test('with a customer managed key, the AUTH token secret is encrypted with that key and passes the KMS rules unacknowledged', () => {
    const { app, stack, vpc } = appWithPacks();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ReplicationGroup(stack, 'Cache', { vpc, encryptionKey: key });
    expect(synthFindings(app)).toBe('');
    const secrets = Template.fromStack(stack).findResources('AWS::SecretsManager::Secret');
    expect(Object.values(secrets).map((s: any) => s.Properties.KmsKeyId)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] }]);
  });
});
