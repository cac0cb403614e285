/**
 * The drill's keyspace verifier against real redis-server and valkey-server on 127.0.0.1, over TLS (certificates made
 * here with openssl) with an AUTH password, each server loaded from a dump whose expected counts come from the RDB
 * verifier (lib/rdb).
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  handler,
  VerifierEnvironment,
  verifyKeyspace,
  VerifyKeyspaceEvent,
} from '../../lib/drill/verify-keyspace.lambda';
import type { BackupManifest } from '../../lib/manifest/manifest';
import { verifyRdb } from '../../lib/rdb/verifier';
import { KeyGroup, makeDump, manifestOfDumps, tlsClient, writeKeys } from '../support/tls-dataset';
import {
  EngineServer,
  makeTlsCertificates,
  startEngine,
  startSilentServer,
  startSilentTlsServer,
  stopAllServers,
  TlsCertificates,
} from '../support/tls-server';
import { toolAvailable } from '../support/tools';

const PASSWORD = 'drill-auth-token-0123456789abcdef';
const SHORT_TTL_MS = 1500;

/** 125 keys of six types in db0 and db2; 15 expire in an hour. */
const STEADY: readonly KeyGroup[] = [
  { prefix: 's', type: 'string', count: 45 },
  { prefix: 'ttl', type: 'string', count: 15, ttlMs: 3_600_000 },
  { prefix: 'h', type: 'hash', count: 10 },
  { prefix: 'l', type: 'list', count: 10 },
  { prefix: 'st', type: 'set', count: 10 },
  { prefix: 'z', type: 'zset', count: 10 },
  { prefix: 'x', type: 'stream', count: 5 },
  { db: 2, prefix: 'd2', type: 'string', count: 20 },
];
/** 40 keys that stay, 25 that expire SHORT_TTL_MS after they were written (before the restore). */
const EXPIRING: readonly KeyGroup[] = [
  { prefix: 'keep', type: 'string', count: 40 },
  { prefix: 'gone', type: 'string', count: 25, ttlMs: SHORT_TTL_MS },
];

const engines = ['redis-server', 'valkey-server'].filter((binary) => toolAvailable(binary));
const haveOpenssl = toolAvailable('openssl');
const describeTls = haveOpenssl && engines.length === 2 ? describe : describe.skip;

interface EngineFixture {
  steady: { dump: Buffer; manifest: BackupManifest };
  expiring: { dump: Buffer; manifest: BackupManifest; savedAt: number };
}

describeTls('verify-keyspace Lambda against real engines over TLS', () => {
  let certs: TlsCertificates;
  const fixtures = new Map<string, EngineFixture>();

  /** The verifier's I/O with the test CA trusted; secrets and manifests are not read from AWS here. */
  const env = (): VerifierEnvironment => ({
    readSecret: async () => { throw new Error('not used'); },
    readObject: async () => { throw new Error('not used'); },
    tls: { ca: certs.ca },
    now: () => Date.now(),
  });
  const event = (port: number, manifest: BackupManifest, overrides: Partial<VerifyKeyspaceEvent> = {}): VerifyKeyspaceEvent => ({
    endpoints: [{ host: '127.0.0.1', port }], clusterMode: false, tls: true, authToken: PASSWORD, manifest, timeoutMs: 5000, ...overrides,
  });
  const loaded = (binary: string, dump: Buffer): Promise<EngineServer> => startEngine({ binary, dump, tls: certs, password: PASSWORD });

  beforeAll(async () => {
    certs = makeTlsCertificates();
    await Promise.all(engines.map(async (binary) => {
      const steady = await makeDump(binary, (c) => writeKeys(c, STEADY));
      const expiring = await makeDump(binary, (c) => writeKeys(c, EXPIRING));
      fixtures.set(binary, {
        steady: { dump: steady.dump, manifest: manifestOfDumps([steady.dump]) },
        expiring: { ...expiring, manifest: manifestOfDumps([expiring.dump]) },
      });
    }));
    // The short-lived keys must have expired before any server loads the expiring dump.
    const latest = Math.max(...[...fixtures.values()].map((f) => f.expiring.savedAt));
    await new Promise((r) => setTimeout(r, Math.max(0, latest + SHORT_TTL_MS + 200 - Date.now())));
  });

  afterAll(async () => {
    await stopAllServers();
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  describe.each(engines)('%s', (binary) => {
    const fixture = (): EngineFixture => fixtures.get(binary)!;

    test('the dumps hold what was written (the fixtures are sound)', () => {
      expect(verifyRdb(fixture().steady.dump).keys).toBe(125);
      // All 65 keys were saved before the 25 short-lived ones expired.
      expect(verifyRdb(fixture().expiring.dump).keys).toBe(65);
      expect(verifyRdb(fixture().expiring.dump).keysWithExpiry).toBe(25);
    });

    test('a group restored from the dump matches the verifier counts, and sampled types are known', async () => {
      const server = await loaded(binary, fixture().steady.dump);
      const result = await verifyKeyspace(event(server.port, fixture().steady.manifest, { sampleKeys: 30 }), env());
      expect(result).toMatchObject({
        verdict: 'MATCH',
        passed: true,
        expectedKeys: 125,
        foundKeys: 125,
        missingKeys: 0,
        extraKeys: 0,
        restoredKeysRatio: 1,
        engine: binary === 'valkey-server' ? 'valkey' : 'redis',
        primaries: 1,
      });
      expect(result.databases).toEqual([
        { db: 0, expectedKeys: 105, foundKeys: 105, expectedKeysWithExpiry: 15, foundKeysWithExpiry: 15 },
        { db: 2, expectedKeys: 20, foundKeys: 20, expectedKeysWithExpiry: 0, foundKeysWithExpiry: 0 },
      ]);
      expect(result.typeSample?.sampled).toBe(30);
      expect(result.typeSample?.unexpectedTypes).toEqual([]);
      expect(Object.keys(result.typeSample!.byType).every((t) => ['string', 'hash', 'list', 'set', 'zset', 'stream'].includes(t))).toBe(true);
      await server.stop();
    });

    test('keys deleted after the restore are MISSING_KEYS (keys without an expiry cannot have expired)', async () => {
      const server = await loaded(binary, fixture().steady.dump);
      const client = tlsClient(server.port, certs, PASSWORD);
      await client.connect();
      expect(await client.del('s:1', 's:2', 'h:3')).toBe(3);
      client.disconnect();
      const result = await verifyKeyspace(event(server.port, fixture().steady.manifest), env());
      expect(result).toMatchObject({ verdict: 'MISSING_KEYS', passed: false, expectedKeys: 125, foundKeys: 122, missingKeys: 3 });
      expect(result.restoredKeysRatio).toBeCloseTo(122 / 125, 10);
      await server.stop();
    });

    test('keys written after the restore are EXTRA_KEYS', async () => {
      const server = await loaded(binary, fixture().steady.dump);
      const client = tlsClient(server.port, certs, PASSWORD);
      await client.connect();
      await client.select(5);
      await client.set('intruder', '1');
      client.disconnect();
      const result = await verifyKeyspace(event(server.port, fixture().steady.manifest), env());
      expect(result).toMatchObject({ verdict: 'EXTRA_KEYS', passed: false, foundKeys: 126, extraKeys: 1, missingKeys: 0 });
      await server.stop();
    });

    test('keys that expired between backup and restore are within the histogram allowance: MATCH', async () => {
      const { dump, manifest } = fixture().expiring;
      const server = await loaded(binary, dump);
      const result = await verifyKeyspace(event(server.port, manifest), env());
      expect(result).toMatchObject({
        verdict: 'MATCH', passed: true, expectedKeys: 65, foundKeys: 40, missingKeys: 25, expiryAllowance: 25,
      });
      expect(result.restoredKeysRatio).toBeCloseTo(40 / 65, 10);
      await server.stop();
    });

    test('one more key lost than the expiry allowance is MISSING_KEYS', async () => {
      const { dump, manifest } = fixture().expiring;
      const server = await loaded(binary, dump);
      const client = tlsClient(server.port, certs, PASSWORD);
      await client.connect();
      expect(await client.del('keep:7')).toBe(1);
      client.disconnect();
      const result = await verifyKeyspace(event(server.port, manifest), env());
      expect(result).toMatchObject({ verdict: 'MISSING_KEYS', foundKeys: 39, missingKeys: 26, expiryAllowance: 25 });
      await server.stop();
    });

    test('a wrong AUTH token is a DrillAuthError', async () => {
      const server = await loaded(binary, fixture().steady.dump);
      const attempt = verifyKeyspace(event(server.port, fixture().steady.manifest, { authToken: 'not-the-token' }), env());
      await expect(attempt).rejects.toMatchObject({ name: 'DrillAuthError', message: expect.stringMatching(/refused the AUTH token: WRONGPASS/) });
      await server.stop();
    });

    test('a server without TLS is a DrillConnectError that says so', async () => {
      const server = await startEngine({ binary, dump: fixture().steady.dump, password: PASSWORD });
      const attempt = verifyKeyspace(event(server.port, fixture().steady.manifest, { timeoutMs: 1000 }), env());
      await expect(attempt).rejects.toMatchObject({ name: 'DrillConnectError', message: expect.stringMatching(/answers without TLS/) });
      await server.stop();
    });

    test('a server certificate from an untrusted CA is a DrillConnectError', async () => {
      const server = await loaded(binary, fixture().steady.dump);
      const attempt = verifyKeyspace(event(server.port, fixture().steady.manifest), { ...env(), tls: undefined });
      await expect(attempt).rejects.toMatchObject({ name: 'DrillConnectError', message: expect.stringMatching(/over TLS: .*certificate/i) });
      await server.stop();
    });
  });

  test('a server that accepts TCP but never answers is a DrillTimeoutError', async () => {
    const silent = await startSilentServer();
    const attempt = verifyKeyspace(event(silent.port, fixtures.get(engines[0])!.steady.manifest, { timeoutMs: 800 }), env());
    await expect(attempt).rejects.toMatchObject({ name: 'DrillTimeoutError', message: expect.stringMatching(/did not complete the TLS handshake/) });
    await silent.stop();
  });

  test('a server that completes the TLS handshake but never answers a command is a DrillTimeoutError', async () => {
    const silent = await startSilentTlsServer(certs);
    const attempt = verifyKeyspace(event(silent.port, fixtures.get(engines[0])!.steady.manifest, { timeoutMs: 800 }), env());
    await expect(attempt).rejects.toMatchObject({ name: 'DrillTimeoutError', message: expect.stringMatching(/within timeoutMs 800 ms/) });
    await silent.stop();
  });

  test('the bundled handler (assets/, as deployed) runs: a plaintext server is a DrillConnectError', async () => {
    // The bundle is built by the test task (`npx projen bundle:lib/drill/verify-keyspace.lambda` when run alone).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(path.join(__dirname, '../../assets/lib/drill/verify-keyspace.lambda/index.js')) as { handler: typeof handler };
    const server = await startEngine({ binary: engines[0], dump: fixtures.get(engines[0])!.steady.dump, password: PASSWORD });
    const attempt = bundled.handler(event(server.port, fixtures.get(engines[0])!.steady.manifest, { timeoutMs: 1000 }));
    await expect(attempt).rejects.toMatchObject({ name: 'DrillConnectError', message: expect.stringMatching(/answers without TLS/) });
    await server.stop();
  });

  test("ElastiCache's endpoint shape { Address, Port } is accepted", async () => {
    const silent = await startSilentServer();
    const attempt = verifyKeyspace({
      ...event(silent.port, fixtures.get(engines[0])!.steady.manifest, { timeoutMs: 400 }), endpoints: [{ Address: '127.0.0.1', Port: silent.port }],
    }, env());
    await expect(attempt).rejects.toMatchObject({ name: 'DrillTimeoutError', message: expect.stringContaining(`127.0.0.1:${silent.port}`) });
    await silent.stop();
  });

  test('the handler reads the token from Secrets Manager and the manifest from S3 before connecting', async () => {
    const sm = mockClient(SecretsManagerClient);
    const s3 = mockClient(S3Client);
    try {
      sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: PASSWORD }) });
      const body = JSON.stringify(fixtures.get(engines[0])!.steady.manifest);
      s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => body } } as never);
      const silent = await startSilentServer();
      const attempt = handler({
        endpoints: [{ host: '127.0.0.1', port: silent.port }],
        clusterMode: false,
        authSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:drill',
        authSecretJsonField: 'token',
        manifestLocation: { bucket: 'replica-bucket', key: 'manifests/drill-test/m.json' },
        timeoutMs: 600,
      });
      await expect(attempt).rejects.toMatchObject({ name: 'DrillTimeoutError' });
      expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:drill' });
      expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'replica-bucket', Key: 'manifests/drill-test/m.json' });
      await silent.stop();
    } finally {
      sm.restore();
      s3.restore();
    }
  });
});

describe('verify-keyspace event validation (no server needed)', () => {
  const noIo: VerifierEnvironment = {
    readSecret: async () => { throw new Error('AccessDeniedException: not allowed'); },
    readObject: async () => { throw new Error('NoSuchKey: The specified key does not exist.'); },
    now: () => Date.now(),
  };
  const valid: VerifyKeyspaceEvent = {
    endpoints: [{ host: 'master.grp.abc123.euw1.cache.amazonaws.com', port: 6379 }],
    clusterMode: false,
    authToken: 't',
    manifestLocation: { bucket: 'replica-bucket', key: 'manifests/g/m.json' },
  };
  test.each([
    ['no endpoints', { endpoints: [] }, /'endpoints' is invalid, got \[\]: give a non-empty array/],
    ['a port out of range', { endpoints: [{ host: 'h', port: 70000 }] }, /'endpoints\[0\].port' is invalid, got 70000: give a port from 1 to 65535/],
    ['clusterMode missing', { clusterMode: undefined }, /'clusterMode' is invalid, got undefined: give true or false/],
    ['tls false', { tls: false }, /'tls' is invalid, got false: drill groups always use encryption in transit/],
    ['both token and secret', { authSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }, /'authSecretArn\/authToken' is invalid.*give exactly one/],
    ['neither manifest nor location', { manifestLocation: undefined }, /'manifest\/manifestLocation' is invalid.*give exactly one/],
    ['too many samples', { sampleKeys: 5000 }, /'sampleKeys' is invalid, got 5000: give an integer from 0 to 1000/],
    ['a tiny timeout', { timeoutMs: 5 }, /'timeoutMs' is invalid, got 5: give milliseconds from 100 to 600000/],
  ] as Array<[string, Partial<VerifyKeyspaceEvent>, RegExp]>)('%s is a DrillInputError', async (_name, change, message) => {
    await expect(verifyKeyspace({ ...valid, ...change } as VerifyKeyspaceEvent, noIo)).rejects.toMatchObject({ name: 'DrillInputError', message: expect.stringMatching(message) });
  });

  test('an unreadable manifest is a DrillInputError naming the object', async () => {
    await expect(verifyKeyspace(valid, noIo)).rejects.toMatchObject({
      name: 'DrillInputError', message: expect.stringMatching(/cannot read the manifest s3:\/\/replica-bucket\/manifests\/g\/m.json: NoSuchKey/),
    });
  });

  test('a manifest that does not parse is a DrillInputError', async () => {
    await expect(verifyKeyspace({ ...valid, manifestLocation: undefined, manifest: '{"formatVersion":3}' }, noIo)).rejects.toMatchObject({
      name: 'DrillInputError', message: expect.stringMatching(/formatVersion 3/),
    });
  });

  test('an unreadable secret, or one without the JSON field, is a DrillAuthError', async () => {
    const manifest = '{"formatVersion":2,"replicationGroupId":"g","region":"r","bucket":"b","snapshotName":"s","snapshotSource":"manual",'
      + '"snapshotCreateTime":"2026-12-01T00:00:00Z","exportName":"e","exportTime":"2026-12-01T00:00:00Z","engine":"redis","engineVersion":"7",'
      + '"nodeType":"n","clusterModeEnabled":false,"shardCount":1,"shards":[{"key":"e-0001.rdb","sizeBytes":1,"rdbVersion":10,"versionId":"v",'
      + '"etag":"e","verification":"partial","checksum":"ok","crc64":"0123456789abcdef","verifiedAt":"2026-12-01T00:00:00Z"}]}';
    const secretEvent = { ...valid, manifestLocation: undefined, manifest, authToken: undefined, authSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' };
    await expect(verifyKeyspace(secretEvent, noIo)).rejects.toMatchObject({ name: 'DrillAuthError', message: expect.stringMatching(/cannot read the AUTH token secret .*AccessDeniedException/) });
    const wrongField = { ...noIo, readSecret: async () => '{"password":"p"}' };
    await expect(verifyKeyspace({ ...secretEvent, authSecretJsonField: 'token' }, wrongField)).rejects.toMatchObject({
      name: 'DrillAuthError', message: expect.stringMatching(/has no non-empty string field 'token'/),
    });
  });
});
