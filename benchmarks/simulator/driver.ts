/**
 * Drives the world minute by minute and runs the real reconciler (`reconcileGroup`: planner + executor) against it on
 * its schedule and on events; measures the DR RPO and keeps the ledger of what delayed each group (the fault-aware
 * bound, README "With faults: the fault-aware bound").
 */
import { WorldAdversary } from './adversary';
import { Crash, IoHooks, RunCounter, SimIo, simulatedIo } from './io';
import { applyMutant, mutateIo } from './mutants';
import { SimulationOptions } from './options';
import { SafetyOracle } from './oracle';
import { GroupReport, SimulationReport } from './report';
import { DAY, MIN } from './rng';
import { PLAN_ID, SECOND_PLAN_ID, World, WorldGroup } from './world';
import { PLAN_TAG_KEY, stateKey } from '../../lib/backup-plan/constants';
import { GroupConfig, tryParseState } from '../../lib/backup-plan/planner';
import { reconcileGroup, RunOptions } from '../../lib/backup-plan/reconcile-core';

interface Fault { at: number; minutes: number; kind: string }

/** Per-group measurements (the world holds the group's truth). */
interface GroupStats {
  newestRestorable: number;
  restorableAt: number;
  rpoSamples: number[];
  maxAt: number;
  maxRpo?: number;
  runs: number;
  apiCalls: number;
  maxApiCallsPerRun: number;
  exportsCommitted: number;
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

type Resolved = SimulationOptions & {
  retentionDays: number;
  reconcileMinutes: number;
  snapshotMinutes: readonly [number, number];
  exportMinutes: readonly [number, number];
  replicationMinutes: readonly [number, number];
  verifyMinutes: readonly [number, number];
  automatedJitterMinutes: number;
  warmupDays: number;
  fallbackBackup: boolean;
  unexportedCap: number;
};

export class Simulation {
  public readonly world: World;
  public readonly oracle: SafetyOracle;
  public readonly adversary: WorldAdversary;
  /** Runs that failed loudly (state unreadable, state conflicts, another plan's backups), by error name. */
  public readonly loudFailures = new Map<string, number>();
  /** Groups whose run is on the stack (an overlapping run is started only from a run that is not itself one). */
  private readonly running = new Set<string>();
  /** The `head-hides-overwrites` mutant's memory. */
  private readonly firstSeen = new Map<string, Awaited<ReturnType<SimIo['headObject']>>>();
  /** Runs that failed for another reason than an injected crash or throttle, by message (a reconciler bug or a gap in the model). */
  public readonly runErrors = new Map<string, number>();
  private readonly opts: Resolved;
  private readonly stats = new Map<string, GroupStats>();
  private readonly configs: GroupConfig[] = [];
  private readonly faultCost: Record<string, number> = {};
  private crashes = 0;
  private throttles = 0;
  private scheduledRuns = 0;
  private eventRuns = 0;
  private restorableVersion = -1;

  constructor(options: SimulationOptions) {
    this.opts = {
      retentionDays: 1,
      reconcileMinutes: 5,
      snapshotMinutes: [5, 15],
      exportMinutes: [5, 20],
      replicationMinutes: [0.1, 15],
      verifyMinutes: [0.5, 3],
      automatedJitterMinutes: 30,
      warmupDays: options.intervalMinutes === undefined ? 2 : 1,
      fallbackBackup: true,
      unexportedCap: 3,
      ...options,
    };
    this.world = new World(this.opts, (g, kind, minutes, at) => this.charge(g, kind, minutes, at));
    this.world.statusSeen = (g, target) => this.statusSeen(g, target);
    const rpoTargetMs = (_: string) => (options.intervalMinutes === undefined ? 26 * 60 : options.intervalMinutes + 60) * MIN;
    this.oracle = new SafetyOracle(this.world, this.opts.retentionDays * DAY, this.opts.reconcileMinutes * MIN, rpoTargetMs,
      this.world.start + this.opts.warmupDays * DAY);
    this.adversary = new WorldAdversary(this.world, options.adversary);
    for (const g of this.world.groups) {
      this.stats.set(g.id, {
        newestRestorable: Number.NEGATIVE_INFINITY,
        restorableAt: 0,
        rpoSamples: [],
        maxAt: 0,
        runs: 0,
        apiCalls: 0,
        maxApiCallsPerRun: 0,
        exportsCommitted: 0,
        faults: [],
        newestCommitted: Number.NEGATIVE_INFINITY,
        maxExcess: Number.NEGATIVE_INFINITY,
        maxExcessAt: 0,
        overPlain: 0,
      });
      const interval = options.intervalMinutes;
      this.configs.push({
        replicationGroupId: g.id,
        intervalSeconds: interval === undefined ? undefined : interval * 60,
        retentionSeconds: this.opts.retentionDays * 86_400,
        rpoTargetSeconds: interval === undefined ? 26 * 3600 : (interval + 60) * 60,
        exportAutomated: true,
        fallbackAfterSeconds: interval === undefined && this.opts.fallbackBackup ? 25 * 3600 : undefined,
      });
    }
  }

  private stat(id: string): GroupStats {
    return this.stats.get(id)!;
  }

  /** Whether the reconciler's persisted state says a run saw the source of export `target` in a busy status. */
  private statusSeen(groupId: string, target: string): boolean {
    const inFlight = tryParseState(this.world.exportBucket.head(stateKey(groupId, PLAN_ID))?.body)?.inFlight;
    return this.world.behaviour.exportStatusVisible && inFlight?.exportName === target && inFlight.sourceBusySeen === true;
  }

  /** Records a fault against a group's bound: `minutes` is the delay the plan's rules let it cause. */
  private charge(groupId: string, kind: string, minutes: number, at = this.world.now): void {
    const g = this.stat(groupId);
    // Keep the ledger sorted by time (quota waits are recorded when they end, with the time they began).
    let i = g.faults.length;
    while (i > 0 && g.faults[i - 1].at > at) {
      i--;
    }
    g.faults.splice(i, 0, { at, minutes, kind });
    this.faultCost[kind] = (this.faultCost[kind] ?? 0) + minutes;
  }

  /**
   * Whether the group has work in its pipeline at `t`, or a backup falls due before `t + horizonMin`: only then can a
   * crashed run or a throttled call delay its RPO.
   */
  private pending(g: WorldGroup, horizonMin: number): boolean {
    const w = this.world;
    let newest = Number.NEGATIVE_INFINITY;
    for (const s of w.groupSnapshots(g.id)) {
      if (s.status === 'creating') {
        return true;
      }
      if (s.status === 'failed') {
        continue;
      }
      newest = Math.max(newest, s.startedAt);
      const exportable = s.source === 'automated' || s.tags[PLAN_TAG_KEY] === PLAN_ID;
      if (exportable && s.startedAt > this.stat(g.id).newestCommitted) {
        return true; // waiting for its export, its commit, or in an export
      }
    }
    if (w.exports.some((x) => x.group === g.id)) {
      return true;
    }
    const every = this.opts.intervalMinutes ?? (this.opts.fallbackBackup ? 25 * 60 : undefined);
    return every !== undefined && newest + every * MIN <= w.now + horizonMin * MIN;
  }

  private hooks(planId: string, index: number): IoHooks {
    const p = this.adversary.settings.overlappingRuns;
    return {
      planId,
      beforeStateWrite: p > 0 ? async () => {
        const id = this.world.groups[index].id;
        if (!this.running.has(`${planId}/${id}/overlap`) && this.world.random() < p) {
          this.adversary.counters.overlappingRuns++;
          await this.runGroup(index, undefined, planId, true);
        }
      } : undefined,
      oracle: this.oracle,
      onCommitted: (groupId, time) => {
        const g = this.stats.get(groupId);
        if (g) {
          g.exportsCommitted++;
          g.newestCommitted = Math.max(g.newestCommitted, time);
        }
      },
      crashes: () => this.crashes++,
      throttles: () => this.throttles++,
    };
  }

  private async runGroup(index: number, signal?: { text: string; time: Date }, planId: string = PLAN_ID, overlapping = false): Promise<void> {
    const w = this.world;
    const g = w.groups[index];
    const runKey = `${planId}/${g.id}${overlapping ? '/overlap' : ''}`;
    this.running.add(runKey);
    try {
      await this.runGroupOnce(index, g, signal, planId);
    } finally {
      this.running.delete(runKey);
    }
  }

  private async runGroupOnce(index: number, g: WorldGroup, signal: { text: string; time: Date } | undefined, planId: string): Promise<void> {
    const w = this.world;
    const st = this.stat(g.id);
    const crashAt = w.random() < w.faults.crashRate ? 1 + Math.floor(w.random() * 10) : -1;
    const counter: RunCounter = { calls: 0 };
    // Whether a crash or a throttle can cost anything is decided on the state before the run.
    const pendingNow = this.pending(g, 0);
    const inFlightBefore = tryParseState(w.exportBucket.head(stateKey(g.id, PLAN_ID))?.body)?.inFlight;
    const failedExportSeen = inFlightBefore !== undefined && this.statusSeen(g.id, inFlightBefore.exportName);
    let io: SimIo = mutateIo(this.opts.mutant, simulatedIo(w, this.hooks(planId, index), g.id, crashAt, counter), planId, this.firstSeen);
    if (this.opts.wrapIo) {
      io = this.opts.wrapIo(io, g.id);
    }
    // `random` seeds the export-name suffixes (reconciler versions that take it); extra fields are ignored otherwise.
    const options: RunOptions & { random: () => string } = {
      planId,
      settings: w.settings,
      now: () => new Date(w.now + this.adversary.settings.clockSkewMinutes * MIN),
      signals: signal ? [signal] : [],
      random: () => w.suffix(),
    };
    let result: Awaited<ReturnType<typeof reconcileGroup>> | undefined;
    try {
      result = await reconcileGroup(io, this.configs[index], options);
      const age = result.decision.metrics.exportAgeSeconds;
      if (age === undefined || age > this.configs[index].rpoTargetSeconds) {
        this.oracle.onAlarm(g.id);
      }
      this.oracle.onRunEnded(g.id);
      this.opts.trace?.(g.id, new Date(w.now), `${JSON.stringify(result.decision.notes)} ${JSON.stringify(result.executed.map((x) => [x.action.kind, x.outcome]))}`);
    } catch (e) {
      this.opts.trace?.(g.id, new Date(w.now), `run failed: ${(e as Error).name}: ${(e as Error).message}`);
      // A failed run fails the Lambda invocation (its Errors alarm), except a throttle, which the handler absorbs.
      if ((e as Error).name !== 'Throttling') {
        this.oracle.onAlarm(g.id);
        this.oracle.onRunEnded(g.id);
      }
      if ((e as { loud?: boolean }).loud === true) {
        this.loudFailures.set((e as Error).name, (this.loudFailures.get((e as Error).name) ?? 0) + 1);
      } else if (!(e instanceof Crash) && (e as Error).name !== 'Throttling' && this.opts.trace === undefined) {
        this.runErrors.set((e as Error).message, (this.runErrors.get((e as Error).message) ?? 0) + 1);
      }
      // A crashed or failed run: the Lambda logs it and the next tick starts over.
    }
    if (planId !== PLAN_ID) {
      return;
    }
    this.chargeRun(g, counter, pendingNow, result, signal !== undefined, failedExportSeen);
    st.runs++;
    st.apiCalls += counter.calls;
    st.maxApiCallsPerRun = Math.max(st.maxApiCallsPerRun, counter.calls);
  }

  private chargeRun(g: WorldGroup, counter: RunCounter, pendingNow: boolean, result: Awaited<ReturnType<typeof reconcileGroup>> | undefined,
    signalled: boolean, failedExportSeen: boolean): void {
    const w = this.world;
    const st = this.stat(g.id);
    if (counter.crashedCall !== undefined) {
      if (counter.crashedCall === 'CreateSnapshot') {
        // The write-ahead record says a backup was requested; the planner waits 15 minutes for it to appear.
        this.charge(g.id, 'crashed run', 15 + w.tick);
      } else if (pendingNow) {
        this.charge(g.id, 'crashed run', w.tick);
      }
    } else if (counter.throttled) {
      // A throttled read fails the run (one run); a throttled write starts the backoff (then one run).
      const until = result?.state.backoffUntil ? Date.parse(result.state.backoffUntil) : undefined;
      const backoff = until !== undefined && until > w.now ? (until - w.now) / MIN : 0;
      if (pendingNow || this.pending(g, backoff + w.tick)) {
        this.charge(g.id, 'throttled call', backoff + w.tick);
      }
    }
    if (signalled && result === undefined) {
      // The run that carried an export-failure event failed: the event is spent (the handler does not rethrow for one
      // group, so it is not redelivered), and detection falls back to the status or the timeout.
      this.charge(g.id, 'failure event spent by a failed run', failedExportSeen ? 2 * w.tick : w.timeoutDetection());
    }
    // Quota waits: from the first run that declined a due backup for the quota to the first run that did not.
    if (result) {
      if (result.decision.backupBlockedByQuota) {
        st.quotaBlockedSince ??= w.now;
      } else if (st.quotaBlockedSince !== undefined) {
        this.charge(g.id, 'quota wait', (w.now - st.quotaBlockedSince) / MIN, st.quotaBlockedSince);
        st.quotaBlockedSince = undefined;
      }
    }
  }

  /** The fault-aware bound of a sample at `now` whose newest restorable backup was taken at `since`. */
  private faultAwareBound(st: GroupStats, since: number, plain: number): number {
    let extra = 0;
    let lo = 0;
    let hi = st.faults.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (st.faults[mid].at <= since) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (let i = lo; i < st.faults.length && st.faults[i].at <= this.world.now; i++) {
      extra += st.faults[i].minutes;
    }
    if (st.quotaBlockedSince !== undefined && st.quotaBlockedSince > since) {
      extra += (this.world.now - st.quotaBlockedSince) / MIN;
    }
    return plain + extra;
  }

  /**
   * interval (or 24 h + the automatic backup's jitter) + max snapshot + max export + max verification + max
   * replication + two runs.
   */
  private plainBound(): number {
    const o = this.opts;
    const pipeline = o.snapshotMinutes[1] + o.exportMinutes[1] + o.verifyMinutes[1] + o.replicationMinutes[1];
    const base = o.intervalMinutes ?? 24 * 60 + o.automatedJitterMinutes;
    return base + pipeline + 2 * o.reconcileMinutes;
  }

  /** The faults charged to a group (for tracing a scenario). */
  public faultsOf(groupId: string): ReadonlyArray<{ at: string; minutes: number; kind: string }> {
    return this.stat(groupId).faults.map((f) => ({ at: new Date(f.at).toISOString(), minutes: f.minutes, kind: f.kind }));
  }

  private async runDue(minute: number): Promise<void> {
    const w = this.world;
    const ran = new Set<number>();
    if (minute % this.opts.reconcileMinutes === 0) {
      for (let i = 0; i < w.groups.length; i++) {
        await this.runGroup(i);
        if (this.adversary.settings.secondPlan) {
          await this.runGroup(i, undefined, SECOND_PLAN_ID);
        }
        ran.add(i);
        this.scheduledRuns++;
      }
      this.oracle.sampleUnexported();
      this.oracle.sampleFreshness();
    }
    const triggers = w.pendingTriggers;
    w.pendingTriggers = [];
    for (const trig of triggers) {
      const i = w.groups.findIndex((g) => g.id === trig.group);
      if (trig.signal || !ran.has(i)) {
        await this.runGroup(i, trig.signal);
        ran.add(i);
        this.eventRuns++;
      }
    }
  }

  private sampleRpo(plainBound: number): void {
    const w = this.world;
    const refresh = w.replica.changes !== this.restorableVersion;
    this.restorableVersion = w.replica.changes;
    for (const g of w.groups) {
      const st = this.stat(g.id);
      if (refresh) {
        st.newestRestorable = w.newestRestorable(g.id);
      }
      const rpo = Number.isFinite(st.newestRestorable) ? (w.now - st.newestRestorable) / MIN : Number.POSITIVE_INFINITY;
      const excess = rpo - this.faultAwareBound(st, st.newestRestorable, plainBound);
      if (excess > st.maxExcess) {
        st.maxExcess = excess;
        st.maxExcessAt = w.now;
      }
      if (rpo > plainBound) {
        st.overPlain++;
      }
      if (rpo >= (st.maxRpo ?? -1)) {
        st.maxRpo = rpo;
        st.maxAt = w.now;
      }
      st.rpoSamples.push(rpo);
    }
  }

  public async run(): Promise<SimulationReport> {
    const w = this.world;
    const plainBound = this.plainBound();
    const warmupEnd = w.start + this.opts.warmupDays * DAY;
    const end = warmupEnd + this.opts.days * DAY;
    const restore = applyMutant(this.opts.mutant);
    try {
      for (w.now = w.start; w.now < end; w.now += MIN) {
        w.advance();
        this.adversary.advance();
        await this.runDue(Math.round((w.now - w.start) / MIN));
        if (w.now >= warmupEnd) {
          this.sampleRpo(plainBound);
        }
      }
    } finally {
      restore();
    }
    return this.report(plainBound);
  }

  private report(plainBound: number): SimulationReport {
    const w = this.world;
    let leaked = 0;
    for (const s of w.snapshots.values()) {
      if (s.source === 'manual' && s.status === 'available' && s.startedAt < w.now - (this.opts.retentionDays + 1) * DAY) {
        leaked++;
      }
    }
    const oracle = this.oracle.counts();
    const groups = w.groups.map((g): GroupReport => {
      const st = this.stat(g.id);
      const sorted = [...st.rpoSamples].sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      return {
        replicationGroupId: g.id,
        shards: g.shards,
        rpoMaxAt: new Date(st.maxAt).toISOString(),
        rpoP50Minutes: pct(0.5),
        rpoP99Minutes: pct(0.99),
        rpoMaxMinutes: sorted[sorted.length - 1],
        maxRpoMinusBoundMinutes: st.maxExcess,
        maxRpoMinusBoundAt: new Date(st.maxExcessAt).toISOString(),
        samplesOverPlainBound: st.overPlain,
        samples: sorted.length,
        maxManualBackupsPer24h: g.maxQuotaUse24h,
        runs: st.runs,
        apiCalls: st.apiCalls,
        maxApiCallsPerRun: st.maxApiCallsPerRun,
        exportsCommitted: st.exportsCommitted,
        maxUnexportedPlanBackups: this.oracle.maxUnexported.get(g.id) ?? 0,
        neverExports: g.neverExports,
      };
    });
    return {
      options: this.opts,
      behaviour: w.behaviour,
      objectFaults: w.objectFaults,
      groups,
      unsafeDeletions: oracle.unsafeDeletions,
      deletionsAfterReplicaFault: oracle.deletionsAfterReplicaFault,
      lastCopyDeletions: oracle.lastCopyDeletions,
      prematureDeletions: oracle.prematureDeletions,
      deletions: oracle.deletions,
      commits: oracle.commits,
      falseCommits: oracle.falseCommits,
      quotaViolations: oracle.quotaViolations,
      quotaLearningRefusals: oracle.quotaLearningRefusals,
      missedExportBounds: oracle.missedExportBounds,
      silentMisses: oracle.silentMisses,
      alarms: oracle.alarms,
      loudFailures: Object.fromEntries(this.loudFailures),
      adversary: { ...this.adversary.settings },
      adversaryCounters: { ...this.adversary.counters },
      oracleDetails: oracle.details,
      unexportedCap: this.opts.unexportedCap,
      maxUnexportedPlanBackups: Math.max(0, ...groups.map((g) => g.maxUnexportedPlanBackups)),
      maxExportsInFlight: w.counters.maxExportsInFlight,
      crashes: this.crashes,
      throttles: this.throttles,
      world: { ...w.counters },
      failedSnapshots: w.counters.failedSnapshots,
      failedExports: w.counters.failedExports,
      lostEvents: w.counters.lostEvents,
      leakedSnapshots: leaked,
      rpoBoundMinutes: plainBound,
      faultCostMinutes: { ...this.faultCost },
      scheduledRuns: this.scheduledRuns,
      eventRuns: this.eventRuns,
      runErrors: Object.fromEntries(this.runErrors),
    };
  }
}

export async function simulate(options: SimulationOptions): Promise<SimulationReport> {
  return new Simulation(options).run();
}
