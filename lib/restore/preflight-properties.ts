/**
 * The restore preflight custom resource's properties: names shared by the construct and the handler, and the
 * handler-side parser (CloudFormation delivers every scalar as a string). Pure; no aws-cdk-lib.
 */
import { CONTENT_VERIFICATION_MODES, ContentVerificationMode } from './content-checks';

/** CloudFormation type of the preflight custom resource. Part of the API: never rename. */
export const PREFLIGHT_RESOURCE_TYPE = 'Custom::ElastiCacheRestorePreflight';

/** The kinds of backup source the preflight resolves and checks. */
export type SourceKind = 'rdbArns' | 'snapshot' | 'latestExport';

/** ResourceProperties keys. */
export const P = {
  region: 'Region',
  partition: 'Partition',
  engine: 'Engine',
  engineVersion: 'EngineVersion',
  newestReadableRdbVersion: 'NewestReadableRdbVersion',
  rdbCompatibilityCertain: 'RdbCompatibilityCertain',
  nodeType: 'NodeType',
  shardCount: 'ShardCount',
  clusterModeEnabled: 'ClusterModeEnabled',
  reservedMemoryPercent: 'ReservedMemoryPercent',
  failOnUncertainCompatibility: 'FailOnUncertainCompatibility',
  verifyBucketPolicy: 'VerifyBucketPolicy',
  sourceKind: 'SourceKind',
  snapshotArns: 'SnapshotArns',
  snapshotName: 'SnapshotName',
  bucket: 'Bucket',
  replicationGroupId: 'ReplicationGroupId',
  maxSourceShards: 'MaxSourceShards',
  manifestKey: 'ManifestKey',
  chunkIndex: 'ChunkIndex',
  verifyContent: 'VerifyContent',
  groupCreateOnly: 'ReplicationGroupCreateOnly',
} as const;

/**
 * `latestExport` ARNs returned per custom resource. CloudFormation caps a custom resource response at 4096 bytes,
 * so the preflight returns the first chunk and one extra `Custom::ElastiCacheRestoreArns` resource per further
 * chunk returns the rest (20 ARNs of up to ~150 characters each fit with room to spare).
 */
export const ARNS_PER_CHUNK = 20;

/** CloudFormation type of the extra ARN chunk resources of `latestExport`. Part of the API: never rename. */
export const ARN_CHUNK_RESOURCE_TYPE = 'Custom::ElastiCacheRestoreArns';

/** A request for one chunk of a resolved export's ARNs. */
export interface ArnChunkRequest {
  readonly partition: string;
  readonly bucket: string;
  readonly manifestKey: string;
  /** 1-based: chunk 0 is returned by the preflight itself. */
  readonly chunkIndex: number;
}

/** Attributes the preflight returns (`Fn::GetAtt`). */
export const A = {
  /** latestExport only: the resolved `.rdb` ARNs joined with ',' (keys never contain commas). */
  snapshotArns: 'SnapshotArns',
  manifestKey: 'ManifestKey',
  snapshotCreateTime: 'SnapshotCreateTime',
  objectCount: 'ObjectCount',
  totalBytes: 'TotalBytes',
  /**
   * How many warnings the preflight logged. The warnings themselves are only in the log: their length is unbounded,
   * and CloudFormation refuses an answer over 4096 bytes.
   */
  warningCount: 'WarningCount',
} as const;

/** A parsed, validated preflight request. */
export interface PreflightRequest {
  readonly region: string;
  readonly partition: string;
  readonly engine: {
    readonly engineType: string;
    readonly engineVersion: string;
    readonly newestReadableRdbVersion?: number;
    readonly rdbCompatibilityCertain: boolean;
  };
  readonly nodeType: string;
  /** Shards of the new group (1 when cluster mode is disabled). */
  readonly shardCount: number;
  readonly clusterModeEnabled: boolean;
  readonly reservedMemoryPercent: number;
  readonly failOnUncertainCompatibility: boolean;
  readonly verifyBucketPolicy: boolean;
  /**
   * How much of a `rdbArns` source's content to verify. Not part of `source`: changing it alone must not re-run the
   * checks of a group that exists already (an Update with the same source).
   */
  readonly verifyContent: ContentVerificationMode;
  readonly source:
  | { readonly kind: 'rdbArns'; readonly arns: string[] }
  | { readonly kind: 'snapshot'; readonly snapshotName: string }
  | { readonly kind: 'latestExport'; readonly bucket: string; readonly replicationGroupId: string; readonly maxSourceShards: number };
}

/** The properties are not what this handler version understands. */
export class PropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertiesError';
  }
}

/** Parses ResourceProperties (stringified scalars accepted). */
export function parsePreflightProperties(props: Record<string, unknown>): PreflightRequest {
  const str = (key: string): string => {
    const v = props[key];
    if (typeof v === 'string' && v.length > 0) {
      return v;
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      return String(v);
    }
    throw new PropertiesError(`property '${key}' must be a non-empty string, got ${JSON.stringify(v)}`);
  };
  const optStr = (key: string): string | undefined => (props[key] === undefined || props[key] === '' ? undefined : str(key));
  const int = (key: string, fallback?: number): number => {
    const raw = optStr(key);
    if (raw === undefined && fallback !== undefined) {
      return fallback;
    }
    const n = Number(raw);
    if (raw === undefined || !Number.isInteger(n)) {
      throw new PropertiesError(`property '${key}' must be an integer, got ${JSON.stringify(props[key])}`);
    }
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = optStr(key);
    if (raw === undefined) {
      return fallback;
    }
    if (raw !== 'true' && raw !== 'false') {
      throw new PropertiesError(`property '${key}' must be 'true' or 'false', got ${JSON.stringify(props[key])}`);
    }
    return raw === 'true';
  };
  const newest = optStr(P.newestReadableRdbVersion);
  const kind = str(P.sourceKind);
  let source: PreflightRequest['source'];
  if (kind === 'rdbArns') {
    const arns = props[P.snapshotArns];
    if (!Array.isArray(arns) || arns.length === 0 || !arns.every((a) => typeof a === 'string')) {
      throw new PropertiesError(`property '${P.snapshotArns}' must be a non-empty list of strings, got ${JSON.stringify(arns)}`);
    }
    source = { kind, arns: arns as string[] };
  } else if (kind === 'snapshot') {
    source = { kind, snapshotName: str(P.snapshotName) };
  } else if (kind === 'latestExport') {
    source = { kind, bucket: str(P.bucket), replicationGroupId: str(P.replicationGroupId), maxSourceShards: int(P.maxSourceShards, ARNS_PER_CHUNK) };
  } else {
    throw new PropertiesError(`property '${P.sourceKind}' must be 'rdbArns', 'snapshot' or 'latestExport', got ${JSON.stringify(kind)}`);
  }
  return {
    region: str(P.region),
    partition: optStr(P.partition) ?? 'aws',
    engine: {
      engineType: str(P.engine),
      engineVersion: str(P.engineVersion),
      newestReadableRdbVersion: newest === undefined ? undefined : int(P.newestReadableRdbVersion),
      rdbCompatibilityCertain: bool(P.rdbCompatibilityCertain, false),
    },
    nodeType: str(P.nodeType),
    shardCount: int(P.shardCount, 1),
    clusterModeEnabled: bool(P.clusterModeEnabled, false),
    reservedMemoryPercent: int(P.reservedMemoryPercent, 25),
    failOnUncertainCompatibility: bool(P.failOnUncertainCompatibility, false),
    verifyBucketPolicy: bool(P.verifyBucketPolicy, true),
    verifyContent: verifyContentOf(optStr(P.verifyContent)),
    source,
  };
}

function verifyContentOf(raw: string | undefined): ContentVerificationMode {
  if (raw === undefined) {
    return 'auto';
  }
  if (!(CONTENT_VERIFICATION_MODES as readonly string[]).includes(raw)) {
    throw new PropertiesError(`property '${P.verifyContent}' must be ${CONTENT_VERIFICATION_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as ContentVerificationMode;
}

/** Whether the properties ask for an ARN chunk rather than a preflight. */
export function isArnChunkRequest(props: Record<string, unknown>): boolean {
  return props[P.sourceKind] === 'latestExportChunk';
}

/** Parses the properties of an ARN chunk resource. */
export function parseArnChunkProperties(props: Record<string, unknown>): ArnChunkRequest {
  const get = (key: string): string => {
    const v = props[key];
    if (typeof v !== 'string' || v.length === 0) {
      throw new PropertiesError(`property '${key}' must be a non-empty string, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const chunkIndex = Number(get(P.chunkIndex));
  if (!Number.isInteger(chunkIndex) || chunkIndex < 1) {
    throw new PropertiesError(`property '${P.chunkIndex}' must be an integer of at least 1, got ${JSON.stringify(props[P.chunkIndex])}`);
  }
  return { partition: get(P.partition), bucket: get(P.bucket), manifestKey: get(P.manifestKey), chunkIndex };
}

/** The comma-joined ARNs of one chunk; chunks after the first start with ',' so that joining them with '' gives the list. */
export function arnChunk(arns: readonly string[], chunkIndex: number): string {
  const slice = arns.slice(chunkIndex * ARNS_PER_CHUNK, (chunkIndex + 1) * ARNS_PER_CHUNK);
  if (slice.length === 0) {
    return '';
  }
  return `${chunkIndex === 0 ? '' : ','}${slice.join(',')}`;
}

/**
 * What identifies a restore source. `maxSourceShards` is not part of it: it only sizes the ARN chunks, and changing it
 * (for example with the new group's shard count) must not pick another export, which would replace the group.
 */
export function sourceIdentity(request: PreflightRequest): string {
  const source = request.source;
  if (source.kind === 'latestExport') {
    return JSON.stringify([source.kind, source.bucket, source.replicationGroupId]);
  }
  return JSON.stringify(source);
}

/** What an Update of the preflight does. */
export type UpdatePlan =
  /** Nothing that replaces the group changed: it exists already and is not seeded again. */
  | { readonly action: 'keep'; readonly reason: string }
  /** Same source, but the group is replaced: the new group is seeded from the same (pinned) objects, check them again. */
  | { readonly action: 'recheck'; readonly reason: string }
  /** Another source: the group is replaced and seeded from it, check it as on Create. */
  | { readonly action: 'resolve'; readonly reason: string };

/**
 * Decides an Update from the old and new properties. The replication group's create-only properties (any change
 * replaces the group, which is then seeded again) come in `ReplicationGroupCreateOnly`; a stack deployed before that
 * property existed cannot tell, and is left alone, as before.
 */
export function planUpdate(
  oldProps: Record<string, unknown>, newProps: Record<string, unknown>, oldRequest: PreflightRequest, newRequest: PreflightRequest,
): UpdatePlan {
  if (sourceIdentity(oldRequest) !== sourceIdentity(newRequest)) {
    return { action: 'resolve', reason: 'the restore source changed: the replication group is replaced and seeded from the new source' };
  }
  const changed = changedKeys(oldProps, newProps);
  const oldCreateOnly = asRecord(oldProps[P.groupCreateOnly]);
  if (oldCreateOnly === undefined) {
    return {
      action: 'keep',
      reason: 'the previous deployment did not record the replication group\'s create-only properties (an earlier version of the library), '
        + `so the pinned source is not checked again (changed: ${listOrNone(changed)})`,
    };
  }
  const replacing = changedKeys(oldCreateOnly, asRecord(newProps[P.groupCreateOnly]) ?? {});
  if (replacing.length > 0) {
    return {
      action: 'recheck',
      reason: `${replacing.join(', ')} changed, so CloudFormation replaces the replication group and seeds the new one from the same source again: checking it again`,
    };
  }
  return {
    action: 'keep',
    reason: `nothing that replaces the replication group changed (changed: ${listOrNone(changed.filter((k) => k !== P.groupCreateOnly))}): `
      + 'the group exists already and is not seeded again, so the source is not checked again',
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

/** Keys whose values differ (CloudFormation delivers both sides the same way, so JSON equality is exact). */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'ServiceToken');
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function listOrNone(keys: string[]): string {
  return keys.length === 0 ? 'nothing' : keys.join(', ');
}
