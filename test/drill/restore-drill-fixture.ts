import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RestoreDrill, RestoreDrillProps } from '../../lib/drill/restore-drill';

export const ACCOUNT = '111111111111';
export const REGION = 'us-west-2';

/** A DR stack with a VPC, a bucket and a drill; `props` override the defaults. */
export function drillStack(props: Partial<RestoreDrillProps> = {}): { stack: Stack; drill: RestoreDrill; template: Template } {
  const app = new App({ context: { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true } });
  const stack = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: REGION } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const bucket = new s3.Bucket(stack, 'Replica');
  const drill = new RestoreDrill(stack, 'Drill', { replicaBucket: bucket, vpc, groups: [{ replicationGroupId: 'orders' }], ...props });
  return { stack, drill, template: Template.fromStack(stack) };
}

/** An ASL state, loosely typed: the tests read the rendered JSON, not the CDK objects. */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: Array<Record<string, unknown> & { Next: string }>;
  readonly Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  readonly Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
  readonly TimeoutSeconds?: number;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface Asl {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
}

/**
 * The rendered definition, with CloudFormation references replaced by fixed stand-ins (`Fn::GetAtt` of a function:
 * a Lambda ARN naming its logical id; `Ref`: the logical id; the partition: `aws`), so it parses as plain ASL.
 */
export function renderedAsl(template: Template): Asl {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  return JSON.parse(flatten(machine.Properties.DefinitionString));
}

function flatten(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${(v['Fn::GetAtt'] as string[])[0]}`;
  }
  if (v.Ref === 'AWS::Partition') {
    return 'aws';
  }
  if (typeof v.Ref === 'string') {
    return v.Ref;
  }
  throw new Error(`unexpected token in the definition: ${JSON.stringify(value)}`);
}

/** Every state name a state can go to next (Next, Default, Choices, Catch). */
export function successors(state: AslState): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

/** Whether a state ends the execution (Succeed, Fail, or End: true). */
export function isTerminal(state: AslState): boolean {
  return state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;
}

/** The terminal states reachable from StartAt when `removed` is taken out of the graph. */
export function terminalsReachableWithout(asl: Asl, removed: string): string[] {
  const seen = new Set<string>();
  const queue = [asl.StartAt];
  const found: string[] = [];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === removed || seen.has(name)) {
      continue;
    }
    seen.add(name);
    const state = asl.States[name];
    if (!state) {
      throw new Error(`state ${name} is referenced but not defined`);
    }
    if (isTerminal(state)) {
      found.push(name);
    }
    queue.push(...successors(state));
  }
  return found;
}
