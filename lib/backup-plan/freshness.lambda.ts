/**
 * The DR-side freshness monitor: in the replica bucket's region, the age of the newest export per group that could be
 * restored now (`ReplicaBackupAgeSeconds`). That age is the RPO a disaster would actually see.
 *
 * An export counts only when its manifest is verified (format 2), is stored under the key its content names, is not
 * dated in the future, and every object it lists is, in the replica bucket, still the version it verified with the same
 * size (S3 replication keeps version ids). The age is measured from the manifest's snapshot time, never from the key.
 * Manifests newer than the one counted that fail a check are logged with the reason and counted in
 * `ReplicaUnusableManifests` (objects still arriving by replication are not counted there for a grace period).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  ENV_FRESHNESS_CONFIG,
  GROUP_DIMENSION,
  METRIC_NAMESPACE,
  METRIC_REPLICA_BACKUP_AGE,
  METRIC_REPLICA_UNUSABLE_MANIFESTS,
} from './constants';
import { checkManifestKey, checkObjectsAgainstManifest, isVerifiedManifest, ObjectHead } from '../manifest/integrity';
import { BackupManifest, compactTimestamp, manifestPrefix, parseManifest } from '../manifest/manifest';

export interface FreshnessConfig {
  readonly bucketName: string;
  readonly replicationGroupIds: string[];
  /** Only manifests of snapshots newer than this many days are considered. */
  readonly lookbackDays?: number;
}

export interface FreshnessIo {
  listKeys(prefix: string, startAfter?: string): Promise<string[]>;
  getText(key: string): Promise<string>;
  /** The current version of an object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectHead | undefined>;
}

export interface GroupFreshness {
  readonly replicationGroupId: string;
  /** Undefined when no restorable export was found in the lookback window. */
  readonly ageSeconds?: number;
  readonly manifestKey?: string;
  /** Why each newer manifest was not counted. */
  readonly problems: string[];
  /** Newer manifests that cannot be restored (not counting ones whose objects are still arriving). */
  readonly unusableManifests: number;
}

/** How many manifests (newest first) to try before giving up on a group. */
const MAX_CANDIDATES = 10;

/**
 * How long after its commit a manifest whose objects have not all arrived counts as "still replicating" rather than
 * unusable. S3 Replication Time Control replicates 99.99% of objects within 15 minutes; large `.rdb` objects without
 * RTC can take longer.
 */
export const REPLICATION_GRACE_MS = 60 * 60_000;

/** One examined manifest: the age to report, or why it does not count. */
type Verdict =
  | { readonly usable: true; readonly ageSeconds: number }
  | { readonly usable: false; readonly problem: string; readonly pending: boolean };

export async function measureFreshness(io: FreshnessIo, config: FreshnessConfig, now: Date): Promise<GroupFreshness[]> {
  const out: GroupFreshness[] = [];
  const since = new Date(now.getTime() - (config.lookbackDays ?? 40) * 86_400_000);
  for (const group of config.replicationGroupIds) {
    const prefix = manifestPrefix(group);
    const keys = (await io.listKeys(prefix, `${prefix}${compactTimestamp(since)}`)).filter((k) => k.endsWith('.json')).sort().reverse();
    const problems: string[] = [];
    let unusableManifests = 0;
    let found: GroupFreshness | undefined;
    for (const key of keys.slice(0, MAX_CANDIDATES)) {
      const verdict = await judge(io, config.bucketName, key, now);
      if (verdict.usable) {
        found = { replicationGroupId: group, manifestKey: key, ageSeconds: verdict.ageSeconds, problems, unusableManifests };
        break;
      }
      problems.push(`${key}: ${verdict.problem}`);
      unusableManifests += verdict.pending ? 0 : 1;
    }
    out.push(found ?? { replicationGroupId: group, problems, unusableManifests });
  }
  return out;
}

async function judge(io: FreshnessIo, bucketName: string, key: string, now: Date): Promise<Verdict> {
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(await io.getText(key), `s3://${bucketName}/${key}`);
  } catch (e) {
    return { usable: false, problem: (e as Error).message, pending: false };
  }
  if (!isVerifiedManifest(manifest)) {
    return { usable: false, problem: `not verified (format ${manifest.formatVersion} manifest): not counted`, pending: false };
  }
  const keyProblem = checkManifestKey(key, manifest, now);
  if (keyProblem !== undefined) {
    return { usable: false, problem: `not counted: ${keyProblem}`, pending: false };
  }
  // In parallel: a 1-minute run must get through up to 10 manifests of up to 500 shards.
  const heads = new Map(await Promise.all(manifest.shards.map(async (s) => [s.key, await io.head(s.key)] as const)));
  const objectProblems = checkObjectsAgainstManifest(manifest, heads, bucketName);
  if (objectProblems.length > 0) {
    const missing = objectProblems.filter((p) => heads.get(p.key) === undefined);
    const recent = now.getTime() - Date.parse(manifest.exportTime) < REPLICATION_GRACE_MS;
    if (missing.length === objectProblems.length && recent) {
      // Replication can deliver the manifest before an .rdb: not restorable yet, and not a fault yet.
      return { usable: false, problem: `objects not replicated yet: ${missing.map((p) => p.key).join(', ')}`, pending: true };
    }
    return { usable: false, problem: `not counted: ${objectProblems.map((p) => `${p.key}: ${p.reason}`).join('; ')}`, pending: false };
  }
  // checkManifestKey refused times beyond the clock tolerance; within it, a snapshot "from the future" is age 0.
  return { usable: true, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(manifest.snapshotCreateTime)) / 1000)) };
}

export class S3FreshnessIo implements FreshnessIo {
  constructor(private readonly s3: S3Client, private readonly bucketName: string) {}

  public async listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({
        Bucket: this.bucketName, Prefix: prefix, StartAfter: token ? undefined : startAfter, ContinuationToken: token,
      }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  public async getText(key: string): Promise<string> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
    return (await res.Body?.transformToString()) ?? '';
  }

  public async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucketName, Key: key }));
      return { key, sizeBytes: out.ContentLength ?? 0, versionId: out.VersionId, etag: out.ETag, lastModified: out.LastModified };
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || (e as Error).name === 'NotFound') {
        return undefined;
      }
      throw e;
    }
  }
}

const logger = new Logger({ serviceName: 'elasticache-backup-freshness' });
/**
 * Publishes, per group with ReplicationGroupId as the only dimension, `ReplicaUnusableManifests` and, when a
 * restorable export exists, `ReplicaBackupAgeSeconds` (nothing then: the age alarm treats missing data as breaching).
 * Problems are logged as warnings.
 */
export function publish(results: readonly GroupFreshness[], newMetrics: () => Metrics, log: Logger): void {
  for (const r of results) {
    log.info('freshness', { ...r });
    if (r.problems.length > 0) {
      log.warn('manifests not counted', { replicationGroupId: r.replicationGroupId, problems: r.problems });
    }
    const m = newMetrics();
    m.clearDefaultDimensions();
    m.addDimension(GROUP_DIMENSION, r.replicationGroupId);
    m.addMetric(METRIC_REPLICA_UNUSABLE_MANIFESTS, MetricUnit.Count, r.unusableManifests);
    if (r.ageSeconds !== undefined) {
      m.addMetric(METRIC_REPLICA_BACKUP_AGE, MetricUnit.Seconds, r.ageSeconds);
    }
    m.publishStoredMetrics();
  }
}

export async function handler(): Promise<void> {
  const config = JSON.parse(process.env[ENV_FRESHNESS_CONFIG] ?? '') as FreshnessConfig;
  const io = new S3FreshnessIo(new S3Client({}), config.bucketName);
  publish(await measureFreshness(io, config, new Date()), () => new Metrics({ namespace: METRIC_NAMESPACE }), logger);
}
