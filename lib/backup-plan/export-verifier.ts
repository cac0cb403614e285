/*
 * The export verifier of a BackupPlan: a Lambda function that streams each exported shard and checks it (see
 * verify-export.lambda.ts), woken by the request objects the reconciler writes; its result objects wake the reconciler.
 * Internal: not exported from the package.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV_EXPORT_BUCKET, ENV_FULL_VERIFY_MAX_BYTES, STATE_ROOT } from './constants';
import { DEFAULT_FULL_VERIFY_MAX_BYTES, VERIFIER_MEMORY_MB, VERIFIER_TIMEOUT_SECONDS } from './verify-core';
import { VerifyExportFunction } from './verify-export-function';
import { acknowledgeWildcardResource, objectsWildcardFinding } from '../private/storage-grants';
import { BackupExportBucket } from '../storage/export-bucket';

export interface ExportVerifierProps {
  readonly exportBucket: BackupExportBucket;
  /** Woken when a result object is written. */
  readonly reconciler: lambda.IFunction;
  /** Failed asynchronous invocations land here (the plan's dead-letter queue, which has an alarm). */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetention: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Shards above this size get a partial verification. */
  readonly fullVerifyMaxBytes?: number;
}

/** Object keys under the state prefix (`state/<group>/<folder>/<file>.json`), as an EventBridge wildcard. */
function stateObjects(folder: string): string[] {
  return events.Match.wildcard(`${STATE_ROOT}*/${folder}/*.json`);
}

export class ExportVerifier extends Construct {
  public readonly function: VerifyExportFunction;

  constructor(scope: Construct, id: string, props: ExportVerifierProps) {
    super(scope, id);
    const bucket = props.exportBucket.bucket;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
    this.function = new VerifyExportFunction(this, 'Function', {
      description: 'cdk-elasticache-backup: verifies each exported .rdb before the BackupPlan commits its manifest',
      // One full vCPU (the verifier is CPU-bound), and Lambda's maximum time: see BENCHMARKS.md, largest verifiable shard.
      memorySize: VERIFIER_MEMORY_MB,
      timeout: Duration.seconds(VERIFIER_TIMEOUT_SECONDS),
      logGroup,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: 2,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      environment: {
        [ENV_EXPORT_BUCKET]: bucket.bucketName,
        [ENV_FULL_VERIFY_MAX_BYTES]: String(props.fullVerifyMaxBytes ?? DEFAULT_FULL_VERIFY_MAX_BYTES),
      },
    });
    // Reads request objects and the pinned version of each shard; writes results under state/<group>/verifications/.
    props.exportBucket.grantRead(this.function);
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObjectVersion'], resources: [bucket.arnForObjects('*')] }));
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${STATE_ROOT}*/verifications/*`)] }));

    const objectCreated = (folder: string) => ({
      source: ['aws.s3'], detailType: ['Object Created'], detail: { bucket: { name: [bucket.bucketName] }, object: { key: stateObjects(folder) } },
    });
    new events.Rule(this, 'Requests', {
      description: 'cdk-elasticache-backup: the reconciler asked for a shard\'s verification',
      eventPattern: objectCreated('verify-requests'),
      targets: [new targets.LambdaFunction(this.function, {
        retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: props.deadLetterQueue,
      })],
    });
    new events.Rule(this, 'Results', {
      description: 'cdk-elasticache-backup: a shard verification finished: commit the manifest',
      eventPattern: objectCreated('verifications'),
      targets: [new targets.LambdaFunction(props.reconciler, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    this.acknowledge(props, logGroup);
  }

  private acknowledge(props: ExportVerifierProps, logGroup: logs.LogGroup): void {
    const ack = (c: Construct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason });
    const fn = this.function;
    const results = objectsWildcardFinding(fn, props.exportBucket.bucket).replace(/\/\*$/, `/${STATE_ROOT}*/verifications/*`);
    acknowledgeWildcardResource(fn, results, 'Result objects are named after the shard keys, chosen at run time; the verifier writes only '
      + 'under state/<group>/verifications/ of this one bucket');
    ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Lambda basic execution (write its own logs) is the managed policy aws-cdk-lib attaches to a function role');
    ack(fn, 'AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 24), matching the bundle target');
    for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
      ack(fn, id, 'The role belongs to this one function, and CDK renders grants as the role\'s own policy');
    }
    for (const id of ['HIPAA.Security-LambdaConcurrency', 'NIST.800.53.R5-LambdaConcurrency']) {
      ack(fn, id, 'One invocation per exported shard, each bounded by its timeout; reserving concurrency would take it from the account pool');
    }
    if (!props.vpc) {
      for (const id of ['HIPAA.Security-LambdaInsideVPC', 'NIST.800.53.R5-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC']) {
        ack(fn, id, 'The verifier only reads and writes objects of the export bucket through the S3 API; pass `vpc` to run it in one');
      }
    }
    if (!props.logEncryptionKey) {
      for (const id of ['HIPAA.Security-CloudWatchLogGroupEncrypted', 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', 'PCI.DSS.321-CloudWatchLogGroupEncrypted']) {
        ack(logGroup, id, 'The log holds object keys, versions and key counts, no cache data; CloudWatch Logs encrypts it at rest. '
          + 'Pass `logEncryptionKey` for a customer managed key');
      }
    }
  }
}
