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
 *   the first refusal per group and the first after each loss of its state (the only way the plan can learn that they
 *   count, and a lost state forgets it), with those of runs overlapping it in the same minute.
 * - Export bounds: a protected group's newest truly committed export (a manifest that was not a false commit, by
 *   its snapshot's time) must never be older than the group's RPO target; when it is (an overdue episode), an alarm
 *   (the run's ExportAgeSeconds over the target, or a failed run: the Lambda's Errors alarm) must fire within one
 *   tick (judged at the first run that publishes or fails after that tick: a throttled run publishes nothing). An
 *   episode without one is a silent miss.
 * - Unexported plan backups: manual backups tagged with the plan's id, available, whose data no export ever wrote intact,
 *   that no export is writing now, and that either had an export attempt end without an intact export (refused, failed,
 *   bad objects) or have waited more than a day; the maximum per group over the run. (A backlog behind a long export
 *   is not a failure; a day of waiting is.)
 */
import { holdsIntact } from './bucket';
import { readManifest } from './manifest-reader';
import { DAY, MIN } from './rng';
import { PLAN_ID, SimSnapshot, World } from './world';
// The tag's key is the contract with the service (what IAM conditions DeleteSnapshot on), not a predicate.
import { PLAN_TAG_KEY } from '../../lib/backup-plan/constants';

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
  /** Quota refusals excused as the plan's way of learning that exports count (one per group, and one after each loss of its state). */
  readonly quotaLearningRefusals: number;
  /** Overdue episodes: a group's newest true commit older than its RPO target (after the warm-up). */
  readonly missedExportBounds: number;
  /** Overdue episodes without an alarm within one tick. Must be 0. */
  readonly silentMisses: number;
  /** Runs that raised an alarm (ExportAgeSeconds over the target, or a failed run), after the warm-up. */
  readonly alarms: number;
  /** The first few unsafe deletions, false commits and silent misses, with why. */
  readonly details: readonly string[];
}

interface Freshness {
  /** Snapshot time of the newest true commit. */
  newestCommitted: number;
  boundMs: number;
  overdueSince?: number;
  judged?: boolean;
  lastAlarm: number;
  /** The last run that ended with metrics or a failure (a throttled run publishes neither). */
  lastRun: number;
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
  private readonly freshness = new Map<string, Freshness>();
  private missed = 0;
  private silent = 0;
  private alarms = 0;
  /** Max unexported plan backups per group. */
  public readonly maxUnexported = new Map<string, number>();

  constructor(private readonly world: World, private readonly retentionMs: number, private readonly tickMs: number,
    rpoTargetMs: (groupId: string) => number, private readonly measureFrom: number) {
    for (const g of world.groups) {
      const never = Number.NEGATIVE_INFINITY;
      this.freshness.set(g.id, { newestCommitted: world.start, boundMs: rpoTargetMs(g.id), lastAlarm: never, lastRun: never });
    }
  }

  /** A run of the group raised an alarm (its export age over the target, or it failed). */
  public onAlarm(groupId: string): void {
    const f = this.freshness.get(groupId);
    if (f) {
      f.lastAlarm = this.world.now;
      if (this.world.now >= this.measureFrom) {
        this.alarms++;
      }
    }
  }

  /** A run of the group ended with its metrics published, or failed (not a throttled run: it publishes neither). */
  public onRunEnded(groupId: string): void {
    const f = this.freshness.get(groupId);
    if (f) {
      f.lastRun = this.world.now;
    }
  }

  /** Judges every group's export bound (call once per tick, after the runs). */
  public sampleFreshness(): void {
    const now = this.world.now;
    if (now < this.measureFrom) {
      return;
    }
    for (const [id, f] of this.freshness) {
      if (now - f.newestCommitted <= f.boundMs + MIN) {
        f.overdueSince = undefined;
        f.judged = false;
        continue;
      }
      if (f.overdueSince === undefined) {
        f.overdueSince = Math.max(f.newestCommitted + f.boundMs, this.measureFrom);
        f.judged = false;
        this.missed++;
      }
      // Judged at the first run that published (or failed) at least one tick after the bound was crossed.
      if (!f.judged && now >= f.overdueSince + this.tickMs && f.lastRun >= f.overdueSince + this.tickMs) {
        f.judged = true;
        if (f.lastAlarm < f.overdueSince - this.tickMs) {
          this.silent++;
          this.detail(`${new Date(now).toISOString()} silent miss: ${id}'s newest export is of ${new Date(f.newestCommitted).toISOString()}, `
            + `over its RPO target since ${new Date(f.overdueSince).toISOString()}, and no alarm fired`);
        }
      }
    }
  }

  /** Called by the simulated service just before it deletes `s`, on behalf of the plan `planId`. */
  public onDelete(s: SimSnapshot, planId: string = PLAN_ID): void {
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
    if (s.tags[PLAN_TAG_KEY] !== planId || s.source !== 'manual') {
      this.flagUnsafe(`${planId} deleted ${s.name}, which is not a backup of this plan (${s.source}, tag ${s.tags[PLAN_TAG_KEY]})`);
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
      return;
    }
    const m = readManifest(body);
    const f = typeof m === 'string' ? undefined : this.freshness.get(m.replicationGroupId);
    if (f && typeof m !== 'string' && m.snapshotTime <= this.world.now) {
      f.newestCommitted = Math.max(f.newestCommitted, m.snapshotTime);
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
    const learning = w.groups.reduce((n, g) => n + g.quotaLearningRefusals, 0);
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
      missedExportBounds: this.missed,
      silentMisses: this.silent,
      alarms: this.alarms,
      details: [...this.details],
    };
  }

  private commitProblem(key: string, body: string): string | undefined {
    const w = this.world;
    const manifest = readManifest(body);
    if (typeof manifest === 'string') {
      return `unreadable: ${manifest}`;
    }
    if (!key.includes(`/${manifest.replicationGroupId}/`)) {
      return `written under ${key}, but describes group ${manifest.replicationGroupId}`;
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
