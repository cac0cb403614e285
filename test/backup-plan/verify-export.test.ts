/**
 * The export verifier: the procedure (verify-core.ts) on in-memory objects, and the Lambda shell against loopback S3.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  parseVerificationResult, parseVerifyRequest, ShardReader, verificationRequestKey, verificationResultKey, verifyShard, VerifyRequest,
} from '../../lib/backup-plan/verify-core';
import { verifyExport } from '../../lib/backup-plan/verify-export.lambda';
import { MotoS3 } from '../support/moto';
import { describeWithTool } from '../support/tools';

const REDIS = readFileSync(path.join(__dirname, '..', 'fixtures', 'rdb', 'redis-7.0.rdb'));
const VALKEY = readFileSync(path.join(__dirname, '..', 'fixtures', 'rdb', 'valkey-8.0.rdb'));
const NOW = new Date('2026-03-10T12:00:00Z');
const KEY = 'ceb-abcdefgh-x20260310t100000z-aaaaaaaa-0001.rdb';

function memoryReader(bytes: Uint8Array, chunk = 7): ShardReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async head() {
      return { sizeBytes: bytes.length, etag: '"e"', versionId: 'v1' };
    },
    async stream() {
      reads.push('stream');
      return (async function* chunks() {
        for (let i = 0; i < bytes.length; i += chunk) {
          yield bytes.subarray(i, i + chunk);
        }
      })();
    },
    async range(start: number, end: number) {
      reads.push(`range ${start}-${end}`);
      return bytes.subarray(start, end + 1);
    },
  };
}
const request = (sizeBytes: number, over: Partial<VerifyRequest> = {}): VerifyRequest => ({
  bucket: 'b', key: KEY, versionId: 'v1', etag: '"e"', sizeBytes, resultKey: verificationResultKey('orders', KEY), ...over,
});

describe('verifyShard (in memory)', () => {
  test.each([['redis-7.0', REDIS, 'redis', '7.0.15', 10], ['valkey-8.0', VALKEY, 'valkey', '8.0.1', 11]])(
    'a real %s dump streamed in small chunks verifies fully, with its key counts', async (_, dump, engine, version, rdbVersion) => {
      const result = await verifyShard(request(dump.length), memoryReader(dump), 1e9, () => NOW);
      expect(result).toMatchObject({
        formatVersion: 1,
        key: KEY,
        versionId: 'v1',
        sizeBytes: dump.length,
        ok: true,
        verification: 'full',
        verifiedAt: NOW.toISOString(),
        report: { rdbVersion, checksum: 'ok', keys: 5, keysWithExpiry: 0, databases: [{ db: 0, keys: 5, keysWithExpiry: 0 }], writerEngine: engine, writerVersion: version },
      });
    });

  test('a truncated dump is a result (not an exception) naming the object, its version and the offset', async () => {
    const cut = VALKEY.subarray(0, 100);
    const result = await verifyShard(request(cut.length), memoryReader(cut), 1e9, () => NOW);
    expect(result.ok).toBe(false);
    expect(result.error?.name).toBe('RdbVerifyError');
    expect(result.error?.offset).toEqual(expect.any(Number));
    expect(result.error?.message).toMatch(new RegExp(`^s3://b/${KEY} version v1: .*truncated.* \\(at byte offset ${result.error?.offset}\\)$`));
  });

  test('an empty object and a size other than the listed one are refused before reading', async () => {
    const empty = memoryReader(new Uint8Array(0));
    expect(await verifyShard(request(0), empty, 1e9, () => NOW)).toMatchObject({
      ok: false, error: { name: 'EmptyObject', message: `s3://b/${KEY} is empty (0 bytes): expected an RDB file`, offset: 0 },
    });
    const grown = memoryReader(VALKEY);
    expect(await verifyShard(request(10), grown, 1e9, () => NOW)).toMatchObject({
      ok: false, sizeBytes: VALKEY.length, error: { name: 'SizeMismatch', message: `s3://b/${KEY} is ${VALKEY.length} bytes, but 10 were listed` },
    });
    expect([empty.reads, grown.reads]).toEqual([[], []]);
  });

  test('a version that no longer exists is a result saying so', async () => {
    const gone: ShardReader = { ...memoryReader(VALKEY), head: async () => undefined };
    expect(await verifyShard(request(VALKEY.length), gone, 1e9, () => NOW)).toMatchObject({
      ok: false, error: { name: 'ObjectMissing', message: `s3://b/${KEY} version v1 does not exist` },
    });
  });

  test('a read error is not a verdict: it propagates (the invocation is retried)', async () => {
    const failing: ShardReader = { ...memoryReader(VALKEY), stream: async () => { throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }); } };
    await expect(verifyShard(request(VALKEY.length), failing, 1e9, () => NOW)).rejects.toThrow('socket hang up');
  });

  test('above the size limit only the head and the tail are read (partial verification)', async () => {
    const reader = memoryReader(VALKEY);
    const result = await verifyShard(request(VALKEY.length), reader, 100, () => NOW);
    expect(reader.reads).toEqual(['range 0-255', `range ${VALKEY.length - 64}-${VALKEY.length - 1}`]);
    expect(result).toMatchObject({ ok: true, verification: 'partial', report: { rdbVersion: 11, checksum: 'ok' } });
    expect(result.report?.keys).toBeUndefined();
    // A truncated file fails the partial check too (no EOF opcode before the trailer).
    const cut = VALKEY.subarray(0, VALKEY.length - 30);
    const bad = await verifyShard(request(cut.length), memoryReader(cut), 100, () => NOW);
    expect(bad).toMatchObject({ ok: false, error: { name: 'RdbVerifyError' } });
    expect(bad.error?.message).toMatch(new RegExp(`^s3://b/${KEY} version v1: .* \\(at byte offset \\d+\\)$`));
  });

  test('requests and results are checked when parsed', () => {
    expect(() => parseVerifyRequest({ bucket: 'b', key: KEY, sizeBytes: 1, resultKey: 'manifests/x.json' }))
      .toThrow('verify request: field \'resultKey\' must start with \'state/\', got "manifests/x.json"');
    expect(() => parseVerifyRequest({ bucket: 'b', key: KEY, sizeBytes: -1, resultKey: 'state/x' })).toThrow('verify request: field \'sizeBytes\' must be a non-negative integer, got -1');
    expect(parseVerificationResult('{"formatVersion":1}')).toBeUndefined();
    expect(parseVerificationResult('nope')).toBeUndefined();
    expect(verificationRequestKey('orders', KEY, 2)).toBe('state/orders/verify-requests/ceb-abcdefgh-x20260310t100000z-aaaaaaaa-0001-r2.json');
    expect(verificationResultKey('orders', KEY)).toBe('state/orders/verifications/ceb-abcdefgh-x20260310t100000z-aaaaaaaa-0001.json');
  });
});

describeWithTool('moto_server')('verifier Lambda (S3 on moto_server)', () => {
  const BUCKET = 'exports';
  const logger = new Logger({ logLevel: 'SILENT' });
  let moto: MotoS3;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await MotoS3.start();
    s3 = moto.client();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  const deps = () => ({ s3, bucketName: BUCKET, fullVerifyMaxBytes: 1e9, logger, now: () => NOW });

  test('verifies the pinned version, not the current one, and writes the result where the request says', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: VALKEY }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: VALKEY.subarray(0, 50) })); // overwritten since
    const req = { ...request(VALKEY.length, { bucket: BUCKET, versionId: first.VersionId, etag: first.ETag }) };
    const requestKey = verificationRequestKey('orders', KEY, 1);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: requestKey, Body: JSON.stringify(req) }));
    const result = await verifyExport({ source: 'aws.s3', detail: { bucket: { name: BUCKET }, object: { key: requestKey } } }, deps());
    expect(result).toMatchObject({ ok: true, versionId: first.VersionId, verification: 'full', report: { keys: 5 } });
    const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: req.resultKey }));
    expect(parseVerificationResult(await stored.Body!.transformToString())).toEqual(result);
  });

  test('refuses a request for another bucket, naming both', async () => {
    await expect(verifyExport(request(1, { bucket: 'someone-elses' }), deps()))
      .rejects.toThrow('verify request: field \'bucket\' is "someone-elses", but this verifier serves exports');
  });
});
