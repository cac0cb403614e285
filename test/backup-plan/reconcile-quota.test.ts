/**
 * The executor (reconcile-core.ts reconcileGroup) after a call refused for the per-node manual backup quota: a later
 * call of the same run that uses a slot is not made (it could only be refused too). Found by the adversarial
 * simulation (all inconvenient behaviours, seed 90): a run planned an export and a backup; the CopySnapshot was refused
 * for the quota (the plan's way of learning that exports count), and the CreateSnapshot that followed was refused too.
 * The service is in memory (support/memory-io.ts): it records the calls it receives and refuses the ones each test names.
 */
import { MemoryIo, RefusableCall } from './support/memory-io';
import { planSnapshotName, stateKey } from '../../lib/backup-plan/constants';
import { emptyState, GroupConfig } from '../../lib/backup-plan/planner';
import { reconcileGroup, RunOptions } from '../../lib/backup-plan/reconcile-core';
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

/** Every CreateSnapshot and CopySnapshot the service received, refused or not. */
const received = (io: MemoryIo) => io.calls.filter((c) => c.startsWith('CreateSnapshot ') || c.startsWith('CopySnapshot '));

const options = (now: Date): RunOptions => ({ planId: PLAN, now: () => now, random: () => 'aaaaaaaa' });

/**
 * The plan's backup of 80 minutes ago, not exported yet: at T0 both its export and the next backup (interval 75 min) are due.
 * The service refuses the calls in `refuse`; every snapshot carries the plan's tag.
 */
function world(refuse: Partial<Record<RefusableCall, Error>>): { io: MemoryIo; backup: string } {
  const io = new MemoryIo({ defaultPlanTag: PLAN, refuse });
  const backup = planSnapshotName(G, at(-80));
  io.addSnapshot({ name: backup, source: 'manual', status: 'available', createTime: at(-80), shardCount: 1 });
  io.put(stateKey(G, PLAN), serializeState({ ...emptyState(), created: [{ name: backup, at: at(-80).toISOString() }] }));
  return { io, backup };
}

describe('a call refused for the quota: no other call of the same run uses a slot', () => {
  test('the run plans an export and a backup: the CopySnapshot is refused for the quota, the CreateSnapshot is not made', async () => {
    const { io, backup } = world({ createSnapshot: quotaFault('CreateSnapshot'), copySnapshot: quotaFault('CopySnapshot') });
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(r.decision.actions.map((a) => a.kind)).toEqual(['StartExport', 'CreateSnapshot']);
    expect(received(io)).toEqual([`CopySnapshot ${backup}`]);
    expect(r.executed.map((x) => [x.action.kind, x.outcome])).toEqual([['StartExport', 'quota-exceeded'], ['CreateSnapshot', 'skipped']]);
    expect(r.executed[1].error).toBe('not called: the CopySnapshot before it in this run was refused for the quota');
    // Learned, and the backup never requested is not recorded (nor counted) as created.
    expect(r.state.exportsCountAgainstQuota).toBe(true);
    expect(r.state.created.map((c) => c.name)).toEqual([backup]);
  });

  test('a CopySnapshot refused for another reason (bucket permissions): the CreateSnapshot is still made', async () => {
    const denied = Object.assign(new Error('ElastiCache has not been granted READ and WRITE permissions on the bucket'),
      { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const { io, backup } = world({ copySnapshot: denied });
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(received(io)).toEqual([`CopySnapshot ${backup}`, `CreateSnapshot ${planSnapshotName(G, T0)}`]);
    expect(r.executed.map((x) => x.outcome)).toEqual(['refused', 'ok']);
  });

  test('the service has room: both calls are made', async () => {
    const { io, backup } = world({});
    const r = await reconcileGroup(io, CONFIG, options(T0));
    expect(received(io)).toEqual([`CopySnapshot ${backup}`, `CreateSnapshot ${planSnapshotName(G, T0)}`]);
    expect(r.executed.map((x) => x.outcome)).toEqual(['ok', 'ok']);
  });
});
