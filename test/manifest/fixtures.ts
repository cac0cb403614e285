import { BackupManifest, ManifestShard } from '../../lib/manifest/manifest';

/**
 * Manifests for tests, written out by hand (not by the backup plan's own code, so tests of readers do not depend on
 * the writer being right).
 */

/** A fully verified shard of a format 2 manifest: 2 keys in database 0, one with an expiry. */
export function verifiedShard(
  key: string, sizeBytes: number, versionId: string, etag: string, overrides: Partial<ManifestShard> = {},
): ManifestShard {
  return {
    key,
    sizeBytes,
    rdbVersion: 10,
    versionId,
    etag,
    verification: 'full',
    checksum: 'ok',
    crc64: '5c301b03ebc04f42',
    databases: [{ db: 0, keys: 2, keysWithExpiry: 1 }],
    keys: 2,
    keysWithExpiry: 1,
    expiryHistogram: [{ notBefore: 1_800_000_000_000, notAfter: 1_800_003_600_000, keys: 1 }],
    writerEngine: 'redis',
    writerVersion: '7.0.15',
    verifiedAt: '2026-11-20T03:20:00.000Z',
    ...overrides,
  };
}

export interface ManifestSpec {
  readonly group: string;
  /** Snapshot time. */
  readonly time: Date;
  readonly snapshotName: string;
  readonly exportName: string;
  readonly shards: ManifestShard[];
  /** @default 10 minutes after `time` */
  readonly exportTime?: Date;
  /** @default more than one shard */
  readonly clusterModeEnabled?: boolean;
}

/** A format 2 manifest. */
export function manifestV2(spec: ManifestSpec): BackupManifest {
  return {
    formatVersion: 2,
    replicationGroupId: spec.group,
    region: 'us-east-1',
    bucket: 'primary-export-bucket',
    snapshotName: spec.snapshotName,
    snapshotSource: 'automated',
    snapshotCreateTime: spec.time.toISOString(),
    exportName: spec.exportName,
    exportTime: (spec.exportTime ?? new Date(spec.time.getTime() + 600_000)).toISOString(),
    engine: 'redis',
    engineVersion: '7.0',
    nodeType: 'cache.r7g.large',
    clusterModeEnabled: spec.clusterModeEnabled ?? spec.shards.length > 1,
    shardCount: spec.shards.length,
    shards: spec.shards,
  };
}

/** The same manifest as format 1 (no verification fields), as written before exports were verified. */
export function asV1(manifest: BackupManifest): BackupManifest {
  return {
    ...manifest,
    formatVersion: 1,
    shards: manifest.shards.map((s) => ({ key: s.key, sizeBytes: s.sizeBytes, rdbVersion: s.rdbVersion })),
  };
}
