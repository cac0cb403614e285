/**
 * Finding the export to restore in a bucket (I/O: ListObjectsV2, ranged GetObject of manifests, HeadObject of their
 * `.rdb` objects). Every decision is a pure function of `preflight-checks.ts`. Used by the restore preflight and the
 * restore drill; independent of the group being created.
 *
 * The work is bounded before any object is looked at: at most `MAX_MANIFESTS` candidates, each read with one GET of
 * at most `MAX_MANIFEST_BYTES`, and a trusted manifest with more objects than `maxSourceShards` stops the search.
 * Objects are HEADed only for a trusted candidate that fits.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  chooseManifest,
  Findings,
  HeadObservation,
  ManifestCandidate,
  manifestObjectsProblem,
  manifestTrustProblem,
  ObjectObservation,
  S3ObjectRef,
  sourceShardsProblem,
} from './preflight-checks';
import { getText, headObject, listManifestKeys, mapLimit } from './s3-reads';
import { BackupManifest, manifestPrefix, ManifestError, parseManifest } from '../manifest/manifest';

/** Manifests examined (newest first) before giving up on finding a usable export. */
export const MAX_MANIFESTS = 10;
/** The most bytes read of one manifest (a verified manifest of a 500-shard group is a few hundred KB). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface ExportReadDependencies {
  readonly s3: S3Client;
  /** Parallel HEAD requests. @default 16 */
  readonly concurrency?: number;
  /** The clock: a manifest dated after it is not used. @default the system clock */
  readonly now?: () => Date;
}

/** Which export to look for. */
export interface LatestExportQuery {
  readonly partition: string;
  readonly bucket: string;
  readonly replicationGroupId: string;
  /** A trusted manifest with more `.rdb` objects fails the search at once, before any HEAD. */
  readonly maxSourceShards: number;
}

export interface ExportResolution extends Findings {
  /** The export to restore; absent when `failures` says why there is none. */
  readonly chosen?: { readonly key: string; readonly manifest: BackupManifest };
  /** One per shard of the chosen export, with its HEAD and the RDB version its verification recorded. */
  readonly objects: ObjectObservation[];
}

/**
 * The newest usable export of a group: verified, stored under the key its content names, not dated in the future, no
 * more objects than `maxSourceShards`, and every object still the version the manifest verified. Newer unusable ones
 * are skipped with a warning that says why.
 */
export async function resolveLatestExport(deps: ExportReadDependencies, query: LatestExportQuery): Promise<ExportResolution> {
  const keys = await listManifestKeys(deps.s3, query.bucket, manifestPrefix(query.replicationGroupId));
  return (await resolveAmong(deps, query, keys.slice(0, MAX_MANIFESTS))).resolution;
}

/**
 * Checks again the export chosen when the group was created (an Update that replaces the group seeds the new one from
 * the same objects): the same checks as `resolveLatestExport`, without falling back to another export.
 */
export async function recheckPinnedExport(deps: ExportReadDependencies, query: LatestExportQuery, manifestKey: string): Promise<ExportResolution> {
  const { resolution, candidates } = await resolveAmong(deps, query, [manifestKey]);
  const problem = candidates[0]?.problem;
  if (resolution.chosen || problem === undefined) {
    return resolution;
  }
  return {
    failures: [`the replication group will be replaced, and the new one is seeded again from the export chosen when it was created (${manifestKey}), `
      + `which cannot be used any more: ${problem}; to restore another export instead, change the restore source`],
    warnings: [],
    objects: [],
  };
}

async function resolveAmong(
  deps: ExportReadDependencies, query: LatestExportQuery, keys: readonly string[],
): Promise<{ resolution: ExportResolution; candidates: ManifestCandidate[] }> {
  const { bucket } = query;
  const now = deps.now?.() ?? new Date();
  const candidates: ManifestCandidate[] = [];
  let heads = new Map<string, HeadObservation>();
  for (const key of keys) {
    const manifest = await readManifest(deps.s3, bucket, key);
    if (typeof manifest === 'string') {
      candidates.push({ key, problem: manifest });
      continue;
    }
    const trust = manifestTrustProblem(key, manifest, now);
    if (trust !== undefined) {
      candidates.push({ key, manifest, problem: trust });
      continue;
    }
    const tooMany = sourceShardsProblem(key, manifest.shards.length, query.maxSourceShards);
    if (tooMany !== undefined) {
      return { resolution: { failures: [tooMany], warnings: [], objects: [] }, candidates: [] };
    }
    const refs = manifest.shards.map((s): S3ObjectRef => ({ partition: query.partition, bucket, key: s.key }));
    heads = new Map(await mapLimit(refs, deps.concurrency ?? 16, async (ref) => [ref.key, await headObject(deps.s3, ref)] as const));
    const problem = manifestObjectsProblem(bucket, manifest, heads);
    candidates.push({ key, manifest, problem });
    if (problem === undefined) {
      break;
    }
  }
  const choice = chooseManifest(bucket, query.replicationGroupId, candidates);
  const objects = choice.chosen ? observedObjects(query, choice.chosen.manifest, heads) : [];
  return { resolution: { ...choice, objects }, candidates };
}

/** The verified manifest pins each object's version, so the RDB version it recorded is the object's own. */
function observedObjects(query: LatestExportQuery, manifest: BackupManifest, heads: ReadonlyMap<string, HeadObservation>): ObjectObservation[] {
  return manifest.shards.map((s): ObjectObservation => ({
    ref: { partition: query.partition, bucket: query.bucket, key: s.key },
    head: heads.get(s.key)!,
    header: s.rdbVersion === undefined ? undefined : {
      status: 'read',
      header: { format: s.rdbVersion >= 80 ? 'valkey' : 'redis', rdbVersion: s.rdbVersion, writerEngine: s.writerEngine, writerVersion: s.writerVersion },
    },
  }));
}

/** The parsed manifest, or why it cannot be read (too large, missing, not a manifest). */
export async function readManifest(s3: S3Client, bucket: string, key: string): Promise<BackupManifest | string> {
  const text = await getText(s3, bucket, key, MAX_MANIFEST_BYTES);
  if (typeof text !== 'string') {
    return text.error;
  }
  try {
    return parseManifest(text, `s3://${bucket}/${key}`);
  } catch (e) {
    if (e instanceof ManifestError) {
      return e.message;
    }
    throw e;
  }
}
