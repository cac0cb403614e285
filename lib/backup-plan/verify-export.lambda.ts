/**
 * The export verifier: streams one exported shard from S3 (the version the reconciler pinned) through the RDB
 * verifier, and writes the verdict under `state/` for the reconciler, which commits the manifest only when every
 * shard verified. A thin AWS SDK shell around verify-core.ts.
 *
 * Invoked asynchronously by the S3 Object Created event of a request object (`state/<group>/verify-requests/...`)
 * that the reconciler writes, or directly with a VerifyRequest payload. A read error fails the invocation (Lambda
 * retries it; the reconciler asks again when no result appears in time); a corrupt object is a result, not an error.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV_EXPORT_BUCKET, ENV_FULL_VERIFY_MAX_BYTES } from './constants';
import { DEFAULT_FULL_VERIFY_MAX_BYTES, parseVerifyRequest, ShardReader, VerificationResult, verifyShard, VerifyRequest } from './verify-core';

/** An S3 Object Created event from EventBridge, as far as the handler cares. */
export interface VerifyEvent {
  readonly source?: string;
  readonly detail?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string } };
}

export interface VerifyDeps {
  readonly s3: S3Client;
  /** The only bucket the verifier reads and writes. */
  readonly bucketName: string;
  readonly fullVerifyMaxBytes: number;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** Reads the pinned version of an object. */
export function s3ShardReader(s3: S3Client, request: VerifyRequest): ShardReader {
  const target = { Bucket: request.bucket, Key: request.key, ...(request.versionId ? { VersionId: request.versionId } : {}) };
  return {
    async head() {
      try {
        const res = await s3.send(new HeadObjectCommand(target));
        return { sizeBytes: res.ContentLength ?? 0, etag: res.ETag, versionId: res.VersionId };
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if ((e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchKey' || (e as Error).name === 'NoSuchVersion' || status === 404) {
          return undefined;
        }
        throw e;
      }
    },
    async stream() {
      const res = await s3.send(new GetObjectCommand(target));
      return res.Body as unknown as AsyncIterable<Uint8Array>;
    },
    async range(start: number, end: number) {
      const res = await s3.send(new GetObjectCommand({ ...target, Range: `bytes=${start}-${end}` }));
      return (await res.Body?.transformToByteArray()) ?? new Uint8Array();
    },
  };
}

/** The request an invocation carries: the body of the request object named by an S3 event, or the payload itself. */
export async function requestOf(event: VerifyEvent | VerifyRequest, deps: VerifyDeps): Promise<VerifyRequest> {
  const s3Event = event as VerifyEvent;
  let raw: unknown = event;
  if (s3Event.source === 'aws.s3' && s3Event.detail?.object?.key) {
    if (s3Event.detail.bucket?.name !== deps.bucketName) {
      throw new Error(`verify: event for bucket ${JSON.stringify(s3Event.detail.bucket?.name)}, but this verifier serves ${deps.bucketName}`);
    }
    const key = decodeURIComponent(s3Event.detail.object.key.replace(/\+/g, ' '));
    const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucketName, Key: key }));
    raw = JSON.parse((await res.Body?.transformToString()) ?? '');
  }
  const request = parseVerifyRequest(raw);
  if (request.bucket !== deps.bucketName) {
    throw new Error(`verify request: field 'bucket' is ${JSON.stringify(request.bucket)}, but this verifier serves ${deps.bucketName}`);
  }
  return request;
}

/** The body of the handler, with its dependencies injected (tests call this directly). */
export async function verifyExport(event: VerifyEvent | VerifyRequest, deps: VerifyDeps): Promise<VerificationResult> {
  const request = await requestOf(event, deps);
  const now = deps.now ?? (() => new Date());
  const result = await verifyShard(request, s3ShardReader(deps.s3, request), deps.fullVerifyMaxBytes, now);
  await deps.s3.send(new PutObjectCommand({
    Bucket: deps.bucketName, Key: request.resultKey, Body: JSON.stringify(result), ContentType: 'application/json',
  }));
  deps.logger.info(result.ok ? 'shard verified' : 'shard is not intact', {
    key: request.key, versionId: request.versionId, verification: result.verification, error: result.error, keys: result.report?.keys,
  });
  return result;
}

const logger = new Logger({ serviceName: 'elasticache-backup-verifier' });
let s3: S3Client | undefined;

export async function handler(event: VerifyEvent | VerifyRequest): Promise<void> {
  const bucketName = process.env[ENV_EXPORT_BUCKET];
  if (!bucketName) {
    throw new Error(`No value specified for required environment variable: ${ENV_EXPORT_BUCKET}`);
  }
  const limit = Number(process.env[ENV_FULL_VERIFY_MAX_BYTES] ?? DEFAULT_FULL_VERIFY_MAX_BYTES);
  s3 ??= new S3Client({ region: process.env.AWS_REGION });
  await verifyExport(event, { s3, bucketName, fullVerifyMaxBytes: Number.isFinite(limit) ? limit : DEFAULT_FULL_VERIFY_MAX_BYTES, logger });
}
