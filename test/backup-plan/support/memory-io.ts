/**
 * ElastiCache and an S3 bucket in memory behind the reconciler's `ReconcileIo`, for the tests that run reconcileGroup
 * or runPlan. S3's conditional writes behave as documented: a failed If-None-Match or If-Match is a 412
 * PreconditionFailed, and If-Match on a key that does not exist is NoSuchKey. What a test varies is an option (the
 * group's status, S3's clock, refused calls) or a hook; what it asserts on is recorded here (calls, listed prefixes,
 * bodies read). Not a test file: jest's testMatch and Stryker's globs only take `*.test.ts`.
 */
import { PLAN_TAG_KEY } from '../../../lib/backup-plan/constants';
import { ObjectInfo } from '../../../lib/backup-plan/planner';
import { GroupDescription, ReconcileIo, SnapshotDescription, VersionedText, WriteCondition } from '../../../lib/backup-plan/reconcile-core';

/** An object of the bucket. */
export interface StoredObject extends VersionedText {
  /** The size listings and HEAD report. @default - the text's length */
  readonly sizeBytes?: number;
}

/** The calls the service can be told to refuse. */
export type RefusableCall = 'createSnapshot' | 'copySnapshot' | 'deleteSnapshot';

export interface MemoryIoOptions {
  /** The group's status (DescribeReplicationGroups). @default 'available' */
  readonly groupStatus?: string;
  /**
   * S3's own clock: every write is stamped with its LastModified (the reconciler's evidence of the true time).
   * @default - writes carry no LastModified, so the clock check finds no evidence in the bucket
   */
  readonly s3Now?: () => Date;
  /** The plan tag of every snapshot not tagged otherwise (a world where every snapshot is the plan's). @default - untagged */
  readonly defaultPlanTag?: string;
  /** The error the service answers a call with, every time, after recording it (a full quota, a denied bucket). */
  readonly refuse?: Partial<Record<RefusableCall, Error>>;
}

/** S3's answer to a write whose condition does not hold. */
export function preconditionFailed(): Error {
  return Object.assign(new Error('At least one of the pre-conditions you specified did not hold'),
    { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
}

export class MemoryIo implements ReconcileIo {
  public readonly region = 'us-east-1';
  public readonly bucketName = 'exports';
  public readonly objects = new Map<string, StoredObject>();
  public readonly snapshots: SnapshotDescription[] = [];
  /** The plan tag of each snapshot (CreateSnapshot's tags, or `addSnapshot`). */
  public readonly tags = new Map<string, string | undefined>();
  /** Every call that writes or that costs (PutObject, CreateSnapshot, CopySnapshot, ListTagsForResource, DeleteSnapshot), in order. */
  public readonly calls: string[] = [];
  /** The prefix of every ListObjectsV2. */
  public readonly listed: string[] = [];
  /** The key of every GetObject of a body (getText). */
  public readonly bodiesRead: string[] = [];
  /** Runs once, inside the named call (describeGroup, createSnapshot), before it takes effect: to interleave another writer. */
  public hooks: Record<string, (() => Promise<void>) | undefined> = {};
  private etags = 0;

  constructor(private readonly options: MemoryIoOptions = {}) {}

  /** Writes an object unconditionally; resolves to its new ETag. LastModified: the given one, else S3's clock. */
  public put(key: string, text: string, lastModified: Date | undefined = this.options.s3Now?.()): string {
    const etag = `"e${++this.etags}"`;
    this.objects.set(key, { text, etag, lastModified });
    return etag;
  }

  /** An object written by someone else (an export's `.rdb`): listed with its own size and LastModified; its body is empty. */
  public putListed(o: ObjectInfo): void {
    this.objects.set(o.key, { text: '', etag: o.etag ?? `"e${++this.etags}"`, lastModified: o.lastModified, sizeBytes: o.sizeBytes });
  }

  /** A snapshot listed by DescribeSnapshots, carrying the plan tag `planTag` (none: untagged). */
  public addSnapshot(snapshot: SnapshotDescription, planTag?: string): void {
    this.snapshots.push(snapshot);
    if (planTag !== undefined) {
      this.tags.set(snapshot.name, planTag);
    }
  }

  /** The recorded calls that start with `prefix` (e.g. 'CreateSnapshot'). */
  public callsOf(prefix: string): string[] {
    return this.calls.filter((c) => c.startsWith(prefix));
  }

  public count(prefix: string): number {
    return this.callsOf(prefix).length;
  }

  public async describeSnapshots(): Promise<SnapshotDescription[]> {
    return [...this.snapshots];
  }
  public async describeClusterSnapshots(): Promise<SnapshotDescription[]> {
    return [];
  }
  public async describeGroup(): Promise<GroupDescription> {
    await this.hook('describeGroup');
    return { status: this.options.groupStatus ?? 'available', clusterModeEnabled: true };
  }
  public async listObjects(prefix: string, startAfter?: string): Promise<ObjectInfo[]> {
    this.listed.push(prefix);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (startAfter === undefined || k > startAfter)).sort()
      .map((key) => {
        const o = this.objects.get(key)!;
        return { key, sizeBytes: sizeOf(o), etag: o.etag, lastModified: o.lastModified };
      });
  }
  public async headObject(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { key, sizeBytes: sizeOf(o), etag: o.etag, versionId: o.etag, lastModified: o.lastModified };
  }
  public async getText(key: string): Promise<string | undefined> {
    this.bodiesRead.push(key);
    return this.objects.get(key)?.text;
  }
  public async putText(key: string, body: string): Promise<void> {
    this.calls.push(`PutObject ${key}`);
    this.put(key, body);
  }
  public async getVersionedText(key: string): Promise<VersionedText | undefined> {
    return this.objects.get(key);
  }
  public async putTextIf(key: string, body: string, condition: WriteCondition): Promise<string> {
    this.calls.push(`PutObject ${key} ${condition.ifMatch ? `If-Match ${condition.ifMatch}` : 'If-None-Match *'}`);
    const current = this.objects.get(key);
    if (condition.ifNoneMatch === '*' && current) {
      throw preconditionFailed();
    }
    if (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch) {
      throw current ? preconditionFailed() : Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    }
    return this.put(key, body);
  }
  public async readRange(): Promise<Uint8Array> {
    return new Uint8Array();
  }
  public async createSnapshot(r: { snapshotName: string; tags: Record<string, string> }): Promise<void> {
    await this.hook('createSnapshot');
    this.calls.push(`CreateSnapshot ${r.snapshotName}`);
    this.refuseIfTold('createSnapshot');
    this.snapshots.push({ name: r.snapshotName, source: 'manual', status: 'creating', shardCount: 1 });
    this.tags.set(r.snapshotName, r.tags[PLAN_TAG_KEY]);
  }
  public async copySnapshot(r: { sourceSnapshotName: string }): Promise<void> {
    this.calls.push(`CopySnapshot ${r.sourceSnapshotName}`);
    this.refuseIfTold('copySnapshot');
  }
  public async snapshotTag(name: string, tagKey: string): Promise<string | undefined> {
    this.calls.push(`ListTagsForResource ${name}`);
    return tagKey === PLAN_TAG_KEY ? this.tags.get(name) ?? this.options.defaultPlanTag : undefined;
  }
  /** Recorded only: the snapshot stays listed (the tests assert on the call, not on a later listing). */
  public async deleteSnapshot(name: string): Promise<void> {
    this.calls.push(`DeleteSnapshot ${name}`);
    this.refuseIfTold('deleteSnapshot');
  }

  private async hook(name: string): Promise<void> {
    const h = this.hooks[name];
    this.hooks[name] = undefined;
    await h?.();
  }

  private refuseIfTold(call: RefusableCall): void {
    const error = this.options.refuse?.[call];
    if (error) {
      throw error;
    }
  }
}

function sizeOf(o: StoredObject): number {
  return o.sizeBytes ?? o.text.length;
}
