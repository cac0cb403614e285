/**
 * ElastiCache notifications delivered through SNS: which protected groups an invocation should reconcile, and the
 * failures it reports. Pure (no SDK); the reconciler handler calls it.
 *
 * Node-based replication groups publish their events to the SNS topic set as the group's `NotificationTopicArn`
 * (EventBridge events are documented for serverless caches only). Each SNS message body is a JSON object that maps
 * the event name to the member cluster it concerns, for example `{"ElastiCache:SnapshotComplete":"orders-002"}`
 * (cluster mode disabled: `<group>-00N`) or `"orders-0001-001"` (cluster mode enabled: `<group>-<shard>-<node>`).
 * Some events name the replication group itself.
 *
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html
 */
import { hasPlanNamePrefix } from './constants';
import { ExportFailureSignal } from './planner';

/** The part of an SNS Lambda event this module reads. */
export interface SnsNotificationEvent {
  readonly Records: ReadonlyArray<{
    readonly EventSource?: string;
    readonly Sns?: { readonly Message?: string; readonly Timestamp?: string; readonly TopicArn?: string };
  }>;
}

/** One ElastiCache event found in an SNS message. */
export interface ElastiCacheNotice {
  /** The event name, for example `ElastiCache:SnapshotComplete`. */
  readonly event: string;
  /** What the event names: a member cluster id or the group id. */
  readonly subject: string;
  /** The protected group it belongs to, when it belongs to one. */
  readonly replicationGroupId?: string;
  readonly time: Date;
}

/** What an SNS invocation asks of the reconciler. */
export interface NotificationRun<G extends { readonly replicationGroupId: string }> {
  /** Protected groups to reconcile now (each once, in the order of `groups`); empty when nothing concerns a protected group. */
  readonly groups: G[];
  /**
   * Export failures to feed the planner (the notice as text, like the EventBridge `Snapshot Export Failed` signal).
   * The planner fails the export in flight only when the text names its export (TargetSnapshotName); a notice that
   * names only a member cluster or the snapshot leaves the export to its status and its timeout.
   */
  readonly exportFailureSignals: ExportFailureSignal[];
  /** Backups that ElastiCache reports as failed (`ElastiCache:SnapshotFailed`), for logs and the failure metric. */
  readonly backupFailures: ElastiCacheNotice[];
  /** Every ElastiCache event found, including those of groups this plan does not protect (for logs). */
  readonly notices: ElastiCacheNotice[];
}

const EVENT_PREFIX = 'ElastiCache:';
/** Events after which a run may have work: a backup finished or failed, an export finished or failed. */
const SNAPSHOT_EVENT = /^ElastiCache:Snapshot/;
const BACKUP_FAILED_EVENT = 'ElastiCache:SnapshotFailed';
/** No export event name is documented for SNS; any snapshot event about an export that failed is treated as one. */
const EXPORT_FAILED_EVENT = /^ElastiCache:Snapshot.*Export.*Fail|^ElastiCache:.*ExportFail/i;
/** Member cluster suffixes: `-00N` (cluster mode disabled) and `-000N-00N` (cluster mode enabled). */
const MEMBER_SUFFIX = /^(\d{3}|\d{4}-\d{3})$/;

/** Whether an invocation event is an SNS delivery (rather than EventBridge or a direct call). */
export function isSnsEvent(event: unknown): event is SnsNotificationEvent {
  const records = (event as { Records?: unknown } | undefined)?.Records;
  return Array.isArray(records) && records.length > 0
    && records.every((r) => (r as { EventSource?: string }).EventSource === 'aws:sns' && typeof (r as { Sns?: unknown }).Sns === 'object');
}

/**
 * The protected group a cluster or group id belongs to: the group itself, or a member `<group>-00N` /
 * `<group>-000N-00N`. Exact suffixes, so that `orders-eu-001` belongs to `orders-eu` and never to `orders`. A name
 * the plan gave (a backup or an export: the group's hashed name prefix) belongs to its group too, so that a notice
 * naming the plan's export reaches the export in flight.
 */
export function groupOfSubject(subject: string, groupIds: readonly string[]): string | undefined {
  const id = subject.trim().toLowerCase();
  const exact = groupIds.find((g) => g.toLowerCase() === id);
  if (exact !== undefined) {
    return exact;
  }
  const named = groupIds.find((g) => hasPlanNamePrefix(g, subject.trim()));
  if (named !== undefined) {
    return named;
  }
  // Longest id first, so that a group named like another group's member (`orders-001`) wins over that group.
  return [...groupIds].sort((a, b) => b.length - a.length).find((groupId) => {
    const g = groupId.toLowerCase();
    return id.startsWith(`${g}-`) && MEMBER_SUFFIX.test(id.slice(g.length + 1));
  });
}

/** The ElastiCache events in one SNS message body; anything that is not an ElastiCache notification gives none. */
export function parseElastiCacheMessage(message: string | undefined, time: Date, groupIds: readonly string[]): ElastiCacheNotice[] {
  if (!message) {
    return [];
  }
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return [];
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return [];
  }
  const notices: ElastiCacheNotice[] = [];
  for (const [event, value] of Object.entries(body as Record<string, unknown>)) {
    if (!event.startsWith(EVENT_PREFIX) || typeof value !== 'string') {
      continue;
    }
    notices.push({ event, subject: value, replicationGroupId: groupOfSubject(value, groupIds), time });
  }
  return notices;
}

/**
 * Reads an SNS invocation: the protected groups to reconcile (those named by a snapshot event), the export failure
 * signals and the failed backups. Events of other groups, non-snapshot events (failover, maintenance, test
 * notifications) and messages that are not ElastiCache notifications select no group.
 *
 * @param event the SNS event as Lambda delivers it
 * @param groups the plan's groups
 * @param now the time to use when a record carries no timestamp
 */
export function parseNotificationEvent<G extends { readonly replicationGroupId: string }>(
  event: SnsNotificationEvent, groups: readonly G[], now: Date = new Date(),
): NotificationRun<G> {
  const ids = groups.map((g) => g.replicationGroupId);
  const notices: ElastiCacheNotice[] = [];
  for (const record of event.Records) {
    const stamp = record.Sns?.Timestamp ? new Date(record.Sns.Timestamp) : now;
    notices.push(...parseElastiCacheMessage(record.Sns?.Message, Number.isNaN(stamp.getTime()) ? now : stamp, ids));
  }
  const concerned = new Set(notices.filter((n) => n.replicationGroupId && SNAPSHOT_EVENT.test(n.event)).map((n) => n.replicationGroupId));
  const ours = notices.filter((n) => n.replicationGroupId !== undefined);
  return {
    groups: groups.filter((g) => concerned.has(g.replicationGroupId)),
    exportFailureSignals: ours.filter((n) => EXPORT_FAILED_EVENT.test(n.event))
      .map((n) => ({ text: JSON.stringify({ [n.event]: n.subject }), time: n.time })),
    backupFailures: ours.filter((n) => n.event === BACKUP_FAILED_EVENT),
    notices,
  };
}
