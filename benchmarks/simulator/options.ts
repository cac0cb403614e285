/**
 * What a simulation run is made of: operational faults, adversarial object faults, the service's undocumented
 * behaviours (each a switch, issue 9), and the options of one run. Durations and rates are the model's, not AWS numbers.
 */
import type { SimIo } from './io';
import { PlannerSettings } from '../../lib/backup-plan/planner';

/** Operational faults (probabilities per call, backup, export, run or event). */
export interface Faults {
  /** Probability that an ElastiCache call is throttled. */
  readonly throttleRate: number;
  /** Probability that a backup fails. */
  readonly snapshotFailRate: number;
  /** Probability that an export fails (after writing some shards). */
  readonly exportFailRate: number;
  /** Probability that a run crashes at a random point (including between an action and the state write). */
  readonly crashRate: number;
  /** Probability that an event (ElastiCache or S3) is never delivered. */
  readonly eventLossRate: number;
}

export const NO_FAULTS: Faults = { throttleRate: 0, snapshotFailRate: 0, exportFailRate: 0, crashRate: 0, eventLossRate: 0 };
export const DEFAULT_FAULTS: Faults = { throttleRate: 0.02, snapshotFailRate: 0.03, exportFailRate: 0.05, crashRate: 0.02, eventLossRate: 0.1 };

/**
 * The adversary's faults on objects (issue 8), each a probability per export (or per object for the replica).
 * "After commit" faults strike at a random time between the commit and the end of the backup's retention plus a day.
 */
export interface ObjectFaults {
  /** A shard object of a committed export is deleted in the export bucket (delete marker; not replicated). */
  readonly deleteAfterCommit: number;
  /** A shard object of a committed export is overwritten (new version, other data, other size; replicated). */
  readonly overwriteAfterCommit: number;
  /**
   * Before a snapshot is exported, objects are planted under the export names an attacker can predict: the legacy
   * scheme `<group>-<snapshot time>-0001.rdb` (and `-a2`), valid dumps of other data written before CopySnapshot.
   */
  readonly plantPredictable: number;
  /** The service writes a truncated shard and reports the export as complete. */
  readonly serviceTruncated: number;
  /** The service writes a 0-byte shard and reports the export as complete. */
  readonly serviceEmpty: number;
  /** A shard that arrived in the replica bucket is deleted there later. */
  readonly replicaDelete: number;
  /** A shard that arrived in the replica bucket is overwritten there later (other data). */
  readonly replicaOverwrite: number;
  /** Replication delivers a truncated or 0-byte copy of a shard (half each). */
  readonly replicaTruncated: number;
  /** Valid dumps of other data are planted in the replica bucket under the predictable names (before replication). */
  readonly replicaPlant: number;
}

export const NO_OBJECT_FAULTS: ObjectFaults = {
  deleteAfterCommit: 0,
  overwriteAfterCommit: 0,
  plantPredictable: 0,
  serviceTruncated: 0,
  serviceEmpty: 0,
  replicaDelete: 0,
  replicaOverwrite: 0,
  replicaTruncated: 0,
  replicaPlant: 0,
};

/**
 * Undocumented service behaviours (issue 9), each modelled both ways. The defaults are the documented or convenient
 * answer; `WORST_BEHAVIOUR` sets every switch to its inconvenient side.
 */
export interface Behaviour {
  /**
   * Whether DescribeSnapshots by ReplicationGroupId also lists backups taken from a member node (cluster mode disabled:
   * the plan's backups and the automatic ones are taken from `<id>-002`). When false they are listed only by CacheClusterId.
   */
  readonly listsMemberSnapshotsByGroup: boolean;
  /** Whether the service refuses snapshot names (CreateSnapshot and CopySnapshot's target) over 40 characters. */
  readonly refusesNamesOver40: boolean;
  /** Whether a CopySnapshot to S3 counts against the 20 manual backups per node per 24 h. */
  readonly copyCountsAgainstQuota: boolean;
  /** `eventbridge`: node-based groups emit EventBridge snapshot events (incl. export failures); `sns`: only SNS notifications (SnapshotComplete/SnapshotFailed, no export failure). */
  readonly snapshotEvents: 'eventbridge' | 'sns';
  /** Whether DescribeSnapshots shows the source snapshot as `exporting` while a CopySnapshot to S3 runs. */
  readonly exportStatusVisible: boolean;
  /**
   * Export durations (minutes): with probability `longShare` uniform in `long`, else in the model's `exportMinutes`.
   * `longShare` 0: no long exports.
   */
  readonly longExports: { readonly longShare: number; readonly long: readonly [number, number] };
  /**
   * Groups (every n-th, 0: none) whose exports can never succeed: `refused` (CopySnapshot answers AccessDenied, as for a
   * missing permission or a key policy), `fails` (accepted, then fails: data tiering or a customer managed key).
   */
  readonly neverExports: { readonly everyNthGroup: number; readonly how: 'refused' | 'fails' };
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  listsMemberSnapshotsByGroup: true,
  refusesNamesOver40: false,
  copyCountsAgainstQuota: false,
  snapshotEvents: 'eventbridge',
  exportStatusVisible: false,
  longExports: { longShare: 0, long: [60, 180] },
  neverExports: { everyNthGroup: 0, how: 'refused' },
};

/** Every behaviour on its inconvenient side at once. */
export const WORST_BEHAVIOUR: Behaviour = {
  listsMemberSnapshotsByGroup: false,
  refusesNamesOver40: true,
  copyCountsAgainstQuota: true,
  snapshotEvents: 'sns',
  exportStatusVisible: false,
  longExports: { longShare: 0.2, long: [60, 180] },
  neverExports: { everyNthGroup: 4, how: 'refused' },
};

/**
 * The adversarial world of issue 10, each fault a switch (probabilities per group per hour unless said otherwise).
 * benchmarks/simulator/adversary.ts applies them.
 */
export interface Adversary {
  /** The reconciler's state object is deleted (a delete marker). */
  readonly stateLost: number;
  /** The state object is replaced by a truncated copy of itself. */
  readonly stateTruncated: number;
  /** The state object is replaced by bytes that are not JSON. */
  readonly stateCorrupt: number;
  /** A second plan (another plan id, same groups, same schedule) reconciles every group too. */
  readonly secondPlan: boolean;
  /** Probability per state write that another run of the same plan and group runs between the state read and the write. */
  readonly overlappingRuns: number;
  /** The user takes manual backups (untagged) every so many hours (0: none), on a schedule of their own. */
  readonly userBackupsEveryHours: number;
  /** Share of the user's backups named as the plan names its own (`ceb-<hash>-b<time>`), untagged. */
  readonly userBackupsPlanLikeNames: number;
  /** The reconciler's clock minus the world's, in minutes (positive: ahead). */
  readonly clockSkewMinutes: number;
  /** A manifest dated a year ahead is planted in the group's manifest prefix. */
  readonly futureManifests: number;
  /** A manifest of another group's snapshot (valid format, another group's objects) is planted in the group's prefix. */
  readonly foreignManifests: number;
}

export const NO_ADVERSARY: Adversary = {
  stateLost: 0,
  stateTruncated: 0,
  stateCorrupt: 0,
  secondPlan: false,
  overlappingRuns: 0,
  userBackupsEveryHours: 0,
  userBackupsPlanLikeNames: 0,
  clockSkewMinutes: 0,
  futureManifests: 0,
  foreignManifests: 0,
};

/**
 * Deliberate bugs the simulation must catch (the mutants of issue 10), switched on inside the simulation's process
 * (benchmarks/simulator/mutants.ts), so that a test can check that the oracle reports each.
 */
export type MutantName = 'prune-ignores-export-check' | 'prune-ignores-export-check-planner-only' | 'delete-without-tag-check' | 'commit-partial-export'
  | 'prune-at-commit' | 'head-hides-overwrites' | 'verifications-always-pass' | 'replication-reported-early';

export interface SimulationOptions {
  readonly seed: number;
  readonly groups: number;
  readonly days: number;
  /** Manual backup interval; undefined = automatic daily backups only. */
  readonly intervalMinutes?: number;
  readonly retentionDays?: number;
  readonly faults: Faults;
  readonly objectFaults?: Partial<ObjectFaults>;
  readonly behaviour?: Partial<Behaviour>;
  /** Issue 10's adversarial world (default: none). */
  readonly adversary?: Partial<Adversary>;
  /** Deliberate bugs switched on for this run (default: none). */
  readonly mutant?: MutantName | readonly MutantName[];
  readonly reconcileMinutes?: number;
  readonly snapshotMinutes?: readonly [number, number];
  readonly exportMinutes?: readonly [number, number];
  readonly replicationMinutes?: readonly [number, number];
  /** How long the verifier Lambda takes to write its result after it is invoked. */
  readonly verifyMinutes?: readonly [number, number];
  /** Automatic backups start at the window start plus up to this many minutes. */
  readonly automatedJitterMinutes?: number;
  /** Measurements start after this warm-up. */
  readonly warmupDays?: number;
  readonly settings?: PlannerSettings;
  /** Without an interval: take a manual backup when the automatic one is 25 h old (default true). */
  readonly fallbackBackup?: boolean;
  /**
   * Group ids of up to 40 characters (the service's limit) for every other group, so that names derived from them
   * can exceed 40 characters (default true).
   */
  readonly longGroupIds?: boolean;
  /** Shorthand for `behaviour.exportStatusVisible` (kept for earlier callers). */
  readonly exportStatusVisible?: boolean;
  /** The circuit breaker's number of unexported plan backups per group (the oracle's cap). Default 3. */
  readonly unexportedCap?: number;
  /**
   * Replaces the reconciler's IO with a wrapper around the simulated one: lets a test break the IO on purpose and
   * check that the oracle notices.
   */
  readonly wrapIo?: (io: SimIo, groupId: string) => SimIo;
  /** Called after every group run (for debugging a scenario). */
  readonly trace?: (groupId: string, time: Date, line: string) => void;
}
