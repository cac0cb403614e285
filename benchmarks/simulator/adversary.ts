/**
 * Issue 10's adversarial world, applied to the simulated world minute by minute: the reconciler's state lost,
 * truncated or corrupted; the user's own backups (some named as the plan names its own); manifests dated a year ahead,
 * and manifests of another group planted in a group's prefix. (A second plan, overlapping runs and clock skew are the
 * driver's: they change how the reconciler runs, not what the world holds.)
 */
import { Adversary, NO_ADVERSARY } from './options';
import { DAY, MIN } from './rng';
import { PLAN_ID, World, WorldGroup } from './world';
import { stateKey } from '../../lib/backup-plan/constants';
import { manifestKey, manifestPrefix } from '../../lib/manifest/manifest';
import { planNamePrefix } from '../../lib/manifest/names';

export interface AdversaryCounters {
  statesLost: number;
  statesTruncated: number;
  statesCorrupted: number;
  userBackups: number;
  /** User backups the service refused for the quota (the plan had used the slots): reported, not a plan violation. */
  userBackupsRefusedForQuota: number;
  futureManifests: number;
  foreignManifests: number;
  overlappingRuns: number;
}

export class WorldAdversary {
  public readonly settings: Adversary;
  public readonly counters: AdversaryCounters = {
    statesLost: 0,
    statesTruncated: 0,
    statesCorrupted: 0,
    userBackups: 0,
    userBackupsRefusedForQuota: 0,
    futureManifests: 0,
    foreignManifests: 0,
    overlappingRuns: 0,
  };
  private readonly nextUserBackup = new Map<string, number>();

  constructor(private readonly world: World, settings: Partial<Adversary> | undefined) {
    this.settings = { ...NO_ADVERSARY, ...settings };
    for (const g of world.groups) {
      this.nextUserBackup.set(g.id, world.start + Math.floor(world.random() * 24 * 60) * MIN);
    }
  }

  /** One minute of the adversary. */
  public advance(): void {
    const a = this.settings;
    const w = this.world;
    for (const g of w.groups) {
      this.stateFaults(g);
      if (a.userBackupsEveryHours > 0 && w.now >= this.nextUserBackup.get(g.id)!) {
        this.userBackup(g);
        this.nextUserBackup.set(g.id, w.now + a.userBackupsEveryHours * 60 * MIN);
      }
      if (a.futureManifests > 0 && w.random() < a.futureManifests / 60) {
        this.plantFutureManifest(g);
      }
      if (a.foreignManifests > 0 && w.random() < a.foreignManifests / 60) {
        this.plantForeignManifest(g);
      }
    }
  }

  private stateFaults(g: WorldGroup): void {
    const a = this.settings;
    const w = this.world;
    if (a.stateLost + a.stateTruncated + a.stateCorrupt === 0) {
      return;
    }
    const key = stateKey(g.id, PLAN_ID);
    const current = w.exportBucket.head(key);
    if (!current) {
      return;
    }
    const r = w.random() * 60;
    if (r < a.stateLost) {
      w.exportBucket.delete(key, w.now);
      this.counters.statesLost++;
      g.planKnowsExportsCount = false; // what a refusal taught the plan was in the lost state
    } else if (r < a.stateLost + a.stateTruncated) {
      const body = (current.body ?? '').slice(0, Math.floor((current.body ?? '').length / 2));
      w.putExportObject(key, { sizeBytes: body.length, body });
      this.counters.statesTruncated++;
    } else if (r < a.stateLost + a.stateTruncated + a.stateCorrupt) {
      const body = '\u0000\u0001 not a state {';
      w.putExportObject(key, { sizeBytes: body.length, body });
      this.counters.statesCorrupted++;
    }
  }

  /** The user's own backup: a manual snapshot without the plan's tag; it takes a quota slot like any other. */
  private userBackup(g: WorldGroup): void {
    const w = this.world;
    if (w.groupSnapshots(g.id).some((s) => s.status === 'creating')) {
      return; // the user's tooling tries again at its next time
    }
    if (!w.tryUseQuotaQuietly(g)) {
      this.counters.userBackupsRefusedForQuota++;
      return;
    }
    const compact = new Date(w.now).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();
    const planLike = w.random() < this.settings.userBackupsPlanLikeNames;
    const name = planLike ? `${planNamePrefix(g.id)}b${compact}` : `user-${g.id.slice(0, 16)}-${compact}`;
    w.addSnapshot({
      name,
      group: g.id,
      source: 'manual',
      status: 'creating',
      cacheClusterId: g.snapshotClusterId,
      startedAt: w.now,
      doneAt: w.now + w.between(w.snapshotMinutes),
      willFail: false,
      shards: g.shards,
      tags: { owner: 'user' },
      exporting: 0,
    });
    this.counters.userBackups++;
  }

  /** The newest manifest body of a group in the export bucket (the adversary copies real ones). */
  private newestManifestBody(groupId: string): string | undefined {
    const list = this.world.exportBucket.list(manifestPrefix(groupId));
    return list.length ? list[list.length - 1].body : undefined;
  }

  private plantFutureManifest(g: WorldGroup): void {
    const w = this.world;
    const body = this.newestManifestBody(g.id);
    if (!body) {
      return;
    }
    const m = JSON.parse(body) as Record<string, unknown>;
    const when = new Date(w.now + 365 * DAY);
    const name = `${String(m.snapshotName)}-future`;
    const forged = JSON.stringify({ ...m, snapshotName: name, snapshotCreateTime: when.toISOString() });
    w.putExportObject(manifestKey(g.id, when, name), { sizeBytes: forged.length, body: forged });
    this.counters.futureManifests++;
  }

  private plantForeignManifest(g: WorldGroup): void {
    const w = this.world;
    const other = w.groups[(g.index + 1) % w.groups.length];
    const body = other.id === g.id ? undefined : this.newestManifestBody(other.id);
    if (!body) {
      return;
    }
    const m = JSON.parse(body) as { snapshotName: string };
    // Dated now: if the plan took it for its own, the group's export age would look fresh.
    w.putExportObject(manifestKey(g.id, new Date(w.now), m.snapshotName), { sizeBytes: body.length, body });
    this.counters.foreignManifests++;
  }
}
