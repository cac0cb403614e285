import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';

/**
 * The handler bundles the package ships (assets/, built by `npx projen bundle`, which the test task runs first):
 * each loads as a module with a `handler` function, and each is at most 110,000 bytes (the reconciler, the largest, is
 * about 101,000 since issue 10 added its clock and manifest checks: BENCHMARKS.md). The one handler that must
 * carry a Redis client may exceed that by the client's own size only (measured here from esbuild's metafile).
 */
const ROOT = path.join(__dirname, '..', '..');
const LIMIT_BYTES = 110_000;
const WITH_REDIS_CLIENT = new Set(['lib/drill/verify-keyspace.lambda']);

const handlers = fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.lambda.ts'))
  .map((f) => `lib/${f.replace(/\.ts$/, '')}`)
  .sort();

function bundleOf(handler: string): string {
  return path.join(ROOT, 'assets', handler, 'index.js');
}

/** Bytes of the bundle that come from the Redis client and the packages it pulls in. */
function redisClientBytes(handler: string): number {
  const result = buildSync({
    entryPoints: [path.join(ROOT, `${handler}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node24',
    minify: true,
    external: ['@aws-sdk/*'],
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  });
  const clientPackages = /node_modules\/(ioredis|@ioredis|denque|debug|ms|cluster-key-slot|lodash\.|redis-errors|redis-parser|standard-as-callback)/;
  const inputs = Object.values(result.metafile!.outputs)[0].inputs;
  return Object.entries(inputs).filter(([file]) => clientPackages.test(file)).reduce((sum, [, v]) => sum + v.bytesInOutput, 0);
}

describe('handler bundles', () => {
  test('every handler in lib/ has a bundle', () => {
    expect(handlers.length).toBeGreaterThanOrEqual(7);
    expect(handlers.filter((h) => !fs.existsSync(bundleOf(h)))).toEqual([]);
  });

  test.each(handlers)('%s loads and exports a handler function (minified code runs)', (handler) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(bundleOf(handler));
    expect(typeof loaded.handler).toBe('function');
  });

  test.each(handlers.filter((h) => !WITH_REDIS_CLIENT.has(h)))('%s is at most 110,000 bytes', (handler) => {
    expect(fs.statSync(bundleOf(handler)).size).toBeLessThanOrEqual(LIMIT_BYTES);
  });

  test.each([...WITH_REDIS_CLIENT])('%s is at most 110,000 bytes besides the Redis client', (handler) => {
    const client = redisClientBytes(handler);
    expect(client).toBeGreaterThan(50_000);
    expect(fs.statSync(bundleOf(handler)).size - client).toBeLessThanOrEqual(LIMIT_BYTES);
  });
});
