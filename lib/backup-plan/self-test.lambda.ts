/**
 * The backup plan's deploy-time self-test (custom resource handler, Provider framework).
 *
 * Runs with the reconciler's own role, so that what it proves (listing, state prefix, bucket) is what the reconciler
 * can do. QUICK checks each protected group and the export bucket in seconds; FULL also takes one backup of each group
 * and waits (Provider `isComplete`) until the reconciler has exported, verified and committed it. A blocking finding
 * fails the deployment with a message naming the group, the step, the AWS error and the fix; the checks themselves are
 * pure (self-test-checks.ts).
 */
import {
  CreateSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand,
  DescribeSnapshotsCommandInput, ElastiCacheClient, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteObjectCommand, GetBucketLocationCommand, GetBucketPolicyCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { PLAN_TAG_KEY, planSnapshotName } from './constants';
import {
  awsError, checkBucketRegion, checkDataTiering, checkExportBucketPolicy, checkFullProgress, checkGroupStatus, checkProbeReadBack,
  checkSnapshotListing, failureMessage, Finding, FullObservation, FullTarget, GroupSeen, ListedSnapshot, notificationWarning,
  SelfTestConfig, stateProbeFinding,
} from './self-test-checks';
import { manifestPrefix } from '../manifest/manifest';

/** The clients and clock the handler uses (tests pass mocks and a loopback S3). */
export interface SelfTestDeps {
  readonly elasticache: ElastiCacheClient;
  readonly s3: S3Client;
  readonly lambda?: LambdaClient;
  readonly now?: () => Date;
  /** A unique id for the probe object's key. */
  readonly probeId?: () => string;
  readonly log?: (message: string, details?: unknown) => void;
}

/** The part of the CloudFormation custom resource event the handler reads. */
export interface SelfTestEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly Config: string };
  /** isComplete: what onEvent returned. */
  readonly Data?: Record<string, string>;
}

export interface SelfTestResponse {
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, string>;
}

/** What QUICK found. */
export interface QuickResult {
  readonly findings: Finding[];
  readonly warnings: string[];
  readonly notes: string[];
  readonly groups: Map<string, ReplicationGroup>;
}

/** CloudFormation keeps at most 4 KB of response data; warnings are also in the log. */
const MAX_DATA_CHARS = 1000;
const FULL_REINVOKE_EVERY_SECONDS = 180;
/** Pages of the unfiltered automatic-backup listing to read (the oracle of the listing check). */
const MAX_UNFILTERED_PAGES = 20;

export async function onEvent(event: SelfTestEvent, deps: SelfTestDeps): Promise<SelfTestResponse> {
  const config = JSON.parse(event.ResourceProperties.Config) as SelfTestConfig;
  const physicalId = `self-test-${config.planId}`.slice(0, 200);
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const quick = await runQuick(config, deps);
  for (const w of quick.warnings) {
    deps.log?.('warning', w);
  }
  deps.log?.('notes', quick.notes);
  if (quick.findings.length > 0) {
    throw new Error(failureMessage(quick.findings));
  }
  const data: Record<string, string> = {
    Warnings: truncate(quick.warnings.join('\n')),
    Notes: truncate(quick.notes.join('\n')),
  };
  if (config.mode !== 'FULL') {
    return { PhysicalResourceId: physicalId, Data: data };
  }
  const targets = await startFull(config, quick.groups, deps);
  return { PhysicalResourceId: physicalId, Data: { ...data, Targets: JSON.stringify(targets), StartedAt: now(deps).toISOString() } };
}

export async function isComplete(event: SelfTestEvent, deps: SelfTestDeps): Promise<{ IsComplete: boolean }> {
  const config = JSON.parse(event.ResourceProperties.Config) as SelfTestConfig;
  if (event.RequestType === 'Delete' || config.mode !== 'FULL' || !event.Data?.Targets) {
    return { IsComplete: true };
  }
  const targets = JSON.parse(event.Data.Targets) as FullTarget[];
  const elapsedSeconds = (now(deps).getTime() - new Date(event.Data.StartedAt).getTime()) / 1000;
  const findings: Finding[] = [];
  let waiting = false;
  for (const target of targets) {
    const observation = await observeFull(config, target, elapsedSeconds, deps);
    const progress = checkFullProgress(target, observation);
    if (progress.state === 'failed') {
      findings.push(progress.finding);
    } else if (progress.state === 'waiting') {
      waiting = true;
    }
  }
  if (findings.length > 0) {
    throw new Error(failureMessage(findings));
  }
  if (waiting && Math.floor(elapsedSeconds) % FULL_REINVOKE_EVERY_SECONDS < 30) {
    await invokeReconciler(config, deps);
  }
  return { IsComplete: !waiting };
}

/** The QUICK checks: every group, then the state prefix and the export bucket. */
export async function runQuick(config: SelfTestConfig, deps: SelfTestDeps): Promise<QuickResult> {
  const result: QuickResult = { findings: [], warnings: [], notes: [], groups: new Map() };
  let unfiltered: ListedSnapshot[] | undefined;
  for (const g of config.groups) {
    const id = g.replicationGroupId;
    let described: ReplicationGroup | undefined;
    let error: unknown;
    try {
      described = (await deps.elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups?.[0];
    } catch (e) {
      error = e;
    }
    const seen = described ? groupSeen(described) : undefined;
    const statusFinding = checkGroupStatus(id, config.region, seen, error);
    if (statusFinding || !described || !seen) {
      result.findings.push(statusFinding!);
      continue;
    }
    result.groups.set(id, described);
    const tiering = checkDataTiering(id, seen.nodeType, g.exportsOn);
    if (tiering) {
      result.findings.push(tiering);
    }
    unfiltered ??= await listSnapshots(deps, { SnapshotSource: 'system' }, MAX_UNFILTERED_PAGES);
    const listing = checkSnapshotListing(id, seen.memberClusterIds, {
      byGroup: await listSnapshots(deps, { ReplicationGroupId: id }),
      byMember: (await Promise.all(seen.memberClusterIds.map((m) => listSnapshots(deps, { CacheClusterId: m })))).flat(),
      unfilteredAutomatic: unfiltered,
    });
    result.notes.push(listing.note);
    if (listing.finding) {
      result.findings.push(listing.finding);
    }
    const warning = notificationWarning(id, await notificationTopicOf(deps, seen.memberClusterIds[0]), config.notificationTopicArn);
    if (warning) {
      result.warnings.push(warning);
    }
  }
  result.findings.push(...await checkBucket(config, deps));
  return result;
}

function groupSeen(g: ReplicationGroup): GroupSeen {
  return { status: g.Status, nodeType: g.CacheNodeType, memberClusterIds: g.MemberClusters ?? [] };
}

async function listSnapshots(deps: SelfTestDeps, filter: DescribeSnapshotsCommandInput, maxPages = 100): Promise<ListedSnapshot[]> {
  const out: ListedSnapshot[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await deps.elasticache.send(new DescribeSnapshotsCommand({ ...filter, Marker: marker, MaxRecords: 50 }));
    for (const s of page.Snapshots ?? []) {
      out.push({ name: s.SnapshotName ?? '', source: s.SnapshotSource, replicationGroupId: s.ReplicationGroupId, cacheClusterId: s.CacheClusterId });
    }
    marker = page.Marker;
  } while (marker && ++pages < maxPages);
  return out;
}

async function notificationTopicOf(deps: SelfTestDeps, memberClusterId: string | undefined): Promise<string | undefined> {
  if (!memberClusterId) {
    return undefined;
  }
  try {
    const res = await deps.elasticache.send(new DescribeCacheClustersCommand({ CacheClusterId: memberClusterId }));
    const n = res.CacheClusters?.[0]?.NotificationConfiguration;
    return n?.TopicStatus === 'inactive' ? undefined : n?.TopicArn;
  } catch (e) {
    deps.log?.('could not read the notification topic', { memberClusterId, error: String(e) });
    return undefined;
  }
}

/** The state prefix round trip, the bucket's region and its policy. */
async function checkBucket(config: SelfTestConfig, deps: SelfTestDeps): Promise<Finding[]> {
  const ids = config.groups.map((g) => g.replicationGroupId);
  const groups = ids.length > 0 ? ids : ['(none protected yet)'];
  const findings: Finding[] = [];
  const key = `${config.stateRoot}_self-test/probe-${deps.probeId?.() ?? now(deps).getTime().toString(36)}.json`;
  const body = JSON.stringify({ probe: 'cdk-elasticache-backup self-test', planId: config.planId, at: now(deps).toISOString() });
  const step = async (operation: string, run: () => Promise<void>): Promise<boolean> => {
    try {
      await run();
      return true;
    } catch (e) {
      findings.push(stateProbeFinding(groups, config.bucket, key, operation, e));
      return false;
    }
  };
  const wrote = await step('write', async () => {
    await deps.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  });
  if (wrote) {
    let read: string | undefined;
    if (await step('read', async () => {
      read = await (await deps.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }))).Body?.transformToString();
    })) {
      const mismatch = checkProbeReadBack(groups, config.bucket, key, body, read);
      if (mismatch) {
        findings.push(mismatch);
      }
    }
    await step('delete', async () => {
      await deps.s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key }));
    });
  }
  try {
    const location = await deps.s3.send(new GetBucketLocationCommand({ Bucket: config.bucket }));
    const regionFinding = checkBucketRegion(groups, config.bucket, location.LocationConstraint, config.region);
    if (regionFinding) {
      findings.push(regionFinding);
    }
  } catch (e) {
    findings.push({
      group: groups.join(', '),
      step: `check the export bucket's region (GetBucketLocation ${config.bucket})`,
      error: awsError(e),
      fix: 'let the reconciler\'s role s3:GetBucketLocation on the export bucket (grantRead does), and check the bucket exists',
    });
  }
  let policy: string | undefined;
  let policyError: unknown;
  try {
    policy = (await deps.s3.send(new GetBucketPolicyCommand({ Bucket: config.bucket }))).Policy;
  } catch (e) {
    policyError = (e as { name?: string }).name === 'NoSuchBucketPolicy' ? undefined : e;
  }
  const policyFinding = checkExportBucketPolicy(groups, config.bucket, config.region, policy, policyError);
  if (policyFinding) {
    findings.push(policyFinding);
  }
  return findings;
}

/** FULL: one backup of each group, with the plan's name and tag, then wake the reconciler. */
async function startFull(config: SelfTestConfig, groups: Map<string, ReplicationGroup>, deps: SelfTestDeps): Promise<FullTarget[]> {
  const targets: FullTarget[] = [];
  const findings: Finding[] = [];
  for (const [id, g] of groups) {
    const snapshotName = planSnapshotName(id, now(deps));
    const clusterMode = g.ClusterEnabled === true || (g.NodeGroups?.length ?? 1) > 1;
    // As the reconciler does: cluster mode disabled backs up a member (a replica when there is one).
    const members = g.NodeGroups?.[0]?.NodeGroupMembers ?? [];
    const member = members.find((m) => m.CurrentRole === 'replica')?.CacheClusterId ?? members[0]?.CacheClusterId ?? g.MemberClusters?.[0];
    try {
      await deps.elasticache.send(new CreateSnapshotCommand({
        SnapshotName: snapshotName,
        ...(clusterMode || !member ? { ReplicationGroupId: id } : { CacheClusterId: member }),
        Tags: [{ Key: PLAN_TAG_KEY, Value: config.planId }],
      }));
      targets.push({ replicationGroupId: id, snapshotName });
    } catch (e) {
      findings.push({
        group: id,
        step: `take the backup ${snapshotName}`,
        error: awsError(e),
        fix: 'the reconciler makes the same call: check its role (elasticache:CreateSnapshot and AddTagsToResource on the plan\'s '
          + 'names), the group\'s status and the quota of 20 manual backups per node per 24 hours',
      });
    }
  }
  if (findings.length > 0) {
    throw new Error(failureMessage(findings));
  }
  await invokeReconciler(config, deps);
  return targets;
}

async function observeFull(config: SelfTestConfig, target: FullTarget, elapsedSeconds: number, deps: SelfTestDeps): Promise<FullObservation> {
  let snapshotStatus: string | undefined;
  try {
    const res = await deps.elasticache.send(new DescribeSnapshotsCommand({ SnapshotName: target.snapshotName }));
    snapshotStatus = res.Snapshots?.[0]?.SnapshotStatus;
  } catch (e) {
    if ((e as { name?: string }).name !== 'SnapshotNotFoundFault') {
      throw e;
    }
  }
  const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: manifestPrefix(target.replicationGroupId) }));
  const key = (listed.Contents ?? []).map((o) => o.Key ?? '').find((k) => k.endsWith(`_${target.snapshotName}.json`));
  let manifest: FullObservation['manifest'];
  if (key) {
    const text = await (await deps.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }))).Body?.transformToString();
    manifest = JSON.parse(text ?? '{}');
  }
  return { snapshotStatus, manifest, elapsedSeconds, waitSeconds: config.waitSeconds ?? 3300 };
}

async function invokeReconciler(config: SelfTestConfig, deps: SelfTestDeps): Promise<void> {
  if (!deps.lambda || !config.reconcilerFunctionName) {
    return;
  }
  await deps.lambda.send(new InvokeCommand({
    FunctionName: config.reconcilerFunctionName,
    InvocationType: 'Event',
    Payload: new TextEncoder().encode(JSON.stringify({ source: 'cdk-elasticache-backup.self-test' })),
  }));
}

function now(deps: SelfTestDeps): Date {
  return deps.now?.() ?? new Date();
}

function truncate(text: string): string {
  return text.length <= MAX_DATA_CHARS ? text : `${text.slice(0, MAX_DATA_CHARS - 20)}... (see the log)`;
}

let clients: SelfTestDeps | undefined;

/** Lambda entry point: the same code serves onEvent and, with SELF_TEST_PHASE=isComplete, the FULL waiter. */
export async function handler(event: SelfTestEvent): Promise<SelfTestResponse | { IsComplete: boolean }> {
  clients ??= {
    elasticache: new ElastiCacheClient({}),
    s3: new S3Client({}),
    lambda: new LambdaClient({}),
    log: (message, details) => console.log(JSON.stringify({ message, details })),
  };
  return process.env.SELF_TEST_PHASE === 'isComplete' ? isComplete(event, clients) : onEvent(event, clients);
}
