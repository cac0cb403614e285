/**
 * The live service probe's Lambda handler (I/O only; the decisions are in probe-plan.ts, questions.ts and quota.ts).
 * Never run in CI: a maintainer deploys test/service-probe.integ.ts and invokes this function (see README). Each
 * invocation resumes from the state saved in the probe bucket, observes, acts, and prints every answer as JSON.
 */
import {
  CopySnapshotCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeCacheClustersCommand, DescribeSnapshotsCommand,
  ElastiCacheClient, Snapshot,
} from '@aws-sdk/client-elasticache';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { parseEventBridgeMessage, parseSnsMessage } from './probe-events';
import { CopyRole, ProbeAction, answerAll, isDone, nothingToWaitFor, planActions } from './probe-plan';
import {
  CallOutcome, ExportObservation, ProbeConfig, ProbeFlags, ProbeState, ReceivedEvent, SnapshotSeen, emptyState,
  probeNames,
} from './probe-state';
import { Answer } from './questions';

/** The invocation payload: flags, and how long this invocation may work. */
export interface ProbeEvent extends ProbeFlags {
  /** Seconds this invocation may spend observing and acting (the function's timeout is 15 minutes). @default 840 */
  readonly maxSeconds?: number;
}

/** What every invocation prints and returns. */
export interface ProbeReport {
  readonly runId: string;
  /** Every question settled and the probe's snapshots deleted. */
  readonly done: boolean;
  readonly answers: Answer[];
  /** Probe snapshots not deleted yet. */
  readonly snapshotsLeft: string[];
  /** What this invocation did, in order. */
  readonly log: string[];
}

/** Everything the handler needs from outside, replaceable in tests. */
export interface ProbeDeps {
  readonly elasticache: ElastiCacheClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly sts: STSClient;
  readonly config: ProbeConfig;
  readonly roleArns: Record<CopyRole, string>;
  readonly queues: { readonly sns: string; readonly eventBridge: string };
  readonly stateKey: string;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Errors that mean "busy, try again later" rather than an answer. */
const RETRY_LATER = /InvalidSnapshotState|InvalidCacheClusterState|InvalidReplicationGroupState|Throttling/;
const POLL_MS = 20_000;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set: deploy the probe from test/service-probe.integ.ts`);
  }
  return value;
}

export function depsFromEnvironment(): ProbeDeps {
  const cmeShards = process.env.CME_SHARDS ? Number(process.env.CME_SHARDS) : undefined;
  return {
    elasticache: new ElastiCacheClient({}),
    s3: new S3Client({}),
    sqs: new SQSClient({}),
    sts: new STSClient({}),
    config: {
      groupId: requireEnv('GROUP_ID'),
      memberIds: requireEnv('MEMBER_IDS').split(','),
      snapshotSourceId: requireEnv('SNAPSHOT_SOURCE_ID'),
      bucket: requireEnv('BUCKET'),
      backupWindow: requireEnv('BACKUP_WINDOW'),
      cmeGroupId: process.env.CME_GROUP_ID || undefined,
      cmeShards,
    },
    roleArns: { 'without-get-bucket-acl': requireEnv('ROLE_WITHOUT_ACL_ARN'), 'with-get-bucket-acl': requireEnv('ROLE_WITH_ACL_ARN') },
    queues: { sns: requireEnv('SNS_QUEUE_URL'), eventBridge: requireEnv('EVENTS_QUEUE_URL') },
    stateKey: process.env.STATE_KEY ?? 'service-probe/state.json',
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

export const handler = async (event: ProbeEvent | undefined): Promise<ProbeReport> => {
  const report = await runProbe(event ?? {}, depsFromEnvironment());
  console.log(JSON.stringify(report, undefined, 2));
  return report;
};

/** One invocation: load, then observe-plan-act until nothing is left to do now or the time is up; save; report. */
export async function runProbe(event: ProbeEvent, deps: ProbeDeps): Promise<ProbeReport> {
  const log: string[] = [];
  const deadline = deps.now().getTime() + (event.maxSeconds ?? 840) * 1000;
  const flags: ProbeFlags = { cleanup: event.cleanup, reset: event.reset, quota: event.quota, multiShard: event.multiShard };
  let state = await loadState(deps, flags, log);
  state = { ...state, flags: { quota: state.flags.quota || flags.quota, multiShard: state.flags.multiShard || flags.multiShard } };
  const runFlags: ProbeFlags = { ...state.flags, cleanup: flags.cleanup };
  for (;;) {
    state = await observe(state, deps);
    const actions = planActions(state, deps.config, runFlags, deps.now());
    for (const action of actions) {
      state = await perform(action, state, deps, log);
    }
    await saveState(deps, state);
    const answers = answerAll(state, deps.config, runFlags, deps.now());
    if (nothingToWaitFor(state, answers) || deps.now().getTime() + POLL_MS >= deadline) {
      return toReport(state, answers, log);
    }
    await deps.sleep(POLL_MS);
  }
}

function toReport(state: ProbeState, answers: Answer[], log: string[]): ProbeReport {
  const snapshotsLeft = Object.keys(state.snapshots).filter((n) => !state.deleted.includes(n));
  return { runId: state.runId, done: isDone(state, answers), answers, snapshotsLeft, log };
}

async function loadState(deps: ProbeDeps, flags: ProbeFlags, log: string[]): Promise<ProbeState> {
  if (!flags.reset) {
    try {
      const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.bucket, Key: deps.stateKey }));
      return JSON.parse(await object.Body!.transformToString()) as ProbeState;
    } catch (error) {
      if ((error as Error).name !== 'NoSuchKey') {
        throw error;
      }
    }
  }
  const state = emptyState(deps.now());
  log.push(`new run ${state.runId}`);
  return state;
}

async function saveState(deps: ProbeDeps, state: ProbeState): Promise<void> {
  await deps.s3.send(new PutObjectCommand({
    Bucket: deps.config.bucket, Key: deps.stateKey, Body: JSON.stringify(state), ContentType: 'application/json',
  }));
}

/** Refresh every observation: queued events, listings, the probe's snapshots, its exports. */
export async function observe(state: ProbeState, deps: ProbeDeps): Promise<ProbeState> {
  const at = deps.now().toISOString();
  const events = [
    ...await drainQueue(deps, deps.queues.sns, (body) => parseSnsMessage(body, at)),
    ...await drainQueue(deps, deps.queues.eventBridge, (body) => parseEventBridgeMessage(body, at)),
  ];
  const byMember: Record<string, SnapshotSeen[]> = {};
  for (const member of deps.config.memberIds) {
    byMember[member] = await describeSnapshots(deps.elasticache, { CacheClusterId: member });
  }
  const byGroup = await describeSnapshots(deps.elasticache, { ReplicationGroupId: deps.config.groupId });
  const snapshots = await probeSnapshotStatuses(state, deps, at);
  const exports = await observeExports(state, snapshots, deps, at);
  const topicStatus = await describeTopicStatus(deps) ?? state.topicStatus;
  return { ...state, events: [...state.events, ...events], listing: { at, byGroup, byMember }, snapshots, exports, topicStatus };
}

/** The status ElastiCache gives the group's SNS topic (on each member cluster): `inactive` means it cannot publish. */
async function describeTopicStatus(deps: ProbeDeps): Promise<string | undefined> {
  const described = await deps.elasticache.send(new DescribeCacheClustersCommand({ CacheClusterId: deps.config.snapshotSourceId }));
  return described.CacheClusters?.[0]?.NotificationConfiguration?.TopicStatus;
}

async function drainQueue(deps: ProbeDeps, queueUrl: string, parse: (body: string) => ReceivedEvent[]): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = [];
  for (let round = 0; round < 10; round++) {
    const received = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const messages = received.Messages ?? [];
    if (messages.length === 0) {
      break;
    }
    events.push(...messages.flatMap((m) => parse(m.Body ?? '')));
    await deps.sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }));
  }
  return events;
}

function toSeen(s: Snapshot): SnapshotSeen {
  return {
    name: s.SnapshotName ?? '',
    status: s.SnapshotStatus,
    source: s.SnapshotSource,
    cacheClusterId: s.CacheClusterId,
    replicationGroupId: s.ReplicationGroupId,
    createdAt: s.NodeSnapshots?.[0]?.SnapshotCreateTime?.toISOString(),
  };
}

async function describeSnapshots(
  client: ElastiCacheClient, filter: { CacheClusterId?: string; ReplicationGroupId?: string; SnapshotName?: string },
): Promise<SnapshotSeen[]> {
  const seen: SnapshotSeen[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new DescribeSnapshotsCommand({ ...filter, Marker: marker, MaxRecords: 50 }));
    seen.push(...(page.Snapshots ?? []).map(toSeen));
    marker = page.Marker;
  } while (marker);
  return seen;
}

/** The probe's own snapshots, looked up by name (independent of the listing question). */
async function probeSnapshotStatuses(state: ProbeState, deps: ProbeDeps, at: string): Promise<ProbeState['snapshots']> {
  const names = probeNames(state.runId);
  const candidates = [names.control, names.longName, names.copyAfterQuota, names.cme,
    ...state.quotaCreates.map((_, i) => names.quota(i + 1))];
  const snapshots: Record<string, ProbeState['snapshots'][string]> = { ...state.snapshots };
  for (const name of candidates.filter((n) => !state.deleted.includes(n))) {
    let found: SnapshotSeen[] = [];
    try {
      found = await describeSnapshots(deps.elasticache, { SnapshotName: name });
    } catch (error) {
      if ((error as Error).name !== 'SnapshotNotFoundFault') {
        throw error;
      }
    }
    const status = found[0]?.status;
    if (status) {
      const before = snapshots[name];
      snapshots[name] = {
        status,
        availableAt: before?.availableAt ?? (status === 'available' ? at : undefined),
        failed: before?.failed || status === 'failed',
      };
    }
  }
  return snapshots;
}

/** Exports accepted so far: their objects in the bucket and the source snapshot's status while they run. */
async function observeExports(
  state: ProbeState, snapshots: ProbeState['snapshots'], deps: ProbeDeps, at: string,
): Promise<ProbeState['exports']> {
  const exports: Record<string, ExportObservation> = { ...state.exports };
  for (const [target, observed] of Object.entries(state.exports)) {
    const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.config.bucket, Prefix: `${target}-` }));
    const objects = (listed.Contents ?? []).filter((o) => o.Key?.endsWith('.rdb'));
    const source = exportSources(state)[target];
    const sourceStatus = source ? snapshots[source]?.status : undefined;
    const newest = objects.map((o) => o.LastModified?.toISOString() ?? at).sort().pop();
    exports[target] = {
      ...observed,
      firstSeenAt: observed.firstSeenAt ?? (objects.length > 0 ? at : undefined),
      lastModified: newest ?? observed.lastModified,
      keys: objects.map((o) => o.Key!),
      bytes: objects.reduce((sum, o) => sum + (o.Size ?? 0), 0),
      sourceStatuses: objects.length === 0 && sourceStatus && observed.sourceStatuses.at(-1) !== sourceStatus
        ? [...observed.sourceStatuses, sourceStatus] : observed.sourceStatuses,
    };
  }
  return exports;
}

function exportSources(state: ProbeState): Record<string, string> {
  const names = probeNames(state.runId);
  return {
    [names.exportWithoutAcl]: names.control,
    [names.exportWithAcl]: names.control,
    [names.exportAfterQuota]: names.control,
    [names.exportCme]: names.cme,
  };
}

function outcomeOf(error: unknown, at: string): CallOutcome {
  const e = error as Error;
  return { at, ok: false, errorName: e.name, message: e.message };
}

/** Perform one action and record its outcome. Busy refusals are logged and retried on a later round. */
export async function perform(action: ProbeAction, state: ProbeState, deps: ProbeDeps, log: string[]): Promise<ProbeState> {
  const at = deps.now().toISOString();
  let outcome: CallOutcome;
  try {
    await send(action, deps);
    outcome = { at, ok: true };
  } catch (error) {
    const name = (error as Error).name;
    if (RETRY_LATER.test(name)) {
      log.push(`${action.kind} ${describe(action)}: ${name}, retried later`);
      return state;
    }
    // A create or copy that an earlier invocation made, but did not save, is not a refusal.
    outcome = /AlreadyExists/.test(name) ? { at, ok: true } : outcomeOf(error, at);
    if (action.kind === 'delete' && name === 'SnapshotNotFoundFault') {
      outcome = { at, ok: true };
    }
  }
  log.push(`${action.kind} ${describe(action)}: ${outcome.ok ? 'ok' : `${outcome.errorName}: ${outcome.message}`}`);
  return record(action, outcome, state);
}

function describe(action: ProbeAction): string {
  return action.kind === 'copy' ? `${action.source} -> ${action.target}${action.bucket ? ` (s3://${action.bucket}, ${action.role})` : ''}`
    : action.name;
}

function record(action: ProbeAction, outcome: CallOutcome, state: ProbeState): ProbeState {
  if (action.kind === 'delete') {
    return outcome.ok ? { ...state, deleted: [...state.deleted, action.name] } : state;
  }
  const withCall = action.call === 'quota'
    ? { ...state, quotaCreates: [...state.quotaCreates, outcome] }
    : { ...state, calls: { ...state.calls, [action.call]: outcome } };
  if (action.kind === 'copy' && action.bucket && outcome.ok) {
    return { ...withCall, exports: { ...withCall.exports, [action.target]: { calledAt: outcome.at, sourceStatuses: [] } } };
  }
  return withCall;
}

async function send(action: ProbeAction, deps: ProbeDeps): Promise<void> {
  if (action.kind === 'create') {
    await deps.elasticache.send(new CreateSnapshotCommand({
      SnapshotName: action.name, CacheClusterId: action.cacheClusterId, ReplicationGroupId: action.replicationGroupId,
    }));
  } else if (action.kind === 'delete') {
    await deps.elasticache.send(new DeleteSnapshotCommand({ SnapshotName: action.name }));
  } else {
    const client = await clientForRole(deps, action.role);
    await client.send(new CopySnapshotCommand({
      SourceSnapshotName: action.source, TargetSnapshotName: action.target, TargetBucket: action.bucket,
    }));
  }
}

/** An ElastiCache client with the credentials of one of the two copy roles (they differ only by s3:GetBucketAcl). */
async function clientForRole(deps: ProbeDeps, role: CopyRole): Promise<ElastiCacheClient> {
  const assumed = await deps.sts.send(new AssumeRoleCommand({ RoleArn: deps.roleArns[role], RoleSessionName: `service-probe-${role}` }));
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new Error(`AssumeRole of ${deps.roleArns[role]} returned no credentials`);
  }
  return new ElastiCacheClient({
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
}
