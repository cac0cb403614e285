/**
 * Verification of one exported shard: what the reconciler asks for, what the verifier answers, and the procedure
 * itself on an abstract object reader (the Lambda shell, verify-export.lambda.ts, supplies S3; tests supply bytes).
 *
 * The reconciler never waits for a verification: it writes a request object under `state/<group>/verify-requests/`
 * (write-ahead, and the S3 event invokes the verifier asynchronously), and reads the result object the verifier
 * writes under `state/<group>/verifications/` (whose S3 event wakes the reconciler again). Not part of the jsii API.
 */
import { STATE_ROOT } from './constants';
import { checkRdbEnvelope } from '../rdb/envelope';
import { RdbParseError } from '../rdb/header';
import type { RdbDatabaseCount, RdbExpiryBucket, RdbChecksumStatus } from '../rdb/types';
import { RdbVerifyError, verifyRdbStream } from '../rdb/verifier';

/**
 * Shards up to this size are streamed and fully verified; larger ones get a partial verification (size, header, EOF
 * opcode and trailer). From the benchmark (BENCHMARKS.md, "largest verifiable shard"): min(S3 single-stream rate of
 * 85 MB/s, 0.75 x the verifier's measured rate of 137 MB/s on the slowest 1 GB dump) x a 720 s streaming budget
 * = 61.2 GB, rounded down. The construct passes the value in the verifier's environment (`FULL_VERIFY_MAX_BYTES`).
 */
export const DEFAULT_FULL_VERIFY_MAX_BYTES = 60e9;
/** Memory of the verifier Lambda: 1,769 MB is where Lambda gives one full vCPU (the verifier is CPU-bound, RSS < 150 MB). */
export const VERIFIER_MEMORY_MB = 1769;
/** Timeout of the verifier Lambda: Lambda's maximum (720 s of streaming budget plus a margin). */
export const VERIFIER_TIMEOUT_SECONDS = 900;
/** Bytes read from each end of a shard for a partial verification. */
export const ENVELOPE_HEAD_BYTES = 256;
export const ENVELOPE_TAIL_BYTES = 64;

/** What the reconciler asks the verifier to check (the body of a request object, or a direct invocation's payload). */
export interface VerifyRequest {
  readonly bucket: string;
  readonly key: string;
  /** The version that was listed (pinned: an overwrite after the request is not what gets verified). */
  readonly versionId?: string;
  readonly etag?: string;
  readonly sizeBytes: number;
  /** Where to write the VerificationResult (under `state/`). */
  readonly resultKey: string;
}

export interface ShardReport {
  readonly rdbVersion: number;
  readonly checksum: RdbChecksumStatus;
  readonly crc64: string;
  readonly databases?: readonly RdbDatabaseCount[];
  readonly keys?: number;
  readonly keysWithExpiry?: number;
  readonly expiryHistogram?: readonly RdbExpiryBucket[];
  readonly writerEngine?: 'redis' | 'valkey';
  readonly writerVersion?: string;
}

/** What the verifier found (the JSON at `resultKey`). */
export interface VerificationResult {
  readonly formatVersion: 1;
  readonly key: string;
  /** The version that was read (GetObject with the pinned VersionId). */
  readonly versionId?: string;
  readonly etag?: string;
  readonly sizeBytes: number;
  /** ISO time the verifier finished. */
  readonly verifiedAt: string;
  readonly ok: boolean;
  readonly verification?: 'full' | 'partial';
  readonly report?: ShardReport;
  /** Why the shard is not intact: the message names the byte offset and what was expected. */
  readonly error?: { readonly name: string; readonly message: string; readonly offset?: number };
}

/** Where the verifier writes its result for a shard object: `state/<group>/verifications/<key without .rdb>.json`. */
export function verificationResultKey(replicationGroupId: string, objectKey: string): string {
  return `${verificationResultPrefix(replicationGroupId)}${objectKey.replace(/\.rdb$/, '')}.json`;
}

export function verificationResultPrefix(replicationGroupId: string): string {
  return `${STATE_ROOT}${replicationGroupId}/verifications/`;
}

/** A request object: `state/<group>/verify-requests/<key without .rdb>-r<n>.json` (a new key per request). */
export function verificationRequestKey(replicationGroupId: string, objectKey: string, requestNumber: number): string {
  return `${STATE_ROOT}${replicationGroupId}/verify-requests/${objectKey.replace(/\.rdb$/, '')}-r${requestNumber}.json`;
}

/** Parses a result object; undefined for anything that is not one (never throws). */
export function parseVerificationResult(text: string | undefined): VerificationResult | undefined {
  if (!text) {
    return undefined;
  }
  try {
    const raw = JSON.parse(text) as Partial<VerificationResult>;
    if (raw.formatVersion !== 1 || typeof raw.key !== 'string' || typeof raw.ok !== 'boolean' || typeof raw.sizeBytes !== 'number'
      || typeof raw.verifiedAt !== 'string') {
      return undefined;
    }
    return raw as VerificationResult;
  } catch {
    return undefined;
  }
}

/** Parses a request (a request object's body or a direct payload); throws naming the field that is wrong. */
export function parseVerifyRequest(raw: unknown): VerifyRequest {
  const r = (raw ?? {}) as Record<string, unknown>;
  for (const field of ['bucket', 'key', 'resultKey']) {
    if (typeof r[field] !== 'string' || (r[field] as string).length === 0) {
      throw new Error(`verify request: field '${field}' must be a non-empty string, got ${JSON.stringify(r[field])}`);
    }
  }
  if (typeof r.sizeBytes !== 'number' || !Number.isInteger(r.sizeBytes) || r.sizeBytes < 0) {
    throw new Error(`verify request: field 'sizeBytes' must be a non-negative integer, got ${JSON.stringify(r.sizeBytes)}`);
  }
  if (!(r.resultKey as string).startsWith(STATE_ROOT)) {
    throw new Error(`verify request: field 'resultKey' must start with '${STATE_ROOT}', got ${JSON.stringify(r.resultKey)}`);
  }
  return r as unknown as VerifyRequest;
}

/** How the verifier reads the object (the pinned version). */
export interface ShardReader {
  /** The object's size and ETag as stored (HEAD of the pinned version); undefined when that version does not exist. */
  head(): Promise<{ sizeBytes: number; etag?: string; versionId?: string } | undefined>;
  /** The whole object as a stream of chunks. */
  stream(): Promise<AsyncIterable<Uint8Array>>;
  /** Bytes [start, end] inclusive. */
  range(start: number, end: number): Promise<Uint8Array>;
}

/** Verifies one shard: fully up to `fullVerifyMaxBytes`, partially above. Never throws for a bad object. */
export async function verifyShard(
  request: VerifyRequest, reader: ShardReader, fullVerifyMaxBytes: number, now: () => Date,
): Promise<VerificationResult> {
  const base = { formatVersion: 1 as const, key: request.key, versionId: request.versionId, etag: request.etag, sizeBytes: request.sizeBytes };
  const failed = (name: string, message: string, offset?: number): VerificationResult => ({
    ...base, verifiedAt: now().toISOString(), ok: false, error: { name, message, ...(offset === undefined ? {} : { offset }) },
  });
  const head = await reader.head();
  if (!head) {
    return failed('ObjectMissing', `s3://${request.bucket}/${request.key} version ${request.versionId ?? '(current)'} does not exist`);
  }
  const actual = { ...base, sizeBytes: head.sizeBytes, etag: head.etag ?? request.etag };
  if (head.sizeBytes !== request.sizeBytes) {
    return { ...failed('SizeMismatch', `s3://${request.bucket}/${request.key} is ${head.sizeBytes} bytes, but ${request.sizeBytes} were listed`), sizeBytes: head.sizeBytes };
  }
  if (head.sizeBytes === 0) {
    return failed('EmptyObject', `s3://${request.bucket}/${request.key} is empty (0 bytes): expected an RDB file`, 0);
  }
  try {
    if (head.sizeBytes <= fullVerifyMaxBytes) {
      const report = await verifyRdbStream(await reader.stream());
      if (report.sizeBytes !== head.sizeBytes) {
        return failed('SizeMismatch', `the verifier walked ${report.sizeBytes} bytes, but the object is ${head.sizeBytes} bytes`, report.sizeBytes);
      }
      return {
        ...actual,
        verifiedAt: now().toISOString(),
        ok: true,
        verification: 'full',
        report: {
          rdbVersion: report.rdbVersion,
          checksum: report.checksum,
          crc64: report.crc64,
          databases: report.databases,
          keys: report.keys,
          keysWithExpiry: report.keysWithExpiry,
          expiryHistogram: report.expiryHistogram,
          writerEngine: report.writerEngine,
          writerVersion: report.writerVersion,
        },
      };
    }
    const headBytes = await reader.range(0, Math.min(ENVELOPE_HEAD_BYTES, head.sizeBytes) - 1);
    const tailStart = Math.max(0, head.sizeBytes - ENVELOPE_TAIL_BYTES);
    const tailBytes = await reader.range(tailStart, head.sizeBytes - 1);
    const envelope = checkRdbEnvelope(headBytes, tailBytes, head.sizeBytes);
    return {
      ...actual,
      verifiedAt: now().toISOString(),
      ok: true,
      verification: 'partial',
      report: { rdbVersion: envelope.header.rdbVersion, checksum: envelope.checksum, crc64: envelope.crc64 },
    };
  } catch (e) {
    if (e instanceof RdbVerifyError || e instanceof RdbParseError) {
      const offset = (e as { offset?: number }).offset;
      const at = offset === undefined ? '' : ` (at byte offset ${offset})`;
      return failed(e.name, `s3://${request.bucket}/${request.key} version ${request.versionId ?? '(current)'}: ${e.message}${at}`, offset);
    }
    // Reading failed (network, throttling): no verdict. The invocation fails and is retried; the reconciler asks
    // again when no result appears in time.
    throw e;
  }
}
