/**
 * What a simulation run reports, and its Markdown forms: one table row per group, and one row per scenario.
 */
import type { AdversaryCounters } from './adversary';
import { Adversary, Behaviour, ObjectFaults, SimulationOptions } from './options';
import { WorldCounters } from './world';

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
  /** Quota use: calls the service counted against the per-node quota in any 24 h (backups, and exports when they count). */
  readonly maxManualBackupsPer24h: number;
  readonly runs: number;
  readonly apiCalls: number;
  readonly maxApiCallsPerRun: number;
  readonly exportsCommitted: number;
  /** The oracle's maximum of unexported plan backups (available, never exported intact, not being exported, an attempt failed or waiting > 1 day). */
  readonly maxUnexportedPlanBackups: number;
  /** Every export of this group fails (the scenario's never-exports switch). */
  readonly neverExports: boolean;
}

export interface SimulationReport {
  readonly options: SimulationOptions;
  readonly behaviour: Behaviour;
  readonly objectFaults: ObjectFaults;
  readonly groups: readonly GroupReport[];
  /** The oracle: deletions without an intact replica copy (or of a backup that is not the plan's). Must be 0. */
  readonly unsafeDeletions: number;
  readonly deletionsAfterReplicaFault: number;
  readonly lastCopyDeletions: number;
  readonly prematureDeletions: number;
  readonly deletions: number;
  readonly commits: number;
  /** The oracle: manifests that did not list every shard, or pointed at data that was not intact or not the snapshot's. */
  readonly falseCommits: number;
  readonly quotaViolations: number;
  readonly quotaLearningRefusals: number;
  /** The oracle: episodes where a group's newest true commit was older than its RPO target. */
  readonly missedExportBounds: number;
  /** The oracle: such episodes without an alarm within one tick. Must be 0. */
  readonly silentMisses: number;
  /** Runs that raised an alarm (export age over the target, or a failed run) after the warm-up. */
  readonly alarms: number;
  /** Runs that failed loudly, by error name (StateError, StateConflictError, ForeignPlanError). */
  readonly loudFailures: Readonly<Record<string, number>>;
  readonly adversary: Adversary;
  readonly adversaryCounters: AdversaryCounters;
  readonly oracleDetails: readonly string[];
  readonly unexportedCap: number;
  readonly maxUnexportedPlanBackups: number;
  readonly maxExportsInFlight: number;
  readonly crashes: number;
  readonly throttles: number;
  readonly world: WorldCounters;
  readonly failedSnapshots: number;
  readonly failedExports: number;
  readonly lostEvents: number;
  /** Manual backups still present at the end, beyond retention + 1 day (not pruned: unexported, or refused). */
  readonly leakedSnapshots: number;
  /** The fault-free bound: interval (or 24 h + jitter) + max pipeline + two runs. */
  readonly rpoBoundMinutes: number;
  /** Fault costs charged to the fault-aware bounds, in minutes, by kind (summed over all groups). */
  readonly faultCostMinutes: Readonly<Record<string, number>>;
  readonly scheduledRuns: number;
  readonly eventRuns: number;
  /** Runs that threw something other than an injected crash or throttle, by message. */
  readonly runErrors: Readonly<Record<string, number>>;
}

const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(2)}%`;

/** Median of the groups' p50, worst p99 and max (minutes), and the API calls per run (mean, max). */
export function summary(r: SimulationReport) {
  const all = r.groups;
  const max = (sel: (g: GroupReport) => number) => Math.max(...all.map(sel));
  const p50s = all.map((g) => g.rpoP50Minutes).sort((a, b) => a - b);
  return {
    rpoP50: p50s[Math.floor(p50s.length / 2)],
    rpoP99: max((g) => g.rpoP99Minutes),
    rpoMax: max((g) => g.rpoMaxMinutes),
    maxExcess: max((g) => g.maxRpoMinusBoundMinutes),
    quotaUse: max((g) => g.maxManualBackupsPer24h),
    callsMean: all.reduce((a, g) => a + g.apiCalls, 0) / Math.max(1, all.reduce((a, g) => a + g.runs, 0)),
    callsMax: max((g) => g.maxApiCallsPerRun),
    exports: all.reduce((a, g) => a + g.exportsCommitted, 0),
  };
}

/** The header of the one-row-per-scenario table. */
export const SCENARIO_TABLE_HEADER = [
  '| scenario | DR RPO p50 / p99 / max (min) | quota use (max / 24 h) | max unexported plan backups per group (an attempt failed, or waiting > 1 day) '
    + '| API calls per run (mean / max) | commits | unsafe deletions | false commits (partial or bad manifests) | quota violations '
    + '| deletions excused (replica-side fault) | leaked backups | missed export bounds | of which silent (no alarm within one tick) | alarms (runs) | loud failures |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n');

/** One row of the scenario table. RPO figures exclude the groups whose exports can never succeed. */
export function scenarioRow(title: string, r: SimulationReport): string {
  const exporting = r.groups.filter((g) => !g.neverExports);
  const s = summary({ ...r, groups: exporting.length > 0 ? exporting : r.groups });
  const all = summary(r);
  return `| ${title} | ${f(s.rpoP50)} / ${f(s.rpoP99)} / ${f(s.rpoMax)} | ${all.quotaUse} | ${r.maxUnexportedPlanBackups} | `
    + `${all.callsMean.toFixed(2)} / ${all.callsMax} | ${r.commits} | ${r.unsafeDeletions} | ${r.falseCommits} | ${r.quotaViolations} | `
    + `${r.deletionsAfterReplicaFault} | ${r.leakedSnapshots} | ${r.missedExportBounds} | ${r.silentMisses} | ${r.alarms} | `
    + `${Object.entries(r.loudFailures).map(([k, v]) => `${k} ${v}`).join(', ') || 0} |`;
}

/** The report as a Markdown table (one row per group, then totals). */
export function formatReport(title: string, r: SimulationReport): string {
  const lines = [
    `### ${title}`,
    '',
    `${r.options.groups} groups, ${r.options.days} simulated days (after ${r.options.warmupDays} warm-up), seed ${r.options.seed}, `
      + `interval ${r.options.intervalMinutes === undefined ? 'none (automatic daily backups only)' : `${r.options.intervalMinutes} min`}, `
      + `faults ${JSON.stringify(r.options.faults)}, behaviour ${JSON.stringify(r.behaviour)}, object faults ${JSON.stringify(nonZero(r.objectFaults))}`,
    '',
    '| group | shards | DR RPO p50 (min) | p99 (min) | max (min) | max (RPO - fault-aware bound) (min) | samples over the fault-free bound | quota use / node / 24 h (max) | max unexported plan backups | runs | API calls / run (mean) | API calls / run (max) | exports committed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const g of r.groups) {
    lines.push(`| ${g.replicationGroupId}${g.neverExports ? ' (never exports)' : ''} | ${g.shards} | ${f(g.rpoP50Minutes)} | ${f(g.rpoP99Minutes)} | ${f(g.rpoMaxMinutes)} | `
      + `${f(g.maxRpoMinusBoundMinutes)} | ${pct(g.samplesOverPlainBound, g.samples)} | ${g.maxManualBackupsPer24h} | ${g.maxUnexportedPlanBackups} | ${g.runs} | `
      + `${(g.apiCalls / Math.max(1, g.runs)).toFixed(2)} | ${g.maxApiCallsPerRun} | ${g.exportsCommitted} |`);
  }
  lines.push('', ...summaryLines(r));
  return lines.join('\n');
}

function summaryLines(r: SimulationReport): string[] {
  const s = summary(r);
  const over = r.groups.reduce((a, g) => a + g.samplesOverPlainBound, 0);
  const samples = r.groups.reduce((a, g) => a + g.samples, 0);
  const costs = Object.entries(r.faultCostMinutes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
  const w = r.world;
  return [
    `Summary: DR RPO p50 (median of groups) ${f(s.rpoP50)} min, worst p99 ${f(s.rpoP99)} min, worst max ${f(s.rpoMax)} min; `
      + `max over all samples of (RPO - fault-aware bound) ${f(s.maxExcess)} min (<= 0: the bound holds); `
      + `samples over the fault-free bound (${r.rpoBoundMinutes} min) ${pct(over, samples)}; quota use per node per 24 h max ${s.quotaUse} (quota 20); `
      + `API calls per group per run mean ${s.callsMean.toFixed(2)}, max ${s.callsMax}.`,
    `Oracle: unsafe deletions ${r.unsafeDeletions} of ${r.deletions}, false commits ${r.falseCommits} of ${r.commits}, quota violations ${r.quotaViolations} `
      + `(+ ${r.quotaLearningRefusals} learning refusals), max unexported plan backups per group ${r.maxUnexportedPlanBackups} (cap ${r.unexportedCap}), `
      + `deletions after a replica-side fault ${r.deletionsAfterReplicaFault}, deletions of the last intact copy ${r.lastCopyDeletions}, `
      + `premature deletions ${r.prematureDeletions}, leaked backups ${r.leakedSnapshots}, max exports in flight per group ${r.maxExportsInFlight}.`,
    `Faults injected: ${r.crashes} crashed runs, ${r.throttles} throttled calls, ${r.failedSnapshots} failed backups, ${r.failedExports} failed exports, `
      + `${r.lostEvents} lost events, ${w.planted} planted objects, ${w.truncatedByService} truncated/empty exports, ${w.deletedAfterCommit} deleted and `
      + `${w.overwrittenAfterCommit} overwritten after commit, ${w.replicaFaults} replica-side faults, ${w.namesRefused} names refused, `
      + `${w.createQuotaRefusals + w.copyQuotaRefusals} quota refusals, ${w.exportsRefusedAlways} exports refused (never exports); `
      + `${r.scheduledRuns} scheduled and ${r.eventRuns} event-driven group runs. Minutes charged to the fault-aware bounds: ${costs || 'none'}.`,
  ];
}

function nonZero(faults: ObjectFaults): Partial<ObjectFaults> {
  return Object.fromEntries(Object.entries(faults).filter(([, v]) => v !== 0));
}
