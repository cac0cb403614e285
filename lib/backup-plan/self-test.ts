import { CustomResource, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { STATE_ROOT } from './constants';
import { SelfTestConfig } from './self-test-checks';
import { SelfTestFunction } from './self-test-function';
import { SelfTest } from './self-test-mode';

/** The longest a FULL self-test waits: CloudFormation gives a custom resource one hour; keep a margin. */
export const FULL_MAX_WAIT = Duration.minutes(55);

export interface PlanSelfTestProps {
  readonly mode: SelfTest.QUICK | SelfTest.FULL;
  /** The reconciler: the self-test runs with its role, and FULL invokes it. */
  readonly reconciler: lambda.Function;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly planId: string;
  readonly notificationTopicArn: string;
  /** The protected groups' ids, read when the template is rendered (groups may be added after the plan). */
  readonly groupIds: () => string[];
  /** The longest export timeout of the plan's groups (seconds), read when the template is rendered. */
  readonly exportTimeoutSeconds: () => number;
  readonly logGroup: logs.ILogGroup;
}

/**
 * The plan's self-test custom resource. Internal: not exported from the package (the public API is `SelfTest`).
 *
 * The handler runs with the reconciler's role, so that the state and listing checks prove what the reconciler itself
 * can do; the role gains only read-only calls (`s3:GetBucketPolicy`, `elasticache:DescribeCacheClusters`) and, for
 * FULL, permission to invoke the reconciler.
 */
export class PlanSelfTest extends Construct {
  /** The custom resource (depend on it to run after the self-test). */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: PlanSelfTestProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const full = props.mode === SelfTest.FULL;
    const role = props.reconciler.role!;
    const common = {
      timeout: Duration.minutes(5),
      memorySize: 256,
      role,
      logGroup: props.logGroup,
    };
    const onEvent = new SelfTestFunction(this, 'OnEvent', {
      ...common,
      description: 'cdk-elasticache-backup: deploy-time self-test of the backup plan (custom resource)',
      environment: { SELF_TEST_PHASE: 'onEvent' },
    });
    const isComplete = full ? new SelfTestFunction(this, 'IsComplete', {
      ...common,
      description: 'cdk-elasticache-backup: waits for the self-test\'s export (custom resource)',
      environment: { SELF_TEST_PHASE: 'isComplete' },
    }) : undefined;

    role.addToPrincipalPolicy(new iam.PolicyStatement({
      // The self-test reads the export bucket's policy to check the ElastiCache principal's grant.
      actions: ['s3:GetBucketPolicy'],
      resources: [props.bucketArn],
    }));
    // FULL wakes the reconciler. A policy of its own: in the role's default policy, the reconciler's ARN would make the
    // function depend on itself (a function depends on its role's default policy).
    const invokePolicy = full ? new iam.Policy(this, 'InvokeReconciler', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.reconciler.functionArn] })],
    }) : undefined;

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      logGroup: props.logGroup,
      ...(full ? { queryInterval: Duration.seconds(30), totalTimeout: FULL_MAX_WAIT.plus(Duration.minutes(5)) } : {}),
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ElastiCacheBackupSelfTest',
      properties: {
        Config: Lazy.string({
          produce: () => stack.toJsonString({
            mode: props.mode,
            planId: props.planId,
            region: stack.region,
            bucket: props.bucketName,
            stateRoot: STATE_ROOT,
            notificationTopicArn: props.notificationTopicArn,
            groups: props.groupIds().map((replicationGroupId) => ({ replicationGroupId, exportsOn: true })),
            reconcilerFunctionName: full ? props.reconciler.functionName : undefined,
            waitSeconds: full ? Math.min(props.exportTimeoutSeconds(), FULL_MAX_WAIT.toSeconds()) : undefined,
          } satisfies Record<keyof SelfTestConfig, unknown>),
        }),
      },
    });
    if (invokePolicy) {
      this.resource.node.addDependency(invokePolicy);
      for (const finding of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy', 'PCI.DSS.321-IAMNoInlinePolicy']) {
        Validations.of(invokePolicy).acknowledge({
          id: finding,
          reason: 'One statement, invoke the plan\'s reconciler, for the FULL self-test; '
          + 'separate from the role\'s default policy so that the function does not depend on itself',
        });
      }
    }
    acknowledgeFindings(this, [onEvent, ...(isComplete ? [isComplete] : [])], full);
  }
}

/** The cdk-nag findings of the self-test's functions and the provider framework, by design, with their reasons. */
function acknowledgeFindings(scope: Construct, handlers: lambda.Function[], full: boolean): void {
  const stack = Stack.of(scope);
  const ack = (c: IConstruct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason });
  ack(scope, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Lambda basic execution (write its own logs) is the managed policy the custom resource framework attaches');
  for (const h of handlers) {
    const logicalId = stack.resolve((h.node.defaultChild as lambda.CfnFunction).logicalId);
    ack(scope, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`, 'The custom resource framework invokes any version of the self-test function');
  }
  ack(scope, 'AwsSolutions-L1', 'The runtime is the one projen generates for the library\'s handlers (Node.js 24); the framework function is managed by aws-cdk-lib');
  const packs = (rule: string) => ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'].map((p) => `${p}-${rule}`);
  for (const id of packs('IAMNoInlinePolicy')) {
    ack(scope, id, 'The framework role has only what CDK grants it (invoke the self-test functions), rendered as the role\'s own policy');
  }
  for (const id of packs('LambdaConcurrency')) {
    ack(scope, id, 'Runs only during CloudFormation deployments of this stack; reserved concurrency would take capacity from the account for nothing');
  }
  for (const id of packs('LambdaDLQ')) {
    ack(scope, id, 'Invoked synchronously by the custom resource framework; failures are reported to CloudFormation, never queued');
  }
  for (const id of packs('LambdaInsideVPC')) {
    ack(scope, id, 'Calls only the S3, ElastiCache and Lambda APIs and reads no cache data; a VPC would need NAT or endpoints for no benefit');
  }
  if (full) {
    for (const fn of ['isComplete', 'onTimeout']) {
      const framework = scope.node.findAll().find((c) => c.node.path.endsWith(`/Provider/framework-${fn}`)) as lambda.Function | undefined;
      if (framework) {
        const logicalId = stack.resolve((framework.node.defaultChild as lambda.CfnFunction).logicalId);
        ack(scope, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`, 'The waiter state machine of the custom resource framework invokes any version of its functions');
      }
    }
    ack(scope, 'AwsSolutions-SF1', 'The waiter state machine of the custom resource framework only polls the self-test; its functions log every step');
    ack(scope, 'AwsSolutions-SF2', 'The waiter state machine of the custom resource framework only polls the self-test; X-Ray adds nothing there');
  }
}
