/**
 * The oracle's own reading of a manifest: the few fields it judges by, read from the JSON directly, so that a bug in
 * the library's parser (lib/manifest/manifest.ts) cannot hide a bad commit from the oracle.
 */
export interface ReadManifest {
  readonly replicationGroupId: string;
  readonly snapshotName: string;
  /** Epoch ms of `snapshotCreateTime`. */
  readonly snapshotTime: number;
  readonly shards: ReadonlyArray<{ readonly key: string; readonly versionId?: string }>;
}

/** The manifest's fields, or a string saying why they cannot be read. */
export function readManifest(body: string): ReadManifest | string {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  const o = m as Record<string, unknown>;
  const shards = o?.shards;
  const time = typeof o?.snapshotCreateTime === 'string' ? Date.parse(o.snapshotCreateTime) : NaN;
  if (typeof o?.replicationGroupId !== 'string' || typeof o.snapshotName !== 'string' || Number.isNaN(time) || !Array.isArray(shards)) {
    return 'no replicationGroupId, snapshotName, snapshotCreateTime or shards';
  }
  const read = shards.map((s: { key?: unknown; versionId?: unknown }) => ({
    key: typeof s?.key === 'string' ? s.key : '',
    versionId: typeof s?.versionId === 'string' ? s.versionId : undefined,
  }));
  if (read.some((s) => s.key === '')) {
    return 'a shard without a key';
  }
  return { replicationGroupId: o.replicationGroupId, snapshotName: o.snapshotName, snapshotTime: time, shards: read };
}
