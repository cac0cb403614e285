/**
 * The restore preflight's S3 reads (I/O only; every decision is in `preflight-checks.ts` and `content-checks.ts`).
 * Nothing here writes: HeadObject, ranged and streamed GetObject, GetBucketLocation, GetBucketPolicy, ListObjectsV2.
 */
import type { Readable } from 'stream';
// Bundled into the preflight Lambda only (its runtime provides the SDK); the constructs never import this file.
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ContentObservation, EnvelopeObservation } from './content-checks';
import type { BucketObservation, HeadObservation, HeaderObservation, PolicyObservation, S3ObjectRef } from './preflight-checks';
import { checkRdbEnvelope } from '../rdb/envelope';
import { parseRdbHeader, RdbParseError } from '../rdb/header';
import { RdbVerifyError, verifyRdbStream } from '../rdb/verifier';

/** Bytes read from the start of each `.rdb` (the header and its aux fields fit easily). */
export const HEADER_BYTES = 256;
/** Bytes read from the end of each `.rdb`: the EOF opcode and the 8-byte CRC-64 trailer, with room to spare. */
export const TAIL_BYTES = 16;

export async function headObject(s3: S3Client, ref: S3ObjectRef): Promise<HeadObservation> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      status: 'found',
      sizeBytes: out.ContentLength ?? 0,
      serverSideEncryption: out.ServerSideEncryption,
      kmsKeyId: out.SSEKMSKeyId,
      versionId: out.VersionId,
      etag: out.ETag,
    };
  } catch (e) {
    if (statusOf(e) === 404) {
      return { status: 'missing' };
    }
    return { status: 'error', message: describeError(e) };
  }
}

async function readRange(s3: S3Client, ref: S3ObjectRef, first: number, last: number): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, Range: `bytes=${first}-${last}` }));
  return out.Body!.transformToByteArray();
}

/**
 * Reads the first and last bytes of an object (one GET when it is small), parses the header, and checks the envelope:
 * the file ends in the EOF opcode and a trailer, and is as long as HEAD said.
 */
export async function readHeaderAndEnvelope(
  s3: S3Client, ref: S3ObjectRef, sizeBytes: number,
): Promise<{ header?: HeaderObservation; envelope?: EnvelopeObservation }> {
  let head: Uint8Array;
  let tail: Uint8Array;
  try {
    head = await readRange(s3, ref, 0, Math.min(HEADER_BYTES, sizeBytes) - 1);
    tail = sizeBytes <= HEADER_BYTES
      ? head.subarray(Math.max(0, head.length - TAIL_BYTES))
      : await readRange(s3, ref, Math.max(0, sizeBytes - TAIL_BYTES), sizeBytes - 1);
  } catch (e) {
    // Not checkable is not checked: a failure (ElastiCache would have to read the same bytes).
    return { envelope: { status: 'error', message: describeError(e) } };
  }
  let header: HeaderObservation;
  try {
    header = { status: 'read', header: parseRdbHeader(head) };
  } catch (e) {
    if (e instanceof RdbParseError) {
      // Not an RDB file at all: the envelope has nothing more to say.
      return { header: { status: 'invalid', message: e.message } };
    }
    throw e;
  }
  try {
    const envelope = checkRdbEnvelope(head, tail, sizeBytes);
    return { header, envelope: { status: 'ok', checksum: envelope.checksum } };
  } catch (e) {
    if (e instanceof RdbVerifyError) {
      return { header, envelope: { status: 'invalid', message: e.message, offset: e.offset } };
    }
    throw e;
  }
}

/** The preflight's time ran out while streaming. */
class DeadlineReached extends Error {
  constructor(public readonly bytesRead: number) {
    super('deadline reached');
  }
}

/**
 * Streams a whole object through the verifier. Stops (and reports how far it got) when `deadlineMs` (epoch ms) passes,
 * so that a FULL verification too large for the Lambda's time ends in a clear failure, not a timeout.
 */
export async function verifyObject(s3: S3Client, ref: S3ObjectRef, sizeBytes: number, deadlineMs: number): Promise<ContentObservation> {
  const abort = new AbortController();
  let body: Readable | undefined;
  let bytesRead = 0;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }), { abortSignal: abort.signal });
    body = out.Body as Readable;
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        if (Date.now() > deadlineMs) {
          throw new DeadlineReached(bytesRead);
        }
        bytesRead += chunk.length;
        yield chunk;
      }
    };
    const report = await verifyRdbStream(chunks());
    return { status: 'verified', keys: report.keys, databases: report.databases, checksum: report.checksum };
  } catch (e) {
    if (e instanceof RdbVerifyError) {
      return { status: 'corrupt', message: e.message, offset: e.offset };
    }
    if (e instanceof DeadlineReached) {
      return { status: 'deadline', bytesRead: e.bytesRead, sizeBytes };
    }
    return { status: 'error', message: describeError(e) };
  } finally {
    body?.destroy?.();
    abort.abort();
  }
}

/**
 * Reads a small text object (a manifest) with one ranged GET of at most `maxBytes + 1` bytes, so that an object of
 * any size costs one bounded request; a larger object is reported with its size instead of being read.
 */
export async function getText(s3: S3Client, bucket: string, key: string, maxBytes: number): Promise<string | { error: string }> {
  let bytes: Uint8Array;
  let contentRange: string | undefined;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }));
    contentRange = out.ContentRange;
    bytes = await out.Body!.transformToByteArray();
  } catch (e) {
    if (errorName(e) === 'InvalidRange' || statusOf(e) === 416) {
      // S3 answers a range request on an empty object with 416.
      return '';
    }
    return { error: `could not read the manifest: ${describeError(e)}` };
  }
  if (bytes.length > maxBytes) {
    const total = /\/(\d+)$/.exec(contentRange ?? '')?.[1];
    return {
      error: `the manifest is ${total ? `${total} bytes` : 'larger than that'}, more than the ${maxBytes} bytes the preflight reads `
        + '(a manifest of the largest ElastiCache group is far smaller), so it was not written by BackupPlan: remove it',
    };
  }
  return new TextDecoder().decode(bytes);
}

/** Manifest keys of a folder, newest first (manifest keys sort in snapshot time order). */
export async function listManifestKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key && o.Key.endsWith('.json')) {
        keys.push(o.Key);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort().reverse();
}

export async function observeBucket(s3: S3Client, partition: string, bucket: string, verifyPolicy: boolean): Promise<BucketObservation> {
  let region: BucketObservation['region'];
  try {
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    region = { status: 'found', region: normalizeLocation(out.LocationConstraint) };
  } catch (e) {
    region = errorName(e) === 'NoSuchBucket' || statusOf(e) === 404 ? { status: 'missing' } : { status: 'error', message: describeError(e) };
  }
  let policy: PolicyObservation = { status: 'skipped' };
  if (verifyPolicy && region.status !== 'missing') {
    try {
      const out = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      policy = out.Policy ? { status: 'found', text: out.Policy } : { status: 'none' };
    } catch (e) {
      policy = errorName(e) === 'NoSuchBucketPolicy' ? { status: 'none' } : { status: 'error', message: describeError(e) };
    }
  }
  return { partition, bucket, region, policy };
}

/** GetBucketLocation: null/empty means us-east-1, and `EU` is the legacy name of eu-west-1. */
export function normalizeLocation(constraint: string | undefined | null): string {
  if (!constraint) {
    return 'us-east-1';
  }
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function errorName(e: unknown): string | undefined {
  return (e as { name?: string })?.name;
}

export function describeError(e: unknown): string {
  const status = statusOf(e);
  if (status === 403 && ['Unknown', 'Forbidden', '403', undefined].includes(errorName(e))) {
    // HEAD responses have no body, so the SDK cannot name the error.
    return 'access denied (HTTP 403): check the bucket policy for Deny statements and that the objects belong to the bucket owner';
  }
  const name = errorName(e) ?? 'Error';
  const message = (e as { message?: string })?.message;
  return `${name}${status ? ` (HTTP ${status})` : ''}${message && message !== name && message !== 'UnknownError' ? `: ${message}` : ''}`;
}

/** Runs fn over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
