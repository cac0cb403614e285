/**
 * Real Redis OSS / Valkey servers on 127.0.0.1 for tests, with or without TLS and a password, optionally started from
 * a dump or in cluster mode; plus certificates made with `openssl` and servers that accept connections but never
 * answer. Every server started here is tracked: `stopAllServers()` (call it in `afterAll`) kills what is left.
 *
 * Needs `openssl` for certificates and the engine's binary: guard the tests with `describeWithTool` (test/support/tools.ts).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';

/** A test CA and a server certificate for 127.0.0.1 and localhost, signed by it. */
export interface TlsCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate (PEM), for a client's `ca` option. */
  readonly ca: Buffer;
}

/** Makes a CA and a server certificate (EC P-256, valid one day) in a new temporary directory. */
export function makeTlsCertificates(): TlsCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-certs-'));
  const file = (name: string): string => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=cdk-elasticache-backup test CA']);
  openssl(['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
  fs.writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '1', '-extfile', file('san.cnf')]);
  return { dir, caFile: file('ca.crt'), certFile: file('server.crt'), keyFile: file('server.key'), ca: fs.readFileSync(file('ca.crt')) };
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export interface EngineOptions {
  /** `redis-server` or `valkey-server`. */
  readonly binary: string;
  /** Started with this dump (written as `dump.rdb` in its directory). */
  readonly dump?: Uint8Array;
  /** TLS only (`--port 0 --tls-port <port>`); plaintext when absent. */
  readonly tls?: TlsCertificates;
  /** `--requirepass`. */
  readonly password?: string;
  /** `--cluster-enabled yes` (with TLS, the cluster bus uses TLS too). */
  readonly cluster?: boolean;
  readonly extraArgs?: readonly string[];
}

/** A running server. */
export interface EngineServer {
  readonly port: number;
  /** The server's directory: `dump.rdb` is written here by SAVE. */
  readonly dir: string;
  readonly log: () => string;
  /** Stops the server (SIGKILL after 5 s) and removes its directory. */
  readonly stop: () => Promise<void>;
}

const running = new Set<EngineServer>();
const silentServers = new Set<net.Server>();

/** Starts a server on a free port of 127.0.0.1; resolves once it logs that it accepts connections. */
export async function startEngine(options: EngineOptions): Promise<EngineServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  if (options.dump) fs.writeFileSync(path.join(dir, 'dump.rdb'), options.dump);
  const port = await freePort();
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile,
      '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no', ...(options.cluster ? ['--tls-cluster', 'yes'] : [])]
    : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--logfile', '', ...(options.password ? ['--requirepass', options.password] : []),
    ...(options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf')] : []),
    ...(options.extraArgs ?? [])];
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const server: EngineServer = { port, dir, log: () => log, stop: () => stopChild(child, dir, server) };
  running.add(server);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.binary} did not start within 20 s; log:\n${log}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (/Ready to accept connections/.test(log)) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${options.binary} exited (${code ?? signal}) while starting; log:\n${log}`)); });
  }).catch(async (e) => { await server.stop(); throw e; });
  return server;
}

async function stopChild(child: ChildProcess, dir: string, server: EngineServer): Promise<void> {
  running.delete(server);
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(kill); resolve(); });
      child.kill('SIGTERM');
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte (a hung engine). */
export async function startSilentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  return listenSilently(net.createServer(() => undefined));
}

/** Like `startSilentServer`, but it completes the TLS handshake first (a server that is up but never answers). */
export async function startSilentTlsServer(certs: TlsCertificates): Promise<{ port: number; stop: () => Promise<void> }> {
  return listenSilently(tls.createServer({ cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile) }, () => undefined));
}

async function listenSilently(server: net.Server): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  silentServers.add(server);
  const stop = async (): Promise<void> => {
    silentServers.delete(server);
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  (server as net.Server & { stopSilently?: () => Promise<void> }).stopSilently = stop;
  return { port: (server.address() as net.AddressInfo).port, stop };
}

/** Stops every server this module started and that is still running (for `afterAll`). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([
    ...[...running].map((s) => s.stop()),
    ...[...silentServers].map((s) => (s as net.Server & { stopSilently: () => Promise<void> }).stopSilently()),
  ]);
}

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
