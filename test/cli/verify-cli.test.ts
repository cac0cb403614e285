/**
 * The `cdk-elasticache-backup verify` command end to end: the npm bin script running the compiled JavaScript (the
 * layout of the published package) on a dump written by a real redis-server, from a local file and from S3 (moto).
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { buildCli } from './compiled-cli';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const ROOT = path.join(__dirname, '..', '..');

/** What redis-server said about the dump it wrote (INFO keyspace): the oracle, independent of our verifier. */
interface Keyspace {
  readonly dbs: Array<{ db: number; keys: number; expires: number }>;
  readonly keys: number;
  readonly expires: number;
}

let work: string;
let bin: string;
let dump: string;
let truncated: string;
let keyspace: Keyspace;

function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: Buffer): SpawnSyncReturns<string> {
  // cwd is the repository, so that an s3:// URL finds @aws-sdk/client-s3 the way it would in a user's project.
  return spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, input });
}

describeWithTool('redis-server')('verify command on a dump written by redis-server', () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
    bin = buildCli(path.join(work, 'package'));
    ({ dump, keyspace } = await writeDump(path.join(work, 'server')));
    truncated = path.join(work, 'truncated.rdb');
    const bytes = fs.readFileSync(dump);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  }, 120_000);

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('prints the exact key count INFO keyspace reported, per database and with expiry, and exits 0', () => {
    const run = runCli(['verify', dump]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`  keys            ${keyspace.keys} in ${keyspace.dbs.length} database(s), ${keyspace.expires} with an expiry\n`);
    for (const db of keyspace.dbs) {
      expect(run.stdout).toContain(`db${db.db}: ${db.keys} keys, ${db.expires} with an expiry\n`);
    }
    expect(run.stdout).toMatch(/ {2}format {10}redis \(REDIS\d{4}\), RDB version \d+\n/);
    expect(run.stdout).toContain(`  writer          redis ${serverVersion()}\n`);
    expect(run.stdout).toMatch(/ {2}checksum {8}ok \(CRC-64 [0-9a-f]{16}\)\n/);
    expect(run.stdout).toContain(`  size            ${fs.statSync(dump).size} bytes`);
    expect(run.stdout).toMatch(/ {2}time {12}\d+\.\d+ s \(/);
    expect(run.stdout).toMatch(/ {2}result {10}INTACT\n$/);
  });

  test('--json gives the same counts', () => {
    const run = runCli(['verify', '--json', dump]);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.status).toBe('intact');
    expect(out.report.keys).toBe(keyspace.keys);
    expect(out.report.keysWithExpiry).toBe(keyspace.expires);
    expect(out.report.databases.map((d: { db: number; keys: number; keysWithExpiry: number }) => [d.db, d.keys, d.keysWithExpiry]))
      .toEqual(keyspace.dbs.map((d) => [d.db, d.keys, d.expires]));
  });

  test('- reads standard input', () => {
    const run = runCli(['verify', '-'], {}, fs.readFileSync(dump));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('(standard input)\n');
    expect(run.stdout).toContain(`  keys            ${keyspace.keys} in ${keyspace.dbs.length} database(s)`);
  });

  test('a truncated copy exits 1 and names an offset inside the file', () => {
    const run = runCli(['verify', truncated]);
    expect(run.status).toBe(1);
    const match = /result {10}CORRUPT at byte offset (\d+) \(0x([0-9a-f]+)\): \S/.exec(run.stdout);
    expect(match).not.toBeNull();
    const offset = Number(match![1]);
    expect(parseInt(match![2], 16)).toBe(offset);
    expect(offset).toBeGreaterThan(9); // past the magic: the header was fine
    expect(offset).toBeLessThanOrEqual(fs.statSync(truncated).size);
  });

  test('intact, truncated and missing files in one run: each reported, exit 1', () => {
    const run = runCli(['verify', dump, truncated, path.join(work, 'missing.rdb')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${path.join(work, 'missing.rdb')}\n  result          NOT VERIFIED: cannot read: ENOENT`);
    expect(run.stdout).toMatch(/3 files: 1 intact, 1 corrupt, 1 not verified\n$/);
  });

  test('the typed Node API from the compiled package path build/rdb/verifier streams the same file', async () => {
    // What the README documents for Node users: require('cdk-elasticache-backup/build/rdb/verifier').
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require(path.join(work, 'package', 'build', 'rdb', 'verifier.js')) as typeof import('../../lib/rdb/verifier');
    const report = await api.verifyRdbStream(fs.createReadStream(dump));
    expect([report.keys, report.keysWithExpiry, report.checksum]).toEqual([keyspace.keys, keyspace.expires, 'ok']);
    await expect(api.verifyRdbStream(fs.createReadStream(truncated))).rejects.toBeInstanceOf(api.RdbVerifyError);
  });

  test('only a missing file: exit 3; a bad command line: exit 2', () => {
    expect(runCli(['verify', path.join(work, 'missing.rdb')]).status).toBe(3);
    const usage = runCli(['verify']);
    expect(usage.status).toBe(2);
    expect(usage.stdout).toContain('no file given');
  });

  describeWithTool('moto_server')('s3:// against loopback S3 (moto_server)', () => {
    let moto: MotoS3;
    const env = () => ({
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_PROFILE: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });

    beforeAll(async () => {
      moto = await MotoS3.start();
      const s3 = moto.client();
      await s3.send(new CreateBucketCommand({ Bucket: 'exports' }));
      await s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'group/dump-0001.rdb', Body: fs.readFileSync(dump) }));
      await s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'group/truncated-0001.rdb', Body: fs.readFileSync(truncated) }));
      s3.destroy();
    }, 60_000);

    afterAll(async () => {
      await moto?.stop();
    });

    test('an intact object: exact key count, ETag, exit 0', () => {
      const run = runCli(['verify', '--endpoint-url', moto.endpoint, 's3://exports/group/dump-0001.rdb'], env());
      expect(run.stderr).not.toMatch(/error/i); // the SDK may warn about the Node version
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('s3://exports/group/dump-0001.rdb\n');
      expect(run.stdout).toMatch(/ {2}etag {12}"[0-9a-f]{32}"\n/);
      expect(run.stdout).toContain(`  keys            ${keyspace.keys} in ${keyspace.dbs.length} database(s), ${keyspace.expires} with an expiry\n`);
    });

    test('a truncated object exits 1 with the offset; a missing key exits 3 saying so', () => {
      const bad = runCli(['verify', '--endpoint-url', moto.endpoint, 's3://exports/group/truncated-0001.rdb'], env());
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/CORRUPT at byte offset \d+/);
      const missing = runCli(['verify', '--endpoint-url', moto.endpoint, 's3://exports/group/nothing.rdb'], env());
      expect(missing.status).toBe(3);
      expect(missing.stdout).toMatch(/NOT VERIFIED: cannot read: .*(NoSuchKey|does not exist)/);
    });
  });
});

function serverVersion(): string {
  return /v=(\d+\.\d+\.\d+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)![1];
}

/**
 * Starts redis-server on 127.0.0.1 in `dir`, writes keys of every type into three databases (some with an expiry, one
 * value of 200 KB), saves, and returns the dump and what INFO keyspace says about the saved data.
 */
async function writeDump(dir: string): Promise<{ dump: string; keyspace: Keyspace }> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '',
    '--appendonly', 'no', '--daemonize', 'no', '--logfile', '', '--enable-debug-command', 'yes',
  ], { stdio: 'ignore' });
  const cli = (input: string) => spawnSync('redis-cli', ['-p', String(port)], { input, encoding: 'utf8' });
  try {
    for (let i = 0; i < 100 && cli('PING\n').stdout.trim() !== 'PONG'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const big = 'x'.repeat(200_000);
    const script = [
      'SELECT 0', 'DEBUG POPULATE 3000 key 40',
      'HSET h f1 v1 f2 v2', 'RPUSH l a b c 1 2 3', 'SADD s 1 2 3', 'SADD s2 a b c', 'ZADD z 1 a 2 b',
      'XADD st * f v', 'XGROUP CREATE st g 0', `SET big ${big}`,
      'SELECT 2', ...Array.from({ length: 40 }, (_, i) => `SET e${i} v${i} EX ${3600 + i}`), 'SET persistent yes',
      'SELECT 5', 'SET only one', 'PEXPIRE only 86400000',
      'SAVE',
    ].join('\n');
    const out = cli(`${script}\n`);
    if (out.status !== 0 || /ERR/.test(out.stdout)) {
      throw new Error(`redis-cli: ${out.stdout}${out.stderr}`);
    }
    const info = cli('INFO keyspace\n').stdout;
    const dbs = [...info.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)].map((m) => ({ db: Number(m[1]), keys: Number(m[2]), expires: Number(m[3]) }));
    return {
      dump: path.join(dir, 'dump.rdb'),
      keyspace: { dbs, keys: dbs.reduce((s, d) => s + d.keys, 0), expires: dbs.reduce((s, d) => s + d.expires, 0) },
    };
  } finally {
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  }
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
