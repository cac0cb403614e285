/**
 * What the live service probe has observed so far, persisted between invocations (one JSON object in the probe
 * bucket). Pure data and small helpers: no SDK. See docs/service-behaviour.md for the questions it answers.
 */

/** What the probe knows about its environment (from the Lambda's environment variables). */
export interface ProbeConfig {
  /** The cluster-mode-disabled replication group under test. */
  readonly groupId: string;
  /** Its member clusters (`<group>-001`, `<group>-002`). */
  readonly memberIds: string[];
  /** The member the probe takes its manual backups from (the replica, like the backup plan does). */
  readonly snapshotSourceId: string;
  /** The export bucket (library BackupExportBucket). */
  readonly bucket: string;
  /** The daily backup window of the group, for messages about automatic backups. */
  readonly backupWindow: string;
  /** The optional cluster-mode-enabled group (deployed only with the context flag `service-probe:cme`). */
  readonly cmeGroupId?: string;
  /** Its shard count. */
  readonly cmeShards?: number;
}

/** Flags of one invocation (the Lambda's JSON payload). */
export interface ProbeFlags {
  /** Spend the node's manual-backup quota (about 20 backups) to learn what counts against it. */
  readonly quota?: boolean;
  /** Export a backup of the cluster-mode-enabled group and look at the object names. */
  readonly multiShard?: boolean;
  /** Delete the probe's snapshots now, whether or not every question is answered. */
  readonly cleanup?: boolean;
  /** Forget the saved state and start a new run (new snapshot names). */
  readonly reset?: boolean;
}

/** The outcome of one API call the probe made. */
export interface CallOutcome {
  /** ISO time of the call. */
  readonly at: string;
  readonly ok: boolean;
  /** The SDK error name when the call was refused (`InvalidParameterValueException`, `SnapshotQuotaExceededFault`...). */
  readonly errorName?: string;
  readonly message?: string;
}

/** A snapshot as DescribeSnapshots returned it. */
export interface SnapshotSeen {
  readonly name: string;
  readonly status?: string;
  readonly source?: string;
  readonly cacheClusterId?: string;
  readonly replicationGroupId?: string;
  /** ISO creation time of the (first) node snapshot. */
  readonly createdAt?: string;
}

/** One DescribeSnapshots round: filtered by the group and by each member cluster. */
export interface ListingObservation {
  readonly at: string;
  readonly byGroup: SnapshotSeen[];
  readonly byMember: Record<string, SnapshotSeen[]>;
}

/** What the probe saw of one export (CopySnapshot with a TargetBucket). */
export interface ExportObservation {
  /** When CopySnapshot was accepted. */
  readonly calledAt: string;
  /** When the probe first saw an object of the export in the bucket. */
  readonly firstSeenAt?: string;
  /** The S3 LastModified of the newest export object. */
  readonly lastModified?: string;
  /** The export's object keys (`<target>-0001.rdb`, ...). */
  readonly keys?: string[];
  /** Total bytes of the export objects. */
  readonly bytes?: number;
  /** Statuses of the source snapshot seen while the export was running, each change once (does the source look busy?). */
  readonly sourceStatuses: string[];
}

/** One message from the SNS queue or the EventBridge queue. */
export interface ReceivedEvent {
  readonly channel: 'sns' | 'eventbridge';
  /** When the probe received it. */
  readonly receivedAt: string;
  /** `ElastiCache:SnapshotComplete` (SNS) or the EventBridge detail-type (`Snapshot Created`). */
  readonly type: string;
  /** The cluster, group or snapshot the event names. */
  readonly subject?: string;
  /** The raw message (trimmed), for the maintainer to read. */
  readonly raw: string;
}

/** The calls the probe makes at most once per run (quota backups are a list of their own). */
export type CallId =
  | 'create-control' | 'create-long-name'
  | 'copy-without-acl' | 'copy-with-acl'
  | 'copy-after-quota-export' | 'copy-after-quota-plain'
  | 'create-cme' | 'copy-cme';

/** Everything the probe has observed in this run. */
export interface ProbeState {
  readonly runId: string;
  readonly startedAt: string;
  /** The run's sticky flags: `quota` and `multiShard` given once stay on until a reset. */
  readonly flags: Pick<ProbeFlags, 'quota' | 'multiShard'>;
  /** Final outcomes of the one-off calls (a call refused because its source was busy is not recorded: it is retried). */
  readonly calls: Partial<Record<CallId, CallOutcome>>;
  /** The quota backups, in order. */
  readonly quotaCreates: CallOutcome[];
  /** The latest listing. */
  readonly listing?: ListingObservation;
  /** Last status of each probe snapshot, and when it was first seen available. */
  readonly snapshots: Record<string, { readonly status: string; readonly availableAt?: string; readonly failed?: boolean }>;
  /** Exports by target name. */
  readonly exports: Record<string, ExportObservation>;
  readonly events: ReceivedEvent[];
  /** The SNS topic status ElastiCache reports for the group's member (`active`, or `inactive` when it cannot publish). */
  readonly topicStatus?: string;
  /** Snapshots the probe deleted. */
  readonly deleted: string[];
}

/** The snapshot names of one run. */
export interface ProbeNames {
  /** The probe's own prefix: every snapshot and export of the run starts with it. */
  readonly prefix: string;
  /** A manual backup named with exactly 40 characters (the control for the name-length question). */
  readonly control: string;
  /** A manual backup named with exactly 41 characters. */
  readonly longName: string;
  readonly exportWithoutAcl: string;
  readonly exportWithAcl: string;
  readonly exportAfterQuota: string;
  readonly copyAfterQuota: string;
  readonly cme: string;
  readonly exportCme: string;
  /** The n-th quota backup (1-based). */
  quota(n: number): string;
}

/** Common prefix of every probe snapshot: the cleanup deletes only names that start with it. */
export const PROBE_PREFIX = 'ecbprobe';

/** A name of exactly `length` characters: `base` padded with `x` (letters and hyphens only, as snapshot names allow). */
export function nameOfLength(base: string, length: number): string {
  if (base.length > length) {
    throw new Error(`name base '${base}' is ${base.length} characters, longer than the ${length} asked for`);
  }
  return base + 'x'.repeat(length - base.length);
}

export function probeNames(runId: string): ProbeNames {
  const prefix = `${PROBE_PREFIX}-${runId}`;
  return {
    prefix,
    control: nameOfLength(`${prefix}-control-`, 40),
    longName: nameOfLength(`${prefix}-long-`, 41),
    exportWithoutAcl: `${prefix}-noacl`,
    exportWithAcl: `${prefix}-acl`,
    exportAfterQuota: `${prefix}-quota-export`,
    copyAfterQuota: `${prefix}-quota-copy`,
    cme: `${prefix}-cme`,
    exportCme: `${prefix}-cme-export`,
    quota: (n: number) => `${prefix}-q${String(n).padStart(2, '0')}`,
  };
}

/** A run id from the start time: lower-case base-36 seconds (8 characters until the year 2059). */
export function newRunId(now: Date): string {
  return Math.floor(now.getTime() / 1000).toString(36);
}

export function emptyState(now: Date): ProbeState {
  return {
    runId: newRunId(now),
    startedAt: now.toISOString(),
    flags: {},
    calls: {},
    quotaCreates: [],
    snapshots: {},
    exports: {},
    events: [],
    deleted: [],
  };
}

/** Minutes between two ISO times. */
export function minutesBetween(from: string, to: Date | string): number {
  return (new Date(to).getTime() - new Date(from).getTime()) / 60_000;
}
