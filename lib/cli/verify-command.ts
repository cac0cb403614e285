/**
 * The `verify` command of the `cdk-elasticache-backup` CLI: argument parsing, the run over every file and the report text.
 *
 * No I/O of its own: opening a file or an S3 object, the clock and the output are passed in (`VerifyIo`), so the whole
 * command runs in tests against in-memory sources. The I/O lives in `sources.ts`, the process wiring in `main.ts`.
 */
import { RdbReport, RdbVerifyOptions } from '../rdb/types';
import { RdbVerifier, RdbVerifyError } from '../rdb/verifier';

/** Exit codes of the command; documented in `usage()`. */
export const ExitCode = {
  /** Every file was read to the end and is intact. */
  INTACT: 0,
  /** At least one file is corrupt, truncated or not an RDB file. */
  CORRUPT: 1,
  /** The command line is wrong; nothing was read. */
  USAGE: 2,
  /** At least one file could not be read (missing, access denied, network), and none was found corrupt. */
  UNREADABLE: 3,
} as const;
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** Where a file comes from. */
export type VerifyTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'stdin' };

/** An opened file: its chunks, and what the source says about it (S3 version, ETag) for the report. */
export interface OpenedSource {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Size announced by the source (S3 Content-Length, file size), checked against the bytes read. */
  readonly expectedSize?: number;
  /** Extra lines for the report, e.g. `version  3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY`. */
  readonly details?: ReadonlyArray<readonly [string, string]>;
}

/** What the command needs from the outside world. */
export interface VerifyIo {
  open(target: VerifyTarget, options: S3Options): Promise<OpenedSource>;
  /** Milliseconds from any fixed origin (a monotonic clock). */
  now(): number;
  /** Writes one line of output (without the newline). */
  print(line: string): void;
}

/** S3 client settings from the command line (the SDK's own environment variables and profiles apply too). */
export interface S3Options {
  readonly region?: string;
  /** An S3-compatible endpoint (path-style requests). */
  readonly endpointUrl?: string;
}

/** A parsed `verify` command line. */
export interface VerifyArgs {
  readonly targets: readonly VerifyTarget[];
  readonly json: boolean;
  readonly verifyOptions: RdbVerifyOptions;
  readonly s3: S3Options;
}

/** The command line is wrong. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function usage(): string {
  return [
    'Usage: cdk-elasticache-backup verify [options] <file.rdb | s3://bucket/key | -> ...',
    '',
    'Reads each RDB file to the end (Redis OSS RDB 1-12, Valkey), checks every value encoding and the CRC-64 trailer,',
    'and prints the format, writer, RDB version, keys per database, keys with an expiry, checksum status, size and time.',
    'Files are streamed: memory use does not grow with the file size. `-` reads standard input.',
    '',
    'Options:',
    '  --json               one JSON object per file instead of text',
    '  --require-checksum   treat a file written with `rdbchecksum no` (zero trailer) as corrupt',
    '  --region <region>    region of the S3 bucket (default: from the AWS environment / profile)',
    '  --endpoint-url <url> S3-compatible endpoint (path-style), e.g. a local test server',
    '  -h, --help           this text',
    '',
    'S3 objects are read with @aws-sdk/client-s3 and the default AWS credential chain (install the SDK next to this package).',
    '',
    'Exit status: 0 every file intact; 1 a file is corrupt, truncated or not RDB (the offset is printed);',
    '2 wrong command line; 3 a file could not be read (and none was corrupt).',
  ].join('\n');
}

/** Parses the arguments after `verify`. @throws UsageError naming the argument and what is allowed */
export function parseVerifyArgs(argv: readonly string[]): VerifyArgs | 'help' {
  const targets: VerifyTarget[] = [];
  let json = false;
  let requireChecksum = false;
  let region: string | undefined;
  let endpointUrl: string | undefined;
  let onlyPaths = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPaths || !arg.startsWith('-') || arg === '-') {
      targets.push(parseTarget(arg));
      continue;
    }
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v === '') {
        throw new UsageError(`option ${arg} needs a value`);
      }
      return v;
    };
    switch (arg) {
      case '--': onlyPaths = true; break;
      case '-h': case '--help': return 'help';
      case '--json': json = true; break;
      case '--require-checksum': requireChecksum = true; break;
      case '--region': region = value(); break;
      case '--endpoint-url': endpointUrl = parseEndpoint(value()); break;
      default: throw new UsageError(`unknown option '${arg}'; allowed: --json, --require-checksum, --region, --endpoint-url, --help`);
    }
  }
  if (targets.length === 0) {
    throw new UsageError('no file given: pass one or more .rdb files or s3://bucket/key URLs');
  }
  if (targets.filter((t) => t.kind === 'stdin').length > 1) {
    throw new UsageError("standard input ('-') can be read only once");
  }
  return { targets, json, verifyOptions: { requireChecksum }, s3: { region, endpointUrl } };
}

function parseTarget(arg: string): VerifyTarget {
  if (arg === '-') {
    return { kind: 'stdin' };
  }
  if (!/^s3:\/\//i.test(arg)) {
    return { kind: 'file', path: arg };
  }
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(arg);
  if (!match) {
    throw new UsageError(`'${arg}' is not an S3 object URL; expected s3://bucket/key`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1])) {
    throw new UsageError(`'${match[1]}' in '${arg}' is not an S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')`);
  }
  return { kind: 's3', bucket: match[1], key: match[2] };
}

function parseEndpoint(value: string): string {
  if (!/^https?:\/\/[^\s/]+/.test(value)) {
    throw new UsageError(`--endpoint-url '${value}' is not an http(s) URL`);
  }
  return value;
}

/** Display name of a target, as the user wrote it. */
export function targetLabel(target: VerifyTarget): string {
  switch (target.kind) {
    case 'file': return target.path;
    case 's3': return `s3://${target.bucket}/${target.key}`;
    case 'stdin': return '(standard input)';
  }
}

/** The verdict on one file. */
export type FileOutcome =
  | { readonly status: 'intact'; readonly report: RdbReport; readonly millis: number; readonly details: OpenedSource['details'] }
  | { readonly status: 'corrupt'; readonly offset: number; readonly message: string; readonly bytesRead: number; readonly millis: number }
  | { readonly status: 'unreadable'; readonly message: string; readonly bytesRead: number; readonly millis: number };

/** Runs `verify` with the raw arguments after the command name; returns the exit code. */
export async function runVerifyCommand(argv: readonly string[], io: VerifyIo): Promise<ExitCode> {
  let args: VerifyArgs | 'help';
  try {
    args = parseVerifyArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.print(`cdk-elasticache-backup verify: ${e.message}`);
      io.print(usage());
      return ExitCode.USAGE;
    }
    throw e;
  }
  if (args === 'help') {
    io.print(usage());
    return ExitCode.INTACT;
  }
  const outcomes: FileOutcome[] = [];
  for (const target of args.targets) {
    const outcome = await verifyTarget(target, args, io);
    outcomes.push(outcome);
    const lines = args.json ? [JSON.stringify(outcomeJson(target, outcome))] : formatOutcome(targetLabel(target), outcome);
    lines.forEach((line) => io.print(line));
  }
  if (!args.json && outcomes.length > 1) {
    io.print(formatSummary(outcomes));
  }
  return exitCodeOf(outcomes);
}

/** Corrupt beats unreadable: a corrupt file is a finding, an unreadable one may be a transient problem. */
export function exitCodeOf(outcomes: readonly FileOutcome[]): ExitCode {
  if (outcomes.some((o) => o.status === 'corrupt')) {
    return ExitCode.CORRUPT;
  }
  return outcomes.some((o) => o.status === 'unreadable') ? ExitCode.UNREADABLE : ExitCode.INTACT;
}

/** Streams one file through the verifier. Read errors and verdicts are told apart by where they were thrown. */
export async function verifyTarget(target: VerifyTarget, args: Pick<VerifyArgs, 'verifyOptions' | 's3'>, io: VerifyIo): Promise<FileOutcome> {
  const start = io.now();
  const verifier = new RdbVerifier(args.verifyOptions);
  let bytesRead = 0;
  const elapsed = () => io.now() - start;
  try {
    const source = await io.open(target, args.s3);
    const iterator = source.chunks[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await readNext(iterator);
        if (next.done) {
          break;
        }
        feed(() => verifier.update(next.value));
        bytesRead += next.value.length;
      }
    } finally {
      await iterator.return?.();
    }
    if (source.expectedSize !== undefined && source.expectedSize !== bytesRead) {
      throw new ReadError(`the source announced ${source.expectedSize} bytes but delivered ${bytesRead}`);
    }
    const report = feed(() => verifier.finish());
    return { status: 'intact', report, millis: elapsed(), details: source.details };
  } catch (e) {
    if (e instanceof RdbVerifyError) {
      // The offset is printed on its own: drop the verifier's own `at byte N: ` prefix.
      const message = e.message.replace(/^at byte \d+: /, '');
      return { status: 'corrupt', offset: e.offset, message, bytesRead, millis: elapsed() };
    }
    const message = e instanceof ReadError ? e.message : `cannot read: ${describeError(e)}`;
    return { status: 'unreadable', message, bytesRead, millis: elapsed() };
  }
}

/** A failure of the source or of the verifier itself (not a verdict on the file's content). */
class ReadError extends Error {}

/** The verifier promises to throw only RdbVerifyError; anything else is a bug, and must not read as "corrupt". */
function feed<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof RdbVerifyError) {
      throw e;
    }
    throw new ReadError(`the verifier failed unexpectedly (a bug, please report it): ${describeError(e)}`);
  }
}

async function readNext(iterator: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array>> {
  try {
    return await iterator.next();
  } catch (e) {
    throw new ReadError(`read failed: ${describeError(e)}`);
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

const LABEL_WIDTH = 16;
const row = (label: string, value: string) => `  ${label.padEnd(LABEL_WIDTH)}${value}`;

/** The text report of one file. */
export function formatOutcome(label: string, outcome: FileOutcome): string[] {
  const lines = [label];
  switch (outcome.status) {
    case 'intact':
      lines.push(...formatReport(outcome.report, outcome.millis, outcome.details));
      lines.push(row('result', 'INTACT'));
      break;
    case 'corrupt':
      lines.push(row('result', `CORRUPT at byte offset ${outcome.offset} (0x${outcome.offset.toString(16)}): ${outcome.message}`));
      lines.push(row('read', `${outcome.bytesRead} bytes in ${seconds(outcome.millis)}`));
      break;
    case 'unreadable':
      lines.push(row('result', `NOT VERIFIED: ${outcome.message}`));
      break;
  }
  return lines;
}

/** The lines describing an intact file (without the label and the result line). */
export function formatReport(report: RdbReport, millis: number, details: OpenedSource['details'] = []): string[] {
  const magic = report.format === 'valkey'
    ? `VALKEY${String(report.rdbVersion).padStart(3, '0')}`
    : `REDIS${String(report.rdbVersion).padStart(4, '0')}`;
  const lines = [
    row('format', `${report.format} (${magic}), RDB version ${report.rdbVersion}`),
    row('writer', report.writerEngine ? `${report.writerEngine} ${report.writerVersion ?? '(version unknown)'}` : 'unknown (no redis-ver / valkey-ver aux field)'),
  ];
  if (report.createdAtMs !== undefined) {
    lines.push(row('written at', new Date(report.createdAtMs).toISOString()));
  }
  for (const [name, value] of details) {
    lines.push(row(name, value));
  }
  lines.push(row('size', `${report.sizeBytes} bytes (${megabytes(report.sizeBytes)})`));
  lines.push(row('checksum', formatChecksum(report)));
  lines.push(row('keys', `${report.keys} in ${report.databases.length} database(s), ${report.keysWithExpiry} with an expiry`));
  for (const db of report.databases) {
    lines.push(row('', `db${db.db}: ${db.keys} keys, ${db.keysWithExpiry} with an expiry`));
  }
  lines.push(...formatExpiries(report));
  const types = Object.entries(report.valueTypes).sort((a, b) => b[1] - a[1]);
  if (types.length > 0) {
    lines.push(row('value types', types.map(([name, count]) => `${name} ${count}`).join(', ')));
  }
  if (report.functions > 0) {
    lines.push(row('functions', `${report.functions} librar${report.functions === 1 ? 'y' : 'ies'}`));
  }
  const modules = Object.entries(report.modules);
  if (modules.length > 0) {
    lines.push(row('modules', modules.map(([name, count]) => `${name} (${count})`).join(', ')));
  }
  lines.push(row('time', `${seconds(millis)} (${throughput(report.sizeBytes, millis)})`));
  return lines;
}

function formatChecksum(report: RdbReport): string {
  switch (report.checksum) {
    case 'ok': return `ok (CRC-64 ${report.crc64})`;
    case 'disabled': return 'disabled (zero trailer: written with rdbchecksum no); structure walked to the end';
    case 'absent': return `absent (RDB ${report.rdbVersion} has no trailer); structure walked to the end`;
  }
}

/** Expiry times as a short range summary; the histogram itself is in the JSON output. */
function formatExpiries(report: RdbReport): string[] {
  const buckets = report.expiryHistogram.filter((b) => b.keys > 0);
  if (buckets.length === 0) {
    return [];
  }
  const lines = [row('expiries', `${report.keysWithExpiry} keys expire between ${iso(buckets[0].notBefore)} and ${iso(buckets[buckets.length - 1].notAfter)}`)];
  if (report.createdAtMs !== undefined) {
    const created = report.createdAtMs;
    const expired = buckets.filter((b) => b.notAfter <= created).reduce((s, b) => s + b.keys, 0);
    if (expired > 0) {
      lines.push(row('', `${expired} of them had already expired when the file was written`));
    }
  }
  return lines;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(Math.max(-8.64e15, Math.min(8.64e15, ms))).toISOString() : String(ms);
}

function formatSummary(outcomes: readonly FileOutcome[]): string {
  const count = (s: FileOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  return `${outcomes.length} files: ${count('intact')} intact, ${count('corrupt')} corrupt, ${count('unreadable')} not verified`;
}

/** The JSON form of one outcome (`--json`): stable field names for scripts. */
export function outcomeJson(target: VerifyTarget, outcome: FileOutcome): Record<string, unknown> {
  const base = { source: targetLabel(target), status: outcome.status, seconds: outcome.millis / 1000 };
  switch (outcome.status) {
    case 'intact':
      return {
        ...base,
        megabytesPerSecond: outcome.millis > 0 ? outcome.report.sizeBytes / 1000 / outcome.millis : undefined,
        details: Object.fromEntries(outcome.details ?? []),
        report: outcome.report,
      };
    case 'corrupt':
      return { ...base, offset: outcome.offset, error: outcome.message, bytesRead: outcome.bytesRead };
    case 'unreadable':
      return { ...base, error: outcome.message, bytesRead: outcome.bytesRead };
  }
}

function seconds(millis: number): string {
  return `${(millis / 1000).toFixed(millis < 10_000 ? 3 : 1)} s`;
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function throughput(bytes: number, millis: number): string {
  return millis > 0 ? `${(bytes / 1000 / millis).toFixed(1)} MB/s` : 'instant';
}
