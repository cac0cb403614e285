/**
 * The reconciler's state in reconcile-core (reconcileGroup), on an in-memory ElastiCache and bucket that honour S3's
 * conditional writes: unreadable states fail loudly and are never overwritten, overlapping runs lose nothing, the
 * legacy key is adopted once, `created` is rebuilt from the plan tag, and another plan's tag refuses the group.
 */
import { legacyStateKey, planSnapshotName, PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { GroupConfig, ObjectInfo } from '../../lib/backup-plan/planner';
import {
  ForeignPlanError, GroupDescription, MAX_STATE_ATTEMPTS, reconcileGroup, ReconcileIo, RunOptions, SnapshotDescription, StateConflictError,
  VersionedText, WriteCondition,
} from '../../lib/backup-plan/reconcile-core';
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

class ConditionError extends Error {
  public readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number) {
    super(`At least one of the pre-conditions you specified did not hold (${name})`);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

/** ElastiCache and S3 in memory; S3 conditional writes as documented (412 on a failed condition). */
class MemoryIo implements ReconcileIo {
  public readonly region = 'us-east-1';
  public readonly bucketName = 'exports';
  public readonly objects = new Map<string, VersionedText>();
  public readonly snapshots: SnapshotDescription[] = [];
  public readonly tags = new Map<string, string>();
  public readonly calls: string[] = [];
  private etags = 0;
  /** Runs once, inside the named call, before it takes effect (to interleave another writer). */
  public hooks: Record<string, (() => Promise<void>) | undefined> = {};

  private async hook(name: string): Promise<void> {
    const h = this.hooks[name];
    this.hooks[name] = undefined;
    await h?.();
  }

  public write(key: string, text: string): string {
    const etag = `"e${++this.etags}"`;
    this.objects.set(key, { text, etag });
    return etag;
  }

  public async describeSnapshots(): Promise<SnapshotDescription[]> {
    return [...this.snapshots];
  }
  public async describeClusterSnapshots(): Promise<SnapshotDescription[]> {
    return [];
  }
  public async describeGroup(): Promise<GroupDescription> {
    await this.hook('describeGroup');
    return { status: 'available', clusterModeEnabled: true };
  }
  public async listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter)).sort()
      .map((key) => ({ key, sizeBytes: this.objects.get(key)!.text.length, etag: this.objects.get(key)!.etag }));
  }
  public async headObject(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { key, sizeBytes: o.text.length, etag: o.etag, versionId: o.etag };
  }
  public async getText(key: string): Promise<string | undefined> {
    return this.objects.get(key)?.text;
  }
  public async putText(key: string, body: string): Promise<void> {
    this.calls.push(`PutObject ${key}`);
    this.write(key, body);
  }
  public async getVersionedText(key: string): Promise<VersionedText | undefined> {
    return this.objects.get(key);
  }
  public async putTextIf(key: string, body: string, condition: WriteCondition): Promise<string> {
    this.calls.push(`PutObject ${key} ${condition.ifMatch ? `If-Match ${condition.ifMatch}` : 'If-None-Match *'}`);
    const current = this.objects.get(key);
    if (condition.ifNoneMatch === '*' && current) {
      throw new ConditionError('PreconditionFailed', 412);
    }
    if (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch) {
      throw current ? new ConditionError('PreconditionFailed', 412) : Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    }
    return this.write(key, body);
  }
  public async readRange(): Promise<Uint8Array> {
    return new Uint8Array();
  }
  public async createSnapshot(r: { snapshotName: string; tags: Record<string, string> }): Promise<void> {
    await this.hook('createSnapshot');
    this.calls.push(`CreateSnapshot ${r.snapshotName}`);
    this.snapshots.push({ name: r.snapshotName, source: 'manual', status: 'creating', shardCount: 1 });
    this.tags.set(r.snapshotName, r.tags[PLAN_TAG_KEY]);
  }
  public async copySnapshot(r: { sourceSnapshotName: string; targetSnapshotName: string }): Promise<void> {
    this.calls.push(`CopySnapshot ${r.sourceSnapshotName}`);
  }
  public async snapshotTag(name: string, tagKey: string): Promise<string | undefined> {
    this.calls.push(`ListTagsForResource ${name}`);
    return tagKey === PLAN_TAG_KEY ? this.tags.get(name) : undefined;
  }
  public async deleteSnapshot(name: string): Promise<void> {
    this.calls.push(`DeleteSnapshot ${name}`);
  }

  /** A backup the plan (or another plan) made `minutesAgo` before T0, available, tagged `plan` (none: untagged). */
  public backup(minutesAgo: number, plan: string | undefined): string {
    const name = planSnapshotName(G, at(-minutesAgo));
    this.snapshots.push({ name, source: 'manual', status: 'available', createTime: at(-minutesAgo), shardCount: 1 });
    if (plan) {
      this.tags.set(name, plan);
    }
    return name;
  }

  public count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
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
    io.backup(26 * 60, PLAN);
    const etag = io.write(KEY, text);
    const error = await reconcileGroup(io, CONFIG, options(T0)).catch((e) => e);
    expect(error).toBeInstanceOf(StateError);
    expect(error.message).toContain(`backup plan state s3://exports/${KEY} `);
    expect(io.calls).toEqual([]);
    expect(io.objects.get(KEY)).toEqual({ text, etag });
  });

  test('the malformed in-flight export is named by field, not a RangeError', async () => {
    const io = new MemoryIo();
    io.write(KEY, JSON.stringify({ formatVersion: 1, inFlight: { snapshotName: 's', snapshotSource: 'manual', shardCount: 1, exportName: 'x', attempt: 1, startedAt: T0.toISOString(), confirmed: true } }));
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
    io.backup(10, PLAN); // recent backup of this plan (recorded again from its tag: that is a change, so one write)
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
    io.write(KEY, JSON.stringify({ formatVersion: 2, exportAttempts: {}, created: [], consecutiveThrottles: 1 }));
    const theirs = planSnapshotName(G, at(-5));
    io.hooks.createSnapshot = async () => {
      // An overlapping run recorded a backup of its own on top of this run's write-ahead.
      const state = stored(io);
      io.write(KEY, JSON.stringify({ ...state, created: [...state.created, { name: theirs, at: at(-5).toISOString() }] }));
    };
    const a = await reconcileGroup(io, CONFIG, options(T0));
    expect(a.stateAttempts).toBe(2);
    expect(stored(io).created.map((c: { name: string }) => c.name).sort()).toEqual([planSnapshotName(G, T0), theirs].sort());
    expect(stored(io).consecutiveThrottles).toBe(0);
  });

  test('the outcome of a call is replayed onto the other writer\'s state (a refused backup is marked refused there)', async () => {
    const io = new MemoryIo();
    io.createSnapshot = async () => {
      io.write(KEY, io.objects.get(KEY)!.text.replace('"consecutiveThrottles":0', '"consecutiveThrottles":0,"exportsCountAgainstQuota":true'));
      throw Object.assign(new Error('quota'), { name: 'SnapshotQuotaExceededFault' });
    };
    await reconcileGroup(io, CONFIG, options(T0));
    expect(stored(io)).toMatchObject({ exportsCountAgainstQuota: true, created: [{ name: planSnapshotName(G, T0), refused: true }] });
  });

  test(`a run that loses the write-ahead ${MAX_STATE_ATTEMPTS} times stops with StateConflictError, having called nothing`, async () => {
    const io = new MemoryIo();
    const put = io.putTextIf.bind(io);
    io.putTextIf = async (key, body, condition) => {
      io.write(KEY, JSON.stringify({ formatVersion: 2, exportAttempts: {}, created: [], consecutiveThrottles: 0 })); // always first
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
    const mine = io.backup(30, PLAN);
    const legacyText = JSON.stringify({
      formatVersion: 1,
      exportAttempts: { [mine]: 1 },
      created: [{ name: mine, at: at(-30).toISOString() }],
      consecutiveThrottles: 0,
      exportFailures: { [mine]: { failures: 1, lastError: 'ExportTimedOut', at: at(-10).toISOString() } },
    });
    io.write(legacyStateKey(G), legacyText);
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
    io.write(legacyStateKey(G), '{"formatVersion":1,');
    await expect(reconcileGroup(io, CONFIG, options(T0))).rejects.toThrow(`backup plan state s3://exports/${legacyStateKey(G)} is not valid JSON`);
    expect(io.count('PutObject')).toBe(0);
  });
});

describe('ownership from the plan tag', () => {
  test('a lost state is rebuilt from the tags: this plan\'s backups recorded, untagged ones not', async () => {
    const io = new MemoryIo();
    const mine = [io.backup(300, PLAN), io.backup(200, PLAN)];
    const untagged = io.backup(100, undefined);
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
    const mine = Array.from({ length: 5 }, (_, i) => io.backup(10 + i * 5, PLAN));
    await reconcileGroup(io, CONFIG, options(T0, { maxTagChecks: 2 }));
    expect(io.count('ListTagsForResource')).toBe(2);
    await reconcileGroup(io, CONFIG, options(at(1), { maxTagChecks: 2 }));
    await reconcileGroup(io, CONFIG, options(at(2), { maxTagChecks: 2 }));
    expect(io.count('ListTagsForResource')).toBe(5);
    expect(stored(io).created.map((c: { name: string }) => c.name).sort()).toEqual([...mine].sort());
  });

  test('a tag read that fails stops the checks for this run without failing it', async () => {
    const io = new MemoryIo();
    io.backup(100, PLAN);
    io.backup(90, PLAN);
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
    io.backup(26 * 60, PLAN);
    const foreign = io.backup(60, OTHER_PLAN);
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
