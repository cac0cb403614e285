import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import type { SourceKind } from './preflight-properties';
import { nagRendering } from '../private/nag-rendering';

/*
 * How a BackupSource binds to a restore. Internal: not exported from the package (keeps unions and
 * free-form property maps out of the jsii API).
 */

/** S3 actions the preflight uses on each bucket: region, policy, and listing (HeadObject tells 404 from 403 with it). */
export const PREFLIGHT_BUCKET_ACTIONS = ['s3:GetBucketLocation', 's3:GetBucketPolicy', 's3:ListBucket'];
/** S3 actions the preflight uses on each object: HeadObject and a ranged GET of the header. */
export const PREFLIGHT_OBJECT_ACTIONS = ['s3:GetObject'];

/**
 * What a source contributes to the restore. Internal.
 */
export interface BoundBackupSource {
  readonly kind: SourceKind;
  /** `rdbArns`: the ARNs, known at synth (elements may be tokens). */
  readonly snapshotArns?: string[];
  /** `snapshot`: the ElastiCache snapshot name. */
  readonly snapshotName?: string;
  /** `latestExport`. */
  readonly bucket?: s3.IBucket;
  readonly replicationGroupId?: string;
  readonly maxSourceShards?: number;
  /** Source-specific custom resource properties (the preflight adds the target's). */
  readonly properties: Record<string, unknown>;
  /** Problems found at synth (empty when none). */
  readonly problems: string[];
  /** Grants the preflight function what it needs to read this source. */
  grantRead(grantee: iam.IGrantable): void;
}

/**
 * Grants `actions` on `resources` to the preflight function and acknowledges the cdk-nag `AwsSolutions-IAM5`
 * finding of each wildcard resource (object keys of an export are only known at deploy time).
 */
export function grantWithWildcards(grantee: iam.IGrantable, actions: string[], resources: string[], reason: string, owner?: IConstruct): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  const principal = grantee.grantPrincipal as unknown as Partial<IConstruct>;
  if (principal.node === undefined) {
    return;
  }
  const stack = Stack.of(principal as IConstruct);
  const acknowledge = () => {
    for (const resource of resources) {
      const rendered = nagRendering(stack.resolve(resource));
      if (rendered !== undefined && rendered.includes('*')) {
        Validations.of(principal as IConstruct).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
      }
    }
  };
  if (owner && Stack.of(owner) !== stack) {
    // A bucket from another stack becomes an Fn::ImportValue whose export name CDK chooses while preparing the app:
    // acknowledge once references are resolved (node validations run after that, before validation plugins).
    (principal as IConstruct).node.addValidation({ validate: () => { acknowledge(); return []; } });
  } else {
    acknowledge();
  }
}
