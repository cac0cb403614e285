import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { CacheEngine } from '../engine';
import { recommendedReservedMemoryPercent } from '../private/cache-rules';
import { ValidationError } from '../private/errors';
import { parameterGroupProblems, renderParameters } from '../private/parameters';

/**
 * Properties of a `CacheParameterGroup`.
 */
export interface CacheParameterGroupProps {
  /**
   * The engine; the parameter group is defined in its family (for example `valkey8`).
   */
  readonly engine: CacheEngine;

  /**
   * The node type of the replication group, used to choose the default `reserved-memory-percent`.
   */
  readonly nodeType: string;

  /**
   * Whether the replication group uses cluster mode; when true, `cluster-enabled` is set to `yes`.
   *
   * @default false
   */
  readonly clusterModeEnabled?: boolean;

  /**
   * The percent of each node's memory reserved for non-data use (backups, replication, failover), integer 0 to 100.
   *
   * @default - the AWS recommendation for the node type (see `recommendedReservedMemoryPercent`)
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html
   */
  readonly reservedMemoryPercent?: number;

  /**
   * Whether the workload is write-heavy. On data tiering node types (`cache.r6gd.*`) AWS recommends reserving up to
   * 50 % of memory for write-heavy workloads; this raises the default `reservedMemoryPercent` to 50 there. No effect on
   * other node types.
   *
   * @default false
   */
  readonly writeHeavy?: boolean;

  /**
   * Further engine parameters, by name. They may not contradict the cluster mode, nor set `reserved-memory`
   * (use `reservedMemoryPercent`).
   *
   * @default - no further parameters
   */
  readonly parameters?: Record<string, string>;

  /**
   * The description of the parameter group.
   *
   * @default - the construct path
   */
  readonly description?: string;
}

/**
 * A Valkey or Redis OSS parameter group with a `reserved-memory-percent` that leaves room for backups.
 *
 * Backups and replica syncs need free memory for the writes that arrive while the `.rdb` is written; with too little,
 * they fail or fall back to a slower forkless save. `ReplicationGroup` always defines one of these.
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/BestPractices.BGSAVE.html
 */
export class CacheParameterGroup extends Construct {
  /**
   * The AWS recommendation for `reserved-memory-percent` on a node type.
   *
   * 25 in general (data tiering included); 30 on small burstable nodes (`cache.t*.small`); 50 on micro nodes
   * (`cache.*.micro`) and, for write-heavy workloads, on data tiering nodes (`cache.r6gd.*`).
   *
   * @param nodeType the node type, for example `cache.r7g.large`
   * @param writeHeavy whether the workload is write-heavy (only matters on data tiering node types); default false
   * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html
   */
  public static recommendedReservedMemoryPercent(nodeType: string, writeHeavy?: boolean): number {
    return recommendedReservedMemoryPercent(nodeType, writeHeavy ?? false);
  }

  /**
   * The name of the parameter group.
   *
   * @attribute
   */
  public readonly parameterGroupName: string;

  /**
   * The parameter group family, for example `valkey8`.
   */
  public readonly family: string;

  /**
   * The parameters as rendered, including `reserved-memory-percent` and `cluster-enabled`.
   */
  public readonly parameters: Record<string, string>;

  constructor(scope: Construct, id: string, props: CacheParameterGroupProps) {
    super(scope, id);
    const input = {
      family: props.engine.parameterGroupFamily,
      nodeType: props.nodeType,
      clusterModeEnabled: props.clusterModeEnabled ?? false,
      reservedMemoryPercent: props.reservedMemoryPercent,
      parameters: props.parameters,
      writeHeavy: props.writeHeavy,
    };
    const problems = parameterGroupProblems(input);
    if (problems.length > 0) {
      throw new ValidationError(this, problems.join('\n'));
    }
    this.family = input.family;
    this.parameters = renderParameters(input);
    const resource = new elasticache.CfnParameterGroup(this, 'Resource', {
      cacheParameterGroupFamily: this.family,
      description: props.description ?? this.node.path,
      properties: this.parameters,
    });
    this.parameterGroupName = resource.ref;
  }
}
