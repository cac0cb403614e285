/**
 * Runs the rendered state machine locally (aws-local-stepfunctions) against an in-memory ElastiCache: every SDK-call
 * task and Lambda task is replaced by a local handler; Wait states and retry intervals take 0 ms. The fake enforces
 * what IAM enforces in AWS (create only with the drill tag, delete only tagged groups), so a definition that tried to
 * touch another group would fail here too. The report and metrics come from the real summary code.
 */
import { drillStack, renderedAsl } from './restore-drill-fixture';
import { DrillConfig } from '../../lib/drill/drill-constants';
import { DrillOutcome, planDrill, summarizeDrill } from '../../lib/drill/drill-plan';
import { manifestV2, verifiedShard } from '../manifest/fixtures';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node.js 22+); the machines run Node.js 20.
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
  (Promise as unknown as { withResolvers: () => unknown }).withResolvers = () => {
    let resolve: unknown;
    let reject: unknown;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

// The package's types are ESM; its CommonJS build is what jest loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });

const { drill, template } = drillStack();
const asl = renderedAsl(template);
const DRILL_TAG = 'cdk-elasticache-backup:drill';
const T0 = Date.parse('2026-12-02T10:00:00.000Z');

class AwsError extends Error {
  constructor(name: string, message = name) {
    super(message);
    this.name = name;
  }
}

interface FakeGroup {
  id: string;
  tags: Record<string, string>;
  statuses: string[];
  deleted: boolean;
}

/** An in-memory ElastiCache with a clock: each describe advances it by the poll interval. */
class FakeElastiCache {
  public readonly groups = new Map<string, FakeGroup>();
  public readonly calls: string[] = [];
  public now = T0;
  /** Errors DeleteReplicationGroup throws before it succeeds. */
  public deleteErrors: string[] = [];

  constructor(private readonly statuses: string[], private readonly drillId: string) {}

  public create(p: Record<string, any>): Record<string, unknown> {
    this.calls.push(`create ${p.ReplicationGroupId}`);
    const tags = Object.fromEntries((p.Tags as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value]));
    if (tags[DRILL_TAG] !== this.drillId || !p.TransitEncryptionEnabled || !p.AtRestEncryptionEnabled || !p.AuthToken) {
      throw new AwsError('ElastiCache.AccessDeniedException', 'IAM: create only with the drill tag, encryption and a token');
    }
    const existing = this.groups.get(p.ReplicationGroupId);
    if (existing && !existing.deleted) {
      throw new AwsError('ElastiCache.ReplicationGroupAlreadyExistsException');
    }
    this.groups.set(p.ReplicationGroupId, { id: p.ReplicationGroupId, tags, statuses: [...this.statuses], deleted: false });
    return { ReplicationGroup: { ReplicationGroupId: p.ReplicationGroupId, Status: 'creating' } };
  }

  public describe(p: Record<string, any>): Record<string, unknown> {
    this.calls.push(`describe ${p.ReplicationGroupId}`);
    this.now += 60_000;
    const g = this.groups.get(p.ReplicationGroupId);
    if (!g || g.deleted) {
      throw new AwsError('ElastiCache.ReplicationGroupNotFoundException');
    }
    const status = g.statuses.length > 1 ? g.statuses.shift()! : g.statuses[0];
    return {
      ReplicationGroups: [{
        ReplicationGroupId: g.id,
        Status: status,
        NodeGroups: [{ NodeGroupId: '0001', PrimaryEndpoint: { Address: `master.${g.id}.cache.local`, Port: 6379 } }],
      }],
    };
  }

  public delete(p: Record<string, any>): Record<string, unknown> {
    this.calls.push(`delete ${p.ReplicationGroupId}`);
    const g = this.groups.get(p.ReplicationGroupId);
    if (!g || g.deleted) {
      throw new AwsError('ElastiCache.ReplicationGroupNotFoundException');
    }
    if (g.tags[DRILL_TAG] !== this.drillId) {
      throw new AwsError('ElastiCache.AccessDeniedException', 'IAM: delete only groups carrying the drill tag');
    }
    const error = this.deleteErrors.shift();
    if (error) {
      throw new AwsError(error);
    }
    if (g.statuses[0] === 'creating') {
      throw new AwsError('ElastiCache.InvalidReplicationGroupStateException', 'still creating');
    }
    g.deleted = true;
    return {};
  }

  /** Groups that exist and are not deleted. */
  public live(): string[] {
    return [...this.groups.values()].filter((g) => !g.deleted).map((g) => g.id);
  }
}

const manifest = manifestV2({
  group: 'orders',
  time: new Date(T0 - 3_600_000),
  snapshotName: 'automatic.orders-2026-12-02-09-00',
  exportName: 'ceb-x-orders',
  shards: [verifiedShard('ceb-x-orders-0001.rdb', 1000, 'v1', '"e1"')],
});

const config: DrillConfig = {
  bucket: 'replica',
  partition: 'aws',
  region: 'us-west-2',
  drillId: drill.drillId,
  groups: [{ replicationGroupId: 'orders' }],
  maxNodeType: 'cache.r7g.xlarge',
  pollIntervalSeconds: 60,
  maxWaitSeconds: 6 * 60,
  executionTimeoutSeconds: 4 * 3600,
  scheduleSeconds: 7 * 86400,
  sampleKeys: 0,
};

interface Scenario {
  statuses?: string[];
  verify?: () => Record<string, unknown>;
  resolve?: () => unknown;
  existing?: 'none' | 'running' | 'orphan';
  deleteErrors?: string[];
  preexisting?: boolean;
}

const PASSING = { verdict: 'MATCH', passed: true, expectedKeys: 2, foundKeys: 2, restoredKeysRatio: 1 };

async function runDrill(s: Scenario) {
  const fake = new FakeElastiCache(s.statuses ?? ['creating', 'creating', 'available'], drill.drillId);
  fake.deleteErrors = [...(s.deleteErrors ?? [])];
  if (s.preexisting) {
    fake.groups.set('ceb-drill-other', { id: 'x', tags: {}, statuses: ['available'], deleted: false });
  }
  const reports: Array<{ Key: string; Body: Record<string, any> }> = [];
  const metrics: Array<Array<Record<string, any>>> = [];
  const verifierInputs: Array<Record<string, any>> = [];
  const clock = () => new Date(fake.now).toISOString();
  const machine = new StateMachine(asl as any, { validationOptions: { checkArn: false, checkPaths: false } });
  const execution = machine.run({ replicationGroupId: 'orders' }, {
    overrides: {
      taskResourceLocalHandlers: {
        ResolveExport: () => {
          if (s.resolve) {
            return s.resolve() as any;
          }
          return planDrill({ config, replicationGroupId: 'orders', manifestKey: 'manifests/orders/x.json', manifest, nodeType: 'cache.r7g.large', existing: s.existing ?? 'none', warnings: [], now: new Date(fake.now) }) as any;
        },
        GenerateAuthToken: () => ({ RandomPassword: 'a'.repeat(64) }),
        CreateDrillGroup: (p: any) => fake.create(p) as any,
        CreateShardedDrillGroup: (p: any) => fake.create(p) as any,
        DescribeDrillGroup: (p: any) => fake.describe(p) as any,
        VerifyKeyspace: (p: any) => { verifierInputs.push(p); fake.now += 20_000; return (s.verify ?? (() => PASSING))() as any; },
        DeleteDrillGroup: (p: any) => fake.delete(p) as any,
        SummarizeDrill: (p: any) => summarizeDrill(p.outcome as DrillOutcome, new Date(fake.now)) as any,
        WriteReport: (p: any) => { reports.push({ Key: p.Key, Body: p.Body }); return {}; },
        PublishMetrics: (p: any) => { metrics.push(p.MetricData); return {}; },
      },
      waitTimeOverrides: { WaitForGroup: 0 },
      retryIntervalOverrides: Object.fromEntries(Object.keys(asl.States).map((name) => [name, 0])),
    },
    context: { Execution: { Name: 'drill-orders-1' }, State: { get EnteredTime() { return clock(); } } } as any,
  });
  const retries: string[] = [];
  const entered: string[] = [];
  let outcome: { status: 'succeeded'; output: any } | { status: 'failed'; error: string };
  try {
    outcome = { status: 'succeeded', output: await execution.result };
  } catch (e) {
    outcome = { status: 'failed', error: String((e as Error).message ?? e) };
  }
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') {
      entered.push((event as any).state.name);
    }
    if (event.type === 'StateRetried') {
      retries.push((event as any).state.name);
    }
  }
  return { fake, outcome, reports, metrics, verifierInputs, retries, lastState: entered[entered.length - 1] };
}

describe('RestoreDrill state machine run locally against a fake ElastiCache', () => {
  test('success: restores, verifies, deletes the group, writes a passing report with the RTO and publishes 3 metrics', async () => {
    const r = await runDrill({});
    expect(r.outcome.status).toBe('succeeded');
    expect(r.lastState).toBe('DrillPassed');
    expect(r.fake.calls).toEqual(['create ceb-drill-' + r.fake.calls[0].split('ceb-drill-')[1], ...Array(3).fill(expect.stringMatching(/^describe ceb-drill-/)), expect.stringMatching(/^delete ceb-drill-/)]);
    expect(r.fake.live()).toEqual([]);
    expect(r.verifierInputs[0]).toMatchObject({ endpoints: [{ host: expect.stringMatching(/^master\.ceb-drill-/), port: 6379 }], clusterMode: false, tls: true, authToken: 'a'.repeat(64), manifest: { replicationGroupId: 'orders' } });
    expect(r.reports).toHaveLength(1);
    const report = r.reports[0];
    expect(report.Key).toMatch(/^drills\/orders\/\d{8}t\d{6}z\.json$/);
    expect(report.Body).toMatchObject({
      verdict: 'pass',
      replicationGroupId: 'orders',
      rtoSeconds: 180,
      timeToVerifiedSeconds: 200,
      rpoSecondsAtDrill: 3600,
      keys: { expected: 2, found: 2, ratio: 1 },
      nodeType: 'cache.r7g.large',
      shardCount: 1,
      cleanup: { groupCreatedByThisDrill: true, groupDeleted: true },
      export: { manifestKey: 'manifests/orders/x.json', snapshotName: 'automatic.orders-2026-12-02-09-00' },
    });
    expect(r.metrics[0].map((m) => [m.MetricName, m.Value])).toEqual([['RestoreDrillSucceeded', 1], ['RestoreDurationSeconds', 180], ['RestoredKeysRatio', 1]]);
  });

  test('failed creation (create-failed): no verification, the group is deleted, the report and metric say failed', async () => {
    const r = await runDrill({ statuses: ['creating', 'create-failed'] });
    expect(r.outcome.status).toBe('failed');
    expect(r.lastState).toBe('DrillFailed');
    expect(r.verifierInputs).toEqual([]);
    expect(r.fake.calls.filter((c) => c.startsWith('delete'))).toHaveLength(1);
    expect(r.fake.live()).toEqual([]);
    expect(r.reports[0].Body).toMatchObject({ verdict: 'fail', failure: { Error: 'DrillRestoreFailed' }, cleanup: { groupDeleted: true } });
    expect(r.metrics[0].map((m) => [m.MetricName, m.Value])).toEqual([['RestoreDrillSucceeded', 0]]);
  });

  test('verifier mismatch: the group is deleted, the report carries both counts and the ratio, the drill fails', async () => {
    const r = await runDrill({ verify: () => ({ verdict: 'MISSING_KEYS', passed: false, expectedKeys: 2, foundKeys: 1, restoredKeysRatio: 0.5 }) });
    expect(r.outcome.status).toBe('failed');
    expect(r.fake.live()).toEqual([]);
    expect(r.reports[0].Body).toMatchObject({ verdict: 'fail', keys: { expected: 2, found: 1, ratio: 0.5, verdict: 'MISSING_KEYS' }, cleanup: { groupDeleted: true } });
    expect(r.metrics[0].map((m) => [m.MetricName, m.Value])).toEqual([['RestoreDrillSucceeded', 0], ['RestoreDurationSeconds', 180], ['RestoredKeysRatio', 0.5]]);
  });

  test('timeout: after maxPolls the drill gives up, and the cleanup retries the delete until the group can be deleted', async () => {
    // The group stays 'creating' for 8 describes; the budget is 6 polls; the delete is refused while it is creating.
    const r = await runDrill({ statuses: [...Array(8).fill('creating'), 'available'] });
    expect(r.outcome.status).toBe('failed');
    expect(r.fake.calls.filter((c) => c.startsWith('describe'))).toHaveLength(6);
    expect(r.verifierInputs).toEqual([]);
    expect(r.reports[0].Body).toMatchObject({ verdict: 'fail', failure: { Error: 'DrillTimeout' } });
    // Deleting a creating group fails with InvalidReplicationGroupState; the fake never leaves 'creating' on its own
    // here, so the cleanup exhausts its retries and the report says the cleanup failed.
    expect(r.retries.filter((n) => n === 'DeleteDrillGroup').length).toBe(60);
    expect(r.reports[0].Body.cleanup).toMatchObject({ groupDeleted: false, error: { Error: 'ElastiCache.InvalidReplicationGroupStateException' } });
  });

  test('a cleanup that must retry: two throttling errors, then the delete succeeds and the drill passes', async () => {
    const r = await runDrill({ deleteErrors: ['ElastiCache.ThrottlingException', 'ElastiCache.ThrottlingException'] });
    expect(r.retries.filter((n) => n === 'DeleteDrillGroup')).toHaveLength(2);
    expect(r.fake.calls.filter((c) => c.startsWith('delete'))).toHaveLength(3);
    expect(r.fake.live()).toEqual([]);
    expect(r.outcome.status).toBe('succeeded');
    expect(r.reports[0].Body).toMatchObject({ verdict: 'pass', cleanup: { groupDeleted: true } });
  });

  test('another drill running: nothing is created or deleted, no report or metric is written', async () => {
    const r = await runDrill({ existing: 'running' });
    expect(r.outcome.status).toBe('failed');
    expect(r.lastState).toBe('DrillSkipped');
    expect(r.fake.calls).toEqual([]);
    expect(r.reports).toEqual([]);
    expect(r.metrics).toEqual([]);
  });

  test('losing the create race to another drill: its group is left alone (no delete), no report', async () => {
    const racing = await runDrillWithExistingGroup();
    expect(racing.fake.calls).toEqual([expect.stringMatching(/^create ceb-drill-/)]);
    expect(racing.fake.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(racing.fake.live()).toHaveLength(1);
    expect(racing.reports).toEqual([]);
  });

  test('a resolve failure (preflight refused) creates nothing, deletes nothing, and reports the failure', async () => {
    const r = await runDrill({ resolve: () => { throw new AwsError('DrillPreflightFailed', 'restore preflight failed: no export'); } });
    expect(r.outcome.status).toBe('failed');
    expect(r.fake.calls).toEqual([]);
    expect(r.reports[0].Body).toMatchObject({ verdict: 'fail', replicationGroupId: 'orders', failure: { Error: 'DrillPreflightFailed' }, cleanup: { groupCreatedByThisDrill: false } });
    expect(r.metrics[0]).toEqual([expect.objectContaining({ MetricName: 'RestoreDrillSucceeded', Value: 0 })]);
  });
});

/** A run where the temporary id is already taken when this drill creates it (the other drill won the race). */
async function runDrillWithExistingGroup() {
  const fake = new FakeElastiCache(['available'], drill.drillId);
  const plan = planDrill({ config, replicationGroupId: 'orders', manifestKey: 'manifests/orders/x.json', manifest, nodeType: 'cache.r7g.large', existing: 'none', warnings: [], now: new Date(T0) });
  fake.groups.set(plan.drillGroupId, { id: plan.drillGroupId, tags: { [DRILL_TAG]: drill.drillId }, statuses: ['creating'], deleted: false });
  const reports: unknown[] = [];
  const machine = new StateMachine(asl as any, { validationOptions: { checkArn: false, checkPaths: false } });
  const execution = machine.run({ replicationGroupId: 'orders' }, {
    overrides: {
      taskResourceLocalHandlers: {
        ResolveExport: () => plan as any,
        GenerateAuthToken: () => ({ RandomPassword: 'b'.repeat(64) }),
        CreateDrillGroup: (p: any) => fake.create(p) as any,
        DeleteDrillGroup: (p: any) => fake.delete(p) as any,
        WriteReport: (p: any) => { reports.push(p); return {}; },
      },
      waitTimeOverrides: { WaitForGroup: 0 },
    },
    context: { Execution: { Name: 'drill-orders-2' }, State: { EnteredTime: new Date(T0).toISOString() } } as any,
  });
  await expect(execution.result).rejects.toThrow(/another drill of this group holds its temporary group/);
  return { fake, reports };
}
