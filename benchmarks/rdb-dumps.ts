/**
 * Generates the dumps the RDB verifier benchmark reads, with a real redis-server on 127.0.0.1, and caches them.
 *
 * Two kinds, each at the sizes asked for:
 * - `populate`: `DEBUG POPULATE` keys with 100-byte values (the text `value:N` padded with zero bytes): compressible,
 *   every value is LZF-compressed in the file; millions of small keys.
 * - `mixed`: strings, hashes, lists, sets, sorted sets and streams (with consumer groups and pending entries) in four
 *   databases, 10% of the keys with an expiry, small and large values (a few of 4 MB), every value random bytes from a
 *   seeded AES-CTR stream: incompressible and reproducible.
 *
 * A cached dump is `<dir>/<name>.rdb` plus `<dir>/<name>.json` (what the server reported: INFO keyspace, version).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** What the server said about a dump it wrote. */
export interface DumpInfo {
  readonly name: string;
  readonly kind: 'populate' | 'mixed';
  readonly server: string;
  readonly sizeBytes: number;
  /** Total keys over all databases, from INFO keyspace just before SAVE. */
  readonly keys: number;
  readonly keysWithExpiry: number;
  /** INFO keyspace lines, e.g. `db0:keys=3,expires=1,avg_ttl=0`. */
  readonly keyspace: readonly string[];
  readonly generatedAt: string;
  readonly generateSeconds: number;
}

export const MB = 1_000_000;

/** Returns the cached dump, generating it first when it is missing. */
export async function ensureDump(dir: string, kind: 'populate' | 'mixed', targetBytes: number): Promise<{ file: string; info: DumpInfo }> {
  const name = `${kind}-${Math.round(targetBytes / MB)}mb`;
  const file = path.join(dir, `${name}.rdb`);
  const infoFile = path.join(dir, `${name}.json`);
  if (fs.existsSync(file) && fs.existsSync(infoFile)) {
    return { file, info: JSON.parse(fs.readFileSync(infoFile, 'utf8')) as DumpInfo };
  }
  fs.mkdirSync(dir, { recursive: true });
  const start = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-bench-'));
  const server = await RedisServer.start(work);
  try {
    if (kind === 'populate') {
      // ~34 bytes of file per key with 100-byte values (measured with redis-server 7.0).
      const keys = Math.round(targetBytes / 33.8);
      await server.cli(['DEBUG', 'POPULATE', String(keys), 'key', '100']);
    } else {
      await server.pipe((out) => writeMixed(out, targetBytes, `${name}-seed`));
    }
    const keyspace = (await server.cli(['INFO', 'keyspace'])).split('\n').map((l) => l.trim()).filter((l) => /^db\d+:/.test(l));
    await server.cli(['SAVE']);
    fs.copyFileSync(path.join(work, 'dump.rdb'), `${file}.partial`);
    fs.renameSync(`${file}.partial`, file);
    const counts = keyspace.map((l) => /keys=(\d+),expires=(\d+)/.exec(l)!).map((m) => [Number(m[1]), Number(m[2])]);
    const info: DumpInfo = {
      name,
      kind,
      server: server.version,
      sizeBytes: fs.statSync(file).size,
      keys: counts.reduce((s, c) => s + c[0], 0),
      keysWithExpiry: counts.reduce((s, c) => s + c[1], 0),
      keyspace,
      generatedAt: new Date().toISOString(),
      generateSeconds: Math.round((Date.now() - start) / 1000),
    };
    fs.writeFileSync(infoFile, `${JSON.stringify(info, undefined, 2)}\n`);
    return { file, info };
  } finally {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** A redis-server on 127.0.0.1 with its dump in `dir`, driven through redis-cli. */
class RedisServer {
  public static async start(dir: string): Promise<RedisServer> {
    const port = await freePort();
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '',
      '--appendonly', 'no', '--daemonize', 'no', '--logfile', '', '--enable-debug-command', 'yes',
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const server = new RedisServer(child, port);
    for (let i = 0; i < 200; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' }).stdout.trim() === 'PONG') {
        return server;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port}`);
  }

  public readonly version: string;

  private constructor(private readonly child: ChildProcess, private readonly port: number) {
    this.version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  }

  public async cli(args: string[]): Promise<string> {
    const out = spawnSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8', maxBuffer: 64 * MB });
    if (out.status !== 0 || /^(ERR|\(error\))/m.test(out.stdout)) {
      throw new Error(`redis-cli ${args.join(' ')}: ${out.stdout}${out.stderr}`);
    }
    return out.stdout;
  }

  /** Streams RESP commands written by `produce` through `redis-cli --pipe` (which counts the replies). */
  public async pipe(produce: (out: RespWriter) => Promise<void>): Promise<void> {
    const cli = spawn('redis-cli', ['-p', String(this.port), '--pipe'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let report = '';
    cli.stdout.on('data', (c) => { report += String(c); });
    const done = new Promise<number>((resolve) => cli.once('exit', (code) => resolve(code ?? 1)));
    await produce(new RespWriter(cli.stdin));
    cli.stdin.end();
    const code = await done;
    if (code !== 0 || !/errors: 0,/.test(report)) {
      throw new Error(`redis-cli --pipe failed: ${report}`);
    }
  }

  public async stop(): Promise<void> {
    if (this.child.exitCode !== null) {
      return;
    }
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** Encodes commands as RESP and writes them with back-pressure. */
class RespWriter {
  private parts: Buffer[] = [];
  private pending = 0;
  constructor(private readonly stream: NodeJS.WritableStream) {}

  public async command(args: ReadonlyArray<string | Buffer>): Promise<void> {
    this.parts.push(Buffer.from(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
      this.parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
      this.pending += bytes.length;
    }
    if (this.pending > 4 * MB) {
      await this.flush();
    }
  }

  public async flush(): Promise<void> {
    const chunk = Buffer.concat(this.parts);
    this.parts = [];
    this.pending = 0;
    if (!this.stream.write(chunk)) {
      await new Promise((r) => this.stream.once('drain', r));
    }
  }
}
const CRLF = Buffer.from('\r\n');

/** Deterministic random bytes (AES-128-CTR keystream of a seed) and numbers. */
class SeededRandom {
  private readonly cipher: crypto.Cipheriv;
  private pool = Buffer.alloc(0);
  private at = 0;
  constructor(seed: string) {
    const key = crypto.createHash('sha256').update(seed).digest();
    this.cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }
  public bytes(n: number): Buffer {
    if (this.at + n > this.pool.length) {
      this.pool = Buffer.concat([this.pool.subarray(this.at), this.cipher.update(Buffer.alloc(Math.max(n, 4 * MB)))]);
      this.at = 0;
    }
    const out = this.pool.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** Uniform in [0, 1). */
  public unit(): number {
    return this.bytes(4).readUInt32LE(0) / 2 ** 32;
  }
  public int(lo: number, hi: number): number {
    return lo + Math.floor(this.unit() * (hi - lo + 1));
  }
  /** Log-uniform integer in [lo, hi]: many small, some large. */
  public logInt(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(lo * Math.pow(hi / lo, this.unit())));
  }
}

/** Writes mixed-type keys until about `targetBytes` of payload were sent. */
async function writeMixed(out: RespWriter, targetBytes: number, seed: string): Promise<void> {
  const rnd = new SeededRandom(seed);
  const now = Date.now();
  let written = 0;
  let n = 0;
  // The file carries some framing per element on top of the payload: stop a little early.
  const budget = targetBytes * 0.98;
  while (written < budget) {
    const db = n % 4;
    await out.command(['SELECT', String(db)]);
    const key = Buffer.concat([Buffer.from(`k${n}:`), rnd.bytes(8)]);
    written += await writeOneKey(out, rnd, key, n);
    if (rnd.unit() < 0.1) {
      await out.command(['PEXPIREAT', key, String(now + rnd.int(3_600_000, 30 * 86_400_000))]);
    }
    n++;
  }
  await out.flush();
}

/** One key of a random type; returns the payload bytes sent. */
async function writeOneKey(out: RespWriter, rnd: SeededRandom, key: Buffer, n: number): Promise<number> {
  const pick = rnd.unit();
  const elements = (count: number, lo: number, hi: number) => Array.from({ length: count }, () => rnd.bytes(rnd.logInt(lo, hi)));
  const send = async (cmd: string, args: Buffer[]) => {
    await out.command([cmd, key, ...args]);
    return args.reduce((s, a) => s + a.length, 0);
  };
  if (pick < 0.35) {
    const size = n > 0 && n % 4000 === 0 ? 4 * MB : rnd.unit() < 0.97 ? rnd.logInt(16, 4096) : rnd.logInt(4096, MB);
    return send('SET', [rnd.bytes(size)]);
  }
  if (pick < 0.55) {
    const small = rnd.unit() < 0.5; // listpack (few, short) or hash table
    const count = small ? rnd.int(1, 100) : rnd.int(129, 2000);
    const pairs = elements(count * 2, 8, small ? 60 : 512);
    return send('HSET', pairs);
  }
  if (pick < 0.7) {
    return send('RPUSH', elements(rnd.logInt(1, 2000), 8, 512));
  }
  if (pick < 0.8) {
    if (rnd.unit() < 0.4) { // intset
      return send('SADD', Array.from({ length: rnd.int(1, 500) }, () => Buffer.from(String(rnd.int(-2e9, 2e9)))));
    }
    return send('SADD', elements(rnd.logInt(1, 3000), 8, 128));
  }
  if (pick < 0.92) {
    const small = rnd.unit() < 0.5;
    const members = elements(small ? rnd.int(1, 100) : rnd.int(129, 2000), 8, small ? 60 : 256);
    const args = members.flatMap((m) => [Buffer.from(String((rnd.unit() - 0.5) * 1e6)), m]);
    return send('ZADD', args);
  }
  return writeStream(out, rnd, key);
}

async function writeStream(out: RespWriter, rnd: SeededRandom, key: Buffer): Promise<number> {
  let bytes = 0;
  const entries = rnd.logInt(10, 2000);
  for (let i = 0; i < entries; i++) {
    const a = rnd.bytes(rnd.logInt(16, 256));
    const b = rnd.bytes(rnd.logInt(16, 256));
    await out.command(['XADD', key, '*', 'field-a', a, 'field-b', b]);
    bytes += a.length + b.length;
  }
  if (rnd.unit() < 0.5) {
    await out.command(['XGROUP', 'CREATE', key, 'group-1', '0']);
    await out.command(['XREADGROUP', 'GROUP', 'group-1', 'consumer-1', 'COUNT', String(rnd.int(1, 200)), 'STREAMS', key, '>']);
  }
  return bytes;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
