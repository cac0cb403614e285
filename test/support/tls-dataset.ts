/**
 * Datasets for tests against real engines: keys written by a real server and saved, and the manifest the RDB
 * verifier (lib/rdb) makes of the dumps: the expected counts come from the verifier, not from the test's bookkeeping.
 */
import * as fs from 'fs';
import * as path from 'path';
import Redis from 'ioredis';
import { startEngine, TlsCertificates } from './tls-server';
import type { BackupManifest, ManifestShard } from '../../lib/manifest/manifest';
import { verifyRdb } from '../../lib/rdb/verifier';

/** Keys to write: `ttlMs` gives each key of the group a PEXPIRE. */
export interface KeyGroup {
  readonly db?: number;
  readonly prefix: string;
  readonly type: 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';
  readonly count: number;
  readonly ttlMs?: number;
}

/** Writes the groups (one pipeline per database). */
export async function writeKeys(client: Redis, groups: readonly KeyGroup[]): Promise<void> {
  for (const group of groups) {
    await client.select(group.db ?? 0);
    const p = client.pipeline();
    for (let i = 0; i < group.count; i++) {
      const key = `${group.prefix}:${i}`;
      switch (group.type) {
        case 'string': p.set(key, `value-${i}`); break;
        case 'hash': p.hset(key, 'a', '1', 'b', String(i)); break;
        case 'list': p.rpush(key, 'x', 'y', String(i)); break;
        case 'set': p.sadd(key, 'x', 'y', String(i)); break;
        case 'zset': p.zadd(key, 1, 'x', 2, String(i)); break;
        case 'stream': p.xadd(key, '*', 'field', String(i)); break;
      }
      if (group.ttlMs !== undefined) p.pexpire(key, group.ttlMs);
    }
    const results = await p.exec();
    const failed = results?.find(([e]) => e);
    if (failed) throw failed[0];
  }
  await client.select(0);
}

/**
 * Starts `binary` (plaintext, no password) with an empty dataset, lets `write` fill it, SAVEs and returns the dump
 * and the time SAVE returned.
 */
export async function makeDump(binary: string, write: (client: Redis) => Promise<void>): Promise<{ dump: Buffer; savedAt: number }> {
  const server = await startEngine({ binary });
  const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    await write(client);
    await client.save();
    const savedAt = Date.now();
    return { dump: fs.readFileSync(path.join(server.dir, 'dump.rdb')), savedAt };
  } finally {
    client.disconnect();
    await server.stop();
  }
}

/** The manifest (format 2, every shard fully verified, with the verifier's value types) of dumps, one per shard. */
export function manifestOfDumps(dumps: readonly Uint8Array[], options: { clusterMode?: boolean } = {}): BackupManifest {
  const shards = dumps.map((dump, i): ManifestShard & { valueTypes: Record<string, number> } => {
    const report = verifyRdb(dump);
    return {
      key: `drill-test-${String(i + 1).padStart(4, '0')}.rdb`,
      sizeBytes: report.sizeBytes,
      rdbVersion: report.rdbVersion,
      versionId: `v${i + 1}`,
      etag: `"etag-${i + 1}"`,
      verification: 'full',
      checksum: report.checksum,
      crc64: report.crc64,
      databases: report.databases,
      keys: report.keys,
      keysWithExpiry: report.keysWithExpiry,
      expiryHistogram: report.expiryHistogram,
      writerEngine: report.writerEngine,
      writerVersion: report.writerVersion,
      verifiedAt: new Date().toISOString(),
      valueTypes: { ...report.valueTypes },
    };
  });
  const now = new Date().toISOString();
  return {
    formatVersion: 2,
    replicationGroupId: 'drill-test',
    region: 'eu-west-1',
    bucket: 'replica-bucket',
    snapshotName: 'drill-test-snapshot',
    snapshotSource: 'manual',
    snapshotCreateTime: now,
    exportName: 'drill-test',
    exportTime: now,
    engine: shards[0].writerEngine ?? 'redis',
    engineVersion: shards[0].writerVersion ?? '7.0',
    nodeType: 'cache.t4g.micro',
    clusterModeEnabled: options.clusterMode ?? false,
    shardCount: shards.length,
    shards,
  };
}

/** A client for a TLS test server (trusting the test CA). */
export function tlsClient(port: number, certs: TlsCertificates, password: string): Redis {
  return new Redis({ host: '127.0.0.1', port, password, tls: { ca: certs.ca }, lazyConnect: true, maxRetriesPerRequest: 0 });
}
