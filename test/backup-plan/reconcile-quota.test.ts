/**
 * The executor (reconcile-core.ts reconcileGroup) after a call refused for the per-node manual backup quota: a later
 * call of the same run that uses a slot is not made (it could only be refused too). Found by the adversarial
 * simulation (all inconvenient behaviours, seed 90): a run planned an export and a backup; the CopySnapshot was refused
 * for the quota (the plan's way of learning that exports count), and the CreateSnapshot that followed was refused too.
 * The service here is the test's own: it counts the calls it receives and refuses them when its quota is full.
 */
import { planSnapshotName, PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { emptyState, GroupConfig, ObjectInfo } from '../../lib/backup-plan/planner';
import { GroupDescription, reconcileGroup, ReconcileIo, RunOptions, SnapshotDescription, VersionedText, WriteCondition } from '../../lib/backup-plan/reconcile-core';
import { serializeState } from '../../lib/backup-plan/state';

const G = 'orders';
const PLAN = 'plan-a';
const T0 = new Date('2026-03-10T12:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 8100, exportAutomated: false,
};

function quotaFault(call: string): Error {
  return Object.assign(new Error(`The request cannot be processed because it would exceed the maximum number of snapshots (${call}).`),
    { name: 'SnapshotQuotaExceededFault' });
}

/** ElastiCache and the bucket in memory; the service refuses the calls named in `full` for the quota. */
class QuotaIo implements ReconcileIo {
  public readonly region = 'us-east-1';
  public readonly bucketName = 'exports';
  public readonly objects = new Map<string, VersionedText>();
  public readonly snapshots: SnapshotDescription[] = [];
  /** Every CreateSnapshot and CopySnapshot the service received, refused or not. */
  public readonly received: string[] = [];
  private etags = 0;

  constructor(private readonly full: { create: boolean; copy: boolean; copyError?: Error }) {}

  public async describeSnapshots(): Promise<SnapshotDescription[]> {
    return [...this.snapshots];
  }
  public async describeClusterSnapshots(): Promise<SnapshotDescription[]> {
    return [];
  }
  public async describeGroup(): Promise<GroupDescription> {
    return { status: 'available', clusterModeEnabled: true };
  }
  public async listObjects(prefix: string): Promise<ObjectInfo[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()
      .map((key) => ({ key, sizeBytes: 1, etag: this.objects.get(key)!.etag }));
  }
  public async headObject(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { key, sizeBytes: o.text.length, etag: o.etag, versionId: o.etag };
  }
  public async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.text;
  }
  public async putText(key: string, body: string): Promise<void> {
    this.objects.set(key, { text: body, etag: `"e${++this.etags}"` });
  }
  public async getVersionedText(key: string): Promise<VersionedText | undefined> {
    return this.objects.get(key);
  }
  public async putTextIf(key: string, body: string, condition: WriteCondition): Promise<string> {
    const current = this.objects.get(key);
    if ((condition.ifNoneMatch === '*' && current) || (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch)) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    }
    const etag = `"e${++this.etags}"`;
    this.objects.set(key, { text: body, etag });
    return etag;
  }
  public async readRange(): Promise<Uint8Array> {
    return new Uint8Array();
  }
  public async createSnapshot(r: { snapshotName: string }): Promise<void> {
    this.received.push(`CreateSnapshot ${r.snapshotName}`);
    if (this.full.create) {
      throw quotaFault('CreateSnapshot');
    }
    this.snapshots.push({ name: r.snapshotName, source: 'manual', status: 'creating', shardCount: 1 });
  }
  public async copySnapshot(r: { sourceSnapshotName: string }): Promise<void> {
    this.received.push(`CopySnapshot ${r.sourceSnapshotName}`);
    if (this.full.copyError) {
      throw this.full.copyError;
    }
    if (this.full.copy) {
      throw quotaFault('CopySnapshot');
    }
  }
  public async snapshotTag(_name: string, tagKey: string): Promise<string | undefined> {
    return tagKey === PLAN_TAG_KEY ? PLAN : undefined;
  }
  public async deleteSnapshot(): Promise<void> {}
}

const options = (now: Date): RunOptions => ({ planId: PLAN, now: () => now, random: () => 'aaaaaaaa' });

/** The plan's backup of 80 minutes ago, not exported yet: at T0 both its export and the next backup (interval 75 min) are due. */
function world(full: { create: boolean; copy: boolean; copyError?: Error }): { io: QuotaIo; backup: string } {
  const io = new QuotaIo(full);
  const backup = planSnapshotName(G, at(-80));
  io.snapshots.push({ name: backup, source: 'manual', status: 'available', createTime: at(-80), shardCount: 1 });
  io.objects.set(stateKey(G, PLAN), { text: serializeState({ ...emptyState(), created: [{ name: backup, at: at(-80).toISOString() }] }), etag: '"e0"' });
  return { io, backup };
}

describe('a call refused for the quota: no other call of the same run uses a slot', () => {
  test('the run plans an export and a backup: the CopySnapshot is refused for the quota, the CreateSnapshot is not made', async () => {
    const { io, backup } = world({ create: true, copy: true });
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(r.decision.actions.map((a) => a.kind)).toEqual(['StartExport', 'CreateSnapshot']);
    expect(io.received).toEqual([`CopySnapshot ${backup}`]);
    expect(r.executed.map((x) => [x.action.kind, x.outcome])).toEqual([['StartExport', 'quota-exceeded'], ['CreateSnapshot', 'skipped']]);
    expect(r.executed[1].error).toBe('not called: the CopySnapshot before it in this run was refused for the quota');
    // Learned, and the backup never requested is not recorded (nor counted) as created.
    expect(r.state.exportsCountAgainstQuota).toBe(true);
    expect(r.state.created.map((c) => c.name)).toEqual([backup]);
  });

  test('a CopySnapshot refused for another reason (bucket permissions): the CreateSnapshot is still made', async () => {
    const denied = Object.assign(new Error('ElastiCache has not been granted READ and WRITE permissions on the bucket'),
      { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const { io, backup } = world({ create: false, copy: false, copyError: denied });
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(io.received).toEqual([`CopySnapshot ${backup}`, `CreateSnapshot ${planSnapshotName(G, T0)}`]);
    expect(r.executed.map((x) => x.outcome)).toEqual(['refused', 'ok']);
  });

  test('the service has room: both calls are made', async () => {
    const { io, backup } = world({ create: false, copy: false });
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(io.received).toEqual([`CopySnapshot ${backup}`, `CreateSnapshot ${planSnapshotName(G, T0)}`]);
    expect(r.executed.map((x) => x.outcome)).toEqual(['ok', 'ok']);
  });
});
