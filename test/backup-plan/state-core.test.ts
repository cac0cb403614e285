/**
 * The reconciler's state in reconcile-core (reconcileGroup), on an in-memory ElastiCache and bucket that honour S3's
 * conditional writes: unreadable states fail loudly and are never overwritten, overlapping runs lose nothing, the
 * legacy key is adopted once, `created` is rebuilt from the plan tag, and another plan's tag refuses the group.
 */
import { MemoryIo } from './support/memory-io';
import { legacyStateKey, planSnapshotName, stateKey } from '../../lib/backup-plan/constants';
import { GroupConfig } from '../../lib/backup-plan/planner';
import { ForeignPlanError, MAX_STATE_ATTEMPTS, reconcileGroup, RunOptions, StateConflictError } from '../../lib/backup-plan/reconcile-core';
import { StateError } from '../../lib/backup-plan/state';

const G = 'orders';
const PLAN = 'plan-a';
const OTHER_PLAN = 'plan-b';
const T0 = new Date('2026-03-10T12:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const KEY = stateKey(G, PLAN);
const CONFIG: GroupConfig = {
  replicationGroupId: G, intervalSeconds: 75 * 60, retentionSeconds: 7 * 86_400, rpoTargetSeconds: 8100, exportAutomated: false,
};

/** A backup the plan (or another plan) made `minutesAgo` before T0, available, tagged `plan` (none: untagged). */
function backup(io: MemoryIo, minutesAgo: number, plan: string | undefined): string {
  const name = planSnapshotName(G, at(-minutesAgo));
  io.addSnapshot({ name, source: 'manual', status: 'available', createTime: at(-minutesAgo), shardCount: 1 }, plan);
  return name;
}

const options = (now: Date, over: Partial<RunOptions> = {}): RunOptions => ({ planId: PLAN, now: () => now, random: () => 'aaaaaaaa', ...over });
const stored = (io: MemoryIo) => JSON.parse(io.objects.get(KEY)!.text);

describe('an unreadable state fails the run loudly and is never written over', () => {
  test.each([
    ['empty', ''],
    ['truncated', '{"formatVersion":2,"exportAttempts":{},"created":[{"name":"ceb-'],
    ['not JSON', 'PK\u0003\u0004 binary'],
    ['of a newer format', '{"formatVersion":3,"created":[],"exportAttempts":{},"consecutiveThrottles":0,"shards":{}}'],
    ['malformed (export in flight without its snapshot time)', JSON.stringify({
      formatVersion: 2,
      exportAttempts: {},
      created: [],
      consecutiveThrottles: 0,
      inFlight: { snapshotName: 's', snapshotSource: 'manual', shardCount: 1, exportName: 'x', attempt: 1, startedAt: T0.toISOString(), confirmed: true },
    })],
  ])('%s: StateError naming the object; nothing created, exported, deleted or written', async (_what, text) => {
    const io = new MemoryIo();
    backup(io, 26 * 60, PLAN);
    const etag = io.put(KEY, text);
    const error = await reconcileGroup(io, CONFIG, options(T0)).catch((e) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error.message).toContain(`backup plan state s3://exports/${KEY} `);
    expect(io.calls).toEqual([]);
    expect(io.objects.get(KEY)).toEqual({ text, etag });
  });

  test('the malformed in-flight export is named by field, not a RangeError', async () => {
    const io = new MemoryIo();
    io.put(KEY, JSON.stringify({ formatVersion: 1, inFlight: { snapshotName: 's', snapshotSource: 'manual', shardCount: 1, exportName: 'x', attempt: 1, startedAt: T0.toISOString(), confirmed: true } }));
    await expect(reconcileGroup(io, CONFIG, options(T0))).rejects.toThrow("field 'inFlight.snapshotCreateTime' must be an ISO date-time string, got nothing");
  });
});

describe('conditional writes', () => {
  test('a fresh state is created with If-None-Match, later versions with If-Match on the ETag read', async () => {
    const io = new MemoryIo();
    await reconcileGroup(io, CONFIG, options(T0));
    expect(io.calls).toEqual([
      `PutObject ${KEY} If-None-Match *`, // write-ahead of the backup
      `CreateSnapshot ${planSnapshotName(G, T0)}`,
    ]);
    const etag = io.objects.get(KEY)!.etag;
    io.snapshots[0] = { ...io.snapshots[0], status: 'available', createTime: T0 };
    await reconcileGroup(io, CONFIG, options(at(80)));
    expect(io.calls.filter((c) => c.startsWith('PutObject')).slice(1)[0]).toBe(`PutObject ${KEY} If-Match ${etag}`);
  });

  test('nothing happened in a fresh group: nothing is written', async () => {
    const io = new MemoryIo();
    backup(io, 10, PLAN); // recent backup of this plan (recorded again from its tag: that is a change, so one write)
    await reconcileGroup(io, CONFIG, options(T0));
    const writes = io.count('PutObject');
    await reconcileGroup(io, CONFIG, options(at(1)));
    expect(io.count('PutObject')).toBe(writes);
    const empty = new MemoryIo();
    const noSnapshots = { ...CONFIG, intervalSeconds: undefined };
    await reconcileGroup(empty, noSnapshots, options(T0));
    expect(empty.calls).toEqual([]);
  });

  test('two runs interleaved before the write-ahead: the loser re-plans on the winner\'s state; one backup, recorded once', async () => {
    const io = new MemoryIo();
    // Run B starts and finishes while run A is between its read of the state and its write-ahead.
    io.hooks.describeGroup = async () => {
      const b = await reconcileGroup(io, CONFIG, options(T0));
      expect(b.stateAttempts).toBe(1);
    };
    const a = await reconcileGroup(io, CONFIG, options(T0));
    expect(a.stateAttempts).toBe(2);
    expect(io.count('CreateSnapshot')).toBe(1);
    expect(stored(io).created.map((c: { name: string }) => c.name)).toEqual([planSnapshotName(G, T0)]);
  });

  test('another writer between the write-ahead and the final write: this run\'s backup and the other\'s both stay recorded', async () => {
    const io = new MemoryIo();
    // A throttle earlier: this run's successful call resets the count, so its final write changes the state.
    io.put(KEY, JSON.stringify({ formatVersion: 2, exportAttempts: {}, created: [], consecutiveThrottles: 1 }));
    const theirs = planSnapshotName(G, at(-5));
    io.hooks.createSnapshot = async () => {
      // An overlapping run recorded a backup of its own on top of this run's write-ahead.
      const state = stored(io);
      io.put(KEY, JSON.stringify({ ...state, created: [...state.created, { name: theirs, at: at(-5).toISOString() }] }));
    };
    const a = await reconcileGroup(io, CONFIG, options(T0));
    expect(a.stateAttempts).toBe(2);
    expect(stored(io).created.map((c: { name: string }) => c.name).sort()).toEqual([planSnapshotName(G, T0), theirs].sort());
    expect(stored(io).consecutiveThrottles).toBe(0);
  });

  test('the outcome of a call is replayed onto the other writer\'s state (a refused backup is marked refused there)', async () => {
    const io = new MemoryIo();
    io.createSnapshot = async () => {
      io.put(KEY, io.objects.get(KEY)!.text.replace('"consecutiveThrottles":0', '"consecutiveThrottles":0,"exportsCountAgainstQuota":true'));
      throw Object.assign(new Error('quota'), { name: 'SnapshotQuotaExceededFault' });
    };
    await reconcileGroup(io, CONFIG, options(T0));
    expect(stored(io)).toMatchObject({ exportsCountAgainstQuota: true, created: [{ name: planSnapshotName(G, T0), refused: true }] });
  });

  test(`a run that loses the write-ahead ${MAX_STATE_ATTEMPTS} times stops with StateConflictError, having called nothing`, async () => {
    const io = new MemoryIo();
    const put = io.putTextIf.bind(io);
    io.putTextIf = async (key, body, condition) => {
      io.put(KEY, JSON.stringify({ formatVersion: 2, exportAttempts: {}, created: [], consecutiveThrottles: 0 })); // always first
      return put(key, body, condition);
    };
    const error = await reconcileGroup(io, CONFIG, options(T0)).catch((e) => e);
    expect(error).toBeInstanceOf(StateConflictError);
    expect(error.message).toContain(`was changed by another writer ${MAX_STATE_ATTEMPTS} times`);
    expect(io.count('CreateSnapshot')).toBe(0);
    expect(io.count('PutObject')).toBe(MAX_STATE_ATTEMPTS);
  });
});

describe('the legacy state key', () => {
  test('is adopted once: the plan\'s key is created from it, the old object is left, later runs read the plan\'s key', async () => {
    const io = new MemoryIo();
    const mine = backup(io, 30, PLAN);
    const legacyText = JSON.stringify({
      formatVersion: 1,
      exportAttempts: { [mine]: 1 },
      created: [{ name: mine, at: at(-30).toISOString() }],
      consecutiveThrottles: 0,
      exportFailures: { [mine]: { failures: 1, lastError: 'ExportTimedOut', at: at(-10).toISOString() } },
    });
    io.put(legacyStateKey(G), legacyText);
    const first = await reconcileGroup(io, CONFIG, options(T0));
    expect(first.decision.notes[0]).toBe(`adopted the state of ${legacyStateKey(G)} (written before plan ids) as ${KEY}`);
    expect(io.calls).toContain(`PutObject ${KEY} If-None-Match *`);
    expect(stored(io).exportFailures[mine]).toMatchObject({ failures: 1, lastError: 'ExportTimedOut' });
    // The shared record's ownership claims are checked against the tag.
    expect(io.calls).toContain(`ListTagsForResource ${mine}`);
    expect(stored(io).created.map((c: { name: string }) => c.name)).toContain(mine);
    expect(io.objects.get(legacyStateKey(G))!.text).toBe(legacyText);
    io.objects.set(legacyStateKey(G), { text: 'garbage from an old version', etag: '"old"' });
    const second = await reconcileGroup(io, CONFIG, options(at(1)));
    expect(second.decision.notes.some((n) => n.startsWith('adopted'))).toBe(false);
  });

  test('an unreadable legacy state fails loudly naming the legacy key (delete it to rebuild)', async () => {
    const io = new MemoryIo();
    io.put(legacyStateKey(G), '{"formatVersion":1,');
    await expect(reconcileGroup(io, CONFIG, options(T0))).rejects.toThrow(`backup plan state s3://exports/${legacyStateKey(G)} is not valid JSON`);
    expect(io.count('PutObject')).toBe(0);
  });
});

describe('ownership from the plan tag', () => {
  test('a lost state is rebuilt from the tags: this plan\'s backups recorded, untagged ones not', async () => {
    const io = new MemoryIo();
    const mine = [backup(io, 300, PLAN), backup(io, 200, PLAN)];
    const untagged = backup(io, 100, undefined);
    const result = await reconcileGroup(io, CONFIG, options(T0));
    expect(result.rebuiltFromTags).toBe(2);
    const created = stored(io).created.map((c: { name: string }) => c.name);
    expect(created).toEqual(expect.arrayContaining(mine));
    expect(created).not.toContain(untagged);
    expect(stored(io).created.find((c: { name: string }) => c.name === mine[0]).at).toBe(at(-300).toISOString());
    // Recorded ones are not checked again; the untagged one is (it may be anyone's).
    io.calls.length = 0;
    await reconcileGroup(io, CONFIG, options(at(1)));
    expect(io.calls.filter((c) => c.startsWith('ListTagsForResource'))).toEqual([`ListTagsForResource ${untagged}`]);
  });

  test('at most maxTagChecks tag reads per run; the rest in the next runs', async () => {
    const io = new MemoryIo();
    const mine = Array.from({ length: 5 }, (_, i) => backup(io, 10 + i * 5, PLAN));
    await reconcileGroup(io, CONFIG, options(T0, { maxTagChecks: 2 }));
    expect(io.count('ListTagsForResource')).toBe(2);
    await reconcileGroup(io, CONFIG, options(at(1), { maxTagChecks: 2 }));
    await reconcileGroup(io, CONFIG, options(at(2), { maxTagChecks: 2 }));
    expect(io.count('ListTagsForResource')).toBe(5);
    expect(stored(io).created.map((c: { name: string }) => c.name).sort()).toEqual([...mine].sort());
  });

  test('a tag read that fails stops the checks for this run without failing it', async () => {
    const io = new MemoryIo();
    backup(io, 100, PLAN);
    backup(io, 90, PLAN);
    io.snapshotTag = async () => {
      io.calls.push('ListTagsForResource');
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    };
    const result = await reconcileGroup(io, CONFIG, options(T0));
    expect(io.count('ListTagsForResource')).toBe(1);
    expect(result.decision.notes.some((n) => n.includes('Throttling: Rate exceeded') && n.includes('checked in the next run'))).toBe(true);
  });

  test('another plan\'s tag on a plan-named backup of the group: ForeignPlanError naming both plans; nothing done or written', async () => {
    const io = new MemoryIo();
    backup(io, 26 * 60, PLAN);
    const foreign = backup(io, 60, OTHER_PLAN);
    const error = await reconcileGroup(io, CONFIG, options(T0)).catch((e) => e);
    expect(error).toBeInstanceOf(ForeignPlanError);
    expect(error.loud).toBe(true);
    expect(error.foreign).toEqual([{ snapshotName: foreign, planId: OTHER_PLAN }]);
    expect(error.message).toContain(`two backup plans protect replication group ${G}: this plan (${PLAN}) and ${OTHER_PLAN}`);
    expect(error.message).toContain(`${foreign} (tagged ${OTHER_PLAN})`);
    expect(error.message).toContain('until one plan is removed');
    expect(io.calls.filter((c) => !c.startsWith('ListTagsForResource'))).toEqual([]);
  });
});
