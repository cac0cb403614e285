/**
 * The scenarios that matter (issues 8 and 9): each undocumented behaviour's inconvenient side alone, all of them at once,
 * and the adversary's object faults, alone and on top of the worst behaviour. The benchmark runs them long; the test
 * runs them short.
 */
import { Behaviour, DEFAULT_BEHAVIOUR, NO_OBJECT_FAULTS, ObjectFaults, WORST_BEHAVIOUR } from './options';

export interface Scenario {
  readonly title: string;
  readonly behaviour: Partial<Behaviour>;
  readonly objectFaults: Partial<ObjectFaults>;
}

/** The adversary in the export bucket (issue 8): deletes, overwrites, plants, and a service that writes bad dumps. */
export const EXPORT_BUCKET_ADVERSARY: Partial<ObjectFaults> = {
  deleteAfterCommit: 0.05, overwriteAfterCommit: 0.05, plantPredictable: 0.2, serviceTruncated: 0.05, serviceEmpty: 0.03,
};

/** The same faults in the replica bucket. */
export const REPLICA_ADVERSARY: Partial<ObjectFaults> = {
  replicaDelete: 0.02, replicaOverwrite: 0.02, replicaTruncated: 0.02, replicaPlant: 0.2,
};

export const ALL_OBJECT_FAULTS: Partial<ObjectFaults> = { ...EXPORT_BUCKET_ADVERSARY, ...REPLICA_ADVERSARY };

export const SCENARIOS: readonly Scenario[] = [
  { title: 'baseline (documented or convenient behaviour)', behaviour: {}, objectFaults: {} },
  { title: 'member snapshots not listed by group id', behaviour: { listsMemberSnapshotsByGroup: false }, objectFaults: {} },
  { title: 'names over 40 characters refused', behaviour: { refusesNamesOver40: true }, objectFaults: {} },
  { title: 'CopySnapshot counts against the quota', behaviour: { copyCountsAgainstQuota: true }, objectFaults: {} },
  { title: 'SNS notifications only (no export-failure event)', behaviour: { snapshotEvents: 'sns' }, objectFaults: {} },
  { title: 'long exports (20 % take 1-3 h), status not visible', behaviour: { longExports: WORST_BEHAVIOUR.longExports }, objectFaults: {} },
  { title: 'long exports (20 % take 1-3 h), status visible', behaviour: { longExports: WORST_BEHAVIOUR.longExports, exportStatusVisible: true }, objectFaults: {} },
  { title: 'every 4th group can never export (AccessDenied)', behaviour: { neverExports: { everyNthGroup: 4, how: 'refused' } }, objectFaults: {} },
  { title: 'every 4th group can never export (export fails)', behaviour: { neverExports: { everyNthGroup: 4, how: 'fails' } }, objectFaults: {} },
  { title: 'all inconvenient behaviours together', behaviour: WORST_BEHAVIOUR, objectFaults: {} },
  { title: 'adversary in the export bucket', behaviour: {}, objectFaults: EXPORT_BUCKET_ADVERSARY },
  { title: 'adversary in the replica bucket', behaviour: {}, objectFaults: REPLICA_ADVERSARY },
  { title: 'worst case: all inconvenient behaviours + adversary in both buckets', behaviour: WORST_BEHAVIOUR, objectFaults: ALL_OBJECT_FAULTS },
];

export { DEFAULT_BEHAVIOUR, NO_OBJECT_FAULTS };
