/**
 * Which listed manifest keys the reconciler may take for its own commits, with a bounded cost (not part of the jsii API).
 *
 * The export age is the time of the newest manifest key: a manifest planted under the group's prefix by someone else
 * (another group's manifest copied over, dated now) would make it look fresh and keep the RPO alarm silent. Reading
 * every body each run would cost one GET per manifest, so only the newest candidates are read, newest first, until one
 * is the group's own: its body names this group and the snapshot the key is named after. Older keys do not change the
 * export age.
 */
import { checkManifestKey, FUTURE_TOLERANCE_MS } from '../manifest/integrity';
import { parseManifest } from '../manifest/manifest';
import { manifestKeyTime } from './planner/context';

/** At most this many manifest bodies are read per run (one, unless a foreign one is newest). */
export const MAX_MANIFEST_BODY_CHECKS = 3;

/**
 * Why `text` is not this group's manifest at `key`, or undefined when it is. The key-against-body check is the one the
 * restore side uses (lib/manifest/integrity.ts), so a manifest the reconciler counts is one a restore would accept.
 */
export function foreignManifestProblem(groupId: string, key: string, text: string | undefined, now: Date): string | undefined {
  if (text === undefined) {
    return 'it is gone';
  }
  try {
    const m = parseManifest(text, key);
    if (m.replicationGroupId !== groupId) {
      return `its body names group ${m.replicationGroupId}, not ${groupId}`;
    }
    return checkManifestKey(key, m, now);
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The keys without the newest ones that are not the group's own manifests (read newest first, at most
 * `MAX_MANIFEST_BODY_CHECKS`). Keys dated after `now` plus the tolerance of clock skew are left as they are: the
 * planner ignores and reports them.
 */
export async function withoutForeignNewest(groupId: string, keys: readonly string[], now: Date,
  getText: (key: string) => Promise<string | undefined>): Promise<{ keys: string[]; notes: string[] }> {
  const latestMs = now.getTime() + FUTURE_TOLERANCE_MS;
  const dated = keys.map((k) => ({ k, t: manifestKeyTime(k)?.getTime() }))
    .filter((x): x is { k: string; t: number } => x.t !== undefined && x.t <= latestMs)
    .sort((a, b) => b.t - a.t);
  const dropped = new Set<string>();
  const notes: string[] = [];
  for (const { k } of dated.slice(0, MAX_MANIFEST_BODY_CHECKS)) {
    const problem = foreignManifestProblem(groupId, k, await getText(k), now);
    if (problem === undefined) {
      break;
    }
    dropped.add(k);
    notes.push(`manifest ${k} is not this group's (${problem}): ignored for the export age; check who wrote it and delete it`);
  }
  return { keys: keys.filter((k) => !dropped.has(k)), notes };
}
