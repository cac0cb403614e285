import { ArnFormat, Resource, ResourceEnvironment, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { aws_elasticache as elasticacheRefs } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import type { IReplicationGroup, ReplicationGroupAttributes } from './replication-group';
import { ReplicationGroupGrants } from './replication-group-grants';
import { DEFAULT_PORT, replicationGroupIdErrors, validatePort } from './replication-group-rules';
import { NODE_TYPE_PATTERN } from '../private/cache-rules';
import { describeValue, ValidationError } from '../private/errors';

/** A replication group defined outside this app (`ReplicationGroup.fromReplicationGroupAttributes`). Internal. */
export class ImportedReplicationGroup extends Resource implements IReplicationGroup {
  public readonly replicationGroupId: string;
  public readonly replicationGroupArn: string;
  public readonly connections: ec2.Connections;
  public readonly nodeType?: string;

  /** The reference aws-cdk-lib's L1 helpers take (`IReplicationGroupRef`). */
  public get replicationGroupRef(): elasticacheRefs.ReplicationGroupReference {
    return { replicationGroupId: this.replicationGroupId };
  }

  /** The grant methods of the group. */
  public readonly grants: ReplicationGroupGrants;

  constructor(
    scope: Construct, id: string, attrs: ReplicationGroupAttributes, factory = 'ReplicationGroup.fromReplicationGroupAttributes', env?: ResourceEnvironment,
  ) {
    super(scope, id, env ? { account: env.account, region: env.region } : {});
    const errors = [...replicationGroupIdErrors(attrs.replicationGroupId, factory), ...validatePort(attrs.port ?? DEFAULT_PORT)];
    if (attrs.nodeType !== undefined && !Token.isUnresolved(attrs.nodeType) && !NODE_TYPE_PATTERN.test(attrs.nodeType)) {
      errors.push(`'nodeType' must look like cache.<family>.<size>, got ${describeValue(attrs.nodeType)}; for example 'cache.r7g.large'`);
    }
    this.nodeType = attrs.nodeType;
    if (errors.length > 0) {
      throw new ValidationError(this, errors.join('\n'));
    }
    this.replicationGroupId = attrs.replicationGroupId;
    this.replicationGroupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: attrs.replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      account: this.env.account,
      region: this.env.region,
    });
    this.grants = ReplicationGroupGrants.fromReplicationGroup(this);
    this.connections = new ec2.Connections({
      securityGroups: attrs.securityGroups,
      defaultPort: ec2.Port.tcp(attrs.port ?? DEFAULT_PORT),
    });
  }
}
