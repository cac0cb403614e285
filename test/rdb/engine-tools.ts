import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** Counts per database as a server's `INFO keyspace` gives them. */
export interface KeyspaceLine {
  db: number;
  keys: number;
  keysWithExpiry: number;
}

export function parseKeyspace(text: string): KeyspaceLine[] {
  return text.split(/\r?\n/).filter((l) => l.startsWith('db')).map((line) => {
    const m = /^db(\d+):keys=(\d+),expires=(\d+)/.exec(line);
    if (!m) throw new Error(`unexpected INFO keyspace line: ${line}`);
    return { db: Number(m[1]), keys: Number(m[2]), keysWithExpiry: Number(m[3]) };
  });
}

/** Runs `<engine>-check-rdb` on the bytes (through a temporary file): exit status 0 means the tool accepts it. */
export function checkRdb(checker: string, bytes: Uint8Array): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-check-'));
  try {
    const file = path.join(dir, 'dump.rdb');
    fs.writeFileSync(file, bytes);
    const r = spawnSync(checker, [file], { encoding: 'utf8', timeout: 30_000 });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts `server` on 127.0.0.1 with the bytes as its dump, waits until it answers PING (or exits: then undefined),
 * reads `INFO keyspace` with `cli`, stops it and removes its directory. `extraArgs` go to the server's command line.
 */
export async function keyspaceAfterLoad(
  server: string, cli: string, bytes: Uint8Array, extraArgs: string[] = [],
): Promise<KeyspaceLine[] | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-load-'));
  let child: ChildProcess | undefined;
  try {
    fs.writeFileSync(path.join(dir, 'dump.rdb'), bytes);
    const port = String(await freePort());
    child = spawn(server, ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '',
      '--appendonly', 'no', '--daemonize', 'no', '--logfile', path.join(dir, 'server.log'), ...extraArgs], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    let done = false;
    void exited.then(() => { done = true; });
    for (let i = 0; i < 200 && !done; i++) {
      const ping = spawnSync(cli, ['-h', '127.0.0.1', '-p', port, 'PING'], { encoding: 'utf8' });
      if (ping.stdout.trim() === 'PONG') {
        return parseKeyspace(spawnSync(cli, ['-h', '127.0.0.1', '-p', port, 'INFO', 'keyspace'], { encoding: 'utf8' }).stdout);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (done) return undefined;
    throw new Error(`${server} neither loaded the dump nor exited within 10 s; log:\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
