/**
 * The DR-side freshness monitor: in the replica bucket's region, the age of the newest committed and complete
 * export per group (`ReplicaBackupAgeSeconds`). That age is the RPO a disaster would actually see.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ENV_FRESHNESS_CONFIG, GROUP_DIMENSION, METRIC_NAMESPACE, METRIC_REPLICA_BACKUP_AGE } from './constants';
import { compactTimestamp, manifestPrefix, parseManifest } from '../manifest/manifest';

export interface FreshnessConfig {
  readonly bucketName: string;
  readonly replicationGroupIds: string[];
  /** Only manifests of snapshots newer than this many days are considered. */
  readonly lookbackDays?: number;
}

export interface FreshnessIo {
  listKeys(prefix: string, startAfter?: string): Promise<string[]>;
  getText(key: string): Promise<string>;
  exists(key: string): Promise<boolean>;
}

export interface GroupFreshness {
  readonly replicationGroupId: string;
  /** Undefined when no complete export was found in the lookback window. */
  readonly ageSeconds?: number;
  readonly manifestKey?: string;
  readonly problems: string[];
}

/** How many manifests (newest first) to try before giving up on a group. */
const MAX_CANDIDATES = 5;

export async function measureFreshness(io: FreshnessIo, config: FreshnessConfig, now: Date): Promise<GroupFreshness[]> {
  const out: GroupFreshness[] = [];
  const since = new Date(now.getTime() - (config.lookbackDays ?? 40) * 86_400_000);
  for (const group of config.replicationGroupIds) {
    const prefix = manifestPrefix(group);
    const keys = (await io.listKeys(prefix, `${prefix}${compactTimestamp(since)}`)).filter((k) => k.endsWith('.json')).sort().reverse();
    const problems: string[] = [];
    let found: GroupFreshness | undefined;
    for (const key of keys.slice(0, MAX_CANDIDATES)) {
      try {
        const manifest = parseManifest(await io.getText(key), `s3://${config.bucketName}/${key}`);
        const missing: string[] = [];
        for (const shard of manifest.shards) {
          if (!(await io.exists(shard.key))) {
            missing.push(shard.key);
          }
        }
        if (missing.length > 0) {
          // Replication can deliver the manifest before an .rdb: not restorable yet.
          problems.push(`${key}: objects not replicated yet: ${missing.join(', ')}`);
          continue;
        }
        found = {
          replicationGroupId: group,
          manifestKey: key,
          problems,
          ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(manifest.snapshotCreateTime)) / 1000)),
        };
        break;
      } catch (e) {
        problems.push(`${key}: ${(e as Error).message}`);
      }
    }
    out.push(found ?? { replicationGroupId: group, problems });
  }
  return out;
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

  public async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucketName, Key: key }));
      return true;
    } catch (e) {
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || (e as Error).name === 'NotFound') {
        return false;
      }
      throw e;
    }
  }
}

const logger = new Logger({ serviceName: 'elasticache-backup-freshness' });
/**
 * Publishes `ReplicaBackupAgeSeconds` per group, with ReplicationGroupId as the only dimension (nothing when no complete
 * export exists: the alarm treats missing data as breaching).
 */
export function publish(results: readonly GroupFreshness[], newMetrics: () => Metrics, log: Logger): void {
  for (const r of results) {
    log.info('freshness', { ...r });
    if (r.ageSeconds !== undefined) {
      const m = newMetrics();
      m.clearDefaultDimensions();
      m.addDimension(GROUP_DIMENSION, r.replicationGroupId);
      m.addMetric(METRIC_REPLICA_BACKUP_AGE, MetricUnit.Seconds, r.ageSeconds);
      m.publishStoredMetrics();
    }
  }
}

export async function handler(): Promise<void> {
  const config = JSON.parse(process.env[ENV_FRESHNESS_CONFIG] ?? '') as FreshnessConfig;
  const io = new S3FreshnessIo(new S3Client({}), config.bucketName);
  publish(await measureFreshness(io, config, new Date()), () => new Metrics({ namespace: METRIC_NAMESPACE }), logger);
}
