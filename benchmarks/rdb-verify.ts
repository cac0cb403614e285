/**
 * The streaming RDB verifier against redis-check-rdb, side by side on the same dumps, in one run.
 *
 *   npx ts-node -P benchmarks/tsconfig.json benchmarks/rdb-verify.ts            # 100 MB and 1 GB dumps
 *   RDB_BENCH_SIZES_MB=100 npx ts-node -P benchmarks/tsconfig.json benchmarks/rdb-verify.ts   # quick: 100 MB only
 *
 * Writes benchmarks/results/rdb-verify.md. Needs redis-server, redis-cli and redis-check-rdb (Debian's redis-server
 * package) and GNU time (/usr/bin/time) for the peak RSS of each process.
 *
 * Dumps are written by a real redis-server (benchmarks/rdb-dumps.ts) and cached in .tmp/bench-dumps/ (gitignored;
 * RDB_BENCH_DUMPS overrides), so only the first run pays for generating them. Our side is the `verify` command as
 * users run it: `lib/` compiled by tsc into .tmp/, started through `bin/cdk-elasticache-backup` in a fresh Node
 * process, so its time includes Node's start-up and its RSS is the whole process, as is redis-check-rdb's.
 * The dumps are read once before measuring, so both tools read from the page cache: this compares CPU, not disks.
 */
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DumpInfo, ensureDump, MB } from './rdb-dumps';
import { crc64Update, hex64 } from '../lib/rdb/crc64';
import { crc64UpdateFast, crc64WasmAvailable } from '../lib/rdb/crc64-wasm';
import { buildCli } from '../test/cli/compiled-cli';

const ROOT = path.join(__dirname, '..');
const DUMP_DIR = process.env.RDB_BENCH_DUMPS ?? path.join(ROOT, '.tmp', 'bench-dumps');
const BUILD_DIR = path.join(ROOT, '.tmp', 'rdb-verify-bench');
const SIZES_MB = (process.env.RDB_BENCH_SIZES_MB ?? '100,1000').split(',').map(Number);
const REPETITIONS = (sizeMb: number) => (sizeMb >= 1000 ? 3 : 5);

/** Goals from the issue: ours / redis-check-rdb throughput, by dump kind; peak RSS at 1 GB. */
const GOAL_RATIO = { populate: 2, mixed: 0.5 } as const;
const GOAL_RSS_MB = 150;

/**
 * The Lambda that verifies a shard streams it from S3 with one GetObject. AWS's S3 performance guidance plans one
 * connection per 85-90 MB/s ("Best Practices Design Patterns: Optimizing Amazon S3 Performance", Horizontal Scaling
 * and Request Parallelization): we take the low end as the rate of a single stream. 1769 MB of memory is the size
 * at which Lambda gives a function one full vCPU (the verifier is single-threaded; it needs the CPU, not the memory).
 * 12 of the 15 minutes are the budget, leaving 3 for the cold start, the S3 request and a slower CPU than ours.
 */
export const LAMBDA_ASSUMPTIONS = {
  s3StreamMBps: 85,
  memoryMb: 1769,
  timeoutSeconds: 900,
  budgetSeconds: 720,
  /** Lambda's vCPU is taken as this fraction of the benchmark machine's core. */
  cpuFactor: 0.75,
} as const;

interface Run {
  /** Wall-clock seconds of the whole process. */
  readonly seconds: number;
  /** User + system CPU seconds of the whole process: what a dedicated vCPU would spend, whatever else the machine runs. */
  readonly cpuSeconds: number;
  readonly maxRssMb: number;
}

interface Row {
  readonly info: DumpInfo;
  readonly ours: Run[];
  readonly theirs: Run[];
}

async function main(): Promise<void> {
  requireTools(['redis-server', 'redis-cli', 'redis-check-rdb', '/usr/bin/time']);
  const bin = buildCli(BUILD_DIR);
  const rows: Row[] = [];
  for (const sizeMb of SIZES_MB) {
    for (const kind of ['populate', 'mixed'] as const) {
      const { file, info } = await ensureDump(DUMP_DIR, kind, sizeMb * MB);
      warmPageCache(file);
      const row: Row = { info, ours: [], theirs: [] };
      for (let r = 0; r < REPETITIONS(sizeMb); r++) {
        row.ours.push(runOurs(bin, file, info));
        row.theirs.push(runTheirs(file, info));
      }
      rows.push(row);
      console.log(`${info.name}: ours ${rate(row.ours, info, 'cpuSeconds').toFixed(1)} MB/s of CPU, `
        + `redis-check-rdb ${rate(row.theirs, info, 'cpuSeconds').toFixed(1)} MB/s of CPU`);
    }
  }
  const crc = measureCrcOptions();
  const out = `${render(rows)}\n${renderCrc(crc)}`;
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'rdb-verify.md'), out);
  console.log(out);
}

function requireTools(tools: string[]): void {
  for (const tool of tools) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is not installed (redis-server / redis-tools packages, and 'time' for /usr/bin/time)`);
    }
  }
}

function warmPageCache(file: string): void {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(16 * MB);
  while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0) {
    // reading is the point
  }
  fs.closeSync(fd);
}

/** Runs a command under GNU time; returns wall seconds, peak RSS and the output. */
function timed(command: string, args: string[]): Run & { stdout: string; stderr: string; status: number | null } {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', 'TIMED %M %U %S', command, ...args], { encoding: 'utf8', maxBuffer: 64 * MB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const usage = /TIMED (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr);
  if (!usage) {
    throw new Error(`no resource usage from /usr/bin/time for ${command}: ${result.stderr}`);
  }
  const cpuSeconds = Number(usage[2]) + Number(usage[3]);
  return { seconds, cpuSeconds, maxRssMb: Number(usage[1]) / 1024, stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** Our `verify --json`; the verdict must be "intact" with the server's key count, or the numbers mean nothing. */
function runOurs(bin: string, file: string, info: DumpInfo): Run {
  const result = timed(process.execPath, [bin, 'verify', '--json', file]);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as { status: string; seconds: number; report?: { keys: number; keysWithExpiry: number } };
  if (result.status !== 0 || parsed.status !== 'intact' || parsed.report?.keys !== info.keys || parsed.report.keysWithExpiry !== info.keysWithExpiry) {
    throw new Error(`our verifier disagrees with redis-server on ${info.name} (keys ${info.keys}, expiring ${info.keysWithExpiry}): ${line}`);
  }
  return result;
}

function runTheirs(file: string, info: DumpInfo): Run {
  const result = timed('redis-check-rdb', [file]);
  const keys = /\[info\] (\d+) keys read/.exec(result.stdout);
  if (result.status !== 0 || !/RDB looks OK/.test(result.stdout) || Number(keys?.[1]) !== info.keys) {
    throw new Error(`redis-check-rdb disagrees with redis-server on ${info.name}: ${result.stdout}`);
  }
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mbps(bytes: number, seconds: number): number {
  return bytes / MB / seconds;
}

/** MB/s from the median of the runs' wall or CPU seconds. */
function rate(runs: Run[], info: DumpInfo, clock: 'seconds' | 'cpuSeconds'): number {
  return mbps(info.sizeBytes, median(runs.map((r) => r[clock])));
}

/** The largest shard the verifier Lambda can stream and verify within its budget, from the slowest 1 GB measurement. */
export function largestVerifiableShard(oursMBps: number): { rateMBps: number; limitedBy: 'S3' | 'CPU'; limitGB: number } {
  const cpu = oursMBps * LAMBDA_ASSUMPTIONS.cpuFactor;
  const streamMBps = Math.min(LAMBDA_ASSUMPTIONS.s3StreamMBps, cpu);
  return { rateMBps: streamMBps, limitedBy: streamMBps === cpu ? 'CPU' : 'S3', limitGB: (streamMBps * LAMBDA_ASSUMPTIONS.budgetSeconds) / 1000 };
}

function render(rows: Row[]): string {
  const table = rows.map((row) => {
    const size = row.info.sizeBytes;
    const ours = rate(row.ours, row.info, 'cpuSeconds');
    const theirs = rate(row.theirs, row.info, 'cpuSeconds');
    const goal = GOAL_RATIO[row.info.kind];
    const rssOurs = Math.max(...row.ours.map((r) => r.maxRssMb));
    const rssTheirs = Math.max(...row.theirs.map((r) => r.maxRssMb));
    const rssGoal = size >= 900 * MB ? (rssOurs < GOAL_RSS_MB ? ` (goal < ${GOAL_RSS_MB}: met)` : ` (goal < ${GOAL_RSS_MB}: **missed**)`) : '';
    return `| ${row.info.name} | ${(size / MB).toFixed(0)} | ${row.info.keys} | ${ours.toFixed(1)} | ${theirs.toFixed(1)} | `
      + `**${(ours / theirs).toFixed(2)}** | >= ${goal}: ${ours / theirs >= goal ? 'met' : '**missed**'} | `
      + `${rate(row.ours, row.info, 'seconds').toFixed(1)} | ${rate(row.theirs, row.info, 'seconds').toFixed(1)} | `
      + `${rssOurs.toFixed(0)}${rssGoal} | ${rssTheirs.toFixed(0)} | ${row.ours.length} |`;
  });
  const big = rows.filter((r) => r.info.sizeBytes >= 900 * MB);
  const basis = big.length > 0 ? big : rows;
  const slowest = Math.min(...basis.map((r) => rate(r.ours, r.info, 'cpuSeconds')));
  const limit = largestVerifiableShard(slowest);
  const a = LAMBDA_ASSUMPTIONS;
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  return [
    '# RDB verifier against redis-check-rdb',
    '',
    'Produced by `npx ts-node -P benchmarks/tsconfig.json benchmarks/rdb-verify.ts` (part of `npx projen benchmark`). Each dump',
    `is verified by our \`verify\` command (compiled, in its own Node process) and by \`redis-check-rdb\`, alternating, ${rows.map((r) => r.ours.length).join('/')} times`,
    'each. MB/s are file size / median seconds of the whole process (start-up included): "CPU" counts user + system CPU',
    'time, the figure a dedicated core would see and the one the ratio and the Lambda limit use, because the benchmark',
    'machine is shared and its wall-clock times depend on what else runs; "wall" is elapsed time. Peak RSS is the highest',
    'of the runs (GNU time). Both tools read the same file from the page cache, and both must agree with the key count',
    'redis-server reported for the dump (INFO keyspace), or the benchmark fails.',
    '',
    `Machine: ${cpu}, nproc ${os.cpus().length}, Node ${process.version}, ${os.platform()} ${os.release()}, `
      + `${spawnSync('redis-check-rdb', ['--version'], { encoding: 'utf8' }).stdout.trim() || 'redis-check-rdb'}. Measured ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Dumps (written by redis-server 7.0 on 127.0.0.1, `benchmarks/rdb-dumps.ts`): `populate` is `DEBUG POPULATE` with 100-byte',
    'values (text padded with zero bytes, so every value is LZF-compressed: compressible, many small keys); `mixed` holds',
    'strings, hashes, lists, sets, sorted sets and streams with consumer groups in 4 databases, 10% of keys with an expiry,',
    'values of random bytes (incompressible) from 8 bytes to 4 MB.',
    '',
    '| dump | MB | keys | ours MB/s (CPU) | redis-check-rdb MB/s (CPU) | ours / theirs | goal | ours MB/s (wall) | redis-check-rdb MB/s (wall) | ours peak RSS MB | theirs peak RSS MB | runs |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...table,
    '',
    '## Largest shard the verifier Lambda can verify',
    '',
    `The verifier Lambda streams a shard from S3 with one GetObject. Assumptions: a single S3 stream delivers ${a.s3StreamMBps} MB/s`,
    '(the low end of the 85-90 MB/s per connection that AWS plans with in "Best Practices Design Patterns: Optimizing Amazon S3',
    `Performance", section Horizontal Scaling and Request Parallelization); ${a.memoryMb} MB of memory, where Lambda gives a full vCPU,`,
    `counted as ${a.cpuFactor} of this machine's core; ${a.budgetSeconds} s of the ${a.timeoutSeconds} s maximum timeout for streaming, the rest is margin.`,
    '',
    `Rate = min(S3 ${a.s3StreamMBps} MB/s, ${a.cpuFactor} x ${slowest.toFixed(1)} MB/s = ${a.cpuFactor} x our slowest ${big.length > 0 ? '1 GB ' : ''}dump) = **${limit.rateMBps.toFixed(1)} MB/s**`
      + ` (bound by ${limit.limitedBy}); limit = rate x ${a.budgetSeconds} s = **${limit.limitGB.toFixed(1)} GB** per shard.`,
    'Above it the export verifier checks header, trailer and size only and records `verification: partial`.',
    '',
  ].join('\n');
}

interface CrcOption {
  readonly name: string;
  readonly code: string;
  readonly mbps: number[];
  readonly crc: string;
}

/**
 * The CRC-64 implementations in lib/rdb, in this process: 128 MB of random bytes in memory, fed in 64 KB pieces as a
 * stream delivers them, CPU time (user + system) of this process, 5 runs each after a warm-up.
 */
function measureCrcOptions(): CrcOption[] {
  const data = randomBytes(128 * MB);
  const piece = 64 * 1024;
  const variants: Array<[string, string, typeof crc64Update]> = [
    ['JavaScript, slice-by-8, 32-bit halves', '`crc64Update` (lib/rdb/crc64.ts)', crc64Update],
    [`WebAssembly, slice-by-16, i64${crc64WasmAvailable() ? '' : ' (NOT AVAILABLE here: fell back to JavaScript)'}`, '`crc64UpdateFast` (lib/rdb/crc64-wasm.ts)', crc64UpdateFast],
  ];
  return variants.map(([name, code, update]) => {
    const once = () => {
      let lo = 0;
      let hi = 0;
      for (let p = 0; p < data.length; p += piece) {
        const r = update(lo, hi, data, p, Math.min(data.length, p + piece));
        lo = r.lo;
        hi = r.hi;
      }
      return hex64(lo, hi);
    };
    const crc = once();
    const mbpsRuns = Array.from({ length: 5 }, () => {
      const before = process.cpuUsage();
      once();
      const used = process.cpuUsage(before);
      return mbps(data.length, (used.user + used.system) / 1e6);
    });
    console.log(`CRC-64 ${name}: ${median(mbpsRuns).toFixed(0)} MB/s of CPU`);
    return { name, code, mbps: mbpsRuns, crc };
  });
}

function renderCrc(options: CrcOption[]): string {
  const agree = options.every((o) => o.crc === options[0].crc);
  return [
    '## CRC-64 options',
    '',
    'The trailer check reads every byte, so CRC-64 (Jones polynomial, reflected, as Redis computes it) bounds the verifier on',
    'incompressible data. Measured in the benchmark process: 128 MB of random bytes in memory, fed in 64 KB pieces, median',
    `of 5 runs, MB per second of CPU time. Both variants ${agree ? 'computed the same CRC' : '**DISAGREED**'}.`,
    '',
    '| implementation | code | MB/s (CPU) |',
    '|---|---|---:|',
    ...options.map((o) => `| ${o.name} | ${o.code} | ${median(o.mbps).toFixed(0)} |`),
    '',
    'Kept: WebAssembly slice-by-16 where WebAssembly is available (the verifier falls back to the JavaScript version',
    'otherwise, and for pieces under 512 bytes). An earlier WebAssembly slice-by-8 version, measured side by side with it',
    'during development, was about 15% slower than slice-by-16, and is not kept.',
    '',
  ].join('\n');
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
