/**
 * The drill's keyspace verifier on a sharded group: a two-primary cluster of real redis-server / valkey-server on
 * 127.0.0.1 over TLS (the cluster bus too) with a password. The expected counts come from the RDB verifier run on the
 * dump each primary SAVEd.
 */
import * as fs from 'fs';
import * as path from 'path';
import Redis from 'ioredis';
import { VerifierEnvironment, verifyKeyspace, VerifyKeyspaceEvent } from '../../lib/drill/verify-keyspace.lambda';
import type { BackupManifest } from '../../lib/manifest/manifest';
import { manifestOfDumps, tlsClient } from '../support/tls-dataset';
import { EngineServer, freePort, makeTlsCertificates, startEngine, stopAllServers, TlsCertificates } from '../support/tls-server';
import { toolAvailable } from '../support/tools';

const PASSWORD = 'drill-cluster-token-0123456789abcdef';
const KEYS = 60;

const engines = ['redis-server', 'valkey-server'].filter((binary) => toolAvailable(binary));
const describeTls = toolAvailable('openssl') && engines.length === 2 ? describe : describe.skip;

describeTls('verify-keyspace Lambda against a TLS cluster of two primaries', () => {
  let certs: TlsCertificates;
  beforeAll(() => { certs = makeTlsCertificates(); });
  afterAll(async () => {
    await stopAllServers();
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  const env = (): VerifierEnvironment => ({
    readSecret: async () => { throw new Error('not used'); },
    readObject: async () => { throw new Error('not used'); },
    tls: { ca: certs.ca },
    now: () => Date.now(),
  });
  const event = (port: number, manifest: BackupManifest): VerifyKeyspaceEvent => ({
    endpoints: [{ host: '127.0.0.1', port }], clusterMode: true, authToken: PASSWORD, manifest, timeoutMs: 5000,
  });

  describe.each(engines)('%s', (binary) => {
    let nodes: EngineServer[];
    let clients: Redis[];
    let manifest: BackupManifest;

    beforeAll(async () => {
      const busPorts = [await freePort(), await freePort()];
      nodes = await Promise.all(busPorts.map((bus) => startEngine({
        binary, tls: certs, password: PASSWORD, cluster: true, extraArgs: ['--cluster-port', String(bus), '--masterauth', PASSWORD],
      })));
      clients = nodes.map((n) => tlsClient(n.port, certs, PASSWORD));
      await Promise.all(clients.map((c) => c.connect()));
      await clients[0].call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
      await clients[1].call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
      await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(nodes[1].port), String(busPorts[1]));
      await waitFor(async () => (await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO')))).every((i) => /cluster_state:ok/.test(String(i))));
      for (let i = 0; i < KEYS; i++) {
        await setOnOwner(clients, `key:${i}`, String(i), i % 4 === 0 ? 3_600_000 : undefined);
      }
      await Promise.all(clients.map((c) => c.save()));
      manifest = manifestOfDumps(nodes.map((n) => fs.readFileSync(path.join(n.dir, 'dump.rdb'))), { clusterMode: true });
    });
    afterAll(() => clients?.forEach((c) => c.disconnect()));

    test('both shards hold keys (the fixture is sound)', () => {
      expect(manifest.shards.map((s) => s.keys).every((n) => n! > 0)).toBe(true);
      expect(manifest.shards.reduce((s, shard) => s + shard.keys!, 0)).toBe(KEYS);
    });

    test('primaries found with CLUSTER NODES are read and summed: MATCH', async () => {
      const result = await verifyKeyspace({ ...event(nodes[0].port, manifest), sampleKeys: 5 }, env());
      expect(result).toMatchObject({
        verdict: 'MATCH',
        primaries: 2,
        expectedShards: 2,
        clusterState: 'ok',
        expectedKeys: KEYS,
        foundKeys: KEYS,
        databases: [{ db: 0, expectedKeys: KEYS, foundKeys: KEYS, expectedKeysWithExpiry: 15, foundKeysWithExpiry: 15 }],
      });
      expect(result.typeSample).toEqual({ sampled: 10, byType: { string: 10 }, unexpectedTypes: [] });
    });

    test('an export with more shards than primaries owning slots is CLUSTER_NOT_OK', async () => {
      const emptyShard = { ...manifest.shards[1], key: 'drill-test-0003.rdb', databases: [], keys: 0, keysWithExpiry: 0, expiryHistogram: [], valueTypes: {} };
      const threeShards: BackupManifest = { ...manifest, shardCount: 3, shards: [...manifest.shards, emptyShard] };
      const result = await verifyKeyspace(event(nodes[1].port, threeShards), env());
      expect(result).toMatchObject({ verdict: 'CLUSTER_NOT_OK', primaries: 2, expectedShards: 3, missingKeys: 0, extraKeys: 0 });
      expect(result.problems).toEqual(['2 primaries own slots, but the export has 3 shards']);
    });

    test('a cluster with an unassigned slot reports cluster_state fail: CLUSTER_NOT_OK', async () => {
      await clients[1].call('CLUSTER', 'DELSLOTS', '16383');
      await waitFor(async () => /cluster_state:fail/.test(String(await clients[1].call('CLUSTER', 'INFO'))));
      const result = await verifyKeyspace(event(nodes[0].port, manifest), env());
      expect(result.verdict).toBe('CLUSTER_NOT_OK');
      expect(result.clusterState).toBe('fail');
    });
  });
});

/** SET on the primary owning the key's slot (the other one answers MOVED). */
async function setOnOwner(clients: Redis[], key: string, value: string, ttlMs: number | undefined): Promise<void> {
  for (const client of clients) {
    try {
      await (ttlMs === undefined ? client.set(key, value) : client.set(key, value, 'PX', ttlMs));
      return;
    } catch (e) {
      if (!/MOVED/.test(String(e))) throw e;
    }
  }
  throw new Error(`no primary accepted ${key}`);
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met within 10 s');
}
