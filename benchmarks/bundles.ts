/**
 * Lambda bundle sizes: what each handler costs to deploy and cold-start.
 *
 *   npx projen bundle && npx ts-node -P benchmarks/tsconfig.json benchmarks/bundles.ts
 *
 * Writes benchmarks/results/bundles.md. The bundles are esbuild outputs with `@aws-sdk/*` external
 * (the Lambda Node.js runtime provides SDK v3); Powertools is bundled where a handler uses it.
 */
import * as fs from 'fs';
import * as path from 'path';

const ASSETS = path.join(__dirname, '..', 'assets');

function bundles(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    throw new Error(`no ${path.relative(process.cwd(), dir)}/: run 'npx projen bundle' first`);
  }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? bundles(full) : entry.name === 'index.js' ? [full] : [];
  });
}

const rows = bundles(ASSETS).sort().map((file) => {
  const bytes = fs.statSync(file).size;
  const handler = path.relative(ASSETS, path.dirname(file));
  return `| \`${handler}.ts\` | ${bytes.toLocaleString('en-US')} | ${(bytes / 1024).toFixed(1)} |`;
});
const lines = [
  '# Lambda bundle sizes',
  '',
  'Produced by `benchmarks/bundles.ts` after `npx projen bundle` (esbuild, `@aws-sdk/*` external, minified).',
  '',
  'Each is at most 110,000 bytes (asserted in `test/package/bundle-size.test.ts`), except the restore drill\'s keyspace',
  'verifier, which carries the Redis client `ioredis` (with `@ioredis/commands`, `denque`, `debug` and smaller helpers,',
  'about 200 KB minified): the same test asserts that the rest of that bundle is at most 110,000 bytes.',
  '',
  '| handler | bytes | KiB |',
  '|---|---:|---:|',
  ...rows,
  '',
];
fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'results', 'bundles.md'), lines.join('\n'));
console.log(lines.join('\n'));
