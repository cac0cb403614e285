/**
 * A simulated ElastiCache + S3 export bucket + cross-region replica, driven minute by minute, with the real
 * reconciler (`reconcileGroup`: planner + executor) running against it through a simulated `ReconcileIo`.
 *
 * Used by test/backup-plan/simulation.test.ts (assertions) and benchmarks/simulation.ts (the results table).
 * Durations and fault rates are the model's, not AWS numbers: snapshot 5-15 min, export 5-20 min, replication
 * up to 15 min (S3 RTC), a reconcile tick every 5 min, events best effort.
 */
import { PLAN_TAG_KEY, stateKey } from '../lib/backup-plan/constants';
import { manifestKey, parseManifest } from '../lib/manifest/manifest';
import { DEFAULT_SETTINGS, GroupConfig, MANUAL_BACKUPS_PER_NODE_PER_DAY, ObjectInfo, parseState, PlannerSettings } from '../lib/backup-plan/planner';
import { GroupDescription, reconcileGroup, ReconcileIo, SnapshotDescription } from '../lib/backup-plan/reconcile-core';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

export interface Faults {
  /** Probability that an ElastiCache call is throttled. */
  readonly throttleRate: number;
  /** Probability that a backup fails. */
  readonly snapshotFailRate: number;
  /** Probability that an export fails (after writing some shards). */
  readonly exportFailRate: number;
  /** Probability that a run crashes at a random point (including between an action and the state write). */
  readonly crashRate: number;
  /** Probability that an event (ElastiCache or S3) is never delivered. */
  readonly eventLossRate: number;
}

export const NO_FAULTS: Faults = { throttleRate: 0, snapshotFailRate: 0, exportFailRate: 0, crashRate: 0, eventLossRate: 0 };
export const DEFAULT_FAULTS: Faults = { throttleRate: 0.02, snapshotFailRate: 0.03, exportFailRate: 0.05, crashRate: 0.02, eventLossRate: 0.1 };

export interface SimulationOptions {
  readonly seed: number;
  readonly groups: number;
  readonly days: number;
  /** Manual backup interval; undefined = automatic daily backups only. */
  readonly intervalMinutes?: number;
  readonly retentionDays?: number;
  readonly faults: Faults;
  readonly reconcileMinutes?: number;
  readonly snapshotMinutes?: readonly [number, number];
  readonly exportMinutes?: readonly [number, number];
  readonly replicationMinutes?: readonly [number, number];
  /** Automatic backups start at the window start plus up to this many minutes. */
  readonly automatedJitterMinutes?: number;
  /** Measurements start after this warm-up. */
  readonly warmupDays?: number;
  readonly settings?: PlannerSettings;
  /** Without an interval: take a manual backup when the automatic one is 25 h old (default true). */
  readonly fallbackBackup?: boolean;
  /**
   * Whether DescribeSnapshots shows the source snapshot as `exporting` while a CopySnapshot to S3 runs (undocumented:
   * the simulation is run both ways). Default false.
   */
  readonly exportStatusVisible?: boolean;
  /** Called after every group run (for debugging a scenario). */
  readonly trace?: (groupId: string, time: Date, line: string) => void;
}

export interface GroupReport {
  readonly replicationGroupId: string;
  readonly shards: number;
  readonly rpoP50Minutes: number;
  readonly rpoP99Minutes: number;
  readonly rpoMaxMinutes: number;
  /** max over samples of (RPO - the fault-aware bound of that sample); <= 0 when the bound holds. */
  readonly maxRpoMinusBoundMinutes: number;
  /** When that maximum was sampled. */
  readonly maxRpoMinusBoundAt: string;
  /** Samples whose RPO exceeds the fault-free bound (`rpoBoundMinutes`). */
  readonly samplesOverPlainBound: number;
  readonly samples: number;
  /** When the worst RPO was sampled. */
  readonly rpoMaxAt: string;
  readonly maxManualBackupsPer24h: number;
  readonly runs: number;
  readonly apiCalls: number;
  readonly maxApiCallsPerRun: number;
  readonly exportsCommitted: number;
  readonly snapshotsDeleted: number;
}

export interface SimulationReport {
  readonly options: SimulationOptions;
  readonly groups: readonly GroupReport[];
  readonly unsafeDeletions: number;
  readonly quotaViolations: number;
  readonly maxExportsInFlight: number;
  readonly exportNameCollisions: number;
  readonly prematureDeletions: number;
  readonly crashes: number;
  readonly throttles: number;
  readonly failedSnapshots: number;
  readonly failedExports: number;
  /** Manual backups the plan created that still exist at the end, beyond retention + 1 day (a pruning leak). */
  readonly leakedSnapshots: number;
  /** The fault-free bound: interval (or 24 h + jitter) + max pipeline + two runs. */
  readonly rpoBoundMinutes: number;
  /** Fault costs charged to the fault-aware bounds, in minutes, by kind (summed over all groups). */
  readonly faultCostMinutes: Readonly<Record<string, number>>;
  readonly lostEvents: number;
  readonly scheduledRuns: number;
  readonly eventRuns: number;
}

/* eslint-disable no-bitwise */
/** Deterministic RNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

class SimError extends Error {
  constructor(name: string, message: string, public readonly $metadata = { httpStatusCode: 400 }) {
    super(message);
    this.name = name;
  }
}
class Crash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

interface SimSnapshot {
  name: string;
  group: string;
  source: 'automated' | 'manual';
  status: 'creating' | 'available' | 'failed' | 'exporting';
  /** Exports of this snapshot running (the status shows `exporting` while > 0, when visible). */
  exporting: number;
  startedAt: number;
  doneAt: number;
  willFail: boolean;
  tags: Record<string, string>;
}

interface SimExport {
  group: string;
  source: string;
  target: string;
  doneAt: number;
  willFail: boolean;
  shards: number;
  startedAt: number;
}

interface SimObject { size: number; body?: string; at: number }

interface GroupWorld {
  id: string;
  shards: number;
  automatedOffsetMin: number;
  nextAutomatedAt: number;
  manualCreations: number[];
  /** DR side: manifests seen in the replica, waiting for their objects. */
  pendingReplicaManifests: Array<{ createTime: number; keys: string[] }>;
  newestRestorable: number;
  rpoSamples: number[];
  maxAt: number;
  maxRpo?: number;
  runs: number;
  apiCalls: number;
  maxApiCallsPerRun: number;
  exportsCommitted: number;
  snapshotsDeleted: number;
  maxManual24h: number;
  /** Ground truth of what delayed the pipeline: each fault with the time it hit and the delay the rules charge for it. */
  faults: Fault[];
  /** A due backup declined for the quota since this time (undefined: not blocked). */
  quotaBlockedSince?: number;
  /** Snapshot time of the newest committed manifest. */
  newestCommitted: number;
  maxExcess: number;
  maxExcessAt: number;
  overPlain: number;
}

interface Fault { at: number; minutes: number; kind: string }

type Trigger = { group: string; signal?: { text: string; time: Date } };
interface RunCounter { calls: number; crashedCall?: string; throttled?: boolean }

const PLAN_ID = 'sim-plan';

export class Simulation {
  private readonly random: () => number;
  private now: number;
  private readonly start: number;
  private readonly snapshots = new Map<string, SimSnapshot>();
  private readonly snapshotsByGroup = new Map<string, Map<string, SimSnapshot>>();
  private readonly exports: SimExport[] = [];
  private readonly exportBucket = new Map<string, SimObject>();
  private readonly exportIndex = new Map<string, string[]>(); // export name -> keys
  private readonly manifestIndex = new Map<string, string[]>(); // group -> sorted manifest keys
  private readonly replica = new Map<string, number>();
  private readonly replicationQueue: Array<{ key: string; at: number }> = [];
  private readonly groups: GroupWorld[] = [];
  private readonly configs: GroupConfig[] = [];
  private pendingTriggers: Trigger[] = [];
  private readonly acceptedExportNames = new Map<string, string>();
  private readonly opts: Required<Omit<SimulationOptions, 'intervalMinutes'>> & { intervalMinutes?: number };
  private readonly faultCost: Record<string, number> = {};
  private counters = {
    unsafeDeletions: 0,
    quotaViolations: 0,
    maxExportsInFlight: 0,
    exportNameCollisions: 0,
    prematureDeletions: 0,
    crashes: 0,
    throttles: 0,
    failedSnapshots: 0,
    failedExports: 0,
    lostEvents: 0,
    scheduledRuns: 0,
    eventRuns: 0,
  };

  constructor(options: SimulationOptions) {
    this.opts = {
      retentionDays: 1,
      reconcileMinutes: 5,
      snapshotMinutes: [5, 15],
      exportMinutes: [5, 20],
      replicationMinutes: [0.1, 15],
      automatedJitterMinutes: 30,
      warmupDays: options.intervalMinutes === undefined ? 2 : 1,
      settings: DEFAULT_SETTINGS,
      fallbackBackup: true,
      exportStatusVisible: false,
      trace: () => undefined,
      ...options,
    };
    this.random = rng(options.seed);
    this.start = Date.UTC(2026, 0, 1);
    this.now = this.start;
    for (let i = 0; i < options.groups; i++) {
      const id = `cache-${String(i + 1).padStart(2, '0')}`;
      const offset = Math.floor(this.random() * 24 * 60);
      this.groups.push({
        id,
        shards: 1 + (i % 3),
        automatedOffsetMin: offset,
        nextAutomatedAt: this.nextAutomated(offset, this.start),
        manualCreations: [],
        pendingReplicaManifests: [],
        newestRestorable: Number.NEGATIVE_INFINITY,
        rpoSamples: [],
        maxAt: 0,
        runs: 0,
        apiCalls: 0,
        maxApiCallsPerRun: 0,
        exportsCommitted: 0,
        snapshotsDeleted: 0,
        maxManual24h: 0,
        faults: [],
        newestCommitted: Number.NEGATIVE_INFINITY,
        maxExcess: Number.NEGATIVE_INFINITY,
        maxExcessAt: 0,
        overPlain: 0,
      });
      const interval = options.intervalMinutes;
      this.configs.push({
        replicationGroupId: id,
        intervalSeconds: interval === undefined ? undefined : interval * 60,
        retentionSeconds: this.opts.retentionDays * 86_400,
        rpoTargetSeconds: interval === undefined ? 26 * 3600 : (interval + 60) * 60,
        exportAutomated: true,
        fallbackAfterSeconds: interval === undefined && this.opts.fallbackBackup ? 25 * 3600 : undefined,
      });
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

  private addSnapshot(s: SimSnapshot): void {
    this.snapshots.set(s.name, s);
    const m = this.snapshotsByGroup.get(s.group) ?? new Map<string, SimSnapshot>();
    m.set(s.name, s);
    this.snapshotsByGroup.set(s.group, m);
  }

  private removeSnapshot(s: SimSnapshot): void {
    this.snapshots.delete(s.name);
    this.snapshotsByGroup.get(s.group)?.delete(s.name);
  }

  private groupSnapshots(group: string): SimSnapshot[] {
    return [...(this.snapshotsByGroup.get(group)?.values() ?? [])];
  }

  private between(range: readonly [number, number]): number {
    return (range[0] + this.random() * (range[1] - range[0])) * MIN;
  }

  /** Delivers an event, unless it is lost; returns whether it was delivered. */
  private emit(trigger: Trigger): boolean {
    if (this.random() >= this.opts.faults.eventLossRate) {
      this.pendingTriggers.push(trigger);
      return true;
    }
    this.counters.lostEvents++;
    return false;
  }

  /** Whether the reconciler's persisted state says a run saw the source of export `target` in a busy status. */
  private statusSeen(groupId: string, target: string): boolean {
    const inFlight = parseState(this.exportBucket.get(stateKey(groupId))?.body).inFlight;
    return this.opts.exportStatusVisible && inFlight?.exportName === target && inFlight.sourceBusySeen === true;
  }

  /** Detection by the export timeout: from the start of the export, then the next run. */
  private timeoutDetection(): number {
    return this.opts.settings.exportTimeoutSeconds / 60 + this.tick;
  }

  private get tick(): number {
    return this.opts.reconcileMinutes;
  }

  /** Records a fault against a group's bound: `minutes` is the delay the plan's rules let it cause. */
  private charge(groupId: string, kind: string, minutes: number, at = this.now): void {
    const g = this.group(groupId);
    const f = { at, minutes, kind };
    // Keep the ledger sorted by time (quota waits are recorded when they end, with the time they began).
    let i = g.faults.length;
    while (i > 0 && g.faults[i - 1].at > at) {
      i--;
    }
    g.faults.splice(i, 0, f);
    this.faultCost[kind] = (this.faultCost[kind] ?? 0) + minutes;
  }

  /**
   * Whether the group has work in its pipeline at `t`, or a backup falls due before `t + horizonMin`: only then can a
   * crashed run or a throttled call delay its RPO.
   */
  private pending(g: GroupWorld, horizonMin: number): boolean {
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of this.groupSnapshots(g.id)) {
      if (s.status === 'creating') {
        return true;
      }
      if (s.status === 'failed') {
        continue;
      }
      newest = Math.max(newest, s.startedAt);
      const exportable = s.source === 'automated' || s.tags[PLAN_TAG_KEY] === PLAN_ID;
      if (exportable && s.startedAt > g.newestCommitted) {
        return true; // waiting for its export, its commit, or in an export
      }
    }
    if (this.exports.some((x) => x.group === g.id)) {
      return true;
    }
    const every = this.opts.intervalMinutes ?? (this.opts.fallbackBackup ? 25 * 60 : undefined);
    return every !== undefined && newest + every * MIN <= this.now + horizonMin * MIN;
  }

  // ------------------------------------------------------------------ world
  private putObject(key: string, obj: SimObject, replicate: boolean): void {
    this.exportBucket.set(key, obj);
    const m = /^(.*)-\d{4}\.rdb$/.exec(key);
    if (m) {
      const list = this.exportIndex.get(m[1]) ?? [];
      if (!list.includes(key)) {
        list.push(key);
        list.sort();
      }
      this.exportIndex.set(m[1], list);
    } else if (key.startsWith('manifests/')) {
      const group = key.split('/')[1];
      const list = this.manifestIndex.get(group) ?? [];
      if (!list.includes(key)) {
        list.push(key);
        list.sort();
      }
      this.manifestIndex.set(group, list);
    }
    if (replicate) {
      this.replicationQueue.push({ key, at: this.now + this.between(this.opts.replicationMinutes) });
    }
  }

  private advance(): void {
    const t = this.now;
    for (const g of this.groups) {
      if (g.nextAutomatedAt <= t) {
        const busy = this.groupSnapshots(g.id).some((s) => s.status === 'creating');
        if (!busy) {
          const d = new Date(t);
          const name = `automatic.${g.id}-${d.toISOString().slice(0, 16).replace(/[T:]/g, '-')}`;
          this.addSnapshot({
            name,
            group: g.id,
            source: 'automated',
            status: 'creating',
            startedAt: t,
            doneAt: t + this.between(this.opts.snapshotMinutes),
            willFail: this.random() < this.opts.faults.snapshotFailRate,
            tags: {},
            exporting: 0,
          });
          g.nextAutomatedAt = this.nextAutomated(g.automatedOffsetMin, t + 60 * MIN);
        } else {
          g.nextAutomatedAt = t + 5 * MIN;
        }
      }
    }
    for (const s of this.snapshots.values()) {
      if (s.status === 'creating' && s.doneAt <= t) {
        s.status = s.willFail ? 'failed' : 'available';
        if (s.willFail) {
          this.counters.failedSnapshots++;
          if (s.source === 'manual') {
            // One more backup: noticed at the next run, retried once the cooldown after the failed call has passed
            // (the quota wait, if any, is measured as it happens), then one more snapshot duration.
            const cooldown = this.opts.settings.failedBackupCooldownSeconds / 60;
            const elapsed = (t - s.startedAt) / MIN;
            this.charge(s.group, 'failed backup', this.tick + Math.max(0, cooldown - elapsed) + this.opts.snapshotMinutes[1]);
          } else if (this.opts.intervalMinutes === undefined) {
            // Automatic backups only: the fallback backup is taken when the newest backup is 25 h old.
            this.charge(s.group, 'failed backup', (this.opts.fallbackBackup ? 60 : 24 * 60) + this.tick);
          }
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
      const written = x.willFail ? Math.floor(this.random() * x.shards) : x.shards;
      let delivered = false;
      for (let shard = 1; shard <= written; shard++) {
        this.putObject(`${x.target}-${String(shard).padStart(4, '0')}.rdb`, { size: 1_000_000 + shard, at: t }, true);
        delivered = this.emit({ group: x.group }) || delivered;
      }
      if (!x.willFail && !delivered) {
        this.charge(x.group, 'lost event', this.tick); // the commit waits for the next tick
      }
      if (x.willFail) {
        this.counters.failedExports++;
        const signalled = this.emit({ group: x.group, signal: { text: JSON.stringify({ SourceIdentifier: x.source, Message: `Export of ${x.source} to ${x.target} failed` }), time: new Date(t) } });
        // The delay until the retry starts (the retry's own duration is in the fault-free bound): the failed attempt's
        // duration plus its detection: none with the event; with the status visible, the run that sees the snapshot
        // back in 'available' plus one run of grace; otherwise the export timeout (from the start) and one run.
        // The status only helps once a run has seen it: the planner's persisted state says whether one has.
        const byStatus = this.statusSeen(x.group, x.target);
        const minutes = signalled ? this.opts.exportMinutes[1] : byStatus ? this.opts.exportMinutes[1] + 2 * this.tick : this.timeoutDetection();
        this.charge(x.group, signalled ? 'failed export (event)' : byStatus ? 'failed export (status)' : 'failed export (timeout)', minutes, x.startedAt);
      }
    }
    for (let i = this.replicationQueue.length - 1; i >= 0; i--) {
      const r = this.replicationQueue[i];
      if (r.at <= t) {
        this.replicationQueue.splice(i, 1);
        this.arriveInReplica(r.key);
      }
    }
  }

  private arriveInReplica(key: string): void {
    this.replica.set(key, this.now);
    if (key.startsWith('manifests/')) {
      const body = this.exportBucket.get(key)?.body;
      if (body) {
        const m = parseManifest(body, key);
        const g = this.group(m.replicationGroupId);
        g.pendingReplicaManifests.push({ createTime: Date.parse(m.snapshotCreateTime), keys: m.shards.map((s) => s.key) });
      }
    }
    for (const g of this.groups) {
      g.pendingReplicaManifests = g.pendingReplicaManifests.filter((p) => {
        if (p.keys.every((k) => this.replica.has(k))) {
          g.newestRestorable = Math.max(g.newestRestorable, p.createTime);
          return false;
        }
        return true;
      });
    }
  }

  private group(id: string): GroupWorld {
    const g = this.groups.find((x) => x.id === id);
    if (!g) {
      throw new Error(`unknown group ${id}`);
    }
    return g;
  }

  // ------------------------------------------------------------------ the reconciler's view
  private io(groupId: string, crashAt: number, counter: RunCounter): ReconcileIo {
    const sim = this;
    const step = (elasticache: boolean, call = '') => {
      counter.calls++;
      if (counter.calls === crashAt) {
        sim.counters.crashes++;
        counter.crashedCall = call || 'other';
        throw new Crash();
      }
      if (elasticache && sim.random() < sim.opts.faults.throttleRate) {
        sim.counters.throttles++;
        counter.throttled = true;
        throw new SimError('Throttling', 'Rate exceeded');
      }
    };
    const list = (prefix: string, startAfter?: string): ObjectInfo[] => {
      let keys: string[];
      if (prefix.startsWith('manifests/')) {
        keys = sim.manifestIndex.get(prefix.split('/')[1]) ?? [];
      } else if (prefix.endsWith('-')) {
        keys = sim.exportIndex.get(prefix.slice(0, -1)) ?? [];
      } else {
        keys = [...sim.exportBucket.keys()].sort();
      }
      let from = 0;
      if (startAfter !== undefined) {
        // keys are sorted: binary search for the first key after startAfter
        let hi = keys.length;
        while (from < hi) {
          const mid = Math.floor((from + hi) / 2);
          if (keys[mid] <= startAfter) {
            from = mid + 1;
          } else {
            hi = mid;
          }
        }
      }
      const out: ObjectInfo[] = [];
      for (let i = from; i < keys.length; i++) {
        if (keys[i].startsWith(prefix)) {
          out.push({ key: keys[i], sizeBytes: sim.exportBucket.get(keys[i])!.size });
        }
      }
      // one ListObjectsV2 call per 1,000 keys
      counter.calls += Math.max(0, Math.ceil(out.length / 1000) - 1);
      return out;
    };
    return {
      region: 'us-east-1',
      bucketName: 'export-bucket',
      async describeSnapshots(id) {
        step(true);
        return sim.groupSnapshots(id).map((s): SnapshotDescription => ({
          name: s.name,
          source: s.source,
          status: s.status,
          createTime: s.status === 'creating' ? undefined : new Date(s.startedAt),
          shardCount: sim.group(id).shards,
          meta: { engine: 'valkey', engineVersion: '8.0', nodeType: 'cache.r7g.large', clusterModeEnabled: sim.group(id).shards > 1 },
        }));
      },
      async describeGroup(id): Promise<GroupDescription> {
        step(true);
        return { status: 'available', clusterModeEnabled: sim.group(id).shards > 1, snapshotClusterId: sim.group(id).shards > 1 ? undefined : `${id}-002` };
      },
      async listObjects(prefix, startAfter) {
        step(false);
        return list(prefix, startAfter);
      },
      async getText(key) {
        step(false);
        return sim.exportBucket.get(key)?.body;
      },
      async putText(key, body) {
        step(false);
        sim.putObject(key, { size: body.length, body, at: sim.now }, key.startsWith('manifests/'));
        if (key.startsWith('manifests/')) {
          const g = sim.group(groupId);
          g.exportsCommitted++;
          g.newestCommitted = Math.max(g.newestCommitted, Date.parse(parseManifest(body, key).snapshotCreateTime));
        }
      },
      async readRange() {
        step(false);
        return new TextEncoder().encode('VALKEY080');
      },
      async createSnapshot(req) {
        step(true, 'CreateSnapshot');
        const g = sim.group(req.replicationGroupId);
        if (sim.snapshots.has(req.snapshotName)) {
          throw new SimError('SnapshotAlreadyExistsFault', `Snapshot ${req.snapshotName} already exists`);
        }
        if (sim.groupSnapshots(g.id).some((s) => s.status === 'creating')) {
          throw new SimError('InvalidReplicationGroupStateFault', 'A backup is in progress');
        }
        const recent = g.manualCreations.filter((t) => t > sim.now - DAY).length;
        if (recent + 1 > MANUAL_BACKUPS_PER_NODE_PER_DAY) {
          sim.counters.quotaViolations++;
          throw new SimError('SnapshotQuotaExceededFault', 'quota');
        }
        g.manualCreations.push(sim.now);
        g.maxManual24h = Math.max(g.maxManual24h, recent + 1);
        sim.addSnapshot({
          name: req.snapshotName,
          group: g.id,
          source: 'manual',
          status: 'creating',
          startedAt: sim.now,
          doneAt: sim.now + sim.between(sim.opts.snapshotMinutes),
          willFail: sim.random() < sim.opts.faults.snapshotFailRate,
          tags: { ...req.tags },
          exporting: 0,
        });
      },
      async copySnapshot(req) {
        step(true);
        const s = sim.snapshots.get(req.sourceSnapshotName);
        if (!s) {
          throw new SimError('SnapshotNotFoundFault', 'not found');
        }
        if (s.status !== 'available') {
          throw new SimError('InvalidSnapshotStateFault', 'not available');
        }
        const previous = sim.acceptedExportNames.get(req.targetSnapshotName);
        // (Checked after the status: a re-issued export of a snapshot shown as 'exporting' is refused, the less
        // convenient of the two possible answers.)
        if (previous !== undefined || sim.exports.some((x) => x.target === req.targetSnapshotName)) {
          if (previous !== req.sourceSnapshotName) {
            sim.counters.exportNameCollisions++;
          }
          throw new SimError('SnapshotAlreadyExistsFault', `The S3 bucket already contains an object with key ${req.targetSnapshotName}-0001.rdb.`);
        }
        sim.acceptedExportNames.set(req.targetSnapshotName, req.sourceSnapshotName);
        sim.exports.push({
          group: s.group,
          source: s.name,
          target: req.targetSnapshotName,
          doneAt: sim.now + sim.between(sim.opts.exportMinutes),
          willFail: sim.random() < sim.opts.faults.exportFailRate,
          shards: sim.group(s.group).shards,
          startedAt: sim.now,
        });
        s.exporting++;
        if (sim.opts.exportStatusVisible) {
          s.status = 'exporting';
        }
        const inFlight = sim.exports.filter((x) => x.group === s.group).length;
        sim.counters.maxExportsInFlight = Math.max(sim.counters.maxExportsInFlight, inFlight);
      },
      async snapshotTag(name, key) {
        step(true);
        const s = sim.snapshots.get(name);
        if (!s) {
          throw new SimError('SnapshotNotFoundFault', 'not found');
        }
        return s.tags[key];
      },
      async deleteSnapshot(name) {
        step(true);
        const s = sim.snapshots.get(name);
        if (!s) {
          throw new SimError('SnapshotNotFoundFault', 'not found');
        }
        const committed = sim.exportBucket.has(manifestKey(s.group, new Date(s.startedAt), s.name));
        if (s.tags[PLAN_TAG_KEY] !== PLAN_ID || s.source !== 'manual' || !committed) {
          sim.counters.unsafeDeletions++;
        }
        if (s.startedAt > sim.now - sim.opts.retentionDays * DAY) {
          sim.counters.prematureDeletions++;
        }
        sim.removeSnapshot(s);
        sim.group(s.group).snapshotsDeleted++;
      },
    };
  }

  private async runGroup(index: number, signal?: { text: string; time: Date }): Promise<void> {
    const g = this.groups[index];
    const crashAt = this.random() < this.opts.faults.crashRate ? 1 + Math.floor(this.random() * 10) : -1;
    const counter: RunCounter = { calls: 0 };
    // Whether a crash or a throttle can cost anything is decided on the state before the run.
    const pendingNow = this.pending(g, 0);
    const inFlightBefore = parseState(this.exportBucket.get(stateKey(g.id))?.body).inFlight;
    const failedExportSeen = inFlightBefore !== undefined && this.statusSeen(g.id, inFlightBefore.exportName);
    let result: Awaited<ReturnType<typeof reconcileGroup>> | undefined;
    try {
      result = await reconcileGroup(this.io(g.id, crashAt, counter), this.configs[index], {
        planId: PLAN_ID,
        settings: this.opts.settings,
        now: () => new Date(this.now),
        signals: signal ? [signal] : [],
      });
      this.opts.trace?.(g.id, new Date(this.now), `${JSON.stringify(result.decision.notes)} ${JSON.stringify(result.executed.map((x) => [x.action.kind, x.outcome]))}`);
    } catch (e) {
      this.opts.trace?.(g.id, new Date(this.now), `run failed: ${(e as Error).name}`);
      // A crashed or failed run: the Lambda logs it and the next tick starts over.
    }
    if (counter.crashedCall !== undefined) {
      if (counter.crashedCall === 'CreateSnapshot') {
        // The write-ahead record says a backup was requested; the planner waits 15 minutes for it to appear.
        this.charge(g.id, 'crashed run', 15 + this.tick);
      } else if (pendingNow) {
        this.charge(g.id, 'crashed run', this.tick);
      }
    } else if (counter.throttled) {
      // A throttled read fails the run (one run); a throttled write starts the backoff (then one run).
      const until = result?.state.backoffUntil ? Date.parse(result.state.backoffUntil) : undefined;
      const backoff = until !== undefined && until > this.now ? (until - this.now) / MIN : 0;
      if (pendingNow || this.pending(g, backoff + this.tick)) {
        this.charge(g.id, 'throttled call', backoff + this.tick);
      }
    }
    if (signal && result === undefined) {
      // The run that carried an export-failure event failed: the event is spent (the handler does not rethrow for one
      // group, so it is not redelivered), and detection falls back to the status or the timeout.
      this.charge(g.id, 'failure event spent by a failed run', failedExportSeen ? 2 * this.tick : this.timeoutDetection());
    }
    // Quota waits: from the first run that declined a due backup for the quota to the first run that did not.
    if (result) {
      if (result.decision.backupBlockedByQuota) {
        g.quotaBlockedSince ??= this.now;
      } else if (g.quotaBlockedSince !== undefined) {
        this.charge(g.id, 'quota wait', (this.now - g.quotaBlockedSince) / MIN, g.quotaBlockedSince);
        g.quotaBlockedSince = undefined;
      }
    }
    g.runs++;
    g.apiCalls += counter.calls;
    g.maxApiCallsPerRun = Math.max(g.maxApiCallsPerRun, counter.calls);
  }

  /** The fault-aware bound of a sample at `now` whose newest restorable backup was taken at `since`. */
  private faultAwareBound(g: GroupWorld, since: number, plain: number): number {
    let extra = 0;
    // Binary search for the first fault after `since`.
    let lo = 0;
    let hi = g.faults.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1; // eslint-disable-line no-bitwise
      if (g.faults[mid].at <= since) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (let i = lo; i < g.faults.length && g.faults[i].at <= this.now; i++) {
      extra += g.faults[i].minutes;
    }
    if (g.quotaBlockedSince !== undefined && g.quotaBlockedSince > since) {
      extra += (this.now - g.quotaBlockedSince) / MIN;
    }
    return plain + extra;
  }

  /** interval (or 24 h + the automatic backup's jitter) + max snapshot + max export + max replication + two runs. */
  private plainBound(): number {
    const pipeline = this.opts.snapshotMinutes[1] + this.opts.exportMinutes[1] + this.opts.replicationMinutes[1];
    const base = this.opts.intervalMinutes ?? 24 * 60 + this.opts.automatedJitterMinutes;
    return base + pipeline + 2 * this.opts.reconcileMinutes;
  }

  /** The faults charged to a group (for tracing a scenario). */
  public faultsOf(groupId: string): ReadonlyArray<{ at: string; minutes: number; kind: string }> {
    return this.group(groupId).faults.map((f) => ({ at: new Date(f.at).toISOString(), minutes: f.minutes, kind: f.kind }));
  }

  public async run(): Promise<SimulationReport> {
    const plainBound = this.plainBound();
    const warmupEnd = this.start + this.opts.warmupDays * DAY;
    const end = warmupEnd + this.opts.days * DAY;
    for (this.now = this.start; this.now < end; this.now += MIN) {
      this.advance();
      const minute = Math.round((this.now - this.start) / MIN);
      const ran = new Set<number>();
      if (minute % this.opts.reconcileMinutes === 0) {
        for (let i = 0; i < this.groups.length; i++) {
          await this.runGroup(i);
          ran.add(i);
          this.counters.scheduledRuns++;
        }
      }
      const triggers = this.pendingTriggers;
      this.pendingTriggers = [];
      for (const trig of triggers) {
        const i = this.groups.findIndex((g) => g.id === trig.group);
        if (trig.signal || !ran.has(i)) {
          await this.runGroup(i, trig.signal);
          ran.add(i);
          this.counters.eventRuns++;
        }
      }
      if (this.now >= warmupEnd) {
        for (const g of this.groups) {
          const rpo = Number.isFinite(g.newestRestorable) ? (this.now - g.newestRestorable) / MIN : Number.POSITIVE_INFINITY;
          const excess = rpo - this.faultAwareBound(g, g.newestRestorable, plainBound);
          if (excess > g.maxExcess) {
            g.maxExcess = excess;
            g.maxExcessAt = this.now;
          }
          if (rpo > plainBound) {
            g.overPlain++;
          }
          if (rpo >= (g.maxRpo ?? -1)) {
            g.maxRpo = rpo;
            g.maxAt = this.now;
          }
          g.rpoSamples.push(rpo);
        }
      }
    }
    let leaked = 0;
    for (const s of this.snapshots.values()) {
      if (s.source === 'manual' && s.status === 'available' && s.startedAt < this.now - (this.opts.retentionDays + 1) * DAY) {
        leaked++;
      }
    }
    return {
      options: this.opts,
      groups: this.groups.map((g) => {
        const sorted = [...g.rpoSamples].sort((a, b) => a - b);
        const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
        return {
          replicationGroupId: g.id,
          shards: g.shards,
          rpoMaxAt: new Date(g.maxAt).toISOString(),
          rpoP50Minutes: pct(0.5),
          rpoP99Minutes: pct(0.99),
          rpoMaxMinutes: sorted[sorted.length - 1],
          maxRpoMinusBoundMinutes: g.maxExcess,
          maxRpoMinusBoundAt: new Date(g.maxExcessAt).toISOString(),
          samplesOverPlainBound: g.overPlain,
          samples: sorted.length,
          maxManualBackupsPer24h: g.maxManual24h,
          runs: g.runs,
          apiCalls: g.apiCalls,
          maxApiCallsPerRun: g.maxApiCallsPerRun,
          exportsCommitted: g.exportsCommitted,
          snapshotsDeleted: g.snapshotsDeleted,
        };
      }),
      ...this.counters,
      leakedSnapshots: leaked,
      rpoBoundMinutes: plainBound,
      faultCostMinutes: { ...this.faultCost },
    };
  }
}

export async function simulate(options: SimulationOptions): Promise<SimulationReport> {
  return new Simulation(options).run();
}

/** The report as a Markdown table (one row per group, then totals). */
export function formatReport(title: string, r: SimulationReport): string {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
  const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(2)}%`;
  const lines = [
    `### ${title}`,
    '',
    `${r.options.groups} groups, ${r.options.days} simulated days (after ${r.options.warmupDays} warm-up), seed ${r.options.seed}, `
      + `interval ${r.options.intervalMinutes === undefined ? 'none (automatic daily backups only)' : `${r.options.intervalMinutes} min`}, `
      + `faults ${JSON.stringify(r.options.faults)}, snapshot status during an export ${r.options.exportStatusVisible ? 'visible (`exporting`)' : 'not visible (stays `available`)'}`,
    '',
    '| group | shards | DR RPO p50 (min) | p99 (min) | max (min) | max (RPO - fault-aware bound) (min) | samples over the fault-free bound | manual backups / node / 24 h (max) | runs | API calls / run (mean) | API calls / run (max) | exports committed | backups pruned |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const g of r.groups) {
    lines.push(`| ${g.replicationGroupId} | ${g.shards} | ${f(g.rpoP50Minutes)} | ${f(g.rpoP99Minutes)} | ${f(g.rpoMaxMinutes)} | ${f(g.maxRpoMinusBoundMinutes)} | `
      + `${pct(g.samplesOverPlainBound, g.samples)} | ${g.maxManualBackupsPer24h} | ${g.runs} | `
      + `${(g.apiCalls / Math.max(1, g.runs)).toFixed(2)} | ${g.maxApiCallsPerRun} | ${g.exportsCommitted} | ${g.snapshotsDeleted} |`);
  }
  const all = r.groups;
  const max = (sel: (g: GroupReport) => number) => Math.max(...all.map(sel));
  const median = [...all.map((g) => g.rpoP50Minutes)].sort((a, b) => a - b)[Math.floor(all.length / 2)];
  lines.push('');
  const over = all.reduce((a, g) => a + g.samplesOverPlainBound, 0);
  const samples = all.reduce((a, g) => a + g.samples, 0);
  const costs = Object.entries(r.faultCostMinutes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
  lines.push(`Summary: DR RPO p50 (median of groups) ${f(median)} min, worst p99 ${f(max((g) => g.rpoP99Minutes))} min, worst max ${f(max((g) => g.rpoMaxMinutes))} min; `
    + `max over all samples of (RPO - fault-aware bound) ${f(max((g) => g.maxRpoMinusBoundMinutes))} min (<= 0: the bound holds); `
    + `samples over the fault-free bound (interval + max pipeline + two runs = ${r.rpoBoundMinutes} min) ${pct(over, samples)} (${over} of ${samples}); `
    + `manual backups per node per 24 h max ${max((g) => g.maxManualBackupsPer24h)} (quota ${MANUAL_BACKUPS_PER_NODE_PER_DAY}); `
    + `API calls per group per run mean ${(all.reduce((a, g) => a + g.apiCalls, 0) / Math.max(1, all.reduce((a, g) => a + g.runs, 0))).toFixed(2)}, max ${max((g) => g.maxApiCallsPerRun)}.`);
  lines.push(`Safety: unsafe deletions ${r.unsafeDeletions}, premature deletions ${r.prematureDeletions}, quota violations ${r.quotaViolations}, `
    + `max exports in flight per group ${r.maxExportsInFlight}, export name collisions ${r.exportNameCollisions}, leaked backups ${r.leakedSnapshots}.`);
  lines.push(`Faults injected: ${r.crashes} crashed runs, ${r.throttles} throttled calls, ${r.failedSnapshots} failed backups, ${r.failedExports} failed exports, ${r.lostEvents} lost events; `
    + `${r.scheduledRuns} scheduled and ${r.eventRuns} event-driven group runs. Minutes charged to the fault-aware bounds (all groups): ${costs || 'none'}.`);
  return lines.join('\n');
}
