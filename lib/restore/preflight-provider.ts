import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { PREFLIGHT_MEMORY_MB, PREFLIGHT_TIMEOUT_MINUTES } from './content-checks';
import { PreflightFunction } from './preflight-function';

/**
 * The restore preflight's custom resource provider: one per stack, shared by every `ReplicationGroupFromBackup`
 * in it. Internal: not exported from the package.
 *
 * Each restore adds statements for exactly its own buckets, objects and snapshots to the function's role.
 */
export class PreflightProvider extends Construct {
  /** The stack's provider, defined on first use. */
  public static getOrCreate(scope: IConstruct): PreflightProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PreflightProvider.ID) as PreflightProvider | undefined;
    return existing ?? new PreflightProvider(stack, PreflightProvider.ID);
  }

  private static readonly ID = 'cdk-elasticache-backup.RestorePreflightProvider';

  /** The function that runs the checks (grant it read access to restore sources). */
  public readonly onEventFunction: PreflightFunction;
  /** The service token for `CustomResource`s. */
  public readonly serviceToken: string;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    this.onEventFunction = new PreflightFunction(this, 'OnEvent', {
      description: 'cdk-elasticache-backup: checks .rdb objects, exports and snapshots before a replication group is restored from them',
      // Streaming verification of .rdb files is CPU-bound: one full vCPU, and time up to the framework's 15-minute wait.
      timeout: Duration.minutes(PREFLIGHT_TIMEOUT_MINUTES),
      memorySize: PREFLIGHT_MEMORY_MB,
      logGroup,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      logGroup,
    });
    this.serviceToken = provider.serviceToken;
    acknowledgeFindings(this, Stack.of(this).resolve((this.onEventFunction.node.defaultChild as lambda.CfnFunction).logicalId));
  }
}

/**
 * The cdk-nag findings this provider raises by design, acknowledged with their reasons.
 */
function acknowledgeFindings(provider: Construct, functionLogicalId: string): void {
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  ack('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Lambda basic execution (write its own logs) is the managed policy the custom resource framework attaches');
  ack(`AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
    'The custom resource framework invokes any version of the preflight function');
  ack('AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 24); the framework function is managed by aws-cdk-lib');
  for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
    ack(id, 'Each restore adds statements scoped to its own buckets, objects and snapshots; CDK renders grants as the role\'s own policy');
  }
  for (const id of ['HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5-LambdaConcurrency', 'PCI.DSS.321-LambdaConcurrency']) {
    ack(id, 'Runs only during CloudFormation deployments of this stack; reserved concurrency would take capacity from the account for nothing');
  }
  for (const id of ['HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'PCI.DSS.321-LambdaDLQ']) {
    ack(id, 'Invoked synchronously by the custom resource framework; failures are reported to CloudFormation, never queued');
  }
  for (const id of ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC']) {
    ack(id, 'Calls only the S3 and ElastiCache APIs and reads no cache data; a VPC would need NAT or endpoints for no benefit');
  }
  for (const id of ['HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', 'PCI.DSS.321-CloudWatchLogGroupEncrypted']) {
    ack(id, 'The log holds preflight findings (bucket names, object keys, RDB versions), no cache data; CloudWatch Logs encrypts it at rest');
  }
}
