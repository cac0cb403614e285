/**
 * Mutation testing of the backup plan's pure logic with Stryker (stryker.config.json: jest runner, TypeScript checker),
 * then benchmarks/results/mutation.md from its JSON report: the score per file and every surviving mutant of the
 * planner (planner.ts and planner/*.ts). A benchmark, not a CI step: a full run takes about 2 hours on 2 cores; with
 * Stryker's incremental mode (reports/stryker-incremental.json) a later run re-tests only the mutants whose code or
 * covering tests changed.
 *
 *   npx ts-node -P benchmarks/tsconfig.json benchmarks/mutation.ts [--concurrency 2] [--mutate lib/backup-plan/planner.ts]
 *   MUTATION_REPORT_ONLY=1 ...   (only rewrite mutation.md from reports/mutation/mutation.json)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface Mutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly status: string;
  readonly replacement?: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report { readonly files: Record<string, { readonly mutants: readonly Mutant[] }> }

const root = path.join(__dirname, '..');
const jsonReport = path.join(root, 'reports', 'mutation', 'mutation.json');
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function run(args: string[]): number {
  const started = Date.now();
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.json', ...args], { cwd: root, stdio: 'inherit' });
  process.stderr.write(`stryker ended (${r.status}) after ${((Date.now() - started) / 60000).toFixed(1)} min\n`);
  return Date.now() - started;
}

function score(mutants: readonly Mutant[]): { detected: number; undetected: number; other: number; pct: string } {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  const pct = detected + undetected === 0 ? 'n/a' : `${((100 * detected) / (detected + undetected)).toFixed(1)} %`;
  return { detected, undetected, other: mutants.length - detected - undetected, pct };
}

function isPlannerFile(file: string): boolean {
  return /lib\/backup-plan\/planner(\.ts|\/[^/]+\.ts)$/.test(file);
}

function markdown(report: Report, elapsedMs: number | undefined, args: string[]): string {
  const rows = Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b));
  const all = rows.flatMap(([, f]) => f.mutants);
  const total = score(all);
  const lines = [
    '## Mutation testing (lib/backup-plan pure logic)',
    '',
    `Stryker ${'(stryker.config.json)'}: jest runner over the fast backup-plan tests and the short simulations (bail at the first failing test), TypeScript checker; `
      + `machine nproc ${os.cpus().length}, node ${process.version}${elapsedMs === undefined ? '' : `, ${(elapsedMs / 60000).toFixed(0)} min`}`
      + `${args.length ? `, arguments \`${args.join(' ')}\`` : ''}.`,
    '',
    `Mutation score: **${total.pct}** (${total.detected} killed or timed out, ${total.undetected} survived or not covered, `
      + `${total.other} compile errors or ignored, not counted).`,
    '',
    '| file | mutants | killed + timeout | survived + no coverage | score |',
    '|---|---|---|---|---|',
    ...rows.map(([file, f]) => {
      const s = score(f.mutants);
      return `| ${file} | ${f.mutants.length} | ${s.detected} | ${s.undetected} | ${s.pct} |`;
    }),
    '',
  ];
  const planner = rows.filter(([file]) => isPlannerFile(file))
    .flatMap(([file, f]) => f.mutants.filter((m) => UNDETECTED.has(m.status)).map((m) => ({ file, m })));
  if (planner.length) {
    lines.push(`Survivors in the planner (planner.ts and planner/*.ts): ${planner.length}. Each is explained in`
      + ' `benchmarks/results/mutation-survivors.md` (written by hand) or killed by a test.', '');
    for (const { file, m } of planner) {
      lines.push(`- ${file.replace(/^.*lib\//, 'lib/')}:${m.location.start.line}: ${m.mutatorName} -> `
        + `\`${(m.replacement ?? '').replace(/\s+/g, ' ').replace(/`/g, "'").slice(0, 100)}\` (${m.status})`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const elapsed = process.env.MUTATION_REPORT_ONLY === '1' ? undefined : run(args);
  if (!fs.existsSync(jsonReport)) {
    throw new Error(`no Stryker report at ${path.relative(root, jsonReport)}: the run failed before it wrote one`);
  }
  const report = JSON.parse(fs.readFileSync(jsonReport, 'utf8')) as Report;
  fs.writeFileSync(path.join(__dirname, 'results', 'mutation.md'), `${markdown(report, elapsed, args)}\n`);
  process.stderr.write('benchmarks/results/mutation.md written\n');
}

main();
