/**
 * The restore drill's data verifier: a Lambda in the drill's VPC, called by the drill's state machine once the
 * temporary replication group is available. It connects to the group over TLS with the drill's AUTH token, reads
 * `INFO keyspace` from every primary (`CLUSTER NODES` finds them, `CLUSTER INFO` says whether the cluster is whole),
 * optionally samples key types (`RANDOMKEY` + `TYPE`), and returns the comparison with the export's manifest
 * (`keyspace-check.ts` decides; this file only does I/O). It only reads: no command here writes to the group.
 *
 * A mismatch is a result (`verdict`), not an error. Errors are for checks that could not run, with a type the state
 * machine can catch: `DrillConnectError`, `DrillAuthError`, `DrillTimeoutError`, `DrillInputError`.
 *
 * The client is ioredis (bundled); it reports the cause of a failed connection only through 'error' events (the
 * `connect()` promise rejects with a generic "Connection is closed"), so the last event is kept and classified.
 */
import { isIP, Socket } from 'net';
import type { ConnectionOptions } from 'tls';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Redis from 'ioredis';
import {
  checkKeyspace,
  DRILL_AUTH_ERROR,
  DRILL_CONNECT_ERROR,
  DRILL_INPUT_ERROR,
  DRILL_TIMEOUT_ERROR,
  expectedFromManifest,
  KeyspaceCheckResult,
  parseClusterPrimaries,
  parseClusterState,
  parseInfoKeyspace,
  PrimaryObservation,
} from './keyspace-check';
import { BackupManifest, parseManifest } from '../manifest/manifest';

export class DrillConnectError extends Error {
  constructor(message: string) { super(message); this.name = DRILL_CONNECT_ERROR; }
}
export class DrillAuthError extends Error {
  constructor(message: string) { super(message); this.name = DRILL_AUTH_ERROR; }
}
export class DrillTimeoutError extends Error {
  constructor(message: string) { super(message); this.name = DRILL_TIMEOUT_ERROR; }
}
export class DrillInputError extends Error {
  constructor(message: string) { super(message); this.name = DRILL_INPUT_ERROR; }
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** ElastiCache's own shape (`PrimaryEndpoint`, `ConfigurationEndpoint` of DescribeReplicationGroups), also accepted. */
export interface ElastiCacheEndpoint {
  readonly Address: string;
  readonly Port: number;
}

/** The event (see .tmp/notes/drill-verifier.md for the contract with the state machine). */
export interface VerifyKeyspaceEvent {
  readonly endpoints: ReadonlyArray<Endpoint | ElastiCacheEndpoint>;
  readonly clusterMode: boolean;
  readonly tls?: boolean;
  readonly authSecretArn?: string;
  readonly authSecretJsonField?: string;
  readonly authToken?: string;
  readonly manifest?: BackupManifest | string;
  readonly manifestLocation?: { readonly bucket: string; readonly key: string };
  readonly sampleKeys?: number;
  readonly timeoutMs?: number;
}

export interface VerifyKeyspaceResult extends KeyspaceCheckResult {
  readonly checkedAt: string;
  readonly backupTime: string;
  readonly engine?: string;
  readonly engineVersion?: string;
}

/** The I/O the verifier needs besides the engine connections (replaced in tests). */
export interface VerifierEnvironment {
  readonly readSecret: (arn: string) => Promise<string>;
  readonly readObject: (bucket: string, key: string) => Promise<string>;
  /** Extra TLS options (tests pass their own CA); the default trusts the public CAs, as ElastiCache's certificates are. */
  readonly tls?: ConnectionOptions;
  readonly now: () => number;
}

export const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_SAMPLE_KEYS = 1000;
/** Share of the remaining budget a TLS handshake may take; the rest is kept to tell a plaintext server from a dead one. */
const CONNECT_SHARE = 0.75;
/**
 * The budget's backstop fires this much after the deadline, so that a connection or command that times out on the
 * deadline reports its own, more precise, error first.
 */
const BACKSTOP_GRACE_MS = 250;

let secrets: SecretsManagerClient | undefined;
let s3: S3Client | undefined;

const awsEnvironment: VerifierEnvironment = {
  readSecret: async (arn) => {
    secrets ??= new SecretsManagerClient({});
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    return out.SecretString ?? '';
  },
  readObject: async (bucket, key) => {
    s3 ??= new S3Client({});
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body ? out.Body.transformToString('utf8') : '';
  },
  now: () => Date.now(),
};

export async function handler(event: VerifyKeyspaceEvent): Promise<VerifyKeyspaceResult> {
  return verifyKeyspace(event, awsEnvironment);
}

/** Runs the check; throws one of the four Drill*Error types when it cannot. */
export async function verifyKeyspace(event: VerifyKeyspaceEvent, env: VerifierEnvironment): Promise<VerifyKeyspaceResult> {
  const input = parseEvent(event);
  const deadline = env.now() + input.timeoutMs;
  const manifest = await loadManifest(event, env);
  const token = await loadToken(event, env);
  const session = new Session(token, env, deadline, input.timeoutMs);
  try {
    const observed = await session.withinBudget(observe(session, input));
    const checkedAt = env.now();
    return {
      ...checkKeyspace(expectedFromManifest(manifest), observed.primaries, checkedAt),
      checkedAt: new Date(checkedAt).toISOString(),
      backupTime: manifest.snapshotCreateTime,
      ...observed.server,
    };
  } finally {
    session.close();
  }
}

interface ParsedEvent {
  readonly endpoints: readonly Endpoint[];
  readonly clusterMode: boolean;
  readonly sampleKeys: number;
  readonly timeoutMs: number;
}

function parseEvent(event: VerifyKeyspaceEvent): ParsedEvent {
  const bad = (field: string, value: unknown, allowed: string): never => {
    throw new DrillInputError(`verify-keyspace event field '${field}' is invalid, got ${JSON.stringify(value)}: ${allowed}`);
  };
  if (typeof event !== 'object' || event === null) bad('(event)', event, 'the event must be a JSON object');
  if (!Array.isArray(event.endpoints) || event.endpoints.length === 0) {
    bad('endpoints', event.endpoints, 'give a non-empty array of { host, port } (or ElastiCache\'s { Address, Port })');
  }
  const endpoints = event.endpoints.map((raw, i): Endpoint => {
    const e = (raw ?? {}) as Partial<Endpoint & ElastiCacheEndpoint>;
    const host = e.host ?? e.Address;
    const port = e.port ?? e.Port;
    if (typeof host !== 'string' || host.length === 0) bad(`endpoints[${i}].host`, host, 'give a host name or IP address');
    if (!Number.isInteger(port) || port! < 1 || port! > 65535) bad(`endpoints[${i}].port`, port, 'give a port from 1 to 65535');
    return { host: host!, port: port! };
  });
  if (typeof event.clusterMode !== 'boolean') bad('clusterMode', event.clusterMode, 'give true or false');
  if (event.tls !== undefined && event.tls !== true) bad('tls', event.tls, 'drill groups always use encryption in transit: give true or leave it out');
  if ((event.authSecretArn === undefined) === (event.authToken === undefined)) {
    bad('authSecretArn/authToken', { authSecretArn: event.authSecretArn, authToken: event.authToken === undefined ? undefined : '(set)' }, 'give exactly one of them');
  }
  if ((event.manifest === undefined) === (event.manifestLocation === undefined)) {
    bad('manifest/manifestLocation', { manifest: event.manifest === undefined ? undefined : '(set)', manifestLocation: event.manifestLocation }, 'give exactly one of them');
  }
  const sampleKeys = event.sampleKeys ?? 0;
  if (!Number.isInteger(sampleKeys) || sampleKeys < 0 || sampleKeys > MAX_SAMPLE_KEYS) bad('sampleKeys', sampleKeys, `give an integer from 0 to ${MAX_SAMPLE_KEYS}`);
  const timeoutMs = event.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) bad('timeoutMs', timeoutMs, 'give milliseconds from 100 to 600000');
  return { endpoints, clusterMode: event.clusterMode, sampleKeys, timeoutMs };
}

async function loadManifest(event: VerifyKeyspaceEvent, env: VerifierEnvironment): Promise<BackupManifest> {
  let text: string;
  let where: string;
  if (event.manifestLocation) {
    const { bucket, key } = event.manifestLocation;
    where = `s3://${bucket}/${key}`;
    try {
      text = await env.readObject(bucket, key);
    } catch (e) {
      throw new DrillInputError(`cannot read the manifest ${where}: ${describe(e)}; check the object exists and the verifier's role may s3:GetObject it`);
    }
  } else {
    where = 'event.manifest';
    text = typeof event.manifest === 'string' ? event.manifest : JSON.stringify(event.manifest);
  }
  try {
    return parseManifest(text, where);
  } catch (e) {
    throw new DrillInputError(describe(e));
  }
}

async function loadToken(event: VerifyKeyspaceEvent, env: VerifierEnvironment): Promise<string> {
  if (event.authToken !== undefined) return event.authToken;
  const arn = event.authSecretArn!;
  let secret: string;
  try {
    secret = await env.readSecret(arn);
  } catch (e) {
    throw new DrillAuthError(`cannot read the AUTH token secret ${arn}: ${describe(e)}; check the verifier's role may secretsmanager:GetSecretValue it`);
  }
  const field = event.authSecretJsonField;
  if (field === undefined) {
    if (secret.length === 0) throw new DrillAuthError(`the AUTH token secret ${arn} has no SecretString`);
    return secret;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw new DrillAuthError(`the AUTH token secret ${arn} is not JSON, but authSecretJsonField '${field}' was given`);
  }
  const token = (parsed as Record<string, unknown> | null)?.[field];
  if (typeof token !== 'string' || token.length === 0) {
    throw new DrillAuthError(`the AUTH token secret ${arn} has no non-empty string field '${field}'`);
  }
  return token;
}

interface Observation {
  readonly primaries: PrimaryObservation[];
  readonly server: { engine?: string; engineVersion?: string };
}

async function observe(session: Session, input: ParsedEvent): Promise<Observation> {
  const first = await session.connectAny(input.endpoints);
  const server = serverOf(await session.command(first, () => first.client.info('server')));
  if (!input.clusterMode) {
    return { primaries: [await observePrimary(session, first, input.sampleKeys, false)], server };
  }
  const nodes = parseClusterPrimaries(String(await session.command(first, () => first.client.call('CLUSTER', 'NODES'))));
  const primaries: PrimaryObservation[] = [];
  for (const node of nodes) {
    const host = node.hostname ?? node.ip;
    const servername = node.hostname ?? (isIP(first.endpoint.host) ? undefined : first.endpoint.host);
    const connection = await session.connect({ host, port: node.port }, servername);
    primaries.push(await observePrimary(session, connection, input.sampleKeys, true));
  }
  return { primaries, server };
}

async function observePrimary(session: Session, c: Connection, sampleKeys: number, clusterMode: boolean): Promise<PrimaryObservation> {
  const keyspace = String(await session.command(c, () => c.client.info('keyspace')));
  const clusterInfo = clusterMode ? String(await session.command(c, () => c.client.call('CLUSTER', 'INFO'))) : undefined;
  const sampledTypes: string[] = [];
  for (let i = 0; i < sampleKeys; i++) {
    const key = await session.command(c, () => c.client.randomkeyBuffer());
    if (key === null) break; // an empty primary
    sampledTypes.push(await session.command(c, () => c.client.type(key)));
  }
  let databases;
  try {
    databases = parseInfoKeyspace(keyspace);
  } catch (e) {
    throw new DrillConnectError(`${c.address} answered INFO keyspace in an unexpected form: ${describe(e)}`);
  }
  return {
    address: c.address,
    databases,
    ...(clusterInfo !== undefined ? { clusterState: parseClusterState(clusterInfo) ?? 'unknown' } : {}),
    ...(sampleKeys > 0 ? { sampledTypes } : {}),
  };
}

/** `INFO server` -> engine and version (Valkey also reports a `redis_version` for compatibility: look for it first). */
function serverOf(info: string): { engine?: string; engineVersion?: string } {
  const valkey = /^valkey_version:(\S+)/m.exec(info);
  if (valkey) return { engine: 'valkey', engineVersion: valkey[1] };
  const redis = /^redis_version:(\S+)/m.exec(info);
  return redis ? { engine: 'redis', engineVersion: redis[1] } : {};
}

interface Connection {
  readonly client: Redis;
  readonly endpoint: Endpoint;
  readonly address: string;
  /** The last 'error' event: ioredis reports the cause of a failure only there. */
  lastError?: Error;
}

/** The connections of one check, all closed at the end, and the time budget they share. */
class Session {
  private readonly connections: Connection[] = [];
  private readonly expired: Promise<never>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly token: string,
    private readonly env: VerifierEnvironment,
    private readonly deadline: number,
    private readonly timeoutMs: number,
  ) {
    this.expired = new Promise<never>((_, reject) => {
      this.timer = setTimeout(
        () => reject(new DrillTimeoutError(`the check did not finish within timeoutMs ${timeoutMs} ms; the group did not answer in time (raise timeoutMs, or check the group is available)`)),
        Math.max(0, deadline - env.now()) + BACKSTOP_GRACE_MS,
      );
    });
    this.expired.catch(() => undefined); // rejected only when raced against
  }

  /** Rejects with DrillTimeoutError when the budget runs out first. */
  public withinBudget<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.expired]);
  }

  /** Connects to the first endpoint that accepts; the error of the last one when none does. */
  public async connectAny(endpoints: readonly Endpoint[]): Promise<Connection> {
    let failure: unknown;
    for (const endpoint of endpoints) {
      try {
        return await this.connect(endpoint, isIP(endpoint.host) ? undefined : endpoint.host);
      } catch (e) {
        if (e instanceof DrillAuthError) throw e; // the same token would fail on every endpoint
        failure = e;
      }
    }
    throw failure;
  }

  public async connect(endpoint: Endpoint, servername: string | undefined): Promise<Connection> {
    if (this.closed) {
      // The budget ran out while the check went on in the background: open nothing more.
      throw new DrillTimeoutError(`the check did not finish within timeoutMs ${this.timeoutMs} ms`);
    }
    const remaining = this.remaining();
    const client = new Redis({
      host: endpoint.host,
      port: endpoint.port,
      password: this.token,
      tls: { ...(servername ? { servername } : {}), ...this.env.tls },
      lazyConnect: true,
      connectTimeout: Math.max(1, Math.floor(remaining * CONNECT_SHARE)),
      commandTimeout: Math.max(1, remaining),
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      reconnectOnError: () => false,
      // A closed connection whose server never closes its side would keep the process alive this long (default 2 s).
      disconnectTimeout: 200,
    });
    const connection: Connection = { client, endpoint, address: `${endpoint.host}:${endpoint.port}` };
    client.on('error', (e: Error) => { connection.lastError = e; });
    this.connections.push(connection);
    try {
      await client.connect();
    } catch (e) {
      throw await this.connectFailure(connection, connection.lastError ?? (e as Error));
    }
    return connection;
  }

  /** Runs a command; a failure says which primary and why. */
  public async command<T>(c: Connection, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const message = describe(e);
      if (/timed? ?out/i.test(message)) {
        throw new DrillTimeoutError(`${c.address} did not answer within timeoutMs ${this.timeoutMs} ms: ${message}`);
      }
      if (isAuthReply(message)) throw new DrillAuthError(`${c.address} refused a command: ${message}`);
      throw new DrillConnectError(`${c.address} failed a read-only command: ${message}`);
    }
  }

  public close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.connections) c.client.disconnect();
  }

  private remaining(): number {
    return this.deadline - this.env.now();
  }

  private async connectFailure(c: Connection, cause: Error): Promise<Error> {
    const message = describe(cause);
    if (isAuthReply(message)) {
      return new DrillAuthError(`${c.address} refused the AUTH token: ${message}; the token must be the group's AUTH token (check the secret the drill generated)`);
    }
    if (/timed? ?out/i.test(message) && (cause as NodeJS.ErrnoException).code !== 'ETIMEDOUT') {
      return new DrillTimeoutError(`${c.address} completed the TLS handshake but did not answer the AUTH handshake within timeoutMs ${this.timeoutMs} ms: ${message}; check the group is available, or raise timeoutMs`);
    }
    if ((cause as NodeJS.ErrnoException).code !== 'ETIMEDOUT') {
      return new DrillConnectError(`cannot connect to ${c.address} over TLS: ${message}; check the endpoint, the security group and that the group has encryption in transit`);
    }
    if (await answersPlaintext(c.endpoint, Math.min(2000, Math.max(50, this.remaining())))) {
      return new DrillConnectError(`${c.address} answers without TLS: the TLS handshake got no reply but a plaintext PING did; the group must have encryption in transit (TransitEncryptionEnabled)`);
    }
    return new DrillTimeoutError(`${c.address} accepted the connection but did not complete the TLS handshake within ${Math.floor(this.timeoutMs * CONNECT_SHARE)} ms; check the group is available, or raise timeoutMs`);
  }
}

function isAuthReply(message: string): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message);
}

/**
 * Whether the endpoint speaks RESP in plaintext: a TLS ClientHello sent to a plaintext server goes unanswered (the
 * server waits for the end of an inline command), which looks like a dead server. A plaintext PING (no secret in it)
 * tells them apart: any RESP reply (`+PONG`, `-NOAUTH ...`) means a server without TLS.
 */
function answersPlaintext(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean): void => { socket.destroy(); resolve(answer); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk: Buffer) => done(/^[+-]/.test(chunk.toString('latin1'))));
    socket.connect(endpoint.port, endpoint.host, () => socket.write('PING\r\n'));
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
