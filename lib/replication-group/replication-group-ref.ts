import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import { ImportedReplicationGroup } from './imported-replication-group';
import type { IReplicationGroup } from './replication-group-props';

/*
 * Turns any aws-cdk-lib replication group reference (an L1 CfnReplicationGroup, CfnReplicationGroup.fromReplicationGroupId,
 * or this library's groups) into an IReplicationGroup, for APIs that accept IReplicationGroupRef. Internal.
 */

/** Whether a reference already is this library's IReplicationGroup (defined or imported). */
export function isReplicationGroup(ref: elasticacheRefs.IReplicationGroupRef): ref is IReplicationGroup {
  const candidate = ref as Partial<IReplicationGroup>;
  return typeof candidate.replicationGroupArn === 'string' && candidate.connections !== undefined;
}

/**
 * The reference as an IReplicationGroup: itself when it is one, otherwise an imported group named `id` under `scope`,
 * in the reference's account and region, with the L1's node type when it has one (so data tiering is refused at synth).
 * The id may be a deploy-time value (an L1 without `replicationGroupId` renders `Ref`).
 *
 * @param consumer the API that received the reference, for error messages (for example `BackupPlan.protect`)
 */
export function replicationGroupFromRef(
  scope: Construct, id: string, ref: elasticacheRefs.IReplicationGroupRef, consumer: string,
): IReplicationGroup {
  if (isReplicationGroup(ref)) {
    return ref;
  }
  const l1 = ref instanceof elasticache.CfnReplicationGroup ? ref : undefined;
  // An L1's replicationGroupRef is always its `Ref`; its own `replicationGroupId` prop, when set, is the same value known at
  // synth, which lets callers name snapshots and scope IAM by it. The caller adds the dependency on the L1 if it needs one.
  const replicationGroupId = l1?.replicationGroupId ?? ref.replicationGroupRef.replicationGroupId;
  return new ImportedReplicationGroup(scope, id, { replicationGroupId, nodeType: l1?.cacheNodeType }, consumer, ref.env);
}
