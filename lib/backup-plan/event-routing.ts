/**
 * Which protected groups an EventBridge invocation of the reconciler concerns, and the export failures it signals.
 * Pure (no SDK, no logger): the handler (reconcile.lambda.ts) calls it; SNS deliveries go through
 * notification-events.ts instead. Routing is an optimisation only: when in doubt every group runs, which costs a few
 * calls and never skips work. Not part of the jsii API.
 */
import { hasPlanNamePrefix, STATE_ROOT } from './constants';
import { ExportFailureSignal } from './planner/types';

/** An EventBridge event as far as the reconciler cares. */
export interface InvocationEvent {
  readonly 'source'?: string;
  readonly 'detail-type'?: string;
  readonly 'time'?: string;
  readonly 'detail'?: Record<string, unknown>;
}

/** Why an event could not be routed to one group (every group runs instead), for the handler's log. */
export interface RoutingProblem {
  readonly reason: string;
  /** What could not be read (the raw object key, for example). */
  readonly value: string;
}

type Group = { readonly replicationGroupId: string };

/**
 * An S3 event's object key, decoded (S3 URL-encodes keys in event notifications, with `+` for a space), or
 * undefined when it is not a valid encoding (a `%` not followed by two hex digits, or bytes that are not UTF-8).
 */
export function decodeObjectKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The group an S3 object belongs to: export objects carry the group's name prefix, state objects the group id. */
function groupsForObject<G extends Group>(key: string, groups: readonly G[]): G[] | undefined {
  const byPrefix = groups.find((g) => hasPlanNamePrefix(g.replicationGroupId, key));
  if (byPrefix) {
    return [byPrefix];
  }
  if (key.startsWith(STATE_ROOT)) {
    const id = key.slice(STATE_ROOT.length).split('/')[0];
    const owner = groups.find((g) => g.replicationGroupId === id);
    return owner ? [owner] : [...groups];
  }
  return undefined;
}

/**
 * The groups an event is about: all of them for a scheduled run, an event that names none, or one that cannot be
 * read. Never throws: an undecodable object key runs every group and is reported through `onProblem`.
 *
 * @param onProblem called when the event could not be routed (for a log line); every group runs then
 */
export function groupsForEvent<G extends Group>(event: InvocationEvent | undefined, groups: readonly G[],
  onProblem: (problem: RoutingProblem) => void = () => undefined): G[] {
  if (!event || event.source === 'aws.events' || !event.detail || typeof event.detail !== 'object') {
    return [...groups];
  }
  let text: string;
  if (event.source === 'aws.s3') {
    const raw = (event.detail.object as { key?: unknown } | undefined)?.key;
    const rawKey = typeof raw === 'string' ? raw : '';
    const key = decodeObjectKey(rawKey);
    if (key === undefined) {
      onProblem({ reason: 'the S3 object key is not a valid URL encoding: reconciling every group', value: rawKey });
      return [...groups];
    }
    const owners = groupsForObject(key, groups);
    if (owners) {
      return owners;
    }
    text = key;
  } else {
    // A snapshot event names the snapshot: plan names carry the group's prefix.
    const source = event.detail.SourceIdentifier;
    const sourceId = typeof source === 'string' ? source : '';
    const byPrefix = groups.find((g) => hasPlanNamePrefix(g.replicationGroupId, sourceId));
    if (byPrefix) {
      return [byPrefix];
    }
    try {
      text = JSON.stringify(event.detail) ?? '';
    } catch {
      // Not from EventBridge (which delivers JSON): cannot be routed, so every group runs.
      return [...groups];
    }
  }
  // Longest id first: `prod-2` is not mistaken for `prod`.
  const matched = [...groups].sort((a, b) => b.replicationGroupId.length - a.replicationGroupId.length)
    .find((g) => text.includes(g.replicationGroupId));
  return matched ? [matched] : [...groups];
}

/**
 * Export failure signals carried by the invoking event: the whole event detail as text. The planner fails the export
 * in flight only when this text names its export (the TargetSnapshotName the plan chose, unique per attempt), never on
 * the snapshot name alone: someone else's failed export of the same snapshot must not drop the plan's.
 */
export function signalsForEvent(event: InvocationEvent | undefined, now: Date = new Date()): ExportFailureSignal[] {
  if (event?.source === 'aws.elasticache' && event['detail-type'] === 'Snapshot Export Failed') {
    const time = event.time === undefined ? now : new Date(event.time);
    return [{ text: JSON.stringify(event.detail ?? {}), time: Number.isNaN(time.getTime()) ? now : time }];
  }
  return [];
}
