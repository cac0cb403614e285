/**
 * The export manifest: the commit marker of an export in S3.
 *
 * A backup exists in S3 only once its manifest exists. The backup plan writes it last, after every shard's
 * `.rdb` object was streamed and verified (format version 2); restore, pruning and the DR freshness monitor read it
 * and check the objects against it (replication can deliver the manifest before an `.rdb`, and objects can be
 * deleted or overwritten after the commit). Pure code shared by the reconciler, the restore preflight, the freshness
 * monitor and the restore drill: no I/O here, and nothing here is part of the jsii API.
 *
 * Layering: `lib/rdb` < `lib/manifest` < `lib/backup-plan`, `lib/restore`, `lib/drill`.
 */
import { shardsProblem } from './validate';
import type { RdbChecksumStatus, RdbDatabaseCount, RdbExpiryBucket } from '../rdb/types';

/** The format version this library writes. */
export const MANIFEST_FORMAT_VERSION = 2;
/** Format versions this library reads (version 1 manifests carry no verification: they read as unverified). */
export const READABLE_MANIFEST_FORMAT_VERSIONS: readonly number[] = [1, 2];

/** All manifests live under this prefix; one folder per replication group. */
export const MANIFEST_ROOT = 'manifests/';

export type SnapshotSource = 'automated' | 'manual';

export interface ManifestShard {
  /** Object key of the shard's `.rdb` in the bucket. */
  readonly key: string;
  /** Object size in bytes. */
  readonly sizeBytes: number;
  /** RDB format version read from the object's header, when it was read. */
  readonly rdbVersion?: number;
  /** v2: the S3 version of the object that was verified (the export bucket is versioned). */
  readonly versionId?: string;
  /** v2: the object's ETag (quoted, as S3 returns it) when it was verified. */
  readonly etag?: string;
  /**
   * v2: `full` when every byte was walked and the CRC-64 trailer checked; `partial` when the shard was larger than the
   * verifier can stream in its time budget, and only size, header, EOF opcode and trailer were checked.
   */
  readonly verification?: 'full' | 'partial';
  /** v2: the trailer's check (`ok`, `disabled` for a zero trailer, `absent` before RDB 5). */
  readonly checksum?: RdbChecksumStatus;
  /** v2: the CRC-64 in the trailer, 16 lowercase hex digits. */
  readonly crc64?: string;
  /** v2 with `full` verification: keys per database. */
  readonly databases?: readonly RdbDatabaseCount[];
  /** v2 with `full` verification: all keys of the shard. */
  readonly keys?: number;
  /** v2 with `full` verification: keys with an expire time. */
  readonly keysWithExpiry?: number;
  /** v2 with `full` verification: when the keys with an expiry expire (coarse buckets, epoch ms). */
  readonly expiryHistogram?: readonly RdbExpiryBucket[];
  /** v2: the engine and version that wrote the file (aux fields). */
  readonly writerEngine?: 'redis' | 'valkey';
  readonly writerVersion?: string;
  /** v2: ISO-8601 time the verifier finished. */
  readonly verifiedAt?: string;
}

export interface BackupManifest {
  /** 1 (legacy, unverified) or 2. */
  readonly formatVersion: number;
  readonly replicationGroupId: string;
  readonly region: string;
  readonly bucket: string;
  /** The ElastiCache snapshot that was exported. */
  readonly snapshotName: string;
  readonly snapshotSource: SnapshotSource;
  /** ISO-8601 time the snapshot was taken: the point in time this backup restores to. */
  readonly snapshotCreateTime: string;
  /** `TargetSnapshotName` given to CopySnapshot; the `.rdb` keys start with it. */
  readonly exportName: string;
  /** ISO-8601 time the export was committed (manifest written). */
  readonly exportTime: string;
  readonly engine: string;
  readonly engineVersion: string;
  readonly nodeType: string;
  readonly clusterModeEnabled: boolean;
  readonly shardCount: number;
  readonly shards: ManifestShard[];
}

/** A manifest that cannot be used, with the reason. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** `2026-11-24T10:15:03.120Z` -> `20261124t101503z`: sortable, lowercase (ElastiCache lowercases export names). */
export function compactTimestamp(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();
}

/** The folder holding one group's manifests. */
export function manifestPrefix(replicationGroupId: string): string {
  return `${MANIFEST_ROOT}${replicationGroupId}/`;
}

/**
 * The manifest key of a snapshot's export. Keys of one group sort in snapshot time order.
 */
export function manifestKey(replicationGroupId: string, snapshotCreateTime: Date, snapshotName: string): string {
  return `${manifestPrefix(replicationGroupId)}${compactTimestamp(snapshotCreateTime)}_${sanitize(snapshotName)}.json`;
}

/**
 * The `TargetSnapshotName` for exporting a snapshot: `<group>-<snapshot time>`, plus `-a<n>` for the n-th retry
 * (ElastiCache never overwrites an object, so a retry after a failed export needs a new name).
 */
export function exportName(replicationGroupId: string, snapshotCreateTime: Date, attempt: number = 1): string {
  const base = `${replicationGroupId}-${compactTimestamp(snapshotCreateTime)}`.toLowerCase();
  return attempt > 1 ? `${base}-a${attempt}` : base;
}

/** Key of the n-th shard file (1-based) ElastiCache writes for an export. */
export function exportObjectKey(name: string, shardNumber: number): string {
  return `${name}-${String(shardNumber).padStart(4, '0')}.rdb`;
}

/** The shard number of an export object key, or undefined when the key is not `<name>-NNNN.rdb`. */
export function shardNumberOf(exportNameValue: string, key: string): number | undefined {
  if (!key.startsWith(`${exportNameValue}-`)) {
    return undefined;
  }
  const rest = key.slice(exportNameValue.length);
  const match = /^-(\d{4})\.rdb$/.exec(rest);
  return match ? Number(match[1]) : undefined;
}

/** The newest manifest key among `keys` for a group (lexicographic order is time order). */
export function newestManifestKey(keys: readonly string[], replicationGroupId: string): string | undefined {
  const prefix = manifestPrefix(replicationGroupId);
  let newest: string | undefined;
  for (const key of keys) {
    if (key.startsWith(prefix) && key.endsWith('.json') && (newest === undefined || key > newest)) {
      newest = key;
    }
  }
  return newest;
}

export function serializeManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, undefined, 2)}\n`;
}

/**
 * Parses and checks a manifest. Throws ManifestError naming the field that is wrong.
 *
 * @param where a description of where the text came from (for messages), e.g. `s3://bucket/key`
 */
export function parseManifest(text: string, where: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`manifest ${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ManifestError(`manifest ${where} must be a JSON object`);
  }
  const m = raw as Record<string, unknown>;
  if (typeof m.formatVersion !== 'number' || !READABLE_MANIFEST_FORMAT_VERSIONS.includes(m.formatVersion)) {
    throw new ManifestError(
      `manifest ${where} has formatVersion ${JSON.stringify(m.formatVersion)}; this version of cdk-elasticache-backup reads formatVersion ${READABLE_MANIFEST_FORMAT_VERSIONS.join(' and ')}`,
    );
  }
  for (const field of ['replicationGroupId', 'region', 'bucket', 'snapshotName', 'snapshotCreateTime', 'exportName', 'exportTime', 'engine', 'engineVersion', 'nodeType']) {
    if (typeof m[field] !== 'string' || (m[field] as string).length === 0) {
      throw new ManifestError(`manifest ${where}: field '${field}' must be a non-empty string, got ${JSON.stringify(m[field])}`);
    }
  }
  if (m.snapshotSource !== 'automated' && m.snapshotSource !== 'manual') {
    throw new ManifestError(`manifest ${where}: field 'snapshotSource' must be 'automated' or 'manual', got ${JSON.stringify(m.snapshotSource)}`);
  }
  for (const field of ['snapshotCreateTime', 'exportTime']) {
    if (!/^\d{4}-\d{2}-\d{2}T/.test(m[field] as string) || Number.isNaN(Date.parse(m[field] as string))) {
      throw new ManifestError(`manifest ${where}: field '${field}' must be an ISO-8601 time, got ${JSON.stringify(m[field])}`);
    }
  }
  if (typeof m.clusterModeEnabled !== 'boolean') {
    throw new ManifestError(`manifest ${where}: field 'clusterModeEnabled' must be true or false, got ${JSON.stringify(m.clusterModeEnabled)}`);
  }
  if (!Array.isArray(m.shards) || m.shards.length === 0) {
    throw new ManifestError(`manifest ${where}: field 'shards' must be a non-empty array`);
  }
  if (m.shardCount !== m.shards.length) {
    throw new ManifestError(`manifest ${where}: 'shardCount' is ${JSON.stringify(m.shardCount)} but 'shards' lists ${m.shards.length} objects`);
  }
  const shardProblem = shardsProblem(m.shards, m.formatVersion);
  if (shardProblem) {
    throw new ManifestError(`manifest ${where}: ${shardProblem}`);
  }
  return m as unknown as BackupManifest;
}

/** Characters allowed in a manifest file name; anything else becomes '-'. */
function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-');
}
