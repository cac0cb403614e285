/**
 * The simulated world: ElastiCache (groups, member nodes, snapshots, the per-node quota, exports to S3), the versioned
 * export bucket, cross-region replication into a versioned replica bucket, the verifier Lambda, and event delivery.
 *
 * The world is the ground truth the oracle judges by. It advances one minute at a time (`advance`); the reconciler sees
 * it only through the simulated `ReconcileIo` (io.ts).
 */
import { Content, holdsIntact, intactSize, ObjectVersion, VersionedBucket, VersionIds } from './bucket';
import { readManifest } from './manifest-reader';
import { Behaviour, DEFAULT_BEHAVIOUR, Faults, NO_OBJECT_FAULTS, ObjectFaults, SimulationOptions } from './options';
import { base32, DAY, MIN, rng } from './rng';
import { DEFAULT_SETTINGS, PlannerSettings } from '../../lib/backup-plan/planner';

/** The plan id the simulated plan tags its backups with. */
export const PLAN_ID = 'sim-plan';
/** The second plan's id (`Adversary.secondPlan`). */
export const SECOND_PLAN_ID = 'sim-plan-b';
/** The service's snapshot name limit, when enforced (`Behaviour.refusesNamesOver40`). */
export const NAME_LIMIT = 40;
/** The service quota: manual backups per node per contiguous 24 hours. */
export const QUOTA_PER_NODE = 20;

export class SimError extends Error {
  constructor(name: string, message: string, public readonly $metadata = { httpStatusCode: 400 }) {
    super(message);
    this.name = name;
  }
}

export interface SimSnapshot {
  name: string;
  group: string;
  source: 'automated' | 'manual';
  status: 'creating' | 'available' | 'failed' | 'exporting';
  /** Member node the backup was taken from (cluster mode disabled); undefined: a backup of the whole group. */
  cacheClusterId?: string;
  /** Exports of this snapshot running (the status shows `exporting` while > 0, when visible). */
  exporting: number;
  startedAt: number;
  doneAt: number;
  willFail: boolean;
  shards: number;
  tags: Record<string, string>;
}

export interface SimExport {
  group: string;
  source: string;
  target: string;
  doneAt: number;
  startedAt: number;
  willFail: boolean;
  shards: number;
}

/** The time-ordered ledger of what delayed a group (the fault-aware RPO bound). */
export type Charge = (groupId: string, kind: string, minutes: number, at?: number) => void;

export type Trigger = { group: string; signal?: { text: string; time: Date } };

export interface WorldGroup {
  readonly id: string;
  readonly index: number;
  readonly shards: number;
  readonly clusterModeEnabled: boolean;
  readonly memberClusterIds: readonly string[];
  /** The node backups are taken from in cluster mode disabled (`<id>-002`). */
  readonly snapshotClusterId?: string;
  readonly automatedOffsetMin: number;
  nextAutomatedAt: number;
  /** Times of calls the service counted against the group's per-node quota. */
  quotaUses: number[];
  maxQuotaUse24h: number;
  /** Calls the service refused for the quota. */
  quotaRefusals: number;
  /**
   * Whether the plan can know that exports count against the quota: false at the start and again after its state was
   * lost (it forgets what a refusal taught it). The first refusal while it cannot know is its way of learning.
   */
  planKnowsExportsCount: boolean;
  /**
   * Refusals excused as learning (only when exports do count): the first after the start or a lost state, and those of
   * runs overlapping it (the same minute).
   */
  quotaLearningRefusals: number;
  /** When the plan last learned it (the minute of that refusal). */
  learnedAt?: number;
  /** Every export of this group ends in failure (issue 9, item 7). */
  readonly neverExports: boolean;
}

/** Counters of what the world did (faults injected, refusals). */
export interface WorldCounters {
  failedSnapshots: number;
  failedExports: number;
  lostEvents: number;
  namesRefused: number;
  copyQuotaRefusals: number;
  createQuotaRefusals: number;
  exportsRefusedAlways: number;
  planted: number;
  deletedAfterCommit: number;
  overwrittenAfterCommit: number;
  truncatedByService: number;
  replicaFaults: number;
  verifications: number;
  maxExportsInFlight: number;
}

export class World {
  public readonly random: () => number;
  public now: number;
  public readonly start: number;
  public readonly ids = new VersionIds();
  public readonly exportBucket: VersionedBucket;
  public readonly replica: VersionedBucket;
  /** `<key>@<versionId>` of every export-bucket version S3 replication has processed (HEAD says COMPLETED for them). */
  private readonly replicatedVersions = new Set<string>();
  public readonly snapshots = new Map<string, SimSnapshot>();
  /** Shard count of every snapshot that ever existed (the oracle's truth after a deletion). */
  public readonly shardsOf = new Map<string, number>();
  /** Snapshots whose data an export wrote completely and intact into the export bucket at least once. */
  public readonly exportedIntact = new Set<string>();
  /** Snapshots an export attempt of which ended without an intact export (refused, failed, or bad objects written). */
  public readonly exportFailedFor = new Set<string>();
  /** Snapshots whose replica copy an injected replica-side fault destroyed (invisible to the primary-region reconciler). */
  public readonly replicaFaulted = new Set<string>();
  public readonly exports: SimExport[] = [];
  /** Manifests that arrived in the replica bucket, per group, oldest snapshot first (for the DR RPO). */
  public readonly replicaManifests = new Map<string, Array<{ time: number; snapshot: string; keys: string[] }>>();
  public readonly groups: WorldGroup[] = [];
  public readonly behaviour: Behaviour;
  public readonly objectFaults: ObjectFaults;
  public readonly faults: Faults;
  public readonly settings: PlannerSettings;
  public pendingTriggers: Trigger[] = [];
  /** Set by the driver: whether a run saw the source of export `target` busy (the plan's persisted state says so). */
  public statusSeen?: (groupId: string, target: string) => boolean;
  public readonly counters: WorldCounters = {
    failedSnapshots: 0,
    failedExports: 0,
    lostEvents: 0,
    namesRefused: 0,
    copyQuotaRefusals: 0,
    createQuotaRefusals: 0,
    exportsRefusedAlways: 0,
    planted: 0,
    deletedAfterCommit: 0,
    overwrittenAfterCommit: 0,
    truncatedByService: 0,
    replicaFaults: 0,
    verifications: 0,
    maxExportsInFlight: 0,
  };
  private readonly byGroup = new Map<string, Map<string, SimSnapshot>>();
  private readonly acceptedExportNames = new Map<string, string>();
  private readonly replicationQueue: Array<{ key: string; versionId: string; at: number }> = [];
  /** Scheduled world actions (adversary, verifier results), sorted by time. */
  private readonly scheduled: Array<{ at: number; run: () => void }> = [];
  private readonly retentionDays: number;

  constructor(private readonly opts: SimulationOptions & {
    reconcileMinutes: number;
    snapshotMinutes: readonly [number, number];
    exportMinutes: readonly [number, number];
    replicationMinutes: readonly [number, number];
    verifyMinutes: readonly [number, number];
    automatedJitterMinutes: number;
    retentionDays: number;
  }, public readonly charge: Charge) {
    this.random = rng(opts.seed);
    this.start = Date.UTC(2026, 0, 1);
    this.now = this.start;
    const visible = opts.exportStatusVisible === undefined ? {} : { exportStatusVisible: opts.exportStatusVisible };
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...visible, ...opts.behaviour };
    this.objectFaults = { ...NO_OBJECT_FAULTS, ...opts.objectFaults };
    this.faults = opts.faults;
    this.settings = opts.settings ?? DEFAULT_SETTINGS;
    this.retentionDays = opts.retentionDays;
    this.exportBucket = new VersionedBucket('export-bucket', this.ids);
    this.replica = new VersionedBucket('replica-bucket', this.ids);
    const never = this.behaviour.neverExports.everyNthGroup;
    for (let i = 0; i < opts.groups; i++) {
      const id = groupIdOf(i, opts.longGroupIds ?? true);
      const shards = 1 + (i % 3);
      const cme = shards > 1;
      const offset = Math.floor(this.random() * 24 * 60);
      this.groups.push({
        id,
        index: i,
        shards,
        clusterModeEnabled: cme,
        memberClusterIds: cme
          ? Array.from({ length: shards }, (_, s) => [`${id.slice(0, 30)}-000${s + 1}-001`, `${id.slice(0, 30)}-000${s + 1}-002`]).flat()
          : [`${id}-001`, `${id}-002`],
        snapshotClusterId: cme ? undefined : `${id}-002`,
        automatedOffsetMin: offset,
        nextAutomatedAt: this.nextAutomated(offset, this.start),
        quotaUses: [],
        maxQuotaUse24h: 0,
        quotaRefusals: 0,
        planKnowsExportsCount: false,
        quotaLearningRefusals: 0,
        neverExports: never > 0 && i % never === never - 1,
      });
    }
  }

  public group(id: string): WorldGroup {
    const g = this.groups.find((x) => x.id === id);
    if (!g) {
      throw new Error(`unknown group ${id}`);
    }
    return g;
  }

  public groupSnapshots(group: string): SimSnapshot[] {
    return [...(this.byGroup.get(group)?.values() ?? [])];
  }

  public between(range: readonly [number, number]): number {
    return (range[0] + this.random() * (range[1] - range[0])) * MIN;
  }

  public get snapshotMinutes(): readonly [number, number] {
    return this.opts.snapshotMinutes;
  }

  public get verifyMinutes(): readonly [number, number] {
    return this.opts.verifyMinutes;
  }

  public get tick(): number {
    return this.opts.reconcileMinutes;
  }

  public schedule(at: number, run: () => void): void {
    let i = this.scheduled.length;
    while (i > 0 && this.scheduled[i - 1].at > at) {
      i--;
    }
    this.scheduled.splice(i, 0, { at, run });
  }

  /** Delivers an event, unless it is lost; returns whether it was delivered. */
  public emit(trigger: Trigger): boolean {
    if (this.random() >= this.faults.eventLossRate) {
      this.pendingTriggers.push(trigger);
      return true;
    }
    this.counters.lostEvents++;
    return false;
  }

  // ------------------------------------------------------------------ ElastiCache
  public addSnapshot(s: SimSnapshot): void {
    this.snapshots.set(s.name, s);
    this.shardsOf.set(s.name, s.shards);
    const m = this.byGroup.get(s.group) ?? new Map<string, SimSnapshot>();
    m.set(s.name, s);
    this.byGroup.set(s.group, m);
  }

  public removeSnapshot(s: SimSnapshot): void {
    this.snapshots.delete(s.name);
    this.byGroup.get(s.group)?.delete(s.name);
  }

  /** Uses one slot of the group's per-node quota, or refuses the call when 20 were used in the last 24 h. */
  public useQuota(g: WorldGroup, call: 'CreateSnapshot' | 'CopySnapshot'): void {
    g.quotaUses = g.quotaUses.filter((t) => t > this.now - DAY);
    if (g.quotaUses.length + 1 > QUOTA_PER_NODE) {
      g.quotaRefusals++;
      // A run that overlapped the learning one (same minute) read the state before the lesson was recorded.
      if (this.behaviour.copyCountsAgainstQuota && (!g.planKnowsExportsCount || g.learnedAt === this.now)) {
        g.planKnowsExportsCount = true;
        g.learnedAt = this.now;
        g.quotaLearningRefusals++;
      }
      if (call === 'CreateSnapshot') {
        this.counters.createQuotaRefusals++;
      } else {
        this.counters.copyQuotaRefusals++;
      }
      throw new SimError('SnapshotQuotaExceededFault', `The request cannot be processed because it would exceed the maximum number of snapshots (${call}).`);
    }
    g.quotaUses.push(this.now);
    g.maxQuotaUse24h = Math.max(g.maxQuotaUse24h, g.quotaUses.length);
  }

  /** Uses a quota slot for somebody else's call (the user's own backup), or answers false when none is left. */
  public tryUseQuotaQuietly(g: WorldGroup): boolean {
    g.quotaUses = g.quotaUses.filter((t) => t > this.now - DAY);
    if (g.quotaUses.length + 1 > QUOTA_PER_NODE) {
      return false;
    }
    g.quotaUses.push(this.now);
    g.maxQuotaUse24h = Math.max(g.maxQuotaUse24h, g.quotaUses.length);
    return true;
  }

  public checkName(name: string, parameter: string): void {
    if (this.behaviour.refusesNamesOver40 && name.length > NAME_LIMIT) {
      this.counters.namesRefused++;
      throw new SimError('InvalidParameterValueException', `${parameter} must contain 1 to ${NAME_LIMIT} characters (got ${name.length})`);
    }
  }

  /** CopySnapshot to S3: refused, or an export that ends (in success or failure) later. */
  public startExport(req: { sourceSnapshotName: string; targetSnapshotName: string }): void {
    const s = this.snapshots.get(req.sourceSnapshotName);
    if (!s) {
      throw new SimError('SnapshotNotFoundFault', 'not found');
    }
    const g = this.group(s.group);
    if (this.behaviour.refusesNamesOver40 && req.targetSnapshotName.length > NAME_LIMIT) {
      this.exportFailedFor.add(s.name);
    }
    this.checkName(req.targetSnapshotName, 'TargetSnapshotName');
    if (g.neverExports && this.behaviour.neverExports.how === 'refused') {
      this.counters.exportsRefusedAlways++;
      this.exportFailedFor.add(s.name);
      throw new SimError('AccessDenied', 'ElastiCache has not been granted READ and WRITE permissions on the bucket', { httpStatusCode: 403 });
    }
    if (s.status !== 'available') {
      throw new SimError('InvalidSnapshotStateFault', 'not available');
    }
    // ElastiCache never overwrites an object: a target whose first key exists (anybody's) is refused.
    if (this.acceptedExportNames.has(req.targetSnapshotName) || this.exportBucket.head(`${req.targetSnapshotName}-0001.rdb`)) {
      throw new SimError('SnapshotAlreadyExistsFault', `The S3 bucket already contains an object with key ${req.targetSnapshotName}-0001.rdb.`);
    }
    if (this.behaviour.copyCountsAgainstQuota) {
      this.useQuota(g, 'CopySnapshot');
    }
    this.acceptedExportNames.set(req.targetSnapshotName, req.sourceSnapshotName);
    const long = this.behaviour.longExports;
    const minutes = this.random() < long.longShare ? long.long : this.opts.exportMinutes;
    this.exports.push({
      group: s.group,
      source: s.name,
      target: req.targetSnapshotName,
      doneAt: this.now + this.between(minutes),
      willFail: g.neverExports || this.random() < this.faults.exportFailRate,
      shards: s.shards,
      startedAt: this.now,
    });
    s.exporting++;
    if (this.behaviour.exportStatusVisible) {
      s.status = 'exporting';
    }
    const inFlight = this.exports.filter((x) => x.group === s.group).length;
    this.counters.maxExportsInFlight = Math.max(this.counters.maxExportsInFlight, inFlight);
  }

  // ------------------------------------------------------------------ S3
  /**
   * What a HEAD on the export bucket reports as `ReplicationStatus` for a version: S3 sets it on every object a
   * replication rule covers (PENDING, then COMPLETED), and on none other (the reconciler's `state/` is not replicated).
   * COMPLETED stays even if the replica copy is later damaged or deleted, as in S3.
   */
  public replicationStatus(key: string, versionId: string): string | undefined {
    if (key.startsWith('state/')) {
      return undefined;
    }
    return this.replicatedVersions.has(`${key}@${versionId}`) ? 'COMPLETED' : 'PENDING';
  }

  /** Writes an object into the export bucket (and queues its replication: every key but the reconciler's state). */
  public putExportObject(key: string, init: { sizeBytes: number; content?: Content; body?: string }): ObjectVersion {
    const v = this.exportBucket.put(key, init, this.now);
    if (!key.startsWith('state/')) {
      this.replicationQueue.push({ key, versionId: v.versionId, at: this.now + this.between(this.opts.replicationMinutes) });
    }
    return v;
  }

  /** Plants valid dumps of other data under `name`'s shard keys (an attacker who can predict the export name). */
  public plant(bucket: VersionedBucket, name: string, shards: number): void {
    for (let shard = 1; shard <= shards; shard++) {
      const key = `${name}-${String(shard).padStart(4, '0')}.rdb`;
      if (!bucket.head(key)) {
        bucket.put(key, { sizeBytes: 500_000 + Math.floor(this.random() * 1_500_000), content: { integrity: 'intact' } }, this.now);
        this.counters.planted++;
      }
    }
  }

  // ------------------------------------------------------------------ time
  public advance(): void {
    this.takeAutomaticBackups();
    this.finishSnapshots();
    this.finishExports();
    this.replicate();
    while (this.scheduled.length > 0 && this.scheduled[0].at <= this.now) {
      this.scheduled.shift()!.run();
    }
  }

  private nextAutomated(offsetMin: number, after: number): number {
    const dayStart = Math.floor(after / DAY) * DAY;
    let t = dayStart + offsetMin * MIN + Math.floor(this.random() * this.opts.automatedJitterMinutes) * MIN;
    if (t <= after) {
      t += DAY;
    }
    return t;
  }

  private takeAutomaticBackups(): void {
    const t = this.now;
    for (const g of this.groups) {
      if (g.nextAutomatedAt > t) {
        continue;
      }
      if (this.groupSnapshots(g.id).some((s) => s.status === 'creating')) {
        g.nextAutomatedAt = t + 5 * MIN;
        continue;
      }
      const name = `automatic.${g.snapshotClusterId ?? g.id}-${new Date(t).toISOString().slice(0, 16).replace(/[T:]/g, '-')}`;
      this.addSnapshot({
        name,
        group: g.id,
        source: 'automated',
        status: 'creating',
        cacheClusterId: g.snapshotClusterId,
        startedAt: t,
        doneAt: t + this.between(this.opts.snapshotMinutes),
        willFail: this.random() < this.faults.snapshotFailRate,
        shards: g.shards,
        tags: {},
        exporting: 0,
      });
      g.nextAutomatedAt = this.nextAutomated(g.automatedOffsetMin, t + 60 * MIN);
    }
  }

  private finishSnapshots(): void {
    const t = this.now;
    for (const s of this.snapshots.values()) {
      if (s.status === 'creating' && s.doneAt <= t) {
        s.status = s.willFail ? 'failed' : 'available';
        if (s.willFail) {
          this.counters.failedSnapshots++;
          this.chargeFailedBackup(s);
        } else {
          this.plantPredictable(s);
        }
        if (!this.emit({ group: s.group }) && !s.willFail) {
          this.charge(s.group, 'lost event', this.tick);
        }
      }
      // Automatic backups expire after 7 days (the group's retention limit).
      if (s.source === 'automated' && s.startedAt < t - 7 * DAY) {
        this.removeSnapshot(s);
      }
    }
  }

  private chargeFailedBackup(s: SimSnapshot): void {
    if (s.source === 'manual') {
      // One more backup: noticed at the next run, retried once the cooldown after the failed call has passed
      // (the quota wait, if any, is measured as it happens), then one more snapshot duration.
      const cooldown = this.settings.failedBackupCooldownSeconds / 60;
      const elapsed = (this.now - s.startedAt) / MIN;
      this.charge(s.group, 'failed backup', this.tick + Math.max(0, cooldown - elapsed) + this.opts.snapshotMinutes[1]);
    } else if (this.opts.intervalMinutes === undefined) {
      // Automatic backups only: the fallback backup is taken when the newest backup is 25 h old.
      this.charge(s.group, 'failed backup', (this.opts.fallbackBackup === false ? 24 * 60 : 60) + this.tick);
    }
  }

  /** The adversary plants objects under the export names of the legacy scheme, before the plan can export. */
  private plantPredictable(s: SimSnapshot): void {
    const compact = new Date(s.startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
    const names = [`${s.group}-${compact}`, `${s.group}-${compact}-a2`];
    if (this.random() < this.objectFaults.plantPredictable) {
      names.forEach((n) => this.plant(this.exportBucket, n, s.shards));
    }
    if (this.random() < this.objectFaults.replicaPlant) {
      names.forEach((n) => this.plant(this.replica, n, s.shards));
    }
  }

  private finishExports(): void {
    const t = this.now;
    for (let i = this.exports.length - 1; i >= 0; i--) {
      const x = this.exports[i];
      if (x.doneAt > t) {
        continue;
      }
      this.exports.splice(i, 1);
      const src = this.snapshots.get(x.source);
      if (src) {
        src.exporting = Math.max(0, src.exporting - 1);
        if (src.status === 'exporting' && src.exporting === 0) {
          src.status = 'available';
        }
      }
      this.writeExport(x);
    }
  }

  /** The service writes the export's objects (all of them, or some when it fails), then signals. */
  private writeExport(x: SimExport): void {
    const t = this.now;
    const written = x.willFail ? Math.floor(this.random() * x.shards) : x.shards;
    const of = this.objectFaults;
    const bad = this.random() < of.serviceTruncated + of.serviceEmpty ? 1 + Math.floor(this.random() * written) : 0;
    const badKind = this.random() * (of.serviceTruncated + of.serviceEmpty) < of.serviceTruncated ? 'truncated' : 'empty';
    let delivered = false;
    for (let shard = 1; shard <= written; shard++) {
      const size = intactSize(x.source, shard);
      const integrity = shard === bad ? badKind : 'intact';
      if (shard === bad) {
        this.counters.truncatedByService++;
      }
      const sizeBytes = integrity === 'intact' ? size : integrity === 'empty' ? 0 : Math.floor(size * this.random());
      this.putExportObject(`${x.target}-${String(shard).padStart(4, '0')}.rdb`, { sizeBytes, content: { snapshot: x.source, shard, integrity } });
      delivered = this.emit({ group: x.group }) || delivered;
    }
    if (!x.willFail && bad === 0) {
      this.exportedIntact.add(x.source);
    } else {
      this.exportFailedFor.add(x.source);
    }
    if (!x.willFail && !delivered) {
      this.charge(x.group, 'lost event', this.tick); // the commit waits for the next tick
    }
    if (x.willFail) {
      this.counters.failedExports++;
      this.signalFailedExport(x, t);
    }
  }

  private signalFailedExport(x: SimExport, t: number): void {
    // SNS notifications of node-based groups have no export failure: only EventBridge carries one.
    const signalled = this.behaviour.snapshotEvents === 'eventbridge'
      && this.emit({ group: x.group, signal: { text: JSON.stringify({ SourceIdentifier: x.source, Message: `Export of ${x.source} to ${x.target} failed` }), time: new Date(t) } });
    // The delay until the retry starts (the retry's own duration is in the fault-free bound): the failed attempt's
    // duration plus its detection: none with the event; with the status visible, the run that sees the snapshot
    // back in 'available' plus one run of grace; otherwise the export timeout (from the start) and one run.
    const byStatus = this.statusSeen?.(x.group, x.target) ?? false;
    const minutes = signalled ? this.opts.exportMinutes[1] : byStatus ? this.opts.exportMinutes[1] + 2 * this.tick : this.timeoutDetection();
    this.charge(x.group, signalled ? 'failed export (event)' : byStatus ? 'failed export (status)' : 'failed export (timeout)', minutes, x.startedAt);
  }

  /** Whether an S3 event that invokes a Lambda is delivered (the same loss rate as every event). */
  public deliverInvocation(): boolean {
    if (this.random() >= this.faults.eventLossRate) {
      return true;
    }
    this.counters.lostEvents++;
    return false;
  }

  /** An event that would have woken the reconciler was lost: the next tick does the work. */
  public lostEvent(groupId: string): void {
    this.charge(groupId, 'lost event', this.tick);
  }

  /** Detection by the export timeout: from the start of the export, then the next run. */
  public timeoutDetection(): number {
    return this.settings.exportTimeoutSeconds / 60 + this.tick;
  }

  private replicate(): void {
    for (let i = this.replicationQueue.length - 1; i >= 0; i--) {
      const r = this.replicationQueue[i];
      if (r.at > this.now) {
        continue;
      }
      this.replicationQueue.splice(i, 1);
      this.replicatedVersions.add(`${r.key}@${r.versionId}`);
      const v = this.exportBucket.version(r.key, r.versionId);
      const current = this.replica.head(r.key);
      if (!v || (current !== undefined && current.versionId > v.versionId)) {
        continue; // a newer version of the key already arrived (S3 keeps this one as noncurrent)
      }
      this.arrive(v);
    }
  }

  /** A version arrives in the replica (same version id), possibly damaged on the way, possibly attacked later. */
  private arrive(v: ObjectVersion): void {
    const of = this.objectFaults;
    let content = v.content;
    let sizeBytes = v.sizeBytes;
    const shardData = content?.snapshot !== undefined && content.integrity === 'intact';
    if (shardData && this.random() < of.replicaTruncated) {
      const empty = this.random() < 0.5;
      content = { ...content!, integrity: empty ? 'empty' : 'truncated' };
      sizeBytes = empty ? 0 : Math.floor(sizeBytes * this.random());
      this.replicaFault(content.snapshot!);
    }
    this.replica.put(v.key, { sizeBytes, content, body: v.body, versionId: v.versionId, etag: content === v.content ? v.etag : undefined }, this.now);
    if (v.key.startsWith('manifests/') && v.body !== undefined) {
      this.indexReplicaManifest(v.key, v.body);
    }
    if (!shardData) {
      return;
    }
    const later = () => this.now + this.random() * (this.retentionDays + 1) * DAY;
    if (this.random() < of.replicaDelete) {
      this.schedule(later(), () => {
        if (this.replica.head(v.key)?.content?.snapshot === v.content!.snapshot) {
          this.replica.delete(v.key, this.now);
          this.replicaFault(v.content!.snapshot!);
        }
      });
    }
    if (this.random() < of.replicaOverwrite) {
      this.schedule(later(), () => {
        this.replica.put(v.key, { sizeBytes: v.sizeBytes + 1 + Math.floor(this.random() * 1000), content: { integrity: 'intact' } }, this.now);
        this.replicaFault(v.content!.snapshot!);
      });
    }
  }

  private indexReplicaManifest(_key: string, body: string): void {
    const m = readManifest(body);
    if (typeof m === 'string') {
      return; // not restorable: never counted
    }
    const list = this.replicaManifests.get(m.replicationGroupId) ?? [];
    const time = m.snapshotTime;
    let i = list.length;
    while (i > 0 && list[i - 1].time > time) {
      i--;
    }
    list.splice(i, 0, { time, snapshot: m.snapshotName, keys: m.shards.map((x) => x.key) });
    this.replicaManifests.set(m.replicationGroupId, list);
  }

  /**
   * Snapshot time of the newest backup a DR restore can use now: a manifest in the replica whose every listed object's
   * current version is an intact copy of that shard of that snapshot, listing every shard.
   */
  public newestRestorable(groupId: string): number {
    const list = this.replicaManifests.get(groupId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i];
      const shards = this.shardsOf.get(m.snapshot);
      if (m.time <= this.now && shards === m.keys.length && m.keys.every((k, j) => holdsIntact(this.replica.head(k)?.content, m.snapshot, j + 1))) {
        return m.time;
      }
    }
    return Number.NEGATIVE_INFINITY;
  }

  private replicaFault(snapshot: string): void {
    this.counters.replicaFaults++;
    this.replicaFaulted.add(snapshot);
  }

  /** After a commit: the adversary may delete or overwrite one of the committed shard objects in the export bucket. */
  public attackCommitted(keys: readonly string[]): void {
    if (keys.length === 0) {
      return;
    }
    const later = () => this.now + this.random() * (this.retentionDays + 1) * DAY;
    const pick = () => keys[Math.floor(this.random() * keys.length)];
    if (this.random() < this.objectFaults.deleteAfterCommit) {
      const key = pick();
      this.schedule(later(), () => {
        this.exportBucket.delete(key, this.now);
        this.counters.deletedAfterCommit++;
      });
    }
    if (this.random() < this.objectFaults.overwriteAfterCommit) {
      const key = pick();
      this.schedule(later(), () => {
        const size = (this.exportBucket.head(key)?.sizeBytes ?? 1_000_000) + 1 + Math.floor(this.random() * 1000);
        this.putExportObject(key, { sizeBytes: size, content: { integrity: 'intact' } });
        this.counters.overwrittenAfterCommit++;
      });
    }
  }

  /** Seeded export-name suffixes (the reconciler's `RunOptions.random`). */
  public suffix(): string {
    return base32(this.random, 8);
  }
}

/**
 * Group ids: `cache-01`, ... and, for every other group when `long`, an id of 36 to 40 characters (the service's
 * limit), so that names derived from it can exceed the 40-character snapshot name limit.
 */
export function groupIdOf(i: number, long: boolean): string {
  const n = String(i + 1).padStart(2, '0');
  if (!long || i % 2 === 0) {
    return `cache-${n}`;
  }
  return `orders-service-session-store-prod-${n}`.slice(0, 40 - (i % 5));
}
