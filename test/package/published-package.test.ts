import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SCRATCH_APP_SOURCE } from './scratch-app';

/**
 * What a user gets from npm and Construct Hub, proven offline from one jsii compilation:
 * - the bindings jsii-pacmak generates for Python, Java, .NET and Go (packaging itself needs registries CI can't reach);
 * - the npm tarball, installed into a scratch CDK app outside the repository together with aws-cdk-lib at exactly the
 *   peer floor the package declares, compiled there with the package's own type declarations and synthesized.
 */
const ROOT = path.join(__dirname, '..', '..');
const ENV = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' };

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: ENV, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}) in ${path.basename(cwd)}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** The lowest aws-cdk-lib the package declares it works with (`^x.y.z` → `x.y.z`). */
const PEER_FLOOR: string = String(pkg.peerDependencies['aws-cdk-lib']).replace(/^\^/, '');

beforeAll(() => {
  run('npx', ['jsii', '--silence-warnings=reserved-word'], ROOT);
}, 600_000);

describe('jsii target languages', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecb-pacmak-'));

  beforeAll(() => {
    run('npx', ['jsii-pacmak', '--code-only', '--target', 'python', '--target', 'java', '--target', 'dotnet', '--target', 'go', '-o', outdir], ROOT);
  }, 600_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  // Construct Hub shows every README snippet and @example in each language, translated by jsii-rosetta:
  // a snippet that does not compile would be shown broken (or not at all).
  test('every README snippet and docstring example compiles (jsii-rosetta extract --compile --fail)', () => {
    const rosetta = spawnSync('npx', ['jsii-rosetta', 'extract', '--compile', '--fail'], { cwd: ROOT, encoding: 'utf8', env: ENV });
    const errors = `${rosetta.stdout}\n${rosetta.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([]);
    expect(rosetta.status).toBe(0);
  }, 300_000);

  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);

  test.each([
    ['python', /cdk_elasticache_backup[\\/]__init__\.py$/, 'class ReplicationGroup'],
    ['java', /ReplicationGroup\.java$/, 'class ReplicationGroup'],
    ['dotnet', /ReplicationGroup\.cs$/, 'class ReplicationGroup'],
    ['go', /ReplicationGroup\.go$/, 'type ReplicationGroup interface'],
  ])('%s bindings are generated and contain ReplicationGroup', (target, pattern, text) => {
    const generated = files(path.join(outdir, target)).filter((f) => pattern.test(f));
    expect(generated.length).toBeGreaterThan(0);
    expect(generated.some((f) => fs.readFileSync(f, 'utf8').includes(text))).toBe(true);
  });
});

describe(`the npm tarball in a separate two-region CDK app with aws-cdk-lib ${PEER_FLOOR} (the peer floor)`, () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ecb-user-app-'));
  const cdkOut = path.join(scratch, 'cdk.out');
  let tarball = '';

  beforeAll(() => {
    const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT);
    tarball = path.join(scratch, JSON.parse(packed.stdout)[0].filename);
    fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({
      name: 'scratch-platform-app',
      private: true,
      dependencies: {
        'cdk-elasticache-backup': `file:${tarball}`,
        'aws-cdk-lib': PEER_FLOOR,
        'constructs': String(pkg.peerDependencies.constructs),
      },
    }, undefined, 2));
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], scratch);
    fs.writeFileSync(path.join(scratch, 'app.ts'), SCRATCH_APP_SOURCE);
    fs.writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'commonjs',
        strict: true,
        outDir: 'dist',
        rootDir: '.',
        types: [],
        // aws-cdk-lib's declarations name `Disposable` (cdk init gets it from @types/node).
        lib: ['ES2022', 'esnext.disposable'],
        // The package's own declarations are checked against the floor's; aws-cdk-lib's own are not ours to check.
        skipLibCheck: false,
        skipDefaultLibCheck: true,
      },
      files: ['app.ts'],
    }));
  }, 600_000);

  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('npm installed aws-cdk-lib at the declared floor, without peer dependency conflicts', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8'));
    expect(installed.version).toBe(PEER_FLOOR);
    const ls = spawnSync('npm', ['ls', '--all', '--json'], { cwd: scratch, encoding: 'utf8', env: ENV });
    expect(JSON.parse(ls.stdout).problems ?? []).toEqual([]);
  });

  test('the tarball holds the compiled library, its declarations and every handler bundle, and no test or source file', () => {
    const listed = run('tar', ['-tzf', tarball], scratch).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(listed).toEqual(expect.arrayContaining(['build/index.js', 'build/index.d.ts', '.jsii', 'README.md']));
    const bundles = listed.filter((f) => /^assets\/.*\/index\.js$/.test(f));
    const handlers = fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lambda.ts'));
    expect(bundles.length).toBe(handlers.length);
    expect(listed.filter((f) => /^(test|lib|benchmarks|examples)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  test('the app compiles against the package and the floor, and synthesizes both regions', () => {
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], scratch);
    fs.rmSync(cdkOut, { recursive: true, force: true });
    const synth = spawnSync(process.execPath, [path.join('dist', 'app.js')], {
      cwd: scratch, encoding: 'utf8', env: { ...ENV, CDK_OUTDIR: cdkOut, CDK_DISABLE_STACK_TRACE: '1' },
    });
    expect(synth.stderr).not.toMatch(/Error/);
    expect(synth.status).toBe(0);

    const template = (stack: string) => JSON.parse(fs.readFileSync(path.join(cdkOut, `${stack}.template.json`), 'utf8'));
    const typesIn = (stack: string): string[] => Object.values<{ Type: string }>(template(stack).Resources).map((r) => r.Type);
    const manifest = JSON.parse(fs.readFileSync(path.join(cdkOut, 'manifest.json'), 'utf8'));
    const regionOf = (stack: string) => String(manifest.artifacts[stack].environment).split('/').pop();
    expect([regionOf('ScratchPrimary'), regionOf('ScratchDr'), regionOf('ScratchRestore')]).toEqual(['eu-central-1', 'eu-west-1', 'eu-west-1']);
    expect(typesIn('ScratchPrimary').filter((t) => t === 'AWS::ElastiCache::ReplicationGroup')).toHaveLength(2);
    expect(typesIn('ScratchPrimary')).toContain('AWS::Lambda::Function');
    expect(typesIn('ScratchDr')).toContain('AWS::S3::Bucket');
    expect(typesIn('ScratchRestore')).toContain('AWS::ElastiCache::ReplicationGroup');

    // The handlers this app uses are staged from the tarball's prebuilt bundles, byte for byte (nothing rebuilt).
    const staged = fs.readdirSync(cdkOut).filter((f) => f.startsWith('asset.') && fs.existsSync(path.join(cdkOut, f, 'index.js')))
      .map((f) => fs.readFileSync(path.join(cdkOut, f, 'index.js'), 'utf8'));
    const bundleDir = path.join(scratch, 'node_modules', 'cdk-elasticache-backup', 'assets', 'lib');
    for (const handler of ['backup-plan/reconcile.lambda', 'backup-plan/verify-export.lambda', 'backup-plan/freshness.lambda', 'restore/preflight.lambda']) {
      const bundle = fs.readFileSync(path.join(bundleDir, handler, 'index.js'), 'utf8');
      expect({ handler, staged: staged.includes(bundle) }).toEqual({ handler, staged: true });
    }
  }, 300_000);
});
