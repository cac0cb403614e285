import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** What happened when a real engine was started on an `.rdb` file. */
export interface LoadResult {
  /** The server came up and answered PING after loading the file. */
  readonly loaded: boolean;
  /** The server's log (stdout). */
  readonly log: string;
  /** Value of `GET <key>` when loaded and a key was asked for. */
  readonly value?: string | null;
}

/** `redis-server 7.0.15` -> `{ engine: 'redis', version: '7.0.15' }`. */
export function serverVersion(server: string): { engine: 'redis' | 'valkey'; version: string } {
  const out = spawnSync(server, ['--version'], { encoding: 'utf8' }).stdout;
  const match = /v=(\d+\.\d+\.\d+)/.exec(out);
  if (!match) {
    throw new Error(`cannot read the version of ${server} from: ${out}`);
  }
  return { engine: /valkey/i.test(out) ? 'valkey' : 'redis', version: match[1] };
}

/**
 * Starts `server` on 127.0.0.1 (free port) with a copy of `rdbFile` as its dump in a fresh temporary
 * directory, waits until it either accepts connections or exits, reads `key`, stops it and removes the directory.
 */
export async function loadRdb(server: string, rdbFile: Buffer, key?: string): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-load-'));
  let child: ChildProcess | undefined;
  try {
    fs.writeFileSync(path.join(dir, 'dump.rdb'), rdbFile);
    const port = await freePort();
    child = spawn(server, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb',
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', '',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout?.on('data', (c) => { log += String(c); });
    child.stderr?.on('data', (c) => { log += String(c); });
    const state = { exited: false };
    const exited = new Promise<void>((resolve) => child!.once('exit', () => { state.exited = true; resolve(); }));
    const outcome = await Promise.race([
      exited.then(() => 'exited' as const),
      waitForPing(port, 20_000, () => state.exited).then((ok) => (ok ? 'ready' as const : 'timeout' as const)),
    ]);
    if (outcome === 'timeout') {
      throw new Error(`${server} neither exited nor answered PING within 20 s; log:\n${log}`);
    }
    if (outcome === 'exited') {
      return { loaded: false, log };
    }
    const value = key === undefined ? undefined : await command(port, ['GET', key]);
    return { loaded: true, log, value };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child!.once('exit', () => resolve());
        child!.kill('SIGTERM');
      });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts `server` on 127.0.0.1 with an empty dataset in a fresh temporary directory, runs `commands` (each a RESP
 * command whose reply is a simple string, bulk string or integer), SAVEs, and returns the dump the server wrote.
 * Each command runs on its own connection (database 0): put keys in another database with MOVE.
 */
export async function makeDump(server: string, commands: string[][]): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-make-'));
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    child = spawn(server, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb',
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', '',
    ], { stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = { value: false };
    child.once('exit', () => { exited.value = true; });
    if (!await waitForPing(port, 20_000, () => exited.value)) {
      throw new Error(`${server} did not answer PING within 20 s`);
    }
    for (const args of commands) {
      await command(port, args);
    }
    await command(port, ['SAVE']);
    return fs.readFileSync(path.join(dir, 'dump.rdb'));
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child!.once('exit', () => resolve());
        child!.kill('SIGTERM');
      });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForPing(port: number, timeoutMs: number, gaveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      if (await command(port, ['PING']) === 'PONG') {
        return true;
      }
    } catch {
      // not listening yet, or still loading
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Sends one RESP command and returns a simple/bulk string reply (null for a nil bulk string). */
function command(port: number, args: string[]): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    socket.setTimeout(2000, () => { socket.destroy(); reject(new Error('timeout')); });
    socket.once('error', reject);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer += String(chunk);
      const reply = parseReply(buffer);
      if (reply !== undefined) {
        socket.end();
        if (reply instanceof Error) {
          reject(reply);
        } else {
          resolve(reply);
        }
      }
    });
  });
}

function parseReply(buffer: string): string | null | Error | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) {
    return undefined;
  }
  const line = buffer.slice(1, lineEnd);
  switch (buffer[0]) {
    case '+': return line;
    case ':': return line;
    case '-': return new Error(line);
    case '$': {
      const len = Number(line);
      if (len < 0) {
        return null;
      }
      const body = buffer.slice(lineEnd + 2);
      return Buffer.byteLength(body) >= len + 2 ? body.slice(0, len) : undefined;
    }
    default: return new Error(`unexpected reply: ${buffer}`);
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
