/*
 * The reconciler's ElastiCache permissions for one protected group. Internal: not exported from the package.
 */
import { ArnFormat, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { legacyPlanNamePattern, MAX_SNAPSHOT_NAME_LENGTH, PLAN_NAME_TAG, PLAN_TAG_KEY, planNamePattern } from './constants';
import { IReplicationGroup } from '../replication-group/replication-group';
import { BackupExportBucket } from '../storage/export-bucket';

const ACK_REASON_SNAPSHOTS = 'ElastiCache snapshot names are chosen at run time (the plan\'s backups and exports are '
  + 'ceb-<hash of the group id>-<kind><time>[-<random>], automatic backups automatic.<member>-<time>); the wildcard is scoped to '
  + 'this replication group\'s names, and deletes also require the plan\'s tag';

/**
 * The snapshot-name patterns the plan's IAM statements use for a group. Every plan-snapshot pattern fits the
 * 40-character name rule (`MAX_SNAPSHOT_NAME_LENGTH`): a longer pattern could only match names ElastiCache may refuse.
 */
export interface SnapshotPatterns {
  /** The plan's backups and exports: `ceb-<hash>-*` (`ceb-*` for a group id only known at deploy time). */
  readonly plan: string;
  /** Backups named by earlier versions (`<group>-plan-*`), when that pattern fits the name rule. */
  readonly legacy?: string;
  /** The group's automatic backups (export sources only). */
  readonly automatic: string;
}

/** The patterns for a group id; a deploy-time id falls back to every plan name, still limited by the plan's tag. */
export function snapshotPatterns(replicationGroupId: string): SnapshotPatterns {
  if (Token.isUnresolved(replicationGroupId)) {
    return { plan: `${PLAN_NAME_TAG}-*`, automatic: `automatic.${replicationGroupId}-*` };
  }
  const legacy = legacyPlanNamePattern(replicationGroupId);
  return {
    plan: planNamePattern(replicationGroupId),
    legacy: legacy.length <= MAX_SNAPSHOT_NAME_LENGTH ? legacy : undefined,
    automatic: `automatic.${replicationGroupId}-*`,
  };
}

/**
 * Adds the statements that let the reconciler back up, export, tag and prune one group's snapshots, and acknowledges
 * the cdk-nag wildcard findings they raise.
 */
export function grantGroupSnapshots(fn: iam.IGrantable & IConstruct, group: IReplicationGroup, planId: string): void {
  const stack = Stack.of(fn);
  const arn = (resource: string, resourceName: string) => stack.formatArn({
    service: 'elasticache', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const patterns = snapshotPatterns(group.replicationGroupId);
  const planSnapshots = [patterns.plan, ...(patterns.legacy ? [patterns.legacy] : [])].map((p) => arn('snapshot', p));
  const ownSnapshots = arn('snapshot', patterns.plan);
  const automatedSnapshots = arn('snapshot', patterns.automatic);
  const members = arn('cluster', `${group.replicationGroupId}-*`);
  const statements = [
    new iam.PolicyStatement({
      // Backups from a member (cluster mode disabled) or from the group (cluster mode enabled), named ceb-<hash>-b<time>.
      actions: ['elasticache:CreateSnapshot'],
      resources: [group.replicationGroupArn, members, ownSnapshots],
    }),
    new iam.PolicyStatement({
      // CreateSnapshot with Tags: the plan's tag (and only it) marks the backups it may delete.
      actions: ['elasticache:AddTagsToResource'],
      resources: [ownSnapshots],
      conditions: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': [PLAN_TAG_KEY] },
        'StringEquals': { [`aws:RequestTag/${PLAN_TAG_KEY}`]: planId },
      },
    }),
    new iam.PolicyStatement({
      // Export: the source is one of the plan's or the automatic backups; the target is named ceb-<hash>-x<time>-<random>.
      actions: ['elasticache:CopySnapshot'],
      resources: [...planSnapshots, automatedSnapshots],
    }),
    new iam.PolicyStatement({
      // Read the tag before deleting (the reconciler double-checks it).
      actions: ['elasticache:ListTagsForResource'],
      resources: planSnapshots,
    }),
    new iam.PolicyStatement({
      // Prune: only backups this plan created and tagged.
      actions: ['elasticache:DeleteSnapshot'],
      resources: planSnapshots,
      conditions: { StringEquals: { [`aws:ResourceTag/${PLAN_TAG_KEY}`]: planId } },
    }),
  ];
  for (const s of statements) {
    fn.grantPrincipal.addToPrincipalPolicy(s);
  }
  for (const resource of [...planSnapshots, automatedSnapshots, members]) {
    Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagFlatten(stack, resource)}]`, reason: ACK_REASON_SNAPSHOTS });
  }
}

/** How cdk-nag renders a (possibly tokenized) resource ARN in a finding id. */
export function nagFlatten(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (node === undefined) {
      return '';
    }
    if (typeof node === 'string') {
      return node.replace(/\${/g, '<').replace(/}/g, '>');
    }
    const n = node as Record<string, unknown>;
    if (n['Fn::Join']) {
      const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (n['Fn::Sub']) {
      return visit(n['Fn::Sub']);
    }
    if (n['Fn::GetAtt']) {
      const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (n['Fn::ImportValue']) {
      return visit(n['Fn::ImportValue']);
    }
    if (n.Ref) {
      return `<${visit(n.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/**
 * Only the plan's roles may write `manifests/` and `state/` of the export bucket (its policy denies every principal
 * without the bucket's writer tag): the reconciler (whose role the self-test shares) and the export verifier carry it.
 */
export function tagPlanWriters(bucket: BackupExportBucket, functions: lambda.IFunction[]): void {
  for (const fn of functions) {
    Tags.of(fn.role!).add(bucket.writerTagKey, bucket.writerTagValue);
  }
}
