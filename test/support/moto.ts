import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * A real HTTP S3 (moto_server) on 127.0.0.1 for handler tests. Never reaches AWS.
 *
 * Usage: `const s3 = await MotoS3.start(); ... await s3.stop();` in beforeAll/afterAll.
 */
export class MotoS3 {
  public static async start(): Promise<MotoS3> {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => { stderr += String(chunk); });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitForPort(port, 20_000, () => stderr);
    return new MotoS3(child, endpoint);
  }

  private constructor(private readonly child: ChildProcess, public readonly endpoint: string) {}

  /** An S3 client for this server (path-style, dummy credentials). */
  public client(region: string = 'us-east-1'): S3Client {
    return new S3Client({
      region,
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  }

  /** Forgets every bucket and object (moto's reset endpoint). */
  public async reset(): Promise<void> {
    await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, diagnostics: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${diagnostics()}`);
}
