import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MAX_REPLICATION_GROUP_ID_LENGTH, replicationGroupIdProblems } from './cache-rules';
import { describeValue, ValidationError } from './errors';

/*
 * The one rule for replication group ids given as plain strings, wherever the library accepts one (ReplicationGroup,
 * imports, the freshness monitor, latestExport, restores). Kept apart from cache-rules.ts because it needs aws-cdk-lib
 * (Token) and cache-rules.ts is bundled into Lambda handlers. Not exported from the package.
 */

/** What a valid id looks like, for the end of every message. */
export const REPLICATION_GROUP_ID_RULE = `use 1 to ${MAX_REPLICATION_GROUP_ID_LENGTH} lowercase letters, digits or hyphens, `
  + 'starting with a letter, without \'--\' and without a trailing hyphen';

/**
 * The error message for a replication group id, or undefined when it is valid, absent or a deploy-time value (tokens
 * pass: only the service can check them).
 *
 * @param constructName the class (or factory) that received it, for example `BackupFreshnessMonitor`
 * @param property the property that holds it, for example `replicationGroupId` or `groups[2].replicationGroupId`
 * @param value the value received
 */
export function replicationGroupIdError(constructName: string, property: string, value: string | undefined): string | undefined {
  if (value === undefined || Token.isUnresolved(value)) {
    return undefined;
  }
  if (typeof value !== 'string') {
    return `${constructName} property '${property}' must be a string, got ${describeValue(value)}; ${REPLICATION_GROUP_ID_RULE}`;
  }
  const problems = replicationGroupIdProblems(value);
  if (problems.length === 0) {
    return undefined;
  }
  return `${constructName} property '${property}' is invalid, got ${describeValue(value)}: it ${problems.join(', ')}; ${REPLICATION_GROUP_ID_RULE}`;
}

/**
 * Throws a ValidationError (prefixed with the scope's path) when `value` is not a valid replication group id.
 * Absent values and deploy-time values (tokens) pass.
 */
export function validateReplicationGroupId(scope: IConstruct, constructName: string, property: string, value: string | undefined): void {
  const error = replicationGroupIdError(constructName, property, value);
  if (error !== undefined) {
    throw new ValidationError(scope, error);
  }
}
