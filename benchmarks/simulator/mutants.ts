/**
 * Deliberate bugs (issue 10's mutants), switched on for one simulation inside its process by replacing one function
 * of the reconciler's modules (as a jest module mock would; the compiled CommonJS reads module exports at each call),
 * or, for the tag check, the one answer it depends on. The simulation's oracle must report each
 * (test/backup-plan/simulation-mutants.test.ts).
 *
 * - `prune-ignores-export-check`: pruning deletes the plan's backups past retention whether or not their export is
 *   committed, and the executor's re-check before a deletion (delete-check.ts) passes everything.
 * - `prune-ignores-export-check-planner-only`: the planner's half alone; the executor's re-check still refuses (the
 *   oracle sees no unsafe deletion: defence in depth; the planner's unit tests kill this one).
 * - `delete-without-tag-check`: the plan tag read before DeleteSnapshot (and for ownership) always agrees.
 * - `commit-partial-export`: the manifest of a sharded export is committed without its last shard.
 * - `prune-at-commit`: the retention rule dropped: every plan backup is deleted as soon as its export is committed.
 * - `head-hides-overwrites`: HEAD answers the version, size and ETag it saw first for a key (the replication status as now).
 * - `verifications-always-pass`: every verification result reads as a full, passed verification.
 * - `replication-reported-early`: HEAD reports replication COMPLETED before it is.
 */
import type { SimIo } from './io';
import { MutantName } from './options';
import * as deleteCheck from '../../lib/backup-plan/delete-check';
import * as planner from '../../lib/backup-plan/planner';
import * as pruneRules from '../../lib/backup-plan/planner/prune-rules';
import { manifestKey } from '../../lib/manifest/manifest';

type Mutable = Record<string, unknown>;

function replace<T extends object>(module: T, name: keyof T & string, by: unknown): () => void {
  const original = module[name];
  (module as Mutable)[name] = by;
  return () => {
    (module as Mutable)[name] = original;
  };
}

/** The planner's prune rule plus a deletion of every other plan backup past retention (the export check dropped). */
function pruneIgnoringExports(original: typeof pruneRules.prune): typeof pruneRules.prune {
  return (ctx) => {
    const result = original(ctx);
    const deleting = new Set(ctx.actions.filter((a): a is planner.DeleteSnapshotAction => a.kind === 'DeleteSnapshot').map((a) => a.snapshotName));
    const cutoff = ctx.nowMs - ctx.config.retentionSeconds * 1000;
    for (const s of ctx.available) {
      if (s.source === 'manual' && s.createdByPlan && s.createTime.getTime() < cutoff && !deleting.has(s.name) && ctx.inFlight?.snapshotName !== s.name) {
        ctx.actions.push({ kind: 'DeleteSnapshot', snapshotName: s.name, manifestKey: ctx.keyOf(s) });
      }
    }
    return result;
  };
}

/** The plan with every sharded commit missing its last shard. */
function partialCommits(original: typeof planner.plan): typeof planner.plan {
  return (...args) => {
    const decision = original(...args);
    const actions = decision.actions.map((a) => (a.kind === 'CommitManifest' && a.objects.length > 1
      ? { ...a, objects: a.objects.slice(0, -1), verifications: a.verifications.slice(0, -1) } : a));
    return { ...decision, actions };
  };
}

/** The plan plus a deletion of every plan backup whose own manifest is committed (no retention). */
function pruningAtCommit(original: typeof planner.plan): typeof planner.plan {
  return (obs, config, ...rest) => {
    const decision = original(obs, config, ...rest);
    const committed = new Set(obs.manifestKeys);
    const deleting = new Set(decision.actions.filter((a): a is planner.DeleteSnapshotAction => a.kind === 'DeleteSnapshot').map((a) => a.snapshotName));
    const extra: planner.DeleteSnapshotAction[] = obs.snapshots
      .filter((s) => s.createdByPlan && s.source === 'manual' && s.status === 'available' && !deleting.has(s.name) && s.createTime !== undefined
        && committed.has(manifestKey(config.replicationGroupId, s.createTime, s.name)))
      .map((s) => ({ kind: 'DeleteSnapshot', snapshotName: s.name, manifestKey: manifestKey(config.replicationGroupId, s.createTime!, s.name) }));
    return { ...decision, actions: [...decision.actions, ...extra] };
  };
}

/** What a full verification reports (a manifest needs every field of it). */
const FULL_REPORT = { rdbVersion: 11, checksum: 'ok', crc64: '0000000000000000', databases: [], keys: 0, keysWithExpiry: 0, expiryHistogram: [] };

const list = (m: MutantName | readonly MutantName[] | undefined): readonly MutantName[] => (m === undefined ? [] : typeof m === 'string' ? [m] : m);

/** Switches the mutants on; returns what switches them off. */
export function applyMutant(mutants: MutantName | readonly MutantName[] | undefined): () => void {
  const restores = list(mutants).map(applyOne);
  return () => restores.reverse().forEach((restore) => restore());
}

function applyOne(mutant: MutantName): () => void {
  switch (mutant) {
    case 'delete-without-tag-check': // the IO's (mutateIo)
    case 'head-hides-overwrites':
    case 'verifications-always-pass':
    case 'replication-reported-early':
      return () => undefined;
    case 'prune-at-commit':
      return replace(planner, 'plan', pruningAtCommit(planner.plan));
    case 'prune-ignores-export-check-planner-only':
      return replace(pruneRules, 'prune', pruneIgnoringExports(pruneRules.prune));
    case 'prune-ignores-export-check': {
      const restorePrune = replace(pruneRules, 'prune', pruneIgnoringExports(pruneRules.prune));
      const restoreCheck = replace(deleteCheck, 'checkBeforeDelete', async () => undefined);
      return () => {
        restoreCheck();
        restorePrune();
      };
    }
    case 'commit-partial-export':
      return replace(planner, 'plan', partialCommits(planner.plan));
  }
}

/** The IO side of the mutants (the reconciler's view of the world); `firstSeen` lives as long as the simulation. */
export function mutateIo(mutants: MutantName | readonly MutantName[] | undefined, io: SimIo, planId: string,
  firstSeen: Map<string, Awaited<ReturnType<SimIo['headObject']>>>): SimIo {
  let out = io;
  for (const m of list(mutants)) {
    const inner = out;
    if (m === 'delete-without-tag-check') {
      out = { ...inner, snapshotTag: async (name, key) => (await inner.snapshotTag(name, key), planId) };
    } else if (m === 'head-hides-overwrites') {
      out = {
        ...inner,
        headObject: async (key) => {
          const head = await inner.headObject(key);
          if (!firstSeen.has(key)) {
            firstSeen.set(key, head);
          }
          const first = firstSeen.get(key);
          return first && { ...first, replicationStatus: head?.replicationStatus };
        },
      };
    } else if (m === 'verifications-always-pass') {
      out = {
        ...inner,
        getText: async (key) => {
          const text = await inner.getText(key);
          if (text === undefined || !key.includes('/verifications/')) {
            return text;
          }
          const { error, ...result } = JSON.parse(text);
          return JSON.stringify({ ...result, ok: true, verification: 'full', report: result.report ?? FULL_REPORT });
        },
      };
    } else if (m === 'replication-reported-early') {
      out = {
        ...inner,
        headObject: async (key) => {
          const head = await inner.headObject(key);
          return head && { ...head, replicationStatus: head.replicationStatus === undefined ? undefined : 'COMPLETED' };
        },
      };
    }
  }
  return out;
}
