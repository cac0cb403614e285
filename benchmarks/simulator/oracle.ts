/**
 * The safety oracle: judges the reconciler's effects on the world from what the simulated service and buckets really
 * hold, never from the planner's predicates or the reconciler's own records.
 *
 * - A DeleteSnapshot is safe only if, at that moment, the snapshot is a manual backup tagged with the plan's id, and the
 *   replica bucket's current versions hold an intact copy of every shard of that snapshot's data (by content, under any
 *   key). A deletion after an injected replica-side fault destroyed that copy (which the primary-region reconciler cannot
 *   see) is counted apart, and only when the export bucket still holds an intact copy.
 * - A committed manifest is false when it does not list every shard of its snapshot, or when a listed object (the pinned
 *   version, else the current one) was not an intact copy of that shard of that snapshot at commit time.
 * - Quota: every call the service refused for the quota is a violation, except, when exports count against the quota,
 *   the first refusal per group (the only way the plan can learn that they count).
 * - Unexported plan backups: manual backups tagged with the plan's id, available, whose data no export ever wrote intact,
 *   that no export is writing now, and that either had an export attempt end without an intact export (refused, failed,
 *   bad objects) or have waited more than a day; the maximum per group over the run. (A backlog behind a long export
 *   is not a failure; a day of waiting is.)
 */
import { holdsIntact } from './bucket';
import { DAY } from './rng';
import { PLAN_ID, SimSnapshot, World } from './world';
import { PLAN_TAG_KEY } from '../../lib/backup-plan/constants';
import { parseManifest } from '../../lib/manifest/manifest';

const DETAILS = 5;

export interface OracleCounts {
  readonly deletions: number;
  readonly unsafeDeletions: number;
  /** Deletions whose replica copy an injected replica-side fault had destroyed (the export bucket still held one). */
  readonly deletionsAfterReplicaFault: number;
  /** Deletions with no intact copy in either bucket: data lost (a subset of the unsafe ones). */
  readonly lastCopyDeletions: number;
  /** Deletions of a plan backup younger than the retention. */
  readonly prematureDeletions: number;
  readonly commits: number;
  readonly falseCommits: number;
  readonly quotaViolations: number;
  /** Quota refusals excused as the plan's way of learning that exports count (one per group at most). */
  readonly quotaLearningRefusals: number;
  /** The first few unsafe deletions and false commits, with why. */
  readonly details: readonly string[];
}

export class SafetyOracle {
  private deletions = 0;
  private unsafe = 0;
  private afterReplicaFault = 0;
  private lastCopy = 0;
  private premature = 0;
  private commits = 0;
  private falseCommits = 0;
  private readonly details: string[] = [];
  /** Max unexported plan backups per group. */
  public readonly maxUnexported = new Map<string, number>();

  constructor(private readonly world: World, private readonly retentionMs: number) {}

  /** Called by the simulated service just before it deletes `s`. */
  public onDelete(s: SimSnapshot): void {
    const w = this.world;
    this.deletions++;
    if (s.startedAt > w.now - this.retentionMs) {
      this.premature++;
    }
    const inExport = w.exportBucket.holdsIntactCopy(s.name, s.shards);
    const inReplica = w.replica.holdsIntactCopy(s.name, s.shards);
    if (!inExport && !inReplica) {
      this.lastCopy++;
    }
    if (s.tags[PLAN_TAG_KEY] !== PLAN_ID || s.source !== 'manual') {
      this.flagUnsafe(`deleted ${s.name}, which is not a backup of this plan (${s.source}, tag ${s.tags[PLAN_TAG_KEY]})`);
    } else if (inReplica) {
      return;
    } else if (w.replicaFaulted.has(s.name) && inExport) {
      this.afterReplicaFault++;
    } else {
      this.flagUnsafe(`deleted ${s.name} without an intact copy in the replica bucket (export bucket: ${inExport ? 'intact' : 'no intact copy'})`);
    }
  }

  /** Called by the simulated S3 when a manifest is written (the commit). */
  public onCommit(key: string, body: string): void {
    this.commits++;
    const problem = this.commitProblem(key, body);
    if (problem) {
      this.falseCommits++;
      this.detail(`false commit ${key}: ${problem}`);
    }
  }

  /** Samples the unexported plan backups of every group (call once per tick). */
  public sampleUnexported(): void {
    const w = this.world;
    const exporting = new Set(w.exports.map((x) => x.source));
    for (const g of w.groups) {
      let n = 0;
      for (const s of w.groupSnapshots(g.id)) {
        if (s.source === 'manual' && s.tags[PLAN_TAG_KEY] === PLAN_ID && (s.status === 'available' || s.status === 'exporting')
          && !w.exportedIntact.has(s.name) && !exporting.has(s.name) && (w.exportFailedFor.has(s.name) || s.startedAt < w.now - DAY)) {
          n++;
        }
      }
      this.maxUnexported.set(g.id, Math.max(this.maxUnexported.get(g.id) ?? 0, n));
    }
  }

  public counts(): OracleCounts {
    const w = this.world;
    const refusals = w.counters.createQuotaRefusals + w.counters.copyQuotaRefusals;
    const learning = w.behaviour.copyCountsAgainstQuota ? w.groups.filter((g) => g.quotaRefusals > 0).length : 0;
    return {
      deletions: this.deletions,
      unsafeDeletions: this.unsafe,
      deletionsAfterReplicaFault: this.afterReplicaFault,
      lastCopyDeletions: this.lastCopy,
      prematureDeletions: this.premature,
      commits: this.commits,
      falseCommits: this.falseCommits,
      quotaViolations: refusals - learning,
      quotaLearningRefusals: learning,
      details: [...this.details],
    };
  }

  private commitProblem(key: string, body: string): string | undefined {
    const w = this.world;
    let manifest;
    try {
      manifest = parseManifest(body, key);
    } catch (e) {
      return `unreadable: ${(e as Error).message}`;
    }
    const shards = w.shardsOf.get(manifest.snapshotName);
    if (shards === undefined) {
      return `snapshot ${manifest.snapshotName} never existed`;
    }
    if (manifest.shards.length !== shards) {
      return `lists ${manifest.shards.length} objects, the snapshot has ${shards} shards`;
    }
    for (let i = 0; i < shards; i++) {
      const listed = manifest.shards[i];
      const v = listed.versionId !== undefined ? w.exportBucket.version(listed.key, listed.versionId) : w.exportBucket.head(listed.key);
      if (!holdsIntact(v?.content, manifest.snapshotName, i + 1)) {
        const c = v?.content;
        const what = !v ? 'no such object/version' : !c ? 'not a dump' : `${c.integrity} data of ${c.snapshot ?? 'somebody else'}${c.shard ? ` shard ${c.shard}` : ''}`;
        return `shard ${i + 1} (${listed.key}${listed.versionId ? ` version ${listed.versionId}` : ''}) holds ${what}`;
      }
    }
    return undefined;
  }

  private flagUnsafe(why: string): void {
    this.unsafe++;
    this.detail(`${new Date(this.world.now).toISOString()} unsafe deletion: ${why}`);
  }

  private detail(line: string): void {
    if (this.details.length < DETAILS) {
      this.details.push(line);
    }
  }
}
