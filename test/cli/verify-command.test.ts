import { main } from '../../lib/cli/main';
import {
  ExitCode, exitCodeOf, FileOutcome, formatOutcome, OpenedSource, outcomeJson, parseVerifyArgs, runVerifyCommand,
  UsageError, VerifyIo, VerifyTarget,
} from '../../lib/cli/verify-command';
import { RdbReport } from '../../lib/rdb/types';

/** An io whose sources are given per target label; the clock advances 250 ms per call. */
function fakeIo(open: (target: VerifyTarget) => Promise<OpenedSource>): VerifyIo & { lines: string[] } {
  const lines: string[] = [];
  let clock = 0;
  return {
    lines,
    open: async (target) => open(target),
    now: () => (clock += 250),
    print: (line) => { lines.push(...line.split('\n')); },
  };
}

async function* chunksOf(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

const REPORT: RdbReport = {
  format: 'redis',
  rdbVersion: 10,
  writerEngine: 'redis',
  writerVersion: '7.0.15',
  createdAtMs: Date.UTC(2026, 11, 2, 12, 0, 0),
  sizeBytes: 5_000_000,
  checksum: 'ok',
  crc64: '0123456789abcdef',
  databases: [{ db: 0, keys: 1200, keysWithExpiry: 7 }, { db: 3, keys: 34, keysWithExpiry: 0 }],
  keys: 1234,
  keysWithExpiry: 7,
  expiryHistogram: [
    { notBefore: Date.UTC(2026, 11, 2, 11), notAfter: Date.UTC(2026, 11, 2, 12), keys: 2 },
    { notBefore: Date.UTC(2026, 11, 3), notAfter: Date.UTC(2026, 11, 4), keys: 5 },
  ],
  aux: { 'redis-ver': '7.0.15' },
  functions: 1,
  modules: {},
  valueTypes: { 'string': 1200, 'hash-listpack': 34 },
};

describe('parseVerifyArgs', () => {
  test('files, s3 URLs, stdin and options', () => {
    const args = parseVerifyArgs(['a.rdb', '--json', 's3://my-bucket/exports/x-0001.rdb', '--region', 'eu-west-1', '--require-checksum', '-']);
    expect(args).toEqual({
      targets: [
        { kind: 'file', path: 'a.rdb' },
        { kind: 's3', bucket: 'my-bucket', key: 'exports/x-0001.rdb' },
        { kind: 'stdin' },
      ],
      json: true,
      verifyOptions: { requireChecksum: true },
      s3: { region: 'eu-west-1', endpointUrl: undefined },
    });
  });

  test('after -- every argument is a path', () => {
    expect(parseVerifyArgs(['--', '--json'])).toMatchObject({ targets: [{ kind: 'file', path: '--json' }], json: false });
  });

  test.each([
    [[], /no file given/],
    [['--bogus', 'a.rdb'], /unknown option '--bogus'; allowed: --json/],
    [['--region'], /option --region needs a value/],
    [['s3://bucket-only'], /'s3:\/\/bucket-only' is not an S3 object URL; expected s3:\/\/bucket\/key/],
    [['s3://Bad_Bucket/key'], /'Bad_Bucket' in 's3:\/\/Bad_Bucket\/key' is not an S3 bucket name/],
    [['--endpoint-url', 'localhost:9000', 'a.rdb'], /--endpoint-url 'localhost:9000' is not an http\(s\) URL/],
    [['-', '-'], /standard input \('-'\) can be read only once/],
  ])('%j is a usage error naming what is wrong', (argv, message) => {
    expect(() => parseVerifyArgs(argv)).toThrow(UsageError);
    expect(() => parseVerifyArgs(argv)).toThrow(message);
  });

  test('--help', () => {
    expect(parseVerifyArgs(['a.rdb', '--help'])).toBe('help');
  });
});

describe('formatOutcome', () => {
  test('an intact file: format, writer, version, keys per database, expiries, checksum, size, time, throughput', () => {
    const lines = formatOutcome('dump.rdb', { status: 'intact', report: REPORT, millis: 500, details: [['etag', '"abc"']] });
    expect(lines).toEqual([
      'dump.rdb',
      '  format          redis (REDIS0010), RDB version 10',
      '  writer          redis 7.0.15',
      '  written at      2026-12-02T12:00:00.000Z',
      '  etag            "abc"',
      '  size            5000000 bytes (5.0 MB)',
      '  checksum        ok (CRC-64 0123456789abcdef)',
      '  keys            1234 in 2 database(s), 7 with an expiry',
      '                  db0: 1200 keys, 7 with an expiry',
      '                  db3: 34 keys, 0 with an expiry',
      '  expiries        7 keys expire between 2026-12-02T11:00:00.000Z and 2026-12-04T00:00:00.000Z',
      '                  2 of them had already expired when the file was written',
      '  value types     string 1200, hash-listpack 34',
      '  functions       1 library',
      '  time            0.500 s (10.0 MB/s)',
      '  result          INTACT',
    ]);
  });

  test('a Valkey file with checksum disabled and no writer field', () => {
    const report: RdbReport = { ...REPORT, format: 'valkey', rdbVersion: 80, writerEngine: undefined, writerVersion: undefined, checksum: 'disabled', crc64: '0000000000000000' };
    const text = formatOutcome('v.rdb', { status: 'intact', report, millis: 12_345, details: undefined }).join('\n');
    expect(text).toContain('format          valkey (VALKEY080), RDB version 80');
    expect(text).toContain('writer          unknown (no redis-ver / valkey-ver aux field)');
    expect(text).toContain('checksum        disabled (zero trailer: written with rdbchecksum no)');
    expect(text).toContain('time            12.3 s (0.4 MB/s)');
  });

  test('a corrupt file names the offset in decimal and hex and what was expected', () => {
    expect(formatOutcome('t.rdb', { status: 'corrupt', offset: 4096, message: 'expected 12 more bytes of a string', bytesRead: 4096, millis: 10 })).toEqual([
      't.rdb',
      '  result          CORRUPT at byte offset 4096 (0x1000): expected 12 more bytes of a string',
      '  read            4096 bytes in 0.010 s',
    ]);
  });
});

describe('exitCodeOf', () => {
  const intact: FileOutcome = { status: 'intact', report: REPORT, millis: 1, details: [] };
  const corrupt: FileOutcome = { status: 'corrupt', offset: 1, message: 'x', bytesRead: 1, millis: 1 };
  const unreadable: FileOutcome = { status: 'unreadable', message: 'x', bytesRead: 0, millis: 1 };
  test.each([
    [[intact], ExitCode.INTACT],
    [[intact, unreadable], ExitCode.UNREADABLE],
    [[unreadable, corrupt, intact], ExitCode.CORRUPT],
  ])('%#', (outcomes, code) => {
    expect(exitCodeOf(outcomes)).toBe(code);
  });
});

describe('runVerifyCommand (in-memory sources)', () => {
  test('a usage error prints the problem and the usage, exit 2, nothing opened', async () => {
    const open = jest.fn();
    const io = fakeIo(open);
    expect(await runVerifyCommand(['--nope'], io)).toBe(ExitCode.USAGE);
    expect(io.lines[0]).toBe("cdk-elasticache-backup verify: unknown option '--nope'; allowed: --json, --require-checksum, --region, --endpoint-url, --help");
    expect(io.lines).toContain('Usage: cdk-elasticache-backup verify [options] <file.rdb | s3://bucket/key | -> ...');
    expect(open).not.toHaveBeenCalled();
  });

  test('a source that cannot be opened is "not verified" (exit 3), not corrupt', async () => {
    const io = fakeIo(async () => { throw Object.assign(new Error('no such file'), { code: 'ENOENT' }); });
    expect(await runVerifyCommand(['missing.rdb'], io)).toBe(ExitCode.UNREADABLE);
    expect(io.lines).toEqual(['missing.rdb', '  result          NOT VERIFIED: cannot read: ENOENT: no such file']);
  });

  test('a stream that fails midway is "not verified", with --json', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      // yield nothing: the verdict on the bytes must not matter here
      throw new Error('socket hang up');
    }
    const io = fakeIo(async () => ({ chunks: failing() }));
    expect(await runVerifyCommand(['--json', 's3://bucket/key.rdb'], io)).toBe(ExitCode.UNREADABLE);
    expect(JSON.parse(io.lines[0])).toEqual({ source: 's3://bucket/key.rdb', status: 'unreadable', seconds: 0.25, error: 'read failed: socket hang up', bytesRead: 0 });
  });

  test('bytes that are not an RDB file are corrupt (exit 1) at an offset, and every file is still reported', async () => {
    const io = fakeIo(async (t) => (t.kind === 'file' && t.path === 'text.rdb'
      ? { chunks: chunksOf(Buffer.from('hello, this is not a dump\n')) }
      : Promise.reject(new Error('gone'))));
    expect(await runVerifyCommand(['text.rdb', 'other.rdb'], io)).toBe(ExitCode.CORRUPT);
    expect(io.lines[0]).toBe('text.rdb');
    expect(io.lines[1]).toMatch(/^ {2}result {10}CORRUPT at byte offset \d+ \(0x[0-9a-f]+\): \S/);
    expect(io.lines).toContain('other.rdb');
    expect(io.lines[io.lines.length - 1]).toBe('2 files: 0 intact, 1 corrupt, 1 not verified');
  });

  test('a source that delivers fewer bytes than it announced is "not verified"', async () => {
    const io = fakeIo(async () => ({ chunks: chunksOf(), expectedSize: 10 }));
    expect(await runVerifyCommand(['short.rdb'], io)).toBe(ExitCode.UNREADABLE);
    expect(io.lines[1]).toBe('  result          NOT VERIFIED: the source announced 10 bytes but delivered 0');
  });

  test('outcomeJson of a corrupt file carries the offset', () => {
    expect(outcomeJson({ kind: 'stdin' }, { status: 'corrupt', offset: 77, message: 'bad', bytesRead: 80, millis: 2000 }))
      .toEqual({ source: '(standard input)', status: 'corrupt', seconds: 2, offset: 77, error: 'bad', bytesRead: 80 });
  });
});

describe('main', () => {
  test.each([
    [[], ExitCode.USAGE],
    [['--help'], ExitCode.INTACT],
    [['frobnicate'], ExitCode.USAGE],
  ])('%j', async (argv, code) => {
    const io = fakeIo(jest.fn());
    expect(await main(argv, io)).toBe(code);
    expect(io.lines.join('\n')).toContain('Usage: cdk-elasticache-backup <command> [arguments]');
  });
});
