/**
 * Item 5 of issue 9: what counts against the manual-backup quota (20 per node per 24 h), decided from the probe's
 * own history when it has spent the quota (flag `quota`). Pure.
 *
 * Method: every way of counting is a hypothesis (a set of kinds that count besides accepted backups). A hypothesis
 * fits when replaying the probe's calls in time order under it accepts every backup that was accepted (usage below
 * the quota before each) and refuses the one that was refused for the quota (usage at the quota). The answer is the
 * set of hypotheses that fit; the probe spends different numbers of each kind so that at most one fits.
 */
import { CallOutcome, ProbeConfig, ProbeFlags, ProbeState, probeNames } from './probe-state';
import { Answer, DOCUMENTED_QUOTA, QuestionId } from './questions';

/** What may count against the quota besides an accepted backup that completed. */
export type QuotaFactor = 'failed-backup' | 'refused-create' | 'export' | 'refused-copy' | 'automatic-backup';

/** One event on the source node, as the replay sees it. */
export interface QuotaEvent {
  readonly at: string;
  readonly kind: QuotaFactor | 'backup';
}

export const QUOTA_ERROR = 'SnapshotQuotaExceededFault';
/** The probe stops taking quota backups after this many, refused or not (the documented quota plus a margin). */
export const MAX_QUOTA_BACKUPS = 30;
const DAY_MS = 24 * 3600_000;

function isQuotaRefusal(outcome: CallOutcome): boolean {
  return !outcome.ok && outcome.errorName === QUOTA_ERROR;
}

/** The events on the snapshot source node in the 24 hours before `refusedAt`, oldest first. */
export function quotaTimeline(state: ProbeState, config: ProbeConfig, refusedAt: string): QuotaEvent[] {
  const names = probeNames(state.runId);
  const events: QuotaEvent[] = [];
  const creates: Array<[string, CallOutcome | undefined]> = [
    [names.control, state.calls['create-control']],
    [names.longName, state.calls['create-long-name']],
    ...state.quotaCreates.map((c, i): [string, CallOutcome] => [names.quota(i + 1), c]),
  ];
  for (const [name, outcome] of creates) {
    if (!outcome || isQuotaRefusal(outcome)) {
      continue;
    }
    const kind = !outcome.ok ? 'refused-create' : state.snapshots[name]?.failed ? 'failed-backup' : 'backup';
    events.push({ at: outcome.at, kind });
  }
  for (const id of ['copy-without-acl', 'copy-with-acl'] as const) {
    const outcome = state.calls[id];
    if (outcome) {
      events.push({ at: outcome.at, kind: outcome.ok ? 'export' : 'refused-copy' });
    }
  }
  for (const s of state.listing?.byMember[config.snapshotSourceId] ?? []) {
    if ((s.source === 'automated' || s.name.startsWith('automatic.')) && s.createdAt) {
      events.push({ at: s.createdAt, kind: 'automatic-backup' });
    }
  }
  const end = new Date(refusedAt).getTime();
  return events
    .filter((e) => new Date(e.at).getTime() <= end && new Date(e.at).getTime() > end - DAY_MS)
    .sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
}

/** Whether counting `counted` (besides accepted backups) explains the history: all accepted, then refused at the quota. */
export function hypothesisFits(timeline: QuotaEvent[], counted: ReadonlySet<QuotaFactor>, quota: number): boolean {
  let usage = 0;
  for (const event of timeline) {
    if (event.kind === 'backup') {
      if (usage >= quota) {
        return false;
      }
      usage++;
    } else if (counted.has(event.kind)) {
      usage++;
    }
  }
  return usage >= quota;
}

/** Every subset of the factors that occurred, smallest first. */
export function factorSubsets(present: QuotaFactor[]): QuotaFactor[][] {
  let subsets: QuotaFactor[][] = [[]];
  for (const factor of present) {
    subsets = subsets.concat(subsets.map((s) => [...s, factor]));
  }
  return subsets.sort((a, b) => a.length - b.length);
}

/** Item 5: which kinds count against the quota. */
export function decideQuotaCounting(state: ProbeState, config: ProbeConfig, flags: ProbeFlags): Answer {
  const q: QuestionId = 'quota-what-counts';
  const refusal = state.quotaCreates.find(isQuotaRefusal);
  if (!refusal && state.quotaCreates.length >= MAX_QUOTA_BACKUPS) {
    return {
      question: q,
      status: 'inconclusive',
      note: `no ${QUOTA_ERROR} after ${MAX_QUOTA_BACKUPS} backups: the `
      + `quota in this account is larger than ${DOCUMENTED_QUOTA}, or it is not counted per node`,
      evidence: { creates: state.quotaCreates },
    };
  }
  if (!refusal) {
    return flags.quota || state.quotaCreates.length > 0
      ? {
        question: q,
        status: 'pending',
        note: `${state.quotaCreates.length} quota backups so far; waiting for `
        + `${QUOTA_ERROR}`,
      }
      : {
        question: q,
        status: 'skipped',
        note: 'invoke the probe with {"quota": true}: it takes about 20 backups of '
        + `${config.snapshotSourceId} (hours) and leaves the node without manual backups for 24 h`,
      };
  }
  const timeline = quotaTimeline(state, config, refusal.at);
  const present = [...new Set(timeline.map((e) => e.kind))].filter((k): k is QuotaFactor => k !== 'backup');
  const fitting = factorSubsets(present).filter((s) => hypothesisFits(timeline, new Set(s), DOCUMENTED_QUOTA));
  const counts = Object.fromEntries(['backup', ...present].map((k) => [k, timeline.filter((e) => e.kind === k).length]));
  const untested = (['failed-backup', 'refused-create', 'export', 'refused-copy', 'automatic-backup'] as QuotaFactor[])
    .filter((k) => !present.includes(k));
  const evidence = { refusedAt: refusal.at, counts, untested, fittingHypotheses: fitting };
  if (fitting.length === 1) {
    const counted = fitting[0];
    return {
      question: q,
      status: 'answered',
      answer: counted.length === 0 ? 'only-backups' : `backups+${counted.join('+')}`,
      note: `besides completed backups, ${counted.length === 0 ? 'nothing' : counted.join(', ')} counted against the `
        + `quota of ${DOCUMENTED_QUOTA}; ${present.filter((k) => !counted.includes(k)).join(', ') || 'nothing else'} did not`,
      evidence,
    };
  }
  return {
    question: q,
    status: 'inconclusive',
    note: fitting.length === 0 ? `no way of counting fits a quota of ${DOCUMENTED_QUOTA}: the quota may differ in `
      + 'this account (see counts)' : 'several ways of counting fit the history (see fittingHypotheses)',
    evidence,
  };
}

/** Item 5: once the quota is spent, are exports (CopySnapshot to S3) and plain copies refused for it? */
export function decideQuotaRefusesCopies(state: ProbeState, flags: ProbeFlags): Answer {
  const q: QuestionId = 'quota-refuses-copies';
  const exportCall = state.calls['copy-after-quota-export'];
  const plainCall = state.calls['copy-after-quota-plain'];
  if (!exportCall || !plainCall) {
    return flags.quota || state.quotaCreates.length > 0
      ? { question: q, status: 'pending', note: 'asked once the quota is spent' }
      : { question: q, status: 'skipped', note: 'invoke the probe with {"quota": true}' };
  }
  const verdict = (c: CallOutcome) => (c.ok ? 'accepted' : isQuotaRefusal(c) ? 'refused-for-quota' : 'refused-otherwise');
  const answer = `export-${verdict(exportCall)},copy-${verdict(plainCall)}`;
  const note = isQuotaRefusal(exportCall)
    ? 'an export is refused while the node\'s quota is spent: the planner must keep slots for exports (it learns this '
      + 'from the refusal)'
    : 'an export is not refused for the quota once it is spent: exports need no reserved slots';
  return { question: q, status: 'answered', answer, note, evidence: { exportCall, plainCall } };
}
