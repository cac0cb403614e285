/*
 * cdk-nag findings of the BackupPlan's own resources that are by design. Internal: not exported from the package.
 */
import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Compliance-pack findings on the reconciler that are by design, with the reason. */
export function acknowledgeCompliance(fn: IConstruct, dlq: IConstruct, o: { inVpc: boolean; logsEncrypted: boolean; logGroup: IConstruct }): void {
  const ack = (c: IConstruct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason });
  ack(dlq, 'AwsSolutions-SQS3', 'This queue is the dead-letter queue of the reconciler function');
  ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
  ack(fn, 'AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 24), matching the bundle target');
  for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
    ack(fn, id, 'The role belongs to this one function; every protected group adds statements scoped to its own snapshots, '
      + 'and CDK renders grants as the role\'s own policy');
  }
  if (!o.inVpc) {
    const reason = 'The reconciler only calls the ElastiCache and S3 APIs and reads no cache data; pass `vpc` to run it in one';
    for (const id of ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC']) {
      ack(fn, id, reason);
    }
  }
  if (!o.logsEncrypted) {
    for (const id of ['HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', 'PCI.DSS.321-CloudWatchLogGroupEncrypted']) {
      ack(o.logGroup, id, 'The log holds backup names, object keys and counts, no cache data; CloudWatch Logs encrypts it at rest. '
        + 'Pass `logEncryptionKey` for a customer managed key');
    }
  }
}
