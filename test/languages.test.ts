import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// jsii compiles the library and jsii-pacmak generates the bindings offline: a cheap proof that the
// public API is valid in every target language (packaging itself needs registries this CI can't reach).
describe('jsii target languages', () => {
  const root = path.join(__dirname, '..');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecb-pacmak-'));
  const env = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' };

  beforeAll(() => {
    const compile = spawnSync('npx', ['jsii', '--silence-warnings=reserved-word'], { cwd: root, encoding: 'utf8', env });
    if (compile.status !== 0) {
      throw new Error(`jsii compilation failed:\n${compile.stdout}\n${compile.stderr}`);
    }
    const pacmak = spawnSync('npx', ['jsii-pacmak', '--code-only', '--target', 'python', '--target', 'java', '--target', 'dotnet', '--target', 'go', '-o', outdir],
      { cwd: root, encoding: 'utf8', env });
    if (pacmak.status !== 0) {
      throw new Error(`jsii-pacmak failed:\n${pacmak.stdout}\n${pacmak.stderr}`);
    }
  }, 600_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  // Construct Hub shows every README snippet and @example in each language, translated by jsii-rosetta:
  // a snippet that does not compile would be shown broken (or not at all).
  test('every README snippet and docstring example compiles (jsii-rosetta extract --compile --fail)', () => {
    const rosetta = spawnSync('npx', ['jsii-rosetta', 'extract', '--compile', '--fail'], { cwd: root, encoding: 'utf8', env });
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
