/**
 * A versioned S3 bucket whose objects carry their truth: which snapshot's data they hold (and which shard), and whether
 * that data is intact. The reconciler only ever sees what S3 would show (keys, sizes, version ids, ETags, times, bytes);
 * the oracle reads the truth.
 */
import { hash32 } from './rng';

/**
 * What an object's bytes really are.
 * - `intact`: the complete dump the service wrote.
 * - `truncated`: a prefix of it (a valid header, no EOF/trailer: `Unexpected EOF reading RDB file`).
 * - `empty`: 0 bytes.
 * - `corrupt`: the right size, wrong bytes (the checksum fails).
 */
export type Integrity = 'intact' | 'truncated' | 'empty' | 'corrupt';

export interface Content {
  /** The snapshot whose data this is; undefined: somebody else's data (planted, or an overwrite). */
  readonly snapshot?: string;
  /** 1-based shard of that snapshot. */
  readonly shard?: number;
  readonly integrity: Integrity;
}

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly etag: string;
  readonly sizeBytes: number;
  /** Epoch ms. */
  readonly lastModified: number;
  readonly deleteMarker: boolean;
  /** Truth about an `.rdb` object (absent for text objects). */
  readonly content?: Content;
  /** Text objects (manifests, state, verification results). */
  readonly body?: string;
}

/** Whether `content` is an intact copy of shard `shard` of `snapshot`: the only thing a restore can use. */
export function holdsIntact(content: Content | undefined, snapshot: string, shard: number): boolean {
  return content !== undefined && content.snapshot === snapshot && content.shard === shard && content.integrity === 'intact';
}

/** The size of an intact shard of a snapshot: deterministic, so a planted or overwritten object of another size stands out. */
export function intactSize(snapshot: string, shard: number): number {
  return 1_000_000 + (parseInt(hash32(`${snapshot}#${shard}`), 16) % 1_000_000);
}

/** Version ids are unique across buckets; replication keeps the source's id (as S3 replication does). */
export class VersionIds {
  private n = 0;
  public next(): string {
    this.n++;
    return `v${this.n.toString(36).padStart(8, '0')}`;
  }
}

/** What a PUT writes (a replication keeps the source's version id and ETag). */
export interface ObjectInit {
  readonly sizeBytes: number;
  readonly content?: Content;
  readonly body?: string;
  readonly etag?: string;
  readonly versionId?: string;
}

export class VersionedBucket {
  /** Every version of every key, oldest first. */
  private readonly objects = new Map<string, ObjectVersion[]>();
  /** Every key that ever existed, sorted (for prefix listings). */
  private readonly keys: string[] = [];
  /** Keys that ever held data of a snapshot (the oracle looks for intact copies there, by content, not by name). */
  private readonly bySnapshot = new Map<string, Set<string>>();
  /** Counter of changes to current versions, per key prefix folder (cheap invalidation for the oracle's caches). */
  public changes = 0;

  constructor(public readonly name: string, private readonly ids: VersionIds) {}

  /** Writes a new current version. `versionId` is given by replication (same id as the source). */
  public put(key: string, init: ObjectInit, now: number): ObjectVersion {
    const v: ObjectVersion = {
      key,
      versionId: init.versionId ?? this.ids.next(),
      etag: init.etag ?? etagOf(init),
      sizeBytes: init.sizeBytes,
      lastModified: now,
      deleteMarker: false,
      content: init.content,
      body: init.body,
    };
    this.append(key, v);
    return v;
  }

  /** A DELETE without a version id: a delete marker becomes the current version (older versions stay). */
  public delete(key: string, now: number): void {
    if (!this.head(key)) {
      return;
    }
    this.append(key, { key, versionId: this.ids.next(), etag: '', sizeBytes: 0, lastModified: now, deleteMarker: true });
  }

  /** The current version, or undefined when there is none or it is a delete marker (HEAD answers 404). */
  public head(key: string): ObjectVersion | undefined {
    const list = this.objects.get(key);
    const v = list?.[list.length - 1];
    return v && !v.deleteMarker ? v : undefined;
  }

  public version(key: string, versionId: string): ObjectVersion | undefined {
    return this.objects.get(key)?.find((v) => v.versionId === versionId && !v.deleteMarker);
  }

  /** Current versions of the keys starting with `prefix`, after `startAfter`, in key order (ListObjectsV2). */
  public list(prefix: string, startAfter?: string): ObjectVersion[] {
    const from = startAfter !== undefined && startAfter > prefix ? startAfter : prefix;
    let i = lowerBound(this.keys, from);
    if (i < this.keys.length && this.keys[i] === startAfter) {
      i++;
    }
    const out: ObjectVersion[] = [];
    for (; i < this.keys.length && this.keys[i].startsWith(prefix); i++) {
      const v = this.head(this.keys[i]);
      if (v) {
        out.push(v);
      }
    }
    return out;
  }

  /** Whether the current versions hold an intact copy of every shard of `snapshot` (under any keys). */
  public holdsIntactCopy(snapshot: string, shards: number): boolean {
    const keys = [...(this.bySnapshot.get(snapshot) ?? [])];
    for (let shard = 1; shard <= shards; shard++) {
      if (!keys.some((k) => holdsIntact(this.head(k)?.content, snapshot, shard))) {
        return false;
      }
    }
    return true;
  }

  private append(key: string, v: ObjectVersion): void {
    let list = this.objects.get(key);
    if (!list) {
      list = [];
      this.objects.set(key, list);
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    list.push(v);
    this.changes++;
    const snapshot = v.content?.snapshot;
    if (snapshot !== undefined) {
      const set = this.bySnapshot.get(snapshot) ?? new Set<string>();
      set.add(key);
      this.bySnapshot.set(snapshot, set);
    }
  }
}

function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (sorted[mid] < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** Equal bytes give equal ETags (S3's MD5), different bytes different ones. */
function etagOf(init: { sizeBytes: number; content?: Content; body?: string }): string {
  const c = init.content;
  const what = c ? `${c.snapshot ?? 'foreign'}#${c.shard}#${c.integrity}#${init.sizeBytes}` : `${init.body}`;
  return `"${hash32(what)}${hash32(`${what}!`)}"`;
}
