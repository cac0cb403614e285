import { ArnFormat, PermissionsOptions, Stack } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';

/**
 * Grant methods for a replication group, in the style of aws-cdk-lib's generated `*Grants` classes
 * (`BucketGrants.fromBucket`, `ServerlessCacheGrants.fromServerlessCache`).
 *
 * Works with any `IReplicationGroupRef`: a `ReplicationGroup`, an imported group, an L1 `CfnReplicationGroup` or
 * `CfnReplicationGroup.fromReplicationGroupId(...)`.
 *
 * @example
 * declare const cache: ReplicationGroup;
 * declare const role: iam.IRole;
 * cache.grants.describe(role);
 * cache.grants.createSnapshot(role, 'manual-');
 */
export class ReplicationGroupGrants {
  /**
   * Grants on a replication group given by reference.
   *
   * @param resource the replication group
   */
  public static fromReplicationGroup(resource: elasticacheRefs.IReplicationGroupRef): ReplicationGroupGrants {
    return new ReplicationGroupGrants(resource);
  }

  /** The replication group the grants are on. */
  protected readonly resource: elasticacheRefs.IReplicationGroupRef;

  private constructor(resource: elasticacheRefs.IReplicationGroupRef) {
    this.resource = resource;
  }

  /**
   * Grants the given identity custom ElastiCache actions on the replication group.
   *
   * @param grantee the principal
   * @param actions the IAM actions, for example `elasticache:ModifyReplicationGroup`
   * @param options the resource ARNs to grant on instead of the group's ARN
   */
  public actions(grantee: iam.IGrantable, actions: string[], options: PermissionsOptions = {}): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: options.resourceArns ?? [this.arn],
    });
  }

  /**
   * Grants `elasticache:Connect` for IAM authentication, as the given ElastiCache users.
   *
   * ElastiCache checks the action on both the replication group and the user the client authenticates as, so the
   * policy names the group's ARN and each user's ARN. The users must have IAM authentication and belong to a user
   * group of the replication group.
   *
   * @param grantee the principal that connects
   * @param users the ElastiCache users (IAM authentication) the principal connects as; at least one
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
   */
  public connect(grantee: iam.IGrantable, ...users: elasticacheRefs.IUserRef[]): iam.Grant {
    if (users.length === 0) {
      throw new Error('ReplicationGroupGrants.connect: \'users\' must name at least one ElastiCache user, got none for replication group '
        + `${this.resource.node.path}; IAM authentication checks elasticache:Connect on the group and on the user the client connects as`);
    }
    return this.actions(grantee, ['elasticache:Connect'], {
      resourceArns: [this.arn, ...users.map(user => elasticache.CfnUser.arnForUser(user))],
    });
  }

  /**
   * Grants `elasticache:DescribeReplicationGroups` on the replication group (endpoints, members, status).
   *
   * @param grantee the principal
   */
  public describe(grantee: iam.IGrantable): iam.Grant {
    return this.actions(grantee, ['elasticache:DescribeReplicationGroups']);
  }

  /**
   * Grants `elasticache:CreateSnapshot` of the replication group (a manual backup), on the group, its member clusters
   * (`<id>-*`: cluster mode disabled backs up a member) and snapshots whose name starts with `snapshotNamePrefix`.
   *
   * @param grantee the principal
   * @param snapshotNamePrefix the start of the snapshot names the principal may create; default: any name
   */
  public createSnapshot(grantee: iam.IGrantable, snapshotNamePrefix?: string): iam.Grant {
    const id = this.resource.replicationGroupRef.replicationGroupId;
    return this.actions(grantee, ['elasticache:CreateSnapshot'], {
      resourceArns: [this.arn, this.elastiCacheArn('cluster', `${id}-*`), this.elastiCacheArn('snapshot', `${snapshotNamePrefix ?? ''}*`)],
    });
  }

  private get arn(): string {
    return elasticache.CfnReplicationGroup.arnForReplicationGroup(this.resource);
  }

  private elastiCacheArn(resource: string, resourceName: string): string {
    return Stack.of(this.resource).formatArn({
      service: 'elasticache',
      resource,
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      region: this.resource.env.region,
      account: this.resource.env.account,
    });
  }
}
