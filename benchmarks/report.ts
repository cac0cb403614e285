/**
 * Assembles BENCHMARKS.md from benchmarks/results/*.md (each written by its benchmark).
 *
 *   npx ts-node -P benchmarks/tsconfig.json benchmarks/report.ts
 */
import * as fs from 'fs';
import * as path from 'path';

const ORDER = ['simulation.md', 'simulation-notes.md', 'mutation.md', 'mutation-survivors.md', 'synth.md', 'preflight.md', 'bundles.md', 'rdb-verify.md'];
const resultsDir = path.join(__dirname, 'results');
const sections = ORDER.filter((name) => fs.existsSync(path.join(resultsDir, name)))
  .map((name) => {
    const text = fs.readFileSync(path.join(resultsDir, name), 'utf8').trim();
    // A result file with a '#' title is a document of its own: in BENCHMARKS.md every heading moves one level down.
    return text.startsWith('# ') ? text.replace(/^(#+) /gm, '#$1 ') : text;
  });

const header = [
  '# Benchmarks',
  '',
  'Measured by the programs in `benchmarks/` (`npx projen benchmark` runs them all and rewrites this file). These are',
  'measurements, never test assertions: the machines are shared and noisy. Each section names the machine it ran on.',
  'The tests assert counts and invariants only (zero unsafe deletions, zero quota violations, RPO bounds in simulated time).',
  '',
].join('\n');
fs.writeFileSync(path.join(__dirname, '..', 'BENCHMARKS.md'), `${header}\n${sections.join('\n\n')}\n`);
console.log(`BENCHMARKS.md: ${sections.length} sections`);
