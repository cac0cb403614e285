/**
 * The deploy-time self-test's checks (pure: the handler makes the AWS calls and hands their results here).
 * Each finding names the group, the step, the AWS error (or what was seen) and the fix. Not part of the jsii API.
 */
import { groupOfSubject } from './notification-events';
import { isDataTieringNodeType } from '../private/cache-rules';
import { ELASTICACHE_EXPORT_BUCKET_ACTIONS, ELASTICACHE_EXPORT_OBJECT_ACTIONS } from '../storage/permissions';

/** What the construct passes to the self-test (custom resource property `Config`, JSON). */
export interface SelfTestConfig {
  readonly mode: 'QUICK' | 'FULL';
  readonly planId: string;
  readonly region: string;
  readonly bucket: string;
  /** The reconciler's state prefix (`state/`). */
  readonly stateRoot: string;
  readonly notificationTopicArn: string;
  readonly groups: readonly SelfTestGroup[];
  /** FULL: the reconciler to invoke. */
  readonly reconcilerFunctionName?: string;
  /** FULL: how long to wait for the verified manifest (capped by CloudFormation's custom resource limit). */
  readonly waitSeconds?: number;
}

export interface SelfTestGroup {
  readonly replicationGroupId: string;
  /** Whether the plan exports this group's backups (always, today; kept explicit for the data-tiering rule). */
  readonly exportsOn: boolean;
}

/** One problem the self-test found. */
export interface Finding {
  readonly group: string;
  readonly step: string;
  /** The AWS error, or what was observed. */
  readonly error: string;
  readonly fix: string;
}

/** A finding as one line: `replication group 'g', step 's': error. Fix: fix`. */
export function formatFinding(f: Finding): string {
  return `replication group '${f.group}', step '${f.step}': ${f.error}. Fix: ${f.fix}`;
}

/** The message that fails the deployment: every blocking finding, one per line. */
export function failureMessage(findings: readonly Finding[]): string {
  return 'cdk-elasticache-backup self-test failed (the backup plan cannot work in this account as deployed):\n'
    + findings.map((f) => `- ${formatFinding(f)}`).join('\n');
}

/** An AWS error as `Name: message`. */
export function awsError(error: unknown): string {
  const e = error as { name?: string; Code?: string; message?: string };
  const name = e?.name ?? e?.Code ?? 'Error';
  return e?.message ? `${name}: ${e.message}` : name;
}

/** Statuses in which the plan can work with a group (or will once it is created). */
const USABLE_STATUSES = new Set(['available', 'creating', 'modifying', 'snapshotting']);

/** The part of DescribeReplicationGroups the checks read. */
export interface GroupSeen {
  readonly status?: string;
  readonly nodeType?: string;
  readonly memberClusterIds: readonly string[];
}

/** The group exists in the plan's region and is available or being created. */
export function checkGroupStatus(groupId: string, region: string, seen: GroupSeen | undefined, error?: unknown): Finding | undefined {
  const step = 'describe the replication group';
  if (error !== undefined || seen === undefined) {
    return {
      group: groupId,
      step,
      error: error !== undefined ? awsError(error) : `no replication group '${groupId}' in ${region}`,
      fix: `check the replicationGroupId; a BackupPlan protects groups of its own region (${region}): create the group there `
        + 'or protect it with a plan in its region',
    };
  }
  if (!USABLE_STATUSES.has(seen.status ?? '')) {
    return {
      group: groupId,
      step,
      error: `the group's status is '${seen.status ?? 'unknown'}', not available or creating`,
      fix: 'repair or recreate the group (DescribeReplicationGroups shows why), or stop protecting it, then deploy again',
    };
  }
  return undefined;
}

/** ElastiCache cannot export backups of data tiering groups. */
export function checkDataTiering(groupId: string, nodeType: string | undefined, exportsOn: boolean): Finding | undefined {
  if (!exportsOn || nodeType === undefined || !isDataTieringNodeType(nodeType)) {
    return undefined;
  }
  return {
    group: groupId,
    step: 'check the node type',
    error: `node type ${nodeType} uses data tiering, and ElastiCache cannot export backups of data tiering groups to Amazon S3`,
    fix: 'do not protect this group with a BackupPlan (its automatic backups continue), or move it to a node type without data tiering',
  };
}

/** A snapshot as the listings return it (the fields that say whose it is). */
export interface ListedSnapshot {
  readonly name: string;
  readonly source?: string;
  readonly replicationGroupId?: string;
  readonly cacheClusterId?: string;
}

/** The three listings the snapshot check compares. */
export interface SnapshotListings {
  /** `DescribeSnapshots --replication-group-id`. */
  readonly byGroup: readonly ListedSnapshot[];
  /** `DescribeSnapshots --cache-cluster-id` for each member. */
  readonly byMember: readonly ListedSnapshot[];
  /** `DescribeSnapshots --snapshot-source system` without a filter: the oracle for "the group has automatic backups". */
  readonly unfilteredAutomatic: readonly ListedSnapshot[];
}

/** The result of the listing check: a failure, or which listing sees the automatic backups (for the log). */
export interface ListingResult {
  readonly finding?: Finding;
  readonly note: string;
}

function isAutomatic(s: ListedSnapshot): boolean {
  return s.source === 'system' || s.source === 'automated' || s.name.startsWith('automatic.');
}

/**
 * The reconciler lists a group's snapshots by the group and by each member and merges them by name; that merged
 * listing must see every automatic backup of the group that an unfiltered listing shows.
 */
export function checkSnapshotListing(groupId: string, memberClusterIds: readonly string[], l: SnapshotListings): ListingResult {
  const belongs = (s: ListedSnapshot) => s.replicationGroupId === groupId
    || (s.cacheClusterId !== undefined && (memberClusterIds.includes(s.cacheClusterId) || groupOfSubject(s.cacheClusterId, [groupId]) === groupId));
  const expected = new Set(l.unfilteredAutomatic.filter((s) => isAutomatic(s) && belongs(s)).map((s) => s.name));
  const byGroup = new Set(l.byGroup.filter(isAutomatic).map((s) => s.name));
  const byMember = new Set(l.byMember.filter(isAutomatic).map((s) => s.name));
  const count = (seen: Set<string>) => [...expected].filter((n) => seen.has(n)).length;
  const note = `automatic backups of '${groupId}': ${expected.size} in the region; the listing by group sees ${count(byGroup)}, `
    + `the listing by member cluster (${memberClusterIds.join(', ') || 'no members'}) sees ${count(byMember)}`;
  const missed = [...expected].filter((n) => !byGroup.has(n) && !byMember.has(n));
  if (missed.length === 0) {
    return { note };
  }
  return {
    note,
    finding: {
      group: groupId,
      step: 'list the group\'s backups',
      error: `${note}; neither listing returns ${missed.slice(0, 3).join(', ')}${missed.length > 3 ? ` and ${missed.length - 3} more` : ''}`,
      fix: 'the plan would never see these backups: report this output with the snapshots\' ReplicationGroupId and CacheClusterId '
        + '(describe-snapshots --snapshot-name) to the library\'s issue tracker, and set selfTest: SelfTest.OFF only once it is understood',
    },
  };
}

/** The state probe failed: the reconciler's role cannot write, read back or delete under its state prefix. */
export function stateProbeFinding(groups: readonly string[], bucket: string, key: string, operation: string, error: unknown): Finding {
  return {
    group: groups.join(', '),
    step: `${operation} the probe object s3://${bucket}/${key}`,
    error: awsError(error),
    fix: `let the reconciler's role s3:PutObject, s3:GetObject and s3:DeleteObject on s3://${bucket}/state/* `
      + '(the export bucket\'s grantExport and grantRead do), and check that the bucket policy or an SCP does not deny it',
  };
}

/** The probe object read back is not what was written. */
export function checkProbeReadBack(
  groups: readonly string[], bucket: string, key: string, written: string, read: string | undefined,
): Finding | undefined {
  if (read === written) {
    return undefined;
  }
  return {
    group: groups.join(', '),
    step: `read back the probe object s3://${bucket}/${key}`,
    error: `read ${read === undefined ? 'nothing' : `${read.length} different bytes`} instead of the ${written.length} bytes written`,
    fix: 'check for a bucket policy, lifecycle rule or object lock that rewrites or hides objects under state/',
  };
}

/** `GetBucketLocation`'s LocationConstraint as a region (empty is us-east-1, `EU` is eu-west-1). */
export function bucketRegion(locationConstraint: string | undefined | null): string {
  if (!locationConstraint) {
    return 'us-east-1';
  }
  return locationConstraint === 'EU' ? 'eu-west-1' : locationConstraint;
}

/** ElastiCache exports only to a bucket in the snapshot's region. */
export function checkBucketRegion(
  groups: readonly string[], bucket: string, locationConstraint: string | undefined | null, region: string,
): Finding | undefined {
  const actual = bucketRegion(locationConstraint);
  if (actual === region) {
    return undefined;
  }
  return {
    group: groups.join(', '),
    step: `check the export bucket's region (GetBucketLocation ${bucket})`,
    error: `the bucket is in ${actual}, the groups are in ${region}; ElastiCache exports only to a bucket in the snapshot's region`,
    fix: `use a BackupExportBucket defined in a stack of ${region}`,
  };
}

interface PolicyStatement {
  readonly Effect?: string;
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: unknown;
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const globMatch = (pattern: string, value: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(value);

function grantsPrincipal(s: PolicyStatement, principal: string): boolean {
  const p = s.Principal as { Service?: string | string[] } | string | undefined;
  return p !== undefined && typeof p === 'object' && asList(p.Service).includes(principal);
}

/**
 * The bucket policy allows the regional ElastiCache principal every action AWS documents for exports, on the bucket
 * and on its objects. Conditional statements are not counted (the service may not satisfy them).
 */
export function checkExportBucketPolicy(
  groups: readonly string[], bucket: string, region: string, policyText: string | undefined, error?: unknown,
): Finding | undefined {
  const principal = `${region}.elasticache-snapshot.amazonaws.com`;
  const step = `check the export bucket policy (GetBucketPolicy ${bucket})`;
  const fix = `allow the service principal ${principal} ${[...ELASTICACHE_EXPORT_BUCKET_ACTIONS].join(', ')} on arn:aws:s3:::${bucket} and `
    + `${[...ELASTICACHE_EXPORT_OBJECT_ACTIONS].join(', ')} on arn:aws:s3:::${bucket}/* (BackupExportBucket adds exactly this)`;
  if (error !== undefined || policyText === undefined) {
    return { group: groups.join(', '), step, error: error !== undefined ? awsError(error) : 'the bucket has no policy', fix };
  }
  let statements: PolicyStatement[];
  try {
    const doc = JSON.parse(policyText) as { Statement?: PolicyStatement | PolicyStatement[] };
    statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  } catch (e) {
    return { group: groups.join(', '), step, error: `the policy is not JSON (${awsError(e)})`, fix };
  }
  const allows = statements.filter((s) => s.Effect === 'Allow' && s.Condition === undefined && grantsPrincipal(s, principal));
  const allowed = (action: string, resource: string) => allows.some((s) => asList(s.Action).some((a) => globMatch(a, action))
    && asList(s.Resource).some((r) => globMatch(r.replace(/^arn:[^:]+:/, 'arn:*:'), `arn:aws:${resource}`)));
  const missing = [
    ...ELASTICACHE_EXPORT_BUCKET_ACTIONS.filter((a) => !allowed(a, `s3:::${bucket}`)).map((a) => `${a} on the bucket`),
    ...ELASTICACHE_EXPORT_OBJECT_ACTIONS.filter((a) => !allowed(a, `s3:::${bucket}/export-0001.rdb`)).map((a) => `${a} on its objects`),
  ];
  if (missing.length === 0) {
    return undefined;
  }
  return { group: groups.join(', '), step, error: `the policy does not allow ${principal} ${missing.join(', ')}`, fix };
}

/** A group that sends its events to another topic (or none) is heard only through EventBridge and the schedule. */
export function notificationWarning(groupId: string, topicArn: string | undefined, planTopicArn: string): string | undefined {
  if (topicArn === planTopicArn) {
    return undefined;
  }
  return `replication group '${groupId}', step 'check the notification topic': the group sends its events to `
    + `${topicArn ?? 'no topic'}, not to the plan's topic ${planTopicArn}; the plan then hears of its backups only on its schedule. `
    + `Fix: aws elasticache modify-replication-group --replication-group-id ${groupId} --notification-topic-arn ${planTopicArn}`;
}

/** FULL: the backup the self-test took of one group. */
export interface FullTarget {
  readonly replicationGroupId: string;
  readonly snapshotName: string;
}

/** FULL: what the handler observed for one target. */
export interface FullObservation {
  /** The backup's status in ElastiCache; undefined when it is not listed (any more). */
  readonly snapshotStatus?: string;
  /** The committed manifest of that backup, when one exists. */
  readonly manifest?: {
    readonly formatVersion: number;
    readonly snapshotName: string;
    readonly shards: ReadonlyArray<{ readonly key: string; readonly verifiedAt?: string; readonly verification?: string }>;
  };
  readonly elapsedSeconds: number;
  readonly waitSeconds: number;
}

export type FullProgress = { readonly state: 'done' | 'waiting' } | { readonly state: 'failed'; readonly finding: Finding };

/** FULL: done once a verified manifest of the backup exists; failed when the backup failed or the wait is over. */
export function checkFullProgress(t: FullTarget, o: FullObservation): FullProgress {
  const m = o.manifest;
  if (m && m.snapshotName === t.snapshotName) {
    const unverified = m.shards.filter((s) => !s.verifiedAt || !s.verification).map((s) => s.key);
    if (m.formatVersion >= 2 && m.shards.length > 0 && unverified.length === 0) {
      return { state: 'done' };
    }
    return {
      state: 'failed',
      finding: {
        group: t.replicationGroupId,
        step: `verify the export of ${t.snapshotName}`,
        error: `the manifest was committed without verification (format ${m.formatVersion}; unverified: ${unverified.join(', ') || 'no shards'})`,
        fix: 'deploy a reconciler that verifies exports (this library\'s version) and check its verifier function\'s log',
      },
    };
  }
  if (o.snapshotStatus === 'failed') {
    return {
      state: 'failed',
      finding: {
        group: t.replicationGroupId,
        step: `take the backup ${t.snapshotName}`,
        error: 'ElastiCache reports the backup as failed (status failed)',
        fix: 'check the group\'s events (describe-events --source-type replication-group) for the cause, for example too little '
          + 'reserved memory for the backup; raise reserved-memory-percent or back up from a replica',
      },
    };
  }
  if (o.elapsedSeconds >= o.waitSeconds) {
    return {
      state: 'failed',
      finding: {
        group: t.replicationGroupId,
        step: `export ${t.snapshotName} to S3`,
        error: `no verified manifest after ${Math.round(o.elapsedSeconds / 60)} minutes (backup status: ${o.snapshotStatus ?? 'not listed'})`,
        fix: 'read the reconciler\'s log for this group (export refused, AccessDenied, KMS) and its Failures and CircuitOpen metrics; '
          + 'a large group may need longer than a deployment can wait: use SelfTest.QUICK and watch the ExportAge alarm instead',
      },
    };
  }
  return { state: 'waiting' };
}
