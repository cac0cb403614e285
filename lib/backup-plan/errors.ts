/**
 * How the reconciler reads the AWS SDK's errors (pure, no I/O): the planner's outcome kinds, and a one-line text.
 * Not part of the jsii API.
 */
import { OutcomeKind } from './planner';

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'ThrottledException']);
const REFUSED = new Set([
  'InvalidSnapshotStateFault', 'InvalidReplicationGroupStateFault', 'InvalidCacheClusterStateFault', 'InvalidParameterValueException',
  'InvalidParameterCombinationException', 'AccessDenied', 'AccessDeniedException', 'ReplicationGroupNotFoundFault', 'CacheClusterNotFoundFault',
  'SnapshotFeatureNotSupportedFault', 'TagQuotaPerResourceExceeded', 'InvalidARNFault', 'UnauthorizedOperation',
]);

/** Maps an SDK error to the planner's outcome kinds. */
export function classifyError(error: unknown): OutcomeKind {
  const e = error as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? e?.Code ?? '';
  const message = e?.message ?? '';
  if (THROTTLING.has(name)) {
    return 'throttled';
  }
  if (name === 'SnapshotQuotaExceededFault') {
    return 'quota-exceeded';
  }
  if (name === 'SnapshotAlreadyExistsFault' || /already contains an object/i.test(message)) {
    return 'already-exists';
  }
  if (name === 'SnapshotNotFoundFault') {
    return 'not-found';
  }
  if (REFUSED.has(name)) {
    return 'refused';
  }
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return 'refused';
  }
  return 'unknown';
}

export function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
}
