/**
 * What the probe does next, decided from its state (pure). The handler observes (listings, queues, bucket), asks
 * `planActions`, performs the actions, and repeats until nothing is left to do in this invocation; the next
 * invocation resumes from the saved state.
 */
import { CallId, ProbeConfig, ProbeFlags, ProbeState, minutesBetween, probeNames } from './probe-state';
import {
  Answer, EXPORT_GIVE_UP_MINUTES, decideAutomaticListing, decideBucketAcl, decideEventDelivery, decideExportDuration,
  decideManualListing, decideMultiShardNumbering, decideNameLength,
} from './questions';
import { MAX_QUOTA_BACKUPS, QUOTA_ERROR, decideQuotaCounting, decideQuotaRefusesCopies } from './quota';

/** How long the probe waits for the export without s3:GetBucketAcl before it exports the same backup with it. */
export const WITHOUT_ACL_WAIT_MINUTES = 20;

/** Which role a CopySnapshot runs under. */
export type CopyRole = 'without-get-bucket-acl' | 'with-get-bucket-acl';

export type ProbeAction =
  | {
    readonly kind: 'create';
    readonly call: CallId | 'quota';
    readonly name: string;
    readonly cacheClusterId?: string;
    readonly replicationGroupId?: string;
  }
  | {
    readonly kind: 'copy';
    readonly call: CallId;
    readonly source: string;
    readonly target: string;
    readonly bucket?: string;
    readonly role: CopyRole;
  }
  | { readonly kind: 'delete'; readonly name: string };

/** Every answer, in the order of docs/service-behaviour.md. */
export function answerAll(state: ProbeState, config: ProbeConfig, flags: ProbeFlags, now: Date): Answer[] {
  return [
    decideManualListing(state, config),
    decideAutomaticListing(state, config),
    decideNameLength(state),
    decideBucketAcl(state, now),
    decideEventDelivery(state, now),
    decideExportDuration(state),
    decideQuotaCounting(state, config, flags),
    decideQuotaRefusesCopies(state, flags),
    decideMultiShardNumbering(state, config, flags, now),
  ];
}

/** The answers that need the probe's snapshots: once none of them is pending, the snapshots can go. */
function snapshotQuestionsSettled(answers: Answer[]): boolean {
  return answers.every((a) => a.status !== 'pending' || a.question === 'list-automatic-backup-of-member');
}

function status(state: ProbeState, name: string): string | undefined {
  return state.snapshots[name]?.status;
}

/** Whether the source node is taking one of the probe's backups (a backup accepted but not yet listed counts). */
export function sourceNodeBusy(state: ProbeState): boolean {
  const names = probeNames(state.runId);
  const taken: Array<[string, boolean | undefined]> = [
    [names.control, state.calls['create-control']?.ok],
    [names.longName, state.calls['create-long-name']?.ok],
    ...state.quotaCreates.map((c, i): [string, boolean] => [names.quota(i + 1), c.ok]),
  ];
  return taken.some(([name, ok]) => ok === true && (status(state, name) ?? 'creating') === 'creating');
}

function exportSettled(state: ProbeState, call: CallId, target: string, now: Date, waitMinutes: number): boolean {
  const outcome = state.calls[call];
  return outcome !== undefined && (!outcome.ok || (state.exports[target]?.keys?.length ?? 0) > 0
    || minutesBetween(outcome.at, now) >= waitMinutes);
}

/** Backups and exports of the main questions (items 1 to 5). */
function mainActions(state: ProbeState, config: ProbeConfig, now: Date): ProbeAction[] {
  const names = probeNames(state.runId);
  const { calls } = state;
  if (!calls['create-control']) {
    return [{ kind: 'create', call: 'create-control', name: names.control, cacheClusterId: config.snapshotSourceId }];
  }
  const actions: ProbeAction[] = [];
  if (calls['create-control'].ok && !calls['create-long-name'] && !sourceNodeBusy(state)) {
    actions.push({ kind: 'create', call: 'create-long-name', name: names.longName, cacheClusterId: config.snapshotSourceId });
  }
  if (status(state, names.control) !== 'available') {
    return actions;
  }
  if (!calls['copy-without-acl']) {
    actions.push({
      kind: 'copy',
      call: 'copy-without-acl',
      source: names.control,
      target: names.exportWithoutAcl,
      bucket: config.bucket,
      role: 'without-get-bucket-acl',
    });
  } else if (!calls['copy-with-acl']
    && exportSettled(state, 'copy-without-acl', names.exportWithoutAcl, now, WITHOUT_ACL_WAIT_MINUTES)) {
    actions.push({
      kind: 'copy',
      call: 'copy-with-acl',
      source: names.control,
      target: names.exportWithAcl,
      bucket: config.bucket,
      role: 'with-get-bucket-acl',
    });
  }
  return actions;
}

/** Quota backups until one is refused for the quota, then an export and a plain copy (flag `quota`). */
function quotaActions(state: ProbeState, config: ProbeConfig, now: Date): ProbeAction[] {
  const names = probeNames(state.runId);
  const { calls } = state;
  const mainDone = calls['create-long-name'] && exportSettled(state, 'copy-with-acl', names.exportWithAcl, now, EXPORT_GIVE_UP_MINUTES);
  if (!mainDone || status(state, names.control) !== 'available') {
    return [];
  }
  const refused = state.quotaCreates.some((c) => c.errorName === QUOTA_ERROR);
  if (!refused) {
    return state.quotaCreates.length < MAX_QUOTA_BACKUPS && !sourceNodeBusy(state)
      ? [{ kind: 'create', call: 'quota', name: names.quota(state.quotaCreates.length + 1), cacheClusterId: config.snapshotSourceId }]
      : [];
  }
  const actions: ProbeAction[] = [];
  if (!calls['copy-after-quota-export']) {
    actions.push({
      kind: 'copy',
      call: 'copy-after-quota-export',
      source: names.control,
      target: names.exportAfterQuota,
      bucket: config.bucket,
      role: 'with-get-bucket-acl',
    });
  } else if (!calls['copy-after-quota-plain']) {
    actions.push({
      kind: 'copy',
      call: 'copy-after-quota-plain',
      source: names.control,
      target: names.copyAfterQuota,
      role: 'with-get-bucket-acl',
    });
  }
  return actions;
}

/** A backup of the cluster-mode-enabled group and its export (flag `multiShard`). */
function multiShardActions(state: ProbeState, config: ProbeConfig): ProbeAction[] {
  if (!config.cmeGroupId) {
    return [];
  }
  const names = probeNames(state.runId);
  if (!state.calls['create-cme']) {
    return [{ kind: 'create', call: 'create-cme', name: names.cme, replicationGroupId: config.cmeGroupId }];
  }
  if (!state.calls['copy-cme'] && status(state, names.cme) === 'available') {
    return [{
      kind: 'copy',
      call: 'copy-cme',
      source: names.cme,
      target: names.exportCme,
      bucket: config.bucket,
      role: 'with-get-bucket-acl',
    }];
  }
  return [];
}

/** Deletes of the probe's available snapshots, once their questions are settled (or on the `cleanup` flag). */
function cleanupActions(state: ProbeState, answers: Answer[], flags: ProbeFlags): ProbeAction[] {
  if (!flags.cleanup && !snapshotQuestionsSettled(answers)) {
    return [];
  }
  return Object.entries(state.snapshots)
    .filter(([name, s]) => s.status === 'available' && !state.deleted.includes(name))
    .map(([name]) => ({ kind: 'delete', name }));
}

/** What to do now. An empty list means: wait (or, with every question settled and nothing left, done). */
export function planActions(state: ProbeState, config: ProbeConfig, flags: ProbeFlags, now: Date): ProbeAction[] {
  const answers = answerAll(state, config, flags, now);
  if (flags.cleanup || snapshotQuestionsSettled(answers)) {
    return cleanupActions(state, answers, flags);
  }
  return [
    ...mainActions(state, config, now),
    ...(flags.quota ? quotaActions(state, config, now) : []),
    ...(flags.multiShard ? multiShardActions(state, config) : []),
  ];
}

/** Whether the run is over: every question settled and no probe snapshot left. */
export function isDone(state: ProbeState, answers: Answer[]): boolean {
  return answers.every((a) => a.status !== 'pending') && noSnapshotLeft(state);
}

/**
 * Whether an invocation may stop now: done, or only waiting for the first automatic backup (hours away, in the
 * backup window) with no snapshot of the probe left.
 */
export function nothingToWaitFor(state: ProbeState, answers: Answer[]): boolean {
  return snapshotQuestionsSettled(answers) && noSnapshotLeft(state);
}

function noSnapshotLeft(state: ProbeState): boolean {
  return Object.keys(state.snapshots).every((name) => state.deleted.includes(name));
}
