/**
 * The probe's questions, each decided from observations only (pure: no SDK, no clock). The handler gathers the
 * observations; these functions say what they mean. docs/service-behaviour.md lists the same questions with the
 * answers they can give and what each answer means for the library.
 */
import {
  CallOutcome, ExportObservation, ProbeConfig, ProbeFlags, ProbeState, SnapshotSeen, minutesBetween, probeNames,
} from './probe-state';

/** The manual-backup quota AWS documents: 20 per node per 24 hours. */
export const DOCUMENTED_QUOTA = 20;
/** How long after a backup completes the probe waits for its SNS and EventBridge events. */
export const EVENT_GRACE_MINUTES = 15;
/** How long the probe waits for an accepted export's object before it gives up on it. */
export const EXPORT_GIVE_UP_MINUTES = 120;

export type AnswerStatus = 'answered' | 'pending' | 'inconclusive' | 'skipped';

export type QuestionId =
  | 'list-manual-backup-of-member' | 'list-automatic-backup-of-member' | 'snapshot-name-41-characters'
  | 'copy-caller-needs-get-bucket-acl' | 'snapshot-events-sns-vs-eventbridge' | 'export-duration'
  | 'quota-what-counts' | 'quota-refuses-copies' | 'multi-shard-object-numbering';

/** One answer, as the probe prints it. */
export interface Answer {
  readonly question: QuestionId;
  readonly status: AnswerStatus;
  /** A short verdict (one of the values listed in docs/service-behaviour.md), when answered. */
  readonly answer?: string;
  /** What the verdict means for the library, or what the probe is waiting for. */
  readonly note: string;
  readonly evidence?: Record<string, unknown>;
}

const pending = (question: QuestionId, note: string, evidence?: Record<string, unknown>): Answer =>
  ({ question, status: 'pending', note, evidence });
const inconclusive = (question: QuestionId, note: string, evidence?: Record<string, unknown>): Answer =>
  ({ question, status: 'inconclusive', note, evidence });
const answered = (question: QuestionId, answer: string, note: string, evidence?: Record<string, unknown>): Answer =>
  ({ question, status: 'answered', answer, note, evidence });

/** Item 1: does `DescribeSnapshots --replication-group-id` list a manual backup taken from a member cluster? */
export function decideManualListing(state: ProbeState, config: ProbeConfig): Answer {
  const q: QuestionId = 'list-manual-backup-of-member';
  const name = probeNames(state.runId).control;
  const create = state.calls['create-control'];
  if (!create) {
    return pending(q, `the probe has not yet created ${name} from ${config.snapshotSourceId}`);
  }
  if (!create.ok) {
    return inconclusive(q, `CreateSnapshot of ${name} was refused, so there is nothing to list`, { create });
  }
  return compareListings(q, state, config, (s) => s.name === name, `the manual backup ${name}`);
}

/** Item 1: does the group listing include the automatic backups taken from `SnapshottingClusterId`? */
export function decideAutomaticListing(state: ProbeState, config: ProbeConfig): Answer {
  const q: QuestionId = 'list-automatic-backup-of-member';
  const automatic = (s: SnapshotSeen) => s.name.startsWith('automatic.') || s.source === 'automated';
  const seen = Object.values(state.listing?.byMember ?? {}).flat().concat(state.listing?.byGroup ?? []).some(automatic);
  if (!seen) {
    return pending(q, `no automatic backup of ${config.groupId} yet: the first one is taken in the backup window `
      + `${config.backupWindow} UTC; invoke the probe again after it`);
  }
  return compareListings(q, state, config, automatic, 'the automatic backups');
}

function compareListings(
  q: QuestionId, state: ProbeState, config: ProbeConfig, match: (s: SnapshotSeen) => boolean, what: string,
): Answer {
  const listing = state.listing;
  if (!listing) {
    return pending(q, 'no listing yet');
  }
  const inGroup = listing.byGroup.filter(match);
  const inMembers = Object.values(listing.byMember).flat().filter(match);
  const evidence = { listedAt: listing.at, byGroup: inGroup, byMember: inMembers };
  if (inGroup.length === 0 && inMembers.length === 0) {
    return pending(q, `${what} is not listed yet, neither by group nor by member`, evidence);
  }
  const memberNames = new Set(inMembers.map((s) => s.name));
  const groupNames = new Set(inGroup.map((s) => s.name));
  const groupMisses = [...memberNames].filter((n) => !groupNames.has(n));
  const memberMisses = [...groupNames].filter((n) => !memberNames.has(n));
  if (groupMisses.length === 0 && memberMisses.length === 0) {
    return answered(q, 'listed-by-group-and-by-member', `the --replication-group-id filter lists ${what} of `
      + `${config.snapshotSourceId}; listing by member too (as the reconciler does) only finds the same names again`, evidence);
  }
  if (groupMisses.length > 0 && memberMisses.length === 0) {
    return answered(q, 'listed-by-member-only', `the --replication-group-id filter misses ${what} of `
      + `${config.snapshotSourceId}: listing by each member cluster id (as the reconciler does) is required`, evidence);
  }
  return answered(q, 'listed-by-group-only', `the --cache-cluster-id filter misses ${what}: listing by the group `
    + '(as the reconciler also does) is required', evidence);
}

/** Item 2: is a 41-character snapshot name refused while a 40-character one is accepted? */
export function decideNameLength(state: ProbeState): Answer {
  const q: QuestionId = 'snapshot-name-41-characters';
  const control = state.calls['create-control'];
  const long = state.calls['create-long-name'];
  if (!control || !long) {
    return pending(q, 'the 40- and 41-character backups have not both been requested yet');
  }
  const evidence = { fortyCharacters: control, fortyOneCharacters: long };
  if (!control.ok) {
    return inconclusive(q, 'the 40-character control backup was refused too: see its error', evidence);
  }
  if (long.ok) {
    return answered(q, 'accepted', 'snapshot names longer than 40 characters are accepted; the library keeps its '
      + 'names at 40 or less anyway', evidence);
  }
  if (/InvalidParameterValue/.test(long.errorName ?? '')) {
    return answered(q, 'refused', 'the 40-character limit is enforced: every name the library creates must stay '
      + 'at 40 characters or less (it does)', evidence);
  }
  return inconclusive(q, `the 41-character backup was refused with ${long.errorName}, not a parameter error`, evidence);
}

/** Whether a refusal reads like a missing permission (the wording ElastiCache uses for S3 access problems). */
export function isPermissionRefusal(outcome: CallOutcome): boolean {
  return !outcome.ok && (/AccessDenied|Unauthorized/i.test(outcome.errorName ?? '')
    || /permission|not authori[sz]ed|access denied|unable to validate/i.test(outcome.message ?? ''));
}

function exportArrived(e: ExportObservation | undefined): boolean {
  return (e?.keys?.length ?? 0) > 0;
}

/** Item 3: does the CopySnapshot caller need s3:GetBucketAcl on the bucket? */
export function decideBucketAcl(state: ProbeState, now: Date): Answer {
  const q: QuestionId = 'copy-caller-needs-get-bucket-acl';
  const names = probeNames(state.runId);
  const without = state.calls['copy-without-acl'];
  const withAcl = state.calls['copy-with-acl'];
  const withoutExport = state.exports[names.exportWithoutAcl];
  const withExport = state.exports[names.exportWithAcl];
  const evidence = { withoutGetBucketAcl: without, withGetBucketAcl: withAcl, withoutExport, withExport };
  if (!without) {
    return pending(q, 'CopySnapshot without s3:GetBucketAcl has not been called yet');
  }
  if (without.ok && exportArrived(withoutExport)) {
    return answered(q, 'not-required', 'an export succeeds without s3:GetBucketAcl; the library grants it anyway '
      + '(harmless)', evidence);
  }
  if (!without.ok && !withAcl) {
    return pending(q, 'refused without s3:GetBucketAcl; waiting for the call with it', evidence);
  }
  if (!without.ok && isPermissionRefusal(without) && withAcl?.ok) {
    return answered(q, 'required', 'CopySnapshot is refused without s3:GetBucketAcl and accepted with it: the '
      + 'caller needs it (the library grants it)', evidence);
  }
  if (!without.ok) {
    return inconclusive(q, 'CopySnapshot was refused without s3:GetBucketAcl, but not (only) for a permission, or '
      + 'also with it: see the errors', evidence);
  }
  const waited = minutesBetween(without.at, now);
  if (waited < EXPORT_GIVE_UP_MINUTES) {
    return pending(q, `accepted without s3:GetBucketAcl; waiting for its object (${Math.round(waited)} of `
      + `${EXPORT_GIVE_UP_MINUTES} minutes)`, evidence);
  }
  if (exportArrived(withExport)) {
    return answered(q, 'required-export-fails-later', 'CopySnapshot is accepted without s3:GetBucketAcl but its '
      + 'export never arrives, while the export with it does: the caller needs it', evidence);
  }
  return inconclusive(q, 'no export arrived, with or without s3:GetBucketAcl: check the bucket policy and the events', evidence);
}

const SNAPSHOT_EVENT = /snapshot/i;

/** Item 4: which channel delivers snapshot events of a node-based replication group: SNS, EventBridge, both? */
export function decideEventDelivery(state: ProbeState, now: Date): Answer {
  const q: QuestionId = 'snapshot-events-sns-vs-eventbridge';
  const control = probeNames(state.runId).control;
  const sns = state.events.filter((e) => e.channel === 'sns' && SNAPSHOT_EVENT.test(e.type));
  const eventBridge = state.events.filter((e) => e.channel === 'eventbridge' && SNAPSHOT_EVENT.test(e.type));
  const evidence = {
    topicStatus: state.topicStatus,
    sns: sns.map((e) => ({ type: e.type, subject: e.subject, receivedAt: e.receivedAt })),
    eventBridge: eventBridge.map((e) => ({ type: e.type, subject: e.subject, receivedAt: e.receivedAt })),
  };
  const availableAt = state.snapshots[control]?.availableAt;
  const graceOver = availableAt !== undefined && minutesBetween(availableAt, now) >= EVENT_GRACE_MINUTES;
  if (sns.length > 0 && eventBridge.length > 0) {
    return answered(q, 'sns-and-eventbridge', 'both channels deliver snapshot events; the reconciler listens to both '
      + 'and the schedule stays the safety net', evidence);
  }
  if (!graceOver) {
    return pending(q, `waiting ${EVENT_GRACE_MINUTES} minutes after ${control} completes for its events`, evidence);
  }
  if (sns.length === 0 && state.topicStatus === 'inactive') {
    return answered(q, 'sns-topic-inactive', 'ElastiCache set the group\'s topic inactive: it refuses the topic policy '
      + '(the backup plan\'s own, see docs/service-behaviour.md item 4); EventBridge '
      + `${eventBridge.length > 0 ? 'delivered' : 'did not deliver either'}`, evidence);
  }
  if (sns.length > 0) {
    return answered(q, 'sns-only', 'node-based groups publish snapshot events to their SNS topic only: the '
      + 'EventBridge rule stays silent, and an imported group needs its NotificationTopicArn set to the plan\'s topic', evidence);
  }
  if (eventBridge.length > 0) {
    return answered(q, 'eventbridge-only', 'snapshot events come through EventBridge only; the SNS subscription is '
      + 'harmless', evidence);
  }
  return answered(q, 'neither', 'no snapshot event arrived on either channel: the reconciler relies on its schedule '
    + '(check that the topic is active on the group: DescribeReplicationGroups NotificationConfiguration)', evidence);
}

/** Item 5: how long an export takes from CopySnapshot to the object in S3, and whether the source looks busy meanwhile. */
export function decideExportDuration(state: ProbeState): Answer {
  const q: QuestionId = 'export-duration';
  const finished = Object.entries(state.exports).filter(([, e]) => e.firstSeenAt !== undefined);
  if (finished.length === 0) {
    return pending(q, 'no export object has appeared yet');
  }
  const measured = finished.map(([target, e]) => ({
    target,
    seconds: Math.round(secondsBetween(e.calledAt, e.lastModified ?? e.firstSeenAt!)),
    upperBoundSeconds: Math.round(secondsBetween(e.calledAt, e.firstSeenAt!)),
    bytes: e.bytes,
    sourceStatusesWhileExporting: [...new Set(e.sourceStatuses)],
  }));
  const longest = Math.max(...measured.map((m) => m.seconds));
  const busy = measured.some((m) => m.sourceStatusesWhileExporting.some((s) => s !== 'available'));
  return answered(q, `${longest} s`, `the longest export took ${longest} s for at most `
    + `${Math.max(...measured.map((m) => m.bytes ?? 0))} bytes; the source snapshot was ${busy ? '' : 'never '}`
    + 'seen in another status than available while exporting', { exports: measured });
}

function secondsBetween(from: string, to: string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 1000;
}

/** Item 7 (export naming): does a multi-shard export write `<target>-0001.rdb` ... `<target>-000N.rdb`? */
export function decideMultiShardNumbering(state: ProbeState, config: ProbeConfig, flags: ProbeFlags, now: Date): Answer {
  const q: QuestionId = 'multi-shard-object-numbering';
  if (!config.cmeGroupId || !config.cmeShards) {
    return {
      question: q,
      status: 'skipped',
      note: 'deploy the probe with `-c service-probe:cme=true` and invoke it '
      + 'with {"multiShard": true}',
    };
  }
  const names = probeNames(state.runId);
  const copy = state.calls['copy-cme'];
  if (!flags.multiShard && !copy) {
    return { question: q, status: 'skipped', note: 'invoke the probe with {"multiShard": true}' };
  }
  const observed = state.exports[names.exportCme];
  if (!copy || !observed) {
    return copy && !copy.ok ? inconclusive(q, 'the export of the cluster-mode-enabled backup was refused', { copy })
      : pending(q, `waiting for the backup ${names.cme} of ${config.cmeGroupId} and its export`);
  }
  const keys = [...(observed.keys ?? [])].sort();
  const expected = Array.from({ length: config.cmeShards }, (_, i) => `${names.exportCme}-${String(i + 1).padStart(4, '0')}.rdb`);
  const evidence = { keys, expected };
  if (keys.length < expected.length && minutesBetween(observed.calledAt, now) < EXPORT_GIVE_UP_MINUTES) {
    return pending(q, `${keys.length} of ${expected.length} export objects so far`, evidence);
  }
  if (keys.length === expected.length && keys.every((k, i) => k === expected[i])) {
    return answered(q, 'numbered-0001-to-000N', 'one object per shard, numbered from -0001: the manifest layer\'s '
      + 'naming holds', evidence);
  }
  return answered(q, 'other-naming', 'the objects are not named <target>-0001.rdb ... -000N.rdb: the manifest layer '
    + 'must learn the names from a listing (see evidence)', evidence);
}
