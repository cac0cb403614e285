import { IResource } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * An ElastiCache replication group (Valkey or Redis OSS), defined here or imported.
 */
export interface IReplicationGroup extends IResource, ec2.IConnectable {
  /**
   * The replication group identifier.
   *
   * @attribute
   */
  readonly replicationGroupId: string;

  /**
   * The ARN of the replication group.
   *
   * @attribute
   */
  readonly replicationGroupArn: string;
}
