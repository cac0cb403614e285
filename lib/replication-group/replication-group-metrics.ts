import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { ReplicationGroupMetricOptions } from './replication-group-props';

/** The namespace of ElastiCache node metrics. */
export const ELASTICACHE_NAMESPACE = 'AWS/ElastiCache';

/**
 * The member cache cluster ids of a group as created: `<id>-001`.. in cluster mode disabled, `<id>-<shard>-<node>`
 * (`<id>-0001-001`) in cluster mode enabled. Failovers swap roles, not ids; scaling changes the list.
 */
export function memberClusterIds(replicationGroupId: string, clusterModeEnabled: boolean, shards: number, replicas: number): string[] {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const nodes = Array.from({ length: replicas + 1 }, (_, i) => pad(i + 1, 3));
  if (!clusterModeEnabled) {
    return nodes.map(node => `${replicationGroupId}-${node}`);
  }
  return Array.from({ length: shards }, (_, s) => nodes.map(node => `${replicationGroupId}-${pad(s + 1, 4)}-${node}`)).flat();
}

/**
 * A metric of one member cluster. Period 5 minutes unless given; the statistic is the caller's default unless given.
 *
 * Dimension: `CacheClusterId` only. ElastiCache also publishes the same metrics with `CacheClusterId` + `CacheNodeId`
 * (`0001`); the single-dimension series is the one the console and aws-cdk-lib's canned ElastiCache metrics use.
 */
export function memberMetric(
  metricName: string, defaultStatistic: string, defaultMember: string, options: ReplicationGroupMetricOptions = {},
): cloudwatch.Metric {
  const { cacheClusterId, ...metricOptions } = options;
  return new cloudwatch.Metric({
    namespace: ELASTICACHE_NAMESPACE,
    metricName,
    statistic: defaultStatistic,
    period: Duration.minutes(5),
    ...metricOptions,
    dimensionsMap: { CacheClusterId: cacheClusterId ?? defaultMember, ...metricOptions.dimensionsMap },
  });
}
