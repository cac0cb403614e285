import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { BackupExportBucketProps, BackupExportBucket } from '../../lib/storage/export-bucket';
import { BackupReplicaBucket, BackupReplicaBucketProps } from '../../lib/storage/replica-bucket';

export const ACCOUNT = '111111111111';

/** The acceptance layout: a DR stack in us-west-2 and a primary stack in us-east-1, in one App, no crossRegionReferences. */
export interface TwoRegionApp {
  readonly app: App;
  readonly dr: Stack;
  readonly primary: Stack;
  readonly replica: BackupReplicaBucket;
  readonly exportBucket: BackupExportBucket;
}

export function twoRegionApp(
  exportProps: Omit<BackupExportBucketProps, 'replicateTo'> = {},
  replicaProps: BackupReplicaBucketProps = {},
  app: App = new App(),
): TwoRegionApp {
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const primary = new Stack(app, 'Primary', { env: { account: ACCOUNT, region: 'us-east-1' } });
  const replica = new BackupReplicaBucket(dr, 'Replica', replicaProps);
  const exportBucket = new BackupExportBucket(primary, 'Exports', { ...exportProps, replicateTo: [replica] });
  return { app, dr, primary, replica, exportBucket };
}

/** `Fn::GetAtt` of a resource's ARN, as rendered in templates. */
export function arnOf(logicalId: string): unknown {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

/** `<bucket ARN>/*` for a bucket in the same stack, as rendered in templates. */
export function objectsOf(logicalId: string): unknown {
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId, 'Arn'] }, '/*']] };
}

/** The logical ID of an L2 construct's default CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).resolve((construct.node.defaultChild as CfnElement).logicalId);
}
