import { Token } from 'aws-cdk-lib';
import { MEMCACHED_ONLY_PARAMETERS, recommendedReservedMemoryPercent } from './cache-rules';
import { describeValue } from './errors';

/** What the parameter group of a replication group is made from. */
export interface ParameterGroupInput {
  readonly family: string;
  readonly nodeType: string;
  readonly clusterModeEnabled: boolean;
  readonly reservedMemoryPercent?: number;
  readonly parameters?: Record<string, string>;
  /** Whether the workload is write-heavy (raises the data tiering recommendation to 50). */
  readonly writeHeavy?: boolean;
}

const RESERVED_MEMORY_PERCENT = 'reserved-memory-percent';
const RESERVED_MEMORY = 'reserved-memory';
const CLUSTER_ENABLED = 'cluster-enabled';

/**
 * The problems with a parameter group's inputs, as error messages naming the property. Empty when valid.
 */
export function parameterGroupProblems(input: ParameterGroupInput): string[] {
  const problems: string[] = [];
  const params = input.parameters ?? {};
  const percent = input.reservedMemoryPercent;
  if (percent !== undefined && !Token.isUnresolved(percent) && (!Number.isInteger(percent) || percent < 0 || percent > 100)) {
    problems.push(`'reservedMemoryPercent' must be an integer from 0 to 100, got ${describeValue(percent)}`);
  }
  if (percent !== undefined && params[RESERVED_MEMORY_PERCENT] !== undefined) {
    problems.push(`'parameters' sets '${RESERVED_MEMORY_PERCENT}', got ${describeValue(params[RESERVED_MEMORY_PERCENT])}, `
      + `and 'reservedMemoryPercent' is also set, got ${describeValue(percent)}; set it in one place`);
  }
  if (params[RESERVED_MEMORY] !== undefined) {
    problems.push(`'parameters' sets '${RESERVED_MEMORY}', got ${describeValue(params[RESERVED_MEMORY])}; it cannot be combined with `
      + `'${RESERVED_MEMORY_PERCENT}', which this construct always sets: use 'reservedMemoryPercent' instead`);
  }
  const clusterEnabled = params[CLUSTER_ENABLED];
  if (clusterEnabled !== undefined && !Token.isUnresolved(clusterEnabled) && clusterEnabled !== (input.clusterModeEnabled ? 'yes' : 'no')) {
    problems.push(`'parameters' sets '${CLUSTER_ENABLED}' against the cluster mode, got ${describeValue(clusterEnabled)} with cluster mode `
      + `${input.clusterModeEnabled ? 'enabled' : 'disabled'}; remove it, the construct sets it from 'clusterMode'`);
  }
  for (const name of Object.keys(params)) {
    if (MEMCACHED_ONLY_PARAMETERS.includes(name)) {
      problems.push(`'parameters' contains a Memcached-only parameter, got ${describeValue(name)}; `
        + `a ${input.family} parameter group accepts only Valkey and Redis OSS parameters`);
    }
  }
  return problems;
}

/**
 * The parameters to render: the user's, plus `reserved-memory-percent` (given or recommended) and
 * `cluster-enabled: yes` when cluster mode is enabled.
 */
export function renderParameters(input: ParameterGroupInput): Record<string, string> {
  const params = { ...(input.parameters ?? {}) };
  if (params[RESERVED_MEMORY_PERCENT] === undefined) {
    const recommended = recommendedReservedMemoryPercent(input.nodeType, input.writeHeavy ?? false);
    params[RESERVED_MEMORY_PERCENT] = String(input.reservedMemoryPercent ?? recommended);
  }
  if (input.clusterModeEnabled) {
    params[CLUSTER_ENABLED] = 'yes';
  }
  return params;
}

/**
 * The `reserved-memory-percent` the user chose when it is under the recommendation for the node type, else undefined.
 * Deploy-time values and values given only through the recommendation are never reported.
 */
export function reservedMemoryBelowRecommendation(input: ParameterGroupInput): { given: number; recommended: number } | undefined {
  const fromParameters = input.parameters?.[RESERVED_MEMORY_PERCENT];
  const parsed = fromParameters === undefined || Token.isUnresolved(fromParameters) ? undefined : Number(fromParameters);
  const given = input.reservedMemoryPercent ?? parsed;
  if (given === undefined || Token.isUnresolved(given) || !Number.isFinite(given) || Token.isUnresolved(input.nodeType)) {
    return undefined;
  }
  const recommended = recommendedReservedMemoryPercent(input.nodeType, input.writeHeavy ?? false);
  return given < recommended ? { given, recommended } : undefined;
}
