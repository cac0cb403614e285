/**
 * The reconciler's view of the simulated world: a `ReconcileIo` that answers as ElastiCache, S3 and Lambda would, and
 * injects throttling and crashes. It shows only what the services would show (keys, sizes, versions, ETags, statuses);
 * the truth about object contents stays in the world.
 */
import { readManifest } from './manifest-reader';
import { SafetyOracle } from './oracle';
import { SimError, World } from './world';
import { GroupDescription, ReconcileIo, SnapshotDescription } from '../../lib/backup-plan/reconcile-core';

export class Crash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

export interface RunCounter { calls: number; crashedCall?: string; throttled?: boolean }

/** What S3 tells about an object (ListObjectsV2 has no version id; HEAD has it). */
export interface SimObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
  readonly versionId?: string;
  readonly etag?: string;
  readonly lastModified?: Date;
}

/** The verifier Lambda's request (the body of a request object, lib/backup-plan/verify-core.ts). */
export interface SimVerifyRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly sizeBytes: number;
  readonly resultKey: string;
}

export type SimIo = ReconcileIo;

export interface IoHooks {
  readonly oracle: SafetyOracle;
  /** The plan this IO acts for (the oracle judges each deletion against the deleting plan's tag). */
  readonly planId: string;
  /** A manifest of `groupId` for a snapshot taken at `snapshotTime` was written. */
  onCommitted(groupId: string, snapshotTime: number): void;
  crashes(): void;
  throttles(): void;
  /** Called before every state write: may run another run of the same plan and group in between (overlapping runs). */
  beforeStateWrite?(key: string): Promise<void>;
}

const RDB_MAGIC = new TextEncoder().encode('VALKEY080');

export function simulatedIo(world: World, hooks: IoHooks, groupId: string, crashAt: number, counter: RunCounter): SimIo {
  const w = world;
  const step = (elasticache: boolean, call = '') => {
    counter.calls++;
    if (counter.calls === crashAt) {
      hooks.crashes();
      counter.crashedCall = call || 'other';
      throw new Crash();
    }
    if (elasticache && w.random() < w.faults.throttleRate) {
      hooks.throttles();
      counter.throttled = true;
      throw new SimError('Throttling', 'Rate exceeded');
    }
  };
  const describe = (filter: (s: ReturnType<World['groupSnapshots']>[number]) => boolean, groupOf: string) =>
    w.groupSnapshots(groupOf).filter(filter).map((s): SnapshotDescription => ({
      name: s.name,
      source: s.source,
      status: s.status,
      createTime: s.status === 'creating' ? undefined : new Date(s.startedAt),
      shardCount: s.shards,
      meta: { engine: 'valkey', engineVersion: '8.0', nodeType: 'cache.r7g.large', clusterModeEnabled: w.group(groupOf).clusterModeEnabled },
    }));
  const io: SimIo = {
    region: 'us-east-1',
    bucketName: w.exportBucket.name,
    async describeSnapshots(id) {
      step(true);
      // Backups of a member node carry CacheClusterId; whether the group filter lists them is the behaviour switch.
      return describe((s) => s.cacheClusterId === undefined || w.behaviour.listsMemberSnapshotsByGroup, id);
    },
    async describeClusterSnapshots(cacheClusterId) {
      step(true);
      const g = w.groups.find((x) => x.memberClusterIds.includes(cacheClusterId));
      return g ? describe((s) => s.cacheClusterId === cacheClusterId, g.id) : [];
    },
    async describeGroup(id): Promise<GroupDescription> {
      step(true);
      const g = w.group(id);
      const d: GroupDescription & { memberClusterIds: string[] } = { status: 'available', clusterModeEnabled: g.clusterModeEnabled, snapshotClusterId: g.snapshotClusterId, memberClusterIds: [...g.memberClusterIds] };
      return d;
    },
    async listObjects(prefix, startAfter) {
      step(false);
      const out = w.exportBucket.list(prefix, startAfter).map((v) => {
        const info: SimObjectInfo = { key: v.key, sizeBytes: v.sizeBytes, etag: v.etag, lastModified: new Date(v.lastModified) };
        return info;
      });
      counter.calls += Math.max(0, Math.ceil(out.length / 1000) - 1); // one ListObjectsV2 call per 1,000 keys
      return out;
    },
    async headObject(key) {
      step(false);
      const v = w.exportBucket.head(key);
      return v && {
        key,
        sizeBytes: v.sizeBytes,
        versionId: v.versionId,
        etag: v.etag,
        lastModified: new Date(v.lastModified),
        replicationStatus: w.replicationStatus(key, v.versionId),
      };
    },
    async getText(key) {
      step(false);
      return w.exportBucket.head(key)?.body;
    },
    async getVersionedText(key) {
      step(false);
      const v = w.exportBucket.head(key);
      return v && { text: v.body ?? '', etag: v.etag, lastModified: new Date(v.lastModified) };
    },
    async putTextIf(key, body, condition) {
      step(false);
      await hooks.beforeStateWrite?.(key);
      // S3 conditional writes: If-Match on the ETag read, If-None-Match: * to create only.
      const current = w.exportBucket.head(key);
      if (condition.ifNoneMatch === '*' && current) {
        throw new SimError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold (${key} exists)`, { httpStatusCode: 412 });
      }
      if (condition.ifMatch !== undefined && !current) {
        throw new SimError('NoSuchKey', `The specified key does not exist: ${key}`, { httpStatusCode: 404 });
      }
      if (condition.ifMatch !== undefined && current && current.etag !== condition.ifMatch) {
        throw new SimError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold (${key})`, { httpStatusCode: 412 });
      }
      return w.putExportObject(key, { sizeBytes: body.length, body }).etag;
    },
    async putText(key, body) {
      step(false);
      w.putExportObject(key, { sizeBytes: body.length, body });
      if (key.includes('/verify-requests/')) {
        requestVerification(w, groupId, body);
      }
      if (key.startsWith('manifests/')) {
        hooks.oracle.onCommit(key, body);
        const m = readManifest(body);
        if (typeof m !== 'string') { // an unreadable manifest is a false commit (counted by the oracle)
          hooks.onCommitted(m.replicationGroupId, m.snapshotTime);
          w.attackCommitted(m.shards.map((s) => s.key));
        }
      }
    },
    async readRange(key, length) {
      step(false);
      const v = w.exportBucket.head(key);
      if (!v || v.sizeBytes === 0) {
        return new Uint8Array(0);
      }
      return RDB_MAGIC.slice(0, Math.min(length, v.sizeBytes));
    },
    async createSnapshot(req) {
      step(true, 'CreateSnapshot');
      const g = w.group(req.replicationGroupId);
      w.checkName(req.snapshotName, 'SnapshotName');
      if (w.snapshots.has(req.snapshotName)) {
        throw new SimError('SnapshotAlreadyExistsFault', `Snapshot ${req.snapshotName} already exists`);
      }
      if (req.cacheClusterId !== undefined && !g.memberClusterIds.includes(req.cacheClusterId)) {
        throw new SimError('CacheClusterNotFoundFault', `${req.cacheClusterId} is not a member of ${g.id}`);
      }
      if (w.groupSnapshots(g.id).some((s) => s.status === 'creating')) {
        throw new SimError('InvalidReplicationGroupStateFault', 'A backup is in progress');
      }
      w.useQuota(g, 'CreateSnapshot');
      w.addSnapshot({
        name: req.snapshotName,
        group: g.id,
        source: 'manual',
        status: 'creating',
        cacheClusterId: g.clusterModeEnabled ? undefined : req.cacheClusterId ?? g.memberClusterIds[0],
        startedAt: w.now,
        doneAt: w.now + w.between(w.snapshotMinutes),
        willFail: w.random() < w.faults.snapshotFailRate,
        shards: g.shards,
        tags: { ...req.tags },
        exporting: 0,
      });
    },
    async copySnapshot(req) {
      step(true);
      w.startExport(req);
    },
    async snapshotTag(name, key) {
      step(true);
      const s = w.snapshots.get(name);
      if (!s) {
        throw new SimError('SnapshotNotFoundFault', 'not found');
      }
      return s.tags[key];
    },
    async deleteSnapshot(name) {
      step(true);
      const s = w.snapshots.get(name);
      if (!s) {
        throw new SimError('SnapshotNotFoundFault', 'not found');
      }
      if (s.status === 'creating' || s.status === 'exporting') {
        throw new SimError('InvalidSnapshotStateFault', `${name} is ${s.status}`);
      }
      hooks.oracle.onDelete(s, hooks.planId);
      w.removeSnapshot(s);
    },
  };
  return io;
}

/**
 * A request object's S3 event invokes the verifier Lambda (unless the event is lost: the reconciler asks again after
 * its verification timeout), which writes its result after a while; the result's S3 event wakes the reconciler.
 */
function requestVerification(w: World, groupId: string, body: string): void {
  let request: SimVerifyRequest;
  try {
    request = JSON.parse(body) as SimVerifyRequest;
  } catch {
    return; // the real verifier fails on it too
  }
  if (!w.deliverInvocation()) {
    w.charge(groupId, 'lost verification request', w.settings.verifyTimeoutSeconds / 60 + w.tick);
    return;
  }
  w.counters.verifications++;
  w.schedule(w.now + w.between(w.verifyMinutes), () => {
    w.putExportObject(request.resultKey, verificationResult(w, request));
    if (!w.emit({ group: groupId })) {
      w.lostEvent(groupId);
    }
  });
}

/**
 * The verifier Lambda's verdict, computed from the truth about the object version it reads (as the real verifier,
 * which streams and checks every byte, would find it): any intact dump verifies, including somebody else's data (the
 * verifier cannot know whose data it is); truncated, empty and corrupt objects fail.
 */
function verificationResult(w: World, r: SimVerifyRequest): { sizeBytes: number; body: string } {
  const v = r.versionId !== undefined ? w.exportBucket.version(r.key, r.versionId) : w.exportBucket.head(r.key);
  const base = { formatVersion: 1, key: r.key, etag: r.etag, verifiedAt: new Date(w.now).toISOString() };
  let result: object;
  if (!v) {
    result = { ...base, sizeBytes: r.sizeBytes, versionId: r.versionId, ok: false, error: { name: 'ObjectMissing', message: `${r.key} does not exist` } };
  } else if (r.etag !== undefined && r.etag !== v.etag) {
    result = { ...base, sizeBytes: v.sizeBytes, versionId: v.versionId, ok: false, error: { name: 'PreconditionFailed', message: `ETag is ${v.etag}, expected ${r.etag}` } };
  } else if (v.sizeBytes !== r.sizeBytes) {
    result = { ...base, sizeBytes: v.sizeBytes, versionId: v.versionId, ok: false, error: { name: 'SizeMismatch', message: `${v.sizeBytes} bytes, ${r.sizeBytes} listed` } };
  } else {
    const facts = { ...base, sizeBytes: v.sizeBytes, versionId: v.versionId, etag: v.etag };
    const integrity = v.content?.integrity ?? 'corrupt';
    if (integrity === 'intact') {
      result = {
        ...facts,
        ok: true,
        verification: 'full',
        report: {
          rdbVersion: 11,
          checksum: 'ok',
          crc64: '0123456789abcdef',
          databases: [{ db: 0, keys: 1000, keysWithExpiry: 0 }],
          keys: 1000,
          keysWithExpiry: 0,
          expiryHistogram: [],
          writerEngine: 'valkey',
          writerVersion: '8.0.1',
        },
      };
    } else {
      const error = integrity === 'empty' ? { name: 'RdbVerifyError', message: 'empty object (0 bytes): expected the RDB magic at offset 0', offset: 0 }
        : integrity === 'truncated' ? { name: 'RdbVerifyError', message: `Unexpected end of file at offset ${v.sizeBytes}`, offset: v.sizeBytes }
          : { name: 'RdbVerifyError', message: 'CRC-64 mismatch in the trailer', offset: Math.max(0, v.sizeBytes - 8) };
      result = { ...facts, ok: false, error };
    }
  }
  const body = JSON.stringify(result);
  return { sizeBytes: body.length, body };
}
