/**
 * The scenarios that matter (issues 8 and 9): each undocumented behaviour's inconvenient side alone, all of them at once,
 * and the adversary's object faults, alone and on top of the worst behaviour. The benchmark runs them long; the test
 * runs them short.
 */
import { Adversary, Behaviour, DEFAULT_BEHAVIOUR, NO_OBJECT_FAULTS, ObjectFaults, WORST_BEHAVIOUR } from './options';

export interface Scenario {
  readonly title: string;
  readonly behaviour: Partial<Behaviour>;
  readonly objectFaults: Partial<ObjectFaults>;
  readonly adversary?: Partial<Adversary>;
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

/** Issue 10's adversarial world, each switch alone, then all together (on top of the worst case of issues 8 and 9). */
export const ADVERSARIAL_SCENARIOS: readonly Scenario[] = [
  { title: 'state lost (deleted, 1 in 12 h per group)', behaviour: {}, objectFaults: {}, adversary: { stateLost: 1 / 12 } },
  { title: 'state truncated (1 in 48 h per group)', behaviour: {}, objectFaults: {}, adversary: { stateTruncated: 1 / 48 } },
  { title: 'state corrupt (1 in 48 h per group)', behaviour: {}, objectFaults: {}, adversary: { stateCorrupt: 1 / 48 } },
  { title: 'a second plan on the same groups', behaviour: {}, objectFaults: {}, adversary: { secondPlan: true } },
  { title: 'overlapping runs (10 % of state writes)', behaviour: {}, objectFaults: {}, adversary: { overlappingRuns: 0.1 } },
  { title: 'user backups every 8 h, half named like the plan\'s', behaviour: {}, objectFaults: {}, adversary: { userBackupsEveryHours: 8, userBackupsPlanLikeNames: 0.5 } },
  { title: 'clock skew: reconciler 4 min ahead', behaviour: {}, objectFaults: {}, adversary: { clockSkewMinutes: 4 } },
  { title: 'clock skew: reconciler 3 h ahead', behaviour: {}, objectFaults: {}, adversary: { clockSkewMinutes: 180 } },
  { title: 'clock skew: reconciler 3 h behind', behaviour: {}, objectFaults: {}, adversary: { clockSkewMinutes: -180 } },
  { title: 'exports slower than the timeout (half take 1-3 h)', behaviour: { longExports: { longShare: 0.5, long: [60, 180] } }, objectFaults: {} },
  { title: 'future-dated and foreign manifests (1 in 6 h each)', behaviour: {}, objectFaults: {}, adversary: { futureManifests: 1 / 6, foreignManifests: 1 / 6 } },
  { title: 'objects deleted or overwritten after commit (10 % each)', behaviour: {}, objectFaults: { deleteAfterCommit: 0.1, overwriteAfterCommit: 0.1 } },
  {
    title: 'everything: worst case + every adversarial switch (state lost only)',
    behaviour: WORST_BEHAVIOUR,
    objectFaults: ALL_OBJECT_FAULTS,
    adversary: {
      stateLost: 1 / 12,
      overlappingRuns: 0.1,
      userBackupsEveryHours: 8,
      userBackupsPlanLikeNames: 0.5,
      clockSkewMinutes: 4,
      futureManifests: 1 / 6,
      foreignManifests: 1 / 6,
    },
  },
];

export { DEFAULT_BEHAVIOUR, NO_OBJECT_FAULTS };
