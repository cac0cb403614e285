import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

/**
 * Compiles `lib/` (what `lib/cli/main.ts` imports) with the project's tsconfig into `<dir>/build` and copies the npm
 * bin script to `<dir>/bin`: the same layout as the published package, so the bin script runs unchanged.
 * Returns the bin script's path.
 */
export function buildCli(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const tsconfig = path.join(dir, 'tsconfig.json');
  fs.writeFileSync(tsconfig, JSON.stringify({
    extends: path.join(ROOT, 'tsconfig.json'),
    compilerOptions: {
      rootDir: path.join(ROOT, 'lib'),
      outDir: path.join(dir, 'build'),
      declaration: false,
      inlineSourceMap: false,
      inlineSources: false,
      // The tsconfig sits in `dir`: type packages are found from the repository, not from there.
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      types: ['node'],
    },
    files: [path.join(ROOT, 'lib', 'cli', 'main.ts')],
    include: [],
  }));
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) {
    throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  const bin = path.join(dir, 'bin', 'cdk-elasticache-backup');
  fs.copyFileSync(path.join(ROOT, 'bin', 'cdk-elasticache-backup'), bin);
  fs.chmodSync(bin, 0o755);
  return bin;
}
