import { ArnFormat, Resource, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { IReplicationGroup, ReplicationGroupAttributes } from './replication-group';
import { DEFAULT_PORT, validatePort, validateReplicationGroupId } from './replication-group-rules';
import { NODE_TYPE_PATTERN } from '../private/cache-rules';
import { describeValue, ValidationError } from '../private/errors';

/** A replication group defined outside this app (`ReplicationGroup.fromReplicationGroupAttributes`). Internal. */
export class ImportedReplicationGroup extends Resource implements IReplicationGroup {
  public readonly replicationGroupId: string;
  public readonly replicationGroupArn: string;
  public readonly connections: ec2.Connections;
  public readonly nodeType?: string;

  constructor(scope: Construct, id: string, attrs: ReplicationGroupAttributes) {
    super(scope, id);
    const errors = [...validateReplicationGroupId(attrs.replicationGroupId), ...validatePort(attrs.port ?? DEFAULT_PORT)];
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
    });
    this.connections = new ec2.Connections({
      securityGroups: attrs.securityGroups,
      defaultPort: ec2.Port.tcp(attrs.port ?? DEFAULT_PORT),
    });
  }
}
